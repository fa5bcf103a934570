"""Profile + option -> one flat fact, the input both evaluators read.

durable-rules matches flat JSON objects (no dotted paths, at most 255
properties), so each field becomes one key (``data.categories`` ->
``data__categories``). Ordinal fields also carry their rank (``__rank``) and
lists their length (``__n``): comparisons and "contains none" compile to
those. A field with no value is left out of the fact.
"""

from __future__ import annotations

from typing import Any

from advisor.countries import country_of
from advisor.rules.fields import DERIVED_FIELDS, LIST_KINDS, PROFILE_FIELDS, FieldSpec
from advisor.catalog.options import Jurisdictions, Option
from advisor.profile import Profile
from advisor.profile.vocabulary import NON_PERSONAL_CATEGORIES

#: Marks a fact as an option fact; the engine's sentinel rule matches on it.
FACT_KIND = "advisor_option_fact"
#: durable-rules refuses objects with more properties than this.
MAX_PROPERTIES = 255


def _get(obj: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def _put(fact: dict[str, Any], spec: FieldSpec, value: Any) -> None:
    if value is None:
        return
    if spec.kind == "number_map":
        for k, v in sorted(value.items()):
            fact[spec.entry(k).key] = v
        return
    if spec.kind in LIST_KINDS:
        value = list(value)
        fact[spec.count_key] = len(value)
    fact[spec.key] = value
    if spec.kind == "ordinal":
        fact[spec.rank_key] = spec.rank(value)


def derived_values(profile: Profile, jurisdictions: Jurisdictions) -> dict[str, Any]:
    eea = jurisdictions.members("EEA")
    org, data = profile.organisation, profile.data
    personal = any(c not in NON_PERSONAL_CATEGORIES for c in data.categories)
    subjects = {country_of(j) for j in data.subject_jurisdictions}
    eea_subjects = "EEA" in subjects or bool(subjects & eea)
    establishments = {country_of(c) for c in [org.hq_country, *org.establishment_countries]}
    eea_establishment = bool(establishments & eea)

    def group(name: str) -> frozenset[str]:
        # Groups added after v1 fall back to their single country, so older
        # catalogs keep loading.
        g = jurisdictions.groups.get(name)
        return frozenset(g.members) if g is not None else frozenset({name})

    chip_places = {country_of(c) for c in (org.hq_country, org.parent_country,
                                           profile.finance.deployment_country) if c}
    chip_group = jurisdictions.groups.get("US_AI_CHIP_LICENCE")
    return {
        "derived.personal_data": personal,
        "derived.eea_subjects": eea_subjects,
        "derived.eea_establishment": eea_establishment,
        "derived.gdpr_applies": personal and (eea_subjects or eea_establishment),
        "derived.uk_subjects": bool(subjects & jurisdictions.members("UK")),
        "derived.us_subjects": "US" in subjects,
        "derived.foreign_parent": country_of(org.parent_country or org.hq_country)
        != country_of(org.hq_country),
        "derived.uk_establishment": bool(establishments & jurisdictions.members("UK")),
        "derived.ch_subjects": bool(subjects & group("CH")),
        "derived.ch_establishment": bool(establishments & group("CH")),
        "derived.de_establishment": bool(establishments & group("DE")),
        "derived.cn_subjects": bool(subjects & group("CN")),
        "derived.cn_establishment": bool(establishments & group("CN")),
        "derived.ru_subjects": bool(subjects & group("RU")),
        "derived.ru_establishment": bool(establishments & group("RU")),
        "derived.in_subjects": bool(subjects & group("IN")),
        "derived.in_establishment": bool(establishments & group("IN")),
        "derived.ai_chip_licence_country": chip_group is not None
        and bool(chip_places & frozenset(chip_group.members)),
    }


def profile_fact(profile: Profile, jurisdictions: Jurisdictions) -> dict[str, Any]:
    fact: dict[str, Any] = {}
    for spec in PROFILE_FIELDS:
        _put(fact, spec, _get(profile, spec.name))
    derived = derived_values(profile, jurisdictions)
    for spec in DERIVED_FIELDS:
        _put(fact, spec, derived[spec.name])
    return fact


def option_fact(option: Option) -> dict[str, Any]:
    fact: dict[str, Any] = {"option__id": option.id, "option__kind": option.kind}
    for name, value in option.attributes.model_dump().items():
        key = f"option__{name}"
        if value is None:
            continue
        if isinstance(value, list):
            fact[key + "__n"] = len(value)
        fact[key] = value
    return fact


def build_facts(profile: Profile, options: list[Option],
                jurisdictions: Jurisdictions) -> list[dict[str, Any]]:
    """One fact per option, in option order."""
    base = profile_fact(profile, jurisdictions)
    facts = []
    for option in options:
        fact = {"kind": FACT_KIND, **base, **option_fact(option)}
        if len(fact) > MAX_PROPERTIES - 1:  # the engine adds 'sid'
            raise ValueError(f"fact for option {option.id} has {len(fact)} properties; "
                             f"the rule engine accepts at most {MAX_PROPERTIES - 1}")
        facts.append(fact)
    return facts
