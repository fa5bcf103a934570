"""ISO 3166 country and subdivision codes (via pycountry, maintained upstream)."""

from __future__ import annotations

from functools import lru_cache

#: Pseudo-jurisdiction allowed where data subjects are described as a block.
BLOCS = frozenset({"EEA", "EU"})


@lru_cache(maxsize=512)
def is_country(code: str) -> bool:
    import pycountry  # imported lazily: only profiles need it

    return pycountry.countries.get(alpha_2=code) is not None


@lru_cache(maxsize=512)
def is_subdivision(code: str) -> bool:
    import pycountry

    return pycountry.subdivisions.get(code=code) is not None


def check_code(code: str, *, allow_subdivision: bool = True, allow_bloc: bool = False) -> str:
    """Return the canonical code or raise ValueError with a helpful message."""
    if not isinstance(code, str):
        raise ValueError(f"expected an ISO 3166 code as text, got {code!r}")
    canonical = code.strip().upper()
    if allow_bloc and canonical in BLOCS:
        return canonical
    if len(canonical) == 2 and canonical.isalpha():
        if is_country(canonical):
            return canonical
        raise ValueError(f"'{code}' is not an ISO 3166-1 alpha-2 country code")
    if allow_subdivision and "-" in canonical:
        if is_subdivision(canonical):
            return canonical
        raise ValueError(f"'{code}' is not an ISO 3166-2 subdivision code (like US-CA)")
    extra = " or 'EEA' / 'EU'" if allow_bloc else ""
    raise ValueError(f"'{code}' is not an ISO 3166 code (expected two letters like FR{extra})")


def country_of(code: str) -> str:
    """The country part of a country or subdivision code ('US-CA' -> 'US')."""
    return code.split("-", 1)[0]
