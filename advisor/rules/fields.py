"""The fields a rule condition may test: an explicit registry.

Profile fields are listed here by hand (so this file is the documentation of
what a compliance officer can write); option attributes are read from
:class:`advisor.options.OptionAttributes`; derived fields are computed in
:mod:`advisor.engine.facts`. A test checks that every profile leaf field is
registered, so the registry cannot drift from the schema.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass
from typing import Any, Literal

from advisor.profile import vocabulary as V
from advisor.catalog.options import OptionAttributes

#: Field kinds and the Python values they hold in a fact.
SCALAR_KINDS = frozenset({"text", "country", "bool", "number", "enum", "ordinal"})
LIST_KINDS = frozenset({"enum_list", "country_list", "text_list"})
MAP_KINDS = frozenset({"number_map"})


@dataclass(frozen=True)
class FieldSpec:
    name: str
    kind: str
    values: tuple[str, ...] = ()
    optional: bool = False
    doc: str = ""
    allow_bloc: bool = False

    @property
    def key(self) -> str:
        """The field's key in a flattened fact (durable-rules has no dotted paths)."""
        return self.name.replace(".", "__")

    @property
    def rank_key(self) -> str:
        return self.key + "__rank"

    @property
    def count_key(self) -> str:
        return self.key + "__n"

    def rank(self, value: str) -> int:
        return self.values.index(value)

    def entry(self, map_key: str) -> "FieldSpec":
        """The number held under one key of a map field (may be missing)."""
        return FieldSpec(f"{self.name}.{map_key}", "number", optional=True,
                         doc=f"{self.doc} ({map_key})")


def _f(name: str, kind: str, values: tuple[str, ...] = (), doc: str = "",
       optional: bool = False, allow_bloc: bool = False) -> FieldSpec:
    return FieldSpec(name, kind, values, optional, doc, allow_bloc)


PROFILE_FIELDS: tuple[FieldSpec, ...] = (
    _f("organisation.name", "text", doc="organisation name"),
    _f("organisation.hq_country", "country", doc="headquarters country or subdivision"),
    _f("organisation.establishment_countries", "country_list", doc="countries of establishments"),
    _f("organisation.parent_country", "country", doc="country of the ultimate parent"),
    _f("organisation.is_us_person", "bool", doc="US person (ITAR/EAR, DOJ data rule)"),
    _f("organisation.sectors", "enum_list", V.SECTORS, "sectors"),
    _f("organisation.flags", "enum_list", V.ENTITY_FLAGS, "regulatory status flags"),
    _f("data.categories", "enum_list", V.DATA_CATEGORIES, "data categories processed"),
    _f("data.subject_jurisdictions", "country_list", doc="where data subjects are",
       allow_bloc=True),
    _f("data.subject_volumes", "number_map", doc="individuals per year by jurisdiction"),
    _f("data.classification_scheme", "enum", V.CLASSIFICATION_SCHEMES, "classification scheme"),
    _f("data.classification_level", "ordinal", V.CLASSIFICATION_LEVELS, "classification level"),
    _f("data.us_federal_impact", "ordinal", V.US_FEDERAL_IMPACT, "FIPS 199 impact"),
    _f("data.dod_impact_level", "ordinal", V.DOD_IMPACT_LEVELS, "DoD impact level"),
    _f("ai.use_cases", "enum_list", V.USE_CASES, "AI use cases"),
    _f("ai.critical_or_important_function", "bool", doc="supports a critical or important function"),
    _f("ai.ai_act_role", "enum", V.AI_ACT_ROLES, "AI Act role"),
    _f("ai.customisation", "ordinal", V.CUSTOMISATION, "model customisation depth"),
    _f("ai.model_source", "enum", V.MODEL_SOURCES, "where the model comes from"),
    _f("sovereignty.residency", "country_list",
       doc="where data may be processed and stored (codes, EEA, EU or home)", allow_bloc=True),
    _f("sovereignty.immunity_from_foreign_law", "bool",
       doc="no state but home may be able to compel the operator"),
    _f("sovereignty.accreditations", "enum_list", V.ACCREDITATION_REQUEST,
       "accreditation schemes required of a cloud operator ('national' = the home authority's)"),
    _f("ai.needs", "enum_list", V.NEEDS, "what the deployment must offer, as stated in the profile"),
    _f("risk_appetite", "ordinal", V.RISK_APPETITE, "risk appetite"),
    _f("workload.model", "text", doc="self-hosted model id"),
    _f("workload.api_model", "text", doc="API product id", optional=True),
    _f("workload.requests_per_day", "number", doc="requests per day"),
    _f("workload.input_tokens", "number", doc="mean input tokens"),
    _f("workload.output_tokens", "number", doc="mean output tokens"),
    _f("workload.peak_factor", "number", doc="peak / average load"),
    _f("workload.latency.ttft_ms", "number", doc="p95 time to first token target"),
    _f("workload.latency.tpot_ms", "number", doc="p95 time per output token target"),
    _f("workload.growth_per_year", "number", doc="workload growth per year"),
    _f("workload.high_availability", "bool", doc="spare server or instance wanted (null: advisor's default)",
       optional=True),
    _f("workload.sensitive_share", "number", doc="share of requests kept on own servers by a hybrid option",
       optional=True),
    _f("workload.cached_input_share", "number", doc="share of API input tokens served from cache",
       optional=True),
    _f("finance.currency", "enum", V.CURRENCIES, "reporting currency"),
    _f("finance.horizon_years", "number", doc="TCO horizon in years"),
    _f("finance.discount_rate", "number", doc="discount rate"),
    _f("finance.deployment_country", "country", doc="where owned hardware would run"),
    _f("finance.nvidia_ai_enterprise", "bool", doc="NVIDIA AI Enterprise licences costed (opt-in)"),
)

DERIVED_FIELDS: tuple[FieldSpec, ...] = (
    _f("derived.home_country", "country",
       doc="the organisation's home: the country of its headquarters"),
    _f("derived.home_groups", "text_list",
       doc="the multi-country groups of catalog/jurisdictions.yaml the home belongs to (EEA, EU, NATO, ...)"),
    _f("derived.law_reaches", "country_list",
       doc="states whose law reaches the organisation itself: home, the ultimate parent's "
           "country, the US for a US person"),
    _f("derived.foreign_law_reaches", "bool",
       doc="a state foreign to home (for an EU member: outside the EU) has law that reaches "
           "the organisation itself, through its parent or US-person status"),
    _f("derived.residency_required", "bool",
       doc="sovereignty.residency names where data may be processed"),
    _f("derived.residency_countries", "country_list",
       doc="sovereignty.residency resolved to countries (home and groups expanded)"),
    _f("derived.accreditation_required", "bool",
       doc="sovereignty.accreditations names at least one scheme"),
    _f("derived.use_case_needs", "enum_list", V.NEEDS,
       doc="what the use cases need (vocabulary USE_CASE_NEEDS, e.g. a public chatbot must be "
           "reachable from the internet) plus what ai.needs states"),
    _f("derived.eea_subject_volume", "number",
       doc="individuals per year summed over the EEA (EEA members and the 'EEA' entry of "
           "data.subject_volumes)"),
    _f("derived.ai_act_applies", "bool",
       doc="AI Act Art. 2(1): established in the EU, or output used in the EU (EEA data "
           "subjects), and not excluded by Art. 2(3) (military, defence, national security) "
           "or Art. 2(6) (research and development only)"),
    _f("derived.led_applies", "bool",
       doc="a competent authority processing for law-enforcement purposes (Directive (EU) "
           "2016/680) in the EEA: GDPR Art. 2(2)(d) excludes it from the GDPR"),
    _f("derived.national_security", "bool",
       doc="defence or national-security processing (GDPR Art. 2(2)(a), AI Act Art. 2(3))"),
    _f("derived.classification_owner_is_home", "bool",
       doc="the home security authority may accredit systems for the data's classification "
           "scheme (catalog/jurisdictions.yaml classification_authorities)"),
    _f("derived.personal_data", "bool",
       doc="any data category is personal data (everything except non_personal, trade "
           "secrets, export-controlled technical data, BCSI, PRC important data and CUI)"),
    _f("derived.eea_subjects", "bool",
       doc="data subjects include the EEA or an EEA member state"),
    _f("derived.eea_establishment", "bool",
       doc="the organisation has an establishment (or its HQ) in the EEA"),
    _f("derived.gdpr_applies", "bool",
       doc="personal data and (EEA data subjects, Art. 3(2), or an EEA establishment, Art. 3(1)), "
           "minus the Art. 2(2) exclusions: national security and competent authorities under "
           "the Law Enforcement Directive"),
    _f("derived.uk_subjects", "bool", doc="data subjects include the United Kingdom"),
    _f("derived.us_subjects", "bool", doc="data subjects include the US or a US state"),
    _f("derived.foreign_parent", "bool",
       doc="the ultimate parent is under law foreign to home (another country; for an EU "
           "member, a country outside the EU)"),
    _f("derived.uk_establishment", "bool",
       doc="the headquarters or an establishment is in the United Kingdom"),
    _f("derived.ch_subjects", "bool", doc="data subjects include Switzerland"),
    _f("derived.ch_establishment", "bool",
       doc="the headquarters or an establishment is in Switzerland"),
    _f("derived.de_establishment", "bool",
       doc="the headquarters or an establishment is in Germany"),
    _f("derived.cn_subjects", "bool", doc="data subjects include mainland China"),
    _f("derived.cn_establishment", "bool",
       doc="the headquarters or an establishment is in mainland China"),
    _f("derived.ru_subjects", "bool", doc="data subjects include Russia"),
    _f("derived.ru_establishment", "bool",
       doc="the headquarters or an establishment is in Russia"),
    _f("derived.in_subjects", "bool", doc="data subjects include India"),
    _f("derived.in_establishment", "bool",
       doc="the headquarters or an establishment is in India"),
    _f("derived.ai_chip_licence_country", "bool",
       doc="the headquarters, the ultimate parent or the hardware deployment country is in "
           "the catalogue's US advanced-computing licence group (EAR 742.6(a)(6), 744.23)"),
)


def _attribute_field(name: str, annotation: Any) -> FieldSpec:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    full = f"option.{name}"
    if annotation is bool:
        return FieldSpec(full, "bool")
    if annotation is int or annotation is float:
        return FieldSpec(full, "number")
    if origin is Literal:
        return FieldSpec(full, "enum", tuple(str(a) for a in args))
    if origin is list and args and typing.get_origin(args[0]) is Literal:
        return FieldSpec(full, "enum_list", tuple(str(a) for a in typing.get_args(args[0])))
    if origin is typing.Union and type(None) in args:  # Optional[str]: a country code
        return FieldSpec(full, "country", optional=True)
    raise TypeError(f"option attribute {name}: unsupported annotation {annotation!r}")


#: Option fields computed relative to the organisation (advisor.engine.facts):
#: the option's location resolved against the profile's home, residency and
#: required accreditations. Rules test these instead of "non-EU" or "US".
RELATIVE_OPTION_FIELDS: tuple[FieldSpec, ...] = (
    _f("option.legal_exposure", "country_list",
       doc="states whose law can compel the operator (resolved: home, the organisation's own "
           "reach for self-operated options)"),
    _f("option.exposure_foreign", "bool",
       doc="the legal exposure includes a state foreign to home (for self-operated options: "
           "a foreign parent or US-person status reaches the organisation itself)"),
    _f("option.processing_countries", "country_list",
       doc="countries the option processes data in, resolved for this organisation (empty "
           "when it makes no commitment: 'contains_none' is then true)"),
    _f("option.processing_anywhere", "bool",
       doc="the option makes no commitment on where data is processed"),
    _f("option.processing_outside_residency", "bool",
       doc="a residency requirement applies and the option may process outside its countries"),
    _f("option.accredited_nationally", "bool",
       doc="the option kind is accredited by the home security authority by definition "
           "(a government cloud)"),
    _f("option.meets_accreditation", "bool",
       doc="the option kind holds one of the accreditations the profile requires"),
    _f("option.accredited_for_classification", "bool",
       doc="the option's accrediting authority may accredit systems for the data's "
           "classification scheme"),
)


def option_fields(option_ids: tuple[str, ...], kinds: tuple[str, ...]) -> tuple[FieldSpec, ...]:
    base = (FieldSpec("option.id", "enum", option_ids, doc="option id"),
            FieldSpec("option.kind", "enum", kinds, doc="option kind"))
    attrs = tuple(_attribute_field(n, f.annotation)
                  for n, f in OptionAttributes.model_fields.items())
    return base + attrs + RELATIVE_OPTION_FIELDS


class FieldRegistry:
    """All fields conditions may reference, by dotted name."""

    def __init__(self, option_ids: tuple[str, ...], option_kinds: tuple[str, ...]) -> None:
        specs = PROFILE_FIELDS + DERIVED_FIELDS + option_fields(option_ids, option_kinds)
        self._by_name = {s.name: s for s in specs}

    def names(self) -> list[str]:
        return list(self._by_name)

    def all(self) -> list[FieldSpec]:
        return list(self._by_name.values())

    def lookup(self, name: str) -> FieldSpec | None:
        """Resolve a dotted name, including ``map_field.KEY`` entries."""
        spec = self._by_name.get(name)
        if spec is not None:
            return spec
        head, _, key = name.rpartition(".")
        parent = self._by_name.get(head)
        if parent is not None and parent.kind in MAP_KINDS and key:
            return parent.entry(key.upper())
        return None
