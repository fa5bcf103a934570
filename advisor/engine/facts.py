"""Profile + option -> one flat fact, the input both evaluators read.

durable-rules matches flat JSON objects (no dotted paths, at most 255
properties), so each field becomes one key (``data.categories`` ->
``data__categories``). Ordinal fields also carry their rank (``__rank``) and
lists their length (``__n``): comparisons and "contains none" compile to
those. A field with no value is left out of the fact.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from advisor.countries import country_of
from advisor.catalog.jurisdictions import Home, Jurisdictions
from advisor.catalog.options import Option
from advisor.profile import Profile
from advisor.profile.vocabulary import ACCREDITATION_SCHEMES, NEEDS, NON_PERSONAL_CATEGORIES, USE_CASE_NEEDS
from advisor.rules.fields import (DERIVED_FIELDS, LIST_KINDS, PROFILE_FIELDS, RELATIVE_OPTION_FIELDS,
                                  FieldSpec)

#: Marks a fact as an option fact; the engine's sentinel rule matches on it.
FACT_KIND = "advisor_option_fact"
#: durable-rules refuses objects with more properties than this. The adapter
#: asserts only the keys its rules read (checked when a rule library loads),
#: so a profile may have any number of fields.
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


def home_of(profile: Profile, jurisdictions: Jurisdictions) -> Home:
    """The organisation's point of view: home country and whose law reaches it."""
    org = profile.organisation
    reaching = [org.parent_country or org.hq_country]
    if org.is_us_person:
        reaching.append("US")
    return jurisdictions.home(org.hq_country, reaching)


def use_case_needs(profile: Profile) -> list[str]:
    needs = {n for uc in profile.ai.use_cases for n in USE_CASE_NEEDS.get(uc, ())}
    needs |= set(profile.ai.needs)
    return [n for n in NEEDS if n in needs]


def residency_countries(profile: Profile, jurisdictions: Jurisdictions,
                        home: Home) -> frozenset[str] | None:
    """The countries data may be processed in; None when no residency is required."""
    places = profile.sovereignty.residency
    if not places:
        return None
    return jurisdictions.expand(places, home.country)


def derived_values(profile: Profile, jurisdictions: Jurisdictions) -> dict[str, Any]:
    eea = jurisdictions.members("EEA")
    org, data = profile.organisation, profile.data
    home = home_of(profile, jurisdictions)
    personal = any(c not in NON_PERSONAL_CATEGORIES for c in data.categories)
    subjects = {country_of(j) for j in data.subject_jurisdictions}
    eea_subjects = bool({"EEA", "EU"} & subjects) or bool(subjects & eea)
    establishments = {country_of(c) for c in [org.hq_country, *org.establishment_countries]}
    eea_establishment = bool(establishments & eea)
    led = "law_enforcement_authority_led" in org.flags and eea_establishment
    national_security = ("national_security_purpose" in org.flags
                         or ("defense_government" in org.sectors
                             and data.classification_level in ("restricted_gov", "confidential_gov",
                                                               "secret", "top_secret")))
    research_only = set(profile.ai.use_cases) == {"scientific_research_only"}
    eea_volume = sum(n for k, n in data.subject_volumes.items()
                     if k in ("EEA", "EU") or country_of(k) in eea)
    residency = residency_countries(profile, jurisdictions, home)
    authorities = jurisdictions.classification_authorities.get(data.classification_scheme, [])
    owners = jurisdictions.expand(authorities, home.country)

    def group(name: str) -> frozenset[str]:
        # Groups added after v1 fall back to their single country, so older
        # catalogs keep loading.
        g = jurisdictions.groups.get(name)
        return frozenset(g.members) if g is not None else frozenset({name})

    chip_places = {country_of(c) for c in (org.hq_country, org.parent_country,
                                           profile.finance.deployment_country) if c}
    chip_group = jurisdictions.groups.get("US_AI_CHIP_LICENCE")
    parent = country_of(org.parent_country or org.hq_country)
    return {
        "derived.home_country": home.country,
        "derived.home_groups": list(home.groups),
        "derived.law_reaches": sorted(home.reaches),
        "derived.foreign_law_reaches": bool(home.foreign_reach),
        "derived.residency_required": residency is not None,
        "derived.residency_countries": sorted(residency) if residency is not None else [],
        "derived.accreditation_required": bool(profile.sovereignty.accreditations),
        "derived.use_case_needs": use_case_needs(profile),
        "derived.eea_subject_volume": eea_volume,
        "derived.ai_act_applies": (eea_subjects or eea_establishment) and not national_security
        and not research_only,
        "derived.led_applies": led,
        "derived.national_security": national_security,
        "derived.classification_owner_is_home": home.country in owners,
        "derived.personal_data": personal,
        "derived.eea_subjects": eea_subjects,
        "derived.eea_establishment": eea_establishment,
        "derived.gdpr_applies": personal and (eea_subjects or eea_establishment)
        and not led and not national_security,
        "derived.uk_subjects": bool(subjects & jurisdictions.members("UK")),
        "derived.us_subjects": "US" in subjects,
        "derived.foreign_parent": bool(home.foreign([parent])),
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


@dataclass(frozen=True)
class Resolved:
    """An option's location seen from one organisation."""

    processing: frozenset[str] | None  # None: anywhere
    exposure: frozenset[str]
    schemes: frozenset[str]  # accreditation schemes held by definition
    issuers: frozenset[str]  # states whose authority accredits it


def resolve_location(option: Option, profile: Profile, jurisdictions: Jurisdictions,
                     home: Home) -> Resolved:
    loc = option.location
    eea = jurisdictions.members("EEA")
    deploy = country_of(profile.finance.deployment_country or profile.organisation.hq_country)
    places: set[str] = set()
    anywhere = False
    for p in loc.processing:
        if p == "global":
            anywhere = True
        elif p == "home_region":
            places |= eea if home.country in eea else {home.country}
        elif p == "customer":
            places.add(deploy)
        else:
            places |= jurisdictions.expand([p], home.country)
    processing = None if anywhere else places
    exposure: set[str] = set()
    for e in loc.exposure:
        if e == "customer":
            exposure |= home.reaches
        else:
            exposure |= jurisdictions.expand([e], home.country)
    schemes: set[str] = set()
    issuers: set[str] = set()
    for a in loc.accreditations:
        if a == "national":
            schemes |= jurisdictions.schemes_issued_by(home.country)
            issuers.add(home.country)
        else:
            schemes.add(a)
            issuer = jurisdictions.issuer_of(a)
            if issuer:
                issuers.add(issuer)
    # the representative offer's certifications that are accreditation schemes
    schemes |= set(option.attributes.certifications) & set(ACCREDITATION_SCHEMES)
    if loc.offers in ("own", "composite"):
        issuers.add(home.country)  # the organisation's own system, accredited at home
    return Resolved(None if processing is None else frozenset(processing), frozenset(exposure),
                    frozenset(schemes), frozenset(issuers))


def required_schemes(profile: Profile, jurisdictions: Jurisdictions, home: Home) -> frozenset[str]:
    out: set[str] = set()
    for a in profile.sovereignty.accreditations:
        out |= jurisdictions.schemes_issued_by(home.country) if a == "national" else {a}
    return frozenset(out)


def relative_values(option: Option, profile: Profile, jurisdictions: Jurisdictions,
                    home: Home) -> dict[str, Any]:
    r = resolve_location(option, profile, jurisdictions, home)
    residency = residency_countries(profile, jurisdictions, home)
    required = required_schemes(profile, jurisdictions, home)
    authorities = jurisdictions.classification_authorities.get(profile.data.classification_scheme, [])
    owners = jurisdictions.expand(authorities, home.country)
    return {
        "option.legal_exposure": sorted(r.exposure),
        "option.exposure_foreign": bool(home.foreign(r.exposure)),
        "option.processing_countries": [] if r.processing is None else sorted(r.processing),
        "option.processing_anywhere": r.processing is None,
        "option.processing_outside_residency": residency is not None
        and (r.processing is None or not r.processing <= residency),
        "option.accredited_nationally": home.country in r.issuers and bool(option.location.accreditations),
        # 'national' is met by a kind accredited by the home authority by definition,
        # even where the catalog names no scheme of that authority
        "option.meets_accreditation": bool(required & r.schemes)
        or ("national" in profile.sovereignty.accreditations
            and home.country in r.issuers and bool(option.location.accreditations)),
        "option.accredited_for_classification": bool(r.issuers & owners),
    }


def profile_fact(profile: Profile, jurisdictions: Jurisdictions) -> dict[str, Any]:
    fact: dict[str, Any] = {}
    for spec in PROFILE_FIELDS:
        _put(fact, spec, _get(profile, spec.name))
    derived = derived_values(profile, jurisdictions)
    for spec in DERIVED_FIELDS:
        _put(fact, spec, derived[spec.name])
    return fact


def option_fact(option: Option, relative: dict[str, Any] | None = None) -> dict[str, Any]:
    fact: dict[str, Any] = {"option__id": option.id, "option__kind": option.kind}
    for spec in RELATIVE_OPTION_FIELDS:
        if relative is not None:
            _put(fact, spec, relative[spec.name])
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
    home = home_of(profile, jurisdictions)
    facts = []
    for option in options:
        relative = relative_values(option, profile, jurisdictions, home)
        facts.append({"kind": FACT_KIND, **base, **option_fact(option, relative)})
    return facts
