"""The organisation profile, schema versions 1 and 2 (a published contract).

Version 2 differs from version 1 in one place: ``sovereignty`` is a mapping
(residency, immunity from foreign law, accreditations), stated relative to the
organisation's home. Version 1 files keep working: their sovereignty string is
read as the equivalent mapping (:func:`legacy_sovereignty`), and
``advisor migrate`` rewrites them.

Field names and vocabularies are stable; new optional fields may be added.
Defaults (documented in docs/profile.md) apply only where a field has an
honest default; everything that decides a legal outcome without one is
required.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, Optional, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from advisor.profile import vocabulary as V
from advisor.countries import check_code, country_of
from advisor.errors import InputError, Problem, did_you_mean, one_of
from advisor.schemacheck import validate_document
from advisor.yamlload import Document, load_file

if TYPE_CHECKING:
    from advisor.catalog.costdata import Catalog

SCHEMA_VERSION = 2
#: Versions this advisor reads.
SCHEMA_VERSIONS = (1, 2)

# Ranges of the numeric fields (docs/profile.md): generous for any real
# organisation, small enough that every figure derived from them stays finite
# and exactly comparable by the rule engine.
MAX_PEOPLE = 10_000_000_000            # subject_volumes: individuals per year
MAX_REQUESTS_PER_DAY = 10_000_000_000
MAX_INPUT_TOKENS = 10_000_000
MAX_OUTPUT_TOKENS = 1_000_000
MAX_PEAK_FACTOR = 100
MAX_LATENCY_MS = 600_000               # ten minutes

Sector = Literal[V.SECTORS]  # type: ignore[valid-type]
EntityFlag = Literal[V.ENTITY_FLAGS]  # type: ignore[valid-type]
DataCategory = Literal[V.DATA_CATEGORIES]  # type: ignore[valid-type]
UseCase = Literal[V.USE_CASES]  # type: ignore[valid-type]


class _Strict(BaseModel):
    # strict: a number is a number and a boolean a boolean ("20000" and "no"
    # are refused, not converted); no infinite or NaN values
    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True, strict=True,
                              allow_inf_nan=False)


def _dedupe(values: list[Any]) -> list[Any]:
    """Keep the first occurrence of each value, in order (a repeat is harmless)."""
    seen: list[Any] = []
    for v in values:
        if v not in seen:
            seen.append(v)
    return seen


_T = TypeVar("_T")
#: A list field whose repeated values are dropped (keeping the first).
Unique = Annotated[_T, AfterValidator(_dedupe)]


class Organisation(_Strict):
    name: str = Field(min_length=1, max_length=200)
    hq_country: str = Field(description="ISO 3166-1 alpha-2 or ISO 3166-2 code (FR, US-CA)")
    establishment_countries: list[str] = Field(
        default_factory=list, description="Default: [hq_country]")
    parent_country: Optional[str] = Field(
        default=None, description="Country of the ultimate parent. Default: hq_country")
    is_us_person: Optional[bool] = Field(
        default=None, description="Default: true when hq_country is US or a US state")
    sectors: Unique[list[Sector]] = Field(min_length=1)
    flags: Unique[list[EntityFlag]] = Field(default_factory=list)

    @field_validator("hq_country", "parent_country")
    @classmethod
    def _country(cls, v: Optional[str]) -> Optional[str]:
        return None if v is None else check_code(v)

    @field_validator("establishment_countries")
    @classmethod
    def _countries(cls, v: list[str]) -> list[str]:
        return _dedupe([check_code(c) for c in v])


    @model_validator(mode="after")
    def _defaults(self) -> "Organisation":
        # frozen model: fill documented defaults through object.__setattr__
        if not self.establishment_countries:
            object.__setattr__(self, "establishment_countries", [self.hq_country])
        if self.parent_country is None:
            object.__setattr__(self, "parent_country", self.hq_country)
        if self.is_us_person is None:
            object.__setattr__(self, "is_us_person", country_of(self.hq_country) == "US")
        return self


class Data(_Strict):
    categories: Unique[list[DataCategory]] = Field(min_length=1)
    subject_jurisdictions: list[str] = Field(
        min_length=1, description="ISO codes of where data subjects are, or 'EEA'")
    subject_volumes: dict[str, Annotated[int, Field(ge=0, le=MAX_PEOPLE)]] = Field(
        default_factory=dict, description="Individuals per year, by jurisdiction (optional)")
    classification_scheme: Literal[V.CLASSIFICATION_SCHEMES] = "none"  # type: ignore[valid-type]
    classification_level: Literal[V.CLASSIFICATION_LEVELS]  # type: ignore[valid-type]
    us_federal_impact: Literal[V.US_FEDERAL_IMPACT] = "none"  # type: ignore[valid-type]
    dod_impact_level: Literal[V.DOD_IMPACT_LEVELS] = "none"  # type: ignore[valid-type]


    @field_validator("subject_jurisdictions")
    @classmethod
    def _jurisdictions(cls, v: list[str]) -> list[str]:
        return _dedupe([check_code(c, allow_bloc=True) for c in v])

    @field_validator("subject_volumes")
    @classmethod
    def _volumes(cls, v: dict[str, int]) -> dict[str, int]:
        return {check_code(k, allow_bloc=True): n for k, n in v.items()}


class AI(_Strict):
    use_cases: Unique[list[UseCase]] = Field(min_length=1)
    needs: Unique[list[Literal[V.NEEDS]]] = Field(  # type: ignore[valid-type]
        default_factory=list,
        description="What the deployment must offer beyond what the use cases imply "
                    "(internet_reachable, outbound_connectivity, frontier_api_model)")
    critical_or_important_function: bool = False
    ai_act_role: Literal[V.AI_ACT_ROLES] = "deployer"  # type: ignore[valid-type]
    customisation: Literal[V.CUSTOMISATION] = "prompting_rag"  # type: ignore[valid-type]
    model_source: Literal[V.MODEL_SOURCES] = "open_weights"  # type: ignore[valid-type]



class Latency(_Strict):
    ttft_ms: float = Field(default=2000, ge=1, le=MAX_LATENCY_MS,
                           description="p99 time to first token, ms (the sizing meets it)")
    tpot_ms: float = Field(default=100, ge=1, le=MAX_LATENCY_MS,
                           description="p99 time per output token, ms (the sizing meets it)")


class Workload(_Strict):
    model: str = Field(min_length=1, description="Model id from the catalog (self-hosted options)")
    api_model: Optional[str] = Field(default=None, description="API product priced for API options")
    requests_per_day: float = Field(ge=1, le=MAX_REQUESTS_PER_DAY)
    input_tokens: float = Field(ge=1, le=MAX_INPUT_TOKENS, description="Mean input tokens per request")
    output_tokens: float = Field(ge=1, le=MAX_OUTPUT_TOKENS,
                                 description="Mean output tokens per request")
    peak_factor: float = Field(default=3.0, ge=1, le=MAX_PEAK_FACTOR,
                               description="Peak hourly rate / average hourly rate")
    latency: Latency = Field(default_factory=Latency)
    growth_per_year: float = Field(default=0.0, ge=-0.9, le=10)
    high_availability: Optional[bool] = Field(
        default=None,
        description="A spare server or instance (a failure domain) for self-hosted options. Default: on for "
                    "DORA critical or important functions and for air-gapped deployments, off otherwise")
    sensitive_share: Optional[float] = Field(
        default=None, gt=0, lt=1,
        description="Share of requests with the data classes a hybrid option keeps on its own servers. "
                    "Default: catalog/opex.yaml hybrid_sensitive_share (an assumption)")
    cached_input_share: Optional[float] = Field(
        default=None, ge=0, le=1,
        description="Share of input tokens billed at an API's cached-input price. "
                    "Default: catalog/opex.yaml api_cached_input_share (0)")


class Sovereignty(_Strict):
    """What the organisation requires of where and by whom its data is processed,
    relative to its home (``organisation.hq_country``)."""

    residency: Unique[list[str]] = Field(
        default_factory=list,
        description="Where data may be processed and stored: ISO country codes, 'EEA', 'EU', "
                    "or 'home' (the headquarters country). Empty: no residency requirement")
    immunity_from_foreign_law: bool = Field(
        default=False,
        description="No state other than home (for EU members: the EU and its member states) "
                    "may be able to compel the operator to disclose the data")
    accreditations: Unique[list[Literal[V.ACCREDITATION_REQUEST]]] = Field(  # type: ignore[valid-type]
        default_factory=list,
        description="Accreditation schemes a cloud operator must hold (any one of them); "
                    "'national' = any scheme of the home country's security authority")
    basis: Optional[str] = Field(
        default=None, max_length=300,
        description="What imposes the requirement (a law, a contract, a policy), cited in findings")
    legacy: Optional[Literal[V.SOVEREIGNTY]] = Field(  # type: ignore[valid-type]
        default=None, description="The schema-version-1 string this was read from (set by advisor)")

    @field_validator("residency")
    @classmethod
    def _places(cls, v: list[str]) -> list[str]:
        return _dedupe(["home" if c.strip().lower() == "home" else
                        check_code(c, allow_subdivision=False, allow_bloc=True) for c in v])

    @property
    def required(self) -> bool:
        return bool(self.residency or self.immunity_from_foreign_law or self.accreditations)


#: EEA members, for reading the v1 string "residency_in_region" (the v1 meaning of
#: "region" for an EEA organisation); catalog/jurisdictions.yaml holds the same list.
_EEA = frozenset("AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI "
                 "ES SE IS LI NO".split())


def legacy_sovereignty(value: str, hq_country: Any) -> dict[str, Any]:
    """The v2 mapping with the same meaning as a v1 sovereignty string.

    v1 "region" meant the EEA for EEA organisations; for everyone else it is
    read as the home country (v1 wrongly treated it as the EU for them too).
    "non-EU law" becomes "foreign law" (for an EU member, EU law is home), and
    "national accreditation" the home security authority's schemes.
    """
    if value == "none":
        return {"legacy": value}
    home = str(hq_country or "").strip().upper().split("-", 1)[0]
    region = ["EEA"] if home in _EEA else ["home"]
    out: dict[str, Any] = {"residency": region, "legacy": value}
    if value in ("immunity_from_non_eu_law", "national_accreditation_required"):
        out["immunity_from_foreign_law"] = True
    if value == "national_accreditation_required":
        out["accreditations"] = ["national"]
    return out


class Finance(_Strict):
    currency: Literal[V.CURRENCIES] = "EUR"  # type: ignore[valid-type]
    horizon_years: int = Field(default=3, ge=1, le=10)
    discount_rate: float = Field(default=0.08, ge=0, le=1)
    deployment_country: Optional[str] = Field(
        default=None, description="Where owned hardware would run. Default: hq_country")
    nvidia_ai_enterprise: bool = Field(
        default=False, description="Cost NVIDIA AI Enterprise licences for owned NVIDIA GPUs (opt-in: "
                                   "open-source serving stacks need none)")

    @field_validator("deployment_country")
    @classmethod
    def _country(cls, v: Optional[str]) -> Optional[str]:
        return None if v is None else check_code(v)


def _legacy_sovereignty_schema(schema: dict[str, Any]) -> None:
    """The published schema also accepts the version-1 sovereignty strings."""
    prop = schema.get("properties", {}).get("sovereignty")
    if prop is not None:
        schema["properties"]["sovereignty"] = {
            "anyOf": [{k: v for k, v in prop.items() if k != "default"},
                      {"type": "string", "enum": list(V.SOVEREIGNTY),
                       "description": "schema_version 1 only: read as the equivalent mapping"}],
            "description": "What the organisation requires of where and by whom data is processed"}


class Profile(_Strict):
    model_config = ConfigDict(extra="forbid", frozen=True,
                              json_schema_extra=_legacy_sovereignty_schema)

    schema_version: Literal[1, 2]
    organisation: Organisation
    data: Data
    ai: AI
    sovereignty: Sovereignty = Field(default_factory=Sovereignty)
    risk_appetite: Literal[V.RISK_APPETITE] = "medium"  # type: ignore[valid-type]
    workload: Workload
    finance: Finance = Field(default_factory=Finance)

    @model_validator(mode="after")
    def _defaults(self) -> "Profile":
        if self.finance.deployment_country is None:
            object.__setattr__(self.finance, "deployment_country",
                               country_of(self.organisation.hq_country))
        return self


class LoadedProfile(BaseModel):
    """A validated profile plus where it came from (for provenance)."""

    model_config = ConfigDict(defer_build=True, arbitrary_types_allowed=True, frozen=True)

    profile: Profile
    source: str
    sha256: str


def profile_from_data(data: Any, doc: Document) -> Profile:
    if not isinstance(data, dict):
        raise InputError([doc.problem((), "expected a profile mapping at the top level",
                                      "start with 'schema_version: 1'")])
    version = data.get("schema_version")
    if version is not None and (isinstance(version, bool) or version not in SCHEMA_VERSIONS):
        raise InputError([doc.problem(("schema_version",),
                                      f"unsupported schema_version {version!r}",
                                      "this advisor reads schema_version 1 and 2")])
    sov = data.get("sovereignty")
    if isinstance(sov, str):
        if version == 2:
            raise InputError([doc.problem(
                ("sovereignty",), f"schema_version 2 states sovereignty as a mapping, got {sov!r}",
                "e.g. 'sovereignty: {residency: [home], immunity_from_foreign_law: true}'; "
                "'advisor migrate FILE' rewrites a version-1 profile")])
        if sov in V.SOVEREIGNTY:
            org = data.get("organisation")
            hq = org.get("hq_country") if isinstance(org, dict) else None
            data = {**data, "sovereignty": legacy_sovereignty(sov, hq)}
        else:
            raise InputError([doc.problem(("sovereignty",), f"sovereignty: unknown value {sov!r}",
                                          did_you_mean(sov, V.SOVEREIGNTY)
                                          or one_of(list(V.SOVEREIGNTY)))])
    return validate_document(Profile, doc, data)


def load_profile(path: str | Path, catalog: "Catalog | None" = None) -> LoadedProfile:
    """Read, parse and validate a profile file (raises InputError). With a
    ``catalog``, its model, API model and currency must be catalogued too;
    those problems are reported together with the schema's."""
    doc = load_file(path, what="profile")
    problems: list[Problem] = []
    if catalog is not None:
        from advisor.profile.references import reference_problems

        problems = reference_problems(doc, catalog)
    try:
        profile = profile_from_data(doc.data, doc)
    except InputError as exc:
        # a value the schema already rejects is reported once
        seen = {(p.line, p.column) for p in exc.problems}
        merged = exc.problems + [p for p in problems if (p.line, p.column) not in seen]
        raise InputError(sorted(merged, key=lambda p: (p.line or 0, p.column or 0))) from None
    if problems:
        raise InputError(problems)
    digest = hashlib.sha256(doc.raw).hexdigest()  # the bytes evaluated (read once)
    return LoadedProfile(profile=profile, source=str(path), sha256=digest)


# validators from the cache (advisor.cache): building them is most of a cold start
from advisor.cache import prepare_models  # noqa: E402

prepare_models([Profile, LoadedProfile])
