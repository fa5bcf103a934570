"""ISO 3166 country and subdivision codes (via pycountry, maintained upstream).

Codes are matched exactly: upper-case ASCII letters as ISO writes them. No
case folding, so no Unicode tricks (``"ß".upper()`` is ``"SS"``, the dotless
``"ı".upper()`` is ``"I"``); a near miss gets a hint instead.
"""

from __future__ import annotations

import re
from functools import lru_cache

from advisor.errors import shorten

#: Pseudo-jurisdiction allowed where data subjects are described as a block.
BLOCS = frozenset({"EEA", "EU"})

_COUNTRY = re.compile(r"^[A-Z]{2}$")
_SUBDIVISION = re.compile(r"^[A-Z]{2}-[A-Z0-9]{1,3}$")
#: Common names that are not ISO 3166-1 codes, and what to write instead.
_NOT_ISO = {"UK": "GB"}


@lru_cache(maxsize=512)
def is_country(code: str) -> bool:
    import pycountry  # imported lazily: only profiles need it

    return pycountry.countries.get(alpha_2=code) is not None


@lru_cache(maxsize=512)
def is_subdivision(code: str) -> bool:
    import pycountry

    return pycountry.subdivisions.get(code=code) is not None


def _hint(code: str, allow_bloc: bool) -> str:
    if code in BLOCS:  # where a bloc is not allowed
        return f" ({code} is a group of countries, not a country: list its member states)"
    if code in _NOT_ISO:
        return f" (the ISO 3166 code is '{_NOT_ISO[code]}')"
    if not code.isascii():
        return " (only the ASCII letters A-Z, digits and '-')"
    near = code.strip().upper()
    if near != code and (_COUNTRY.match(near) or _SUBDIVISION.match(near)
                         or (allow_bloc and near in BLOCS)):
        return f" (did you mean '{near}'? codes are written in upper case, without spaces)"
    return ""


def check_code(code: str, *, allow_subdivision: bool = True, allow_bloc: bool = False) -> str:
    """Return the code if it is a valid ISO 3166 code, else raise ValueError
    with a helpful message."""
    if not isinstance(code, str):
        raise ValueError(f"expected an ISO 3166 code as text, got {shorten(repr(code))}")
    if allow_bloc and code in BLOCS:
        return code
    if _COUNTRY.match(code):
        if is_country(code):
            return code
        raise ValueError(f"'{code}' is not an ISO 3166-1 alpha-2 country code"
                         + _hint(code, allow_bloc))
    if allow_subdivision and _SUBDIVISION.match(code):
        if is_subdivision(code):
            return code
        raise ValueError(f"'{code}' is not an ISO 3166-2 subdivision code (like US-CA)")
    extra = " or 'EEA' / 'EU'" if allow_bloc else ""
    hint = _hint(code, allow_bloc) or f" (expected two upper-case letters like FR{extra})"
    raise ValueError(f"'{shorten(code)}' is not an ISO 3166 code{hint}")


def country_of(code: str) -> str:
    """The country part of a country or subdivision code ('US-CA' -> 'US')."""
    return code.split("-", 1)[0]
