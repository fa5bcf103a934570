"""The organisation profile: its schema, vocabularies and loading.

``advisor.profile.schema`` holds the pydantic models (schema version 1);
``advisor.profile.vocabulary`` the closed vocabularies. The names most
callers need are re-exported here.
"""

from advisor.profile.schema import (SCHEMA_VERSION, LoadedProfile, Profile, load_profile,
                                    profile_from_data)

__all__ = ["SCHEMA_VERSION", "LoadedProfile", "Profile", "load_profile", "profile_from_data"]
