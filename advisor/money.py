"""The one money formatter: amounts in the conventions of the organisation's country.

Why Babel: grouping and symbol placement differ by country (713,308 / 713.308 /
713 308 / 7,13,308) and CLDR, which Babel ships, is where those rules are kept
up to date; four hand-written ``f"{x:,.0f}"`` formatters were not.

The briefing is written in English, so the locale is English as used in the
organisation's country (``en_FR``, ``en_DE``) where CLDR has it, else the
country's main language (``und_CN`` -> ``zh_Hans_CN``), else plain ``en``.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache
from typing import Any

DEFAULT_LOCALE = "en"


@lru_cache(maxsize=64)
def locale_for(country: str | None) -> str:
    """The CLDR locale used to format money for an organisation in ``country`` (ISO 3166)."""
    from babel import Locale, UnknownLocaleError

    if not country:
        return DEFAULT_LOCALE
    cc = country.split("-")[0].upper()
    for tag in (f"en_{cc}", f"und_{cc}"):
        try:
            loc = Locale.parse(tag)
        except (UnknownLocaleError, ValueError):
            continue
        if loc.territory == cc:
            return str(loc)
    return DEFAULT_LOCALE


@lru_cache(maxsize=64)
def _pattern(locale: str, places: int, currency: bool) -> Any:
    from babel import Locale
    from babel.numbers import parse_pattern

    loc = Locale.parse(locale)
    source = loc.currency_formats["standard"] if currency else loc.decimal_formats[None]
    pattern = parse_pattern(source.pattern)
    pattern.frac_prec = (places, places)
    return pattern


def _decimal(value: Any, places: int) -> Decimal:
    d = value if isinstance(value, Decimal) else Decimal(str(value))
    return d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)


def amount(value: Any, locale: str = DEFAULT_LOCALE, places: int = 0) -> str:
    """A number grouped as in ``locale`` (table cells, where the header names the currency)."""
    from babel.numbers import format_decimal

    if value is None:
        return "n/a"
    return format_decimal(_decimal(value, places), format=_pattern(locale, places, False), locale=locale,
                          decimal_quantization=True)


def money(value: Any, currency: str, locale: str = DEFAULT_LOCALE, places: int = 0) -> str:
    """An amount with its currency, as in ``locale`` (sentences): ``€713,308``, ``713.308 €``."""
    from babel.numbers import format_currency

    if value is None:
        return "n/a"
    return format_currency(_decimal(value, places), currency, format=_pattern(locale, places, True),
                           locale=locale, currency_digits=False, decimal_quantization=True)


def price(value: Any, locale: str = DEFAULT_LOCALE) -> str:
    """A unit price: cents above 1, up to four significant decimals below."""
    if value is None:
        return "n/a"
    d = value if isinstance(value, Decimal) else Decimal(str(value))
    if abs(d) >= 1:
        return amount(d, locale, 2)
    text = amount(d, locale, 4)
    sep = _decimal_symbol(locale)
    return text.rstrip("0").rstrip(sep) if sep in text else text


def quantity(value: Any, locale: str = DEFAULT_LOCALE) -> str:
    """A ledger quantity: whole numbers grouped, small fractional ones to three decimals."""
    d = value if isinstance(value, Decimal) else Decimal(str(value))
    if abs(d) >= 100 or d == d.to_integral_value():
        return amount(d, locale, 0)
    text = amount(d, locale, 3)
    sep = _decimal_symbol(locale)
    return text.rstrip("0").rstrip(sep) if sep in text else text


@lru_cache(maxsize=64)
def _decimal_symbol(locale: str) -> str:
    from babel.numbers import get_decimal_symbol

    return get_decimal_symbol(locale)


def compact(value: float, locale: str = DEFAULT_LOCALE) -> str:
    """A short axis label (790K, 1.2M) in the conventions of ``locale``."""
    from babel.numbers import format_compact_decimal

    return format_compact_decimal(value, format_type="short", locale=locale, fraction_digits=1)
