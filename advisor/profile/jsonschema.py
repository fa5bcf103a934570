"""The profile's JSON Schema, as strict as ``advisor validate``.

pydantic derives the structure from the models; what it cannot see is checked
in validators and against the catalog: ISO 3166 codes (``XX`` is no country),
and the catalogued models, API products and currencies. This module adds those
to the generated schema, so an editor using it rejects what the command line
rejects (tests/test_jsonschema.py checks the two agree field by field).

Codes are listed in their canonical upper-case form: the command line also
accepts ``fr`` for ``FR``, the schema asks for the form the docs use.
"""

from __future__ import annotations

import re
from collections import defaultdict
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from advisor.countries import BLOCS

if TYPE_CHECKING:
    from advisor.catalog.costdata import Catalog

#: The schema's identifier (a URN: it names the contract, it is not fetched).
PROFILE_SCHEMA_ID = "urn:advisor:schema:profile:1"

#: (model, field) -> what the field holds; every profile field that the
#: validators check as an ISO 3166 code is listed here.
COUNTRY_FIELDS: dict[tuple[str, str], str] = {
    ("Organisation", "hq_country"): "CountryCode",
    ("Organisation", "parent_country"): "CountryCode",
    ("Organisation", "establishment_countries"): "CountryCode",
    ("Finance", "deployment_country"): "CountryCode",
    ("Data", "subject_jurisdictions"): "SubjectJurisdiction",
    ("Data", "subject_volumes"): "SubjectJurisdiction",  # its keys
}


@lru_cache(maxsize=1)
def _code_definitions() -> dict[str, Any]:
    import pycountry

    countries = sorted(c.alpha_2 for c in pycountry.countries)
    by_country: dict[str, list[str]] = defaultdict(list)
    for s in pycountry.subdivisions:
        country, _, rest = s.code.partition("-")
        by_country[country].append(re.escape(rest))
    subdivisions = "^(" + "|".join(
        f"{c}-({'|'.join(sorted(by_country[c]))})" for c in sorted(by_country)) + ")$"
    return {
        "CountryCode": {
            "title": "ISO 3166 code",
            "description": "An ISO 3166-1 alpha-2 country code (FR) or an ISO 3166-2 "
                           "subdivision code (US-CA), in upper case",
            "type": "string",
            "anyOf": [{"enum": countries}, {"pattern": subdivisions}],
        },
        "SubjectJurisdiction": {
            "title": "ISO 3166 code or bloc",
            "description": "An ISO 3166 code, or " + " / ".join(sorted(BLOCS))
                           + " for data subjects anywhere in the bloc",
            "anyOf": [{"$ref": "#/$defs/CountryCode"}, {"enum": sorted(BLOCS)}],
        },
    }


def _point_strings_at(node: Any, ref: dict[str, str]) -> Any:
    """Replace every plain ``{"type": "string"}`` inside ``node`` with ``ref``."""
    if isinstance(node, dict):
        if node.get("type") == "string" and set(node) <= {"type", "title", "description"}:
            return {**{k: v for k, v in node.items() if k != "type"}, **ref}
        return {k: _point_strings_at(v, ref) for k, v in node.items()}
    if isinstance(node, list):
        return [_point_strings_at(v, ref) for v in node]
    return node


def _enum(schema: dict[str, Any], model: str, field: str, values: list[str]) -> None:
    prop = schema["$defs"][model]["properties"][field]
    enum = {"type": "string", "enum": sorted(set(values))}
    if "anyOf" in prop:  # Optional[str]
        prop["anyOf"] = [enum if alt.get("type") == "string" else alt for alt in prop["anyOf"]]
    else:
        prop.pop("type", None)
        prop.pop("minLength", None)
        prop.update(enum)


def profile_json_schema(catalog: "Catalog | None" = None) -> dict[str, Any]:
    """The JSON Schema of a profile; with a catalog, model, API model and
    currency are closed to what that catalog holds."""
    from advisor.profile import Profile

    schema = Profile.model_json_schema()
    defs = schema["$defs"]
    defs.update(_code_definitions())
    for (model, field), target in COUNTRY_FIELDS.items():
        prop = defs[model]["properties"][field]
        ref = {"$ref": f"#/$defs/{target}"}
        if prop.get("type") == "object":  # a mapping keyed by code
            prop["propertyNames"] = ref
        else:
            defs[model]["properties"][field] = _point_strings_at(prop, ref)
    if catalog is not None:
        offers = catalog.api_offers
        _enum(schema, "Workload", "model", list(catalog.models))
        _enum(schema, "Workload", "api_model", list(offers) + [o.model for o in offers.values()])
        _enum(schema, "Finance", "currency", list(catalog.fx.rates_per_eur))
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = PROFILE_SCHEMA_ID
    return schema
