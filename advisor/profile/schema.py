"""The organisation profile, schema version 1 (a published contract).

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
from advisor.errors import InputError, Problem
from advisor.schemacheck import validate_document
from advisor.yamlload import Document, load_file

if TYPE_CHECKING:
    from advisor.catalog.costdata import Catalog

SCHEMA_VERSION = 1

Sector = Literal[V.SECTORS]  # type: ignore[valid-type]
EntityFlag = Literal[V.ENTITY_FLAGS]  # type: ignore[valid-type]
DataCategory = Literal[V.DATA_CATEGORIES]  # type: ignore[valid-type]
UseCase = Literal[V.USE_CASES]  # type: ignore[valid-type]


class _Strict(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)


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
    subject_volumes: dict[str, Annotated[int, Field(ge=0)]] = Field(
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
    critical_or_important_function: bool = False
    ai_act_role: Literal[V.AI_ACT_ROLES] = "deployer"  # type: ignore[valid-type]
    customisation: Literal[V.CUSTOMISATION] = "prompting_rag"  # type: ignore[valid-type]
    model_source: Literal[V.MODEL_SOURCES] = "open_weights"  # type: ignore[valid-type]



class Latency(_Strict):
    ttft_ms: float = Field(default=2000, gt=0, description="p99 time to first token, ms (the sizing meets it)")
    tpot_ms: float = Field(default=100, gt=0, description="p99 time per output token, ms (the sizing meets it)")


class Workload(_Strict):
    model: str = Field(min_length=1, description="Model id from the catalog (self-hosted options)")
    api_model: Optional[str] = Field(default=None, description="API product priced for API options")
    requests_per_day: float = Field(gt=0)
    input_tokens: float = Field(gt=0, description="Mean input tokens per request")
    output_tokens: float = Field(gt=0, description="Mean output tokens per request")
    peak_factor: float = Field(default=3.0, ge=1, description="Peak hourly rate / average hourly rate")
    latency: Latency = Field(default_factory=Latency)
    growth_per_year: float = Field(default=0.0, ge=-0.9, le=10)
    high_availability: bool = Field(default=False, description="Add N+1 spare capacity")
    sensitive_share: Optional[float] = Field(
        default=None, gt=0, lt=1,
        description="Share of requests with the data classes a hybrid option keeps on its own servers. "
                    "Default: catalog/opex.yaml hybrid_sensitive_share (an assumption)")
    cached_input_share: Optional[float] = Field(
        default=None, ge=0, le=1,
        description="Share of input tokens billed at an API's cached-input price. "
                    "Default: catalog/opex.yaml api_cached_input_share (0)")


class Finance(_Strict):
    currency: Literal["EUR", "USD", "GBP", "CHF"] = "EUR"
    horizon_years: int = Field(default=3, ge=1, le=10)
    discount_rate: float = Field(default=0.08, ge=0, le=1)
    deployment_country: Optional[str] = Field(
        default=None, description="Where owned hardware would run. Default: hq_country")

    @field_validator("deployment_country")
    @classmethod
    def _country(cls, v: Optional[str]) -> Optional[str]:
        return None if v is None else check_code(v)


class Profile(_Strict):
    schema_version: Literal[1]
    organisation: Organisation
    data: Data
    ai: AI
    sovereignty: Literal[V.SOVEREIGNTY] = "none"  # type: ignore[valid-type]
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
    if version is not None and version != SCHEMA_VERSION:
        raise InputError([doc.problem(("schema_version",),
                                      f"unsupported schema_version {version!r}",
                                      f"this advisor reads schema_version {SCHEMA_VERSION}")])
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
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    return LoadedProfile(profile=profile, source=str(path), sha256=digest)


# validators from the cache (advisor.cache): building them is most of a cold start
from advisor.cache import prepare_models  # noqa: E402

prepare_models([Profile, LoadedProfile])
