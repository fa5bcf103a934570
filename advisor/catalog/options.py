"""Deployment options as data (catalog/options.yaml).

The ten option ids are a stable contract; their attributes are what rules test,
so a new option or a specific provider's offer needs no rule edit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator

from advisor.countries import check_code
from advisor.resources import catalog_file
from advisor.errors import InputError
from advisor.schemacheck import check_unique_ids, validate_document
from advisor.yamlload import load_file

#: The stable option ids, in the order reports list them.
STANDARD_OPTION_IDS = (
    "consumer_api", "enterprise_api", "regional_api", "cloud_gpu", "sovereign_branded_cloud",
    "sovereign_cloud", "hybrid", "on_premise", "air_gapped", "government_cloud",
)

OptionKind = Literal["api", "cloud_gpu", "sovereign_cloud", "hybrid", "on_premise",
                     "government_cloud"]

ContractTerm = Literal[
    "art28_dpa", "eu_sccs", "uk_idta", "swiss_sccs", "dpf_certified", "baa", "cjis_addendum",
    "dora_art30_terms", "audit_rights", "audit_reports", "exit_assistance",
    "secrecy_clause_203_stgb", "pci_responsibility_matrix", "itar_us_person_support",
]

Certification = Literal[
    "iso27001", "iso27017", "iso27018", "iso27701", "iso42001", "soc2_type2", "csa_star",
    "pci_dss", "hds", "c5_type2", "secnumcloud", "fedramp_moderate", "fedramp_high", "dod_il4",
    "dod_il5", "dod_il6", "cjis", "ncsc_assessed", "ens_alto", "acn_qc", "irap_protected", "ismap",
    "csap", "ksa_nca_ccc", "sg_mtcs_level3", "ca_cccs_medium", "uk_ncsc_principles",
]


class OptionAttributes(BaseModel):
    """What rules may test about an option (as ``option.<name>``)."""

    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)

    operator: Literal["third_party", "self", "mixed"]
    hosting: Literal["multi_tenant_saas", "managed_model_service", "rented_iaas",
                     "sovereign_iaas", "composite", "customer_premises", "government_cloud"]
    provider_parent_country: Optional[str]
    us_controlled: bool
    processing_region: Literal["global", "in_region", "customer_site"]
    support_access: Literal["global", "in_region", "customer_only"]
    inputs_used_for_training: bool
    retention_days: int = Field(ge=0)
    contract_terms: list[ContractTerm]
    certifications: list[Certification]
    key_custody: Literal["provider", "customer_managed", "customer_held"]
    connectivity: Literal["internet", "private", "isolated"]
    customer_controls_model: bool
    admin_staff: Literal["global", "eu_residents", "us_persons", "customer_only"]
    seal_level: int = Field(ge=0, le=4)
    burst_capacity: bool
    routes_by_data_class: bool
    # Optional attributes (added after v1; defaults keep older catalogs loading).
    #: the provider is a "covered person" or country-of-concern vendor under 28 CFR 202
    doj_covered_person: bool = False
    #: the provider is designated a critical ICT third-party provider under DORA Art. 31
    dora_ctpp_designated: bool = False

    @field_validator("provider_parent_country")
    @classmethod
    def _country(cls, v: Optional[str]) -> Optional[str]:
        return None if v is None else check_code(v, allow_subdivision=False)


class OptionLocation(BaseModel):
    """Where an option of this kind processes data and whose law reaches its
    operator, in words relative to the organisation, resolved per profile
    (advisor.engine.facts): ``home`` (the organisation's country), ``home_region``
    (the EEA for an EEA organisation, else home), ``customer`` (where the
    organisation deploys, and the states whose law reaches the organisation
    itself), ``global`` (anywhere), or ISO codes / group names."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    processing: list[str] = Field(min_length=1)
    exposure: list[str] = Field(min_length=1)
    #: accreditation schemes the kind holds by definition ('national' = the home
    #: security authority's schemes, as for a government cloud)
    accreditations: list[str] = Field(default_factory=list)
    #: which catalog holds the offers that realise this option
    offers: Literal["api", "cloud_gpu", "own", "composite"]

    @field_validator("processing", "exposure")
    @classmethod
    def _places(cls, v: list[str]) -> list[str]:
        out = []
        for c in v:
            if c in ("home", "home_region", "customer", "global"):
                out.append(c)
            else:
                out.append(check_code(c, allow_subdivision=False, allow_bloc=True))
        return out

    @field_validator("accreditations")
    @classmethod
    def _schemes(cls, v: list[str]) -> list[str]:
        from advisor.profile.vocabulary import ACCREDITATION_REQUEST

        for c in v:
            if c not in ACCREDITATION_REQUEST:
                raise ValueError(f"unknown accreditation '{c}' (expected 'national' or one of: "
                                 + ", ".join(ACCREDITATION_REQUEST[1:]) + ")")
        return v


class Option(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    kind: OptionKind
    description: str
    attributes: OptionAttributes
    location: OptionLocation
    #: catalogued cloud providers whose GPU prices stand in for this option when
    #: it is costed (None: any provider whose control and region match)
    price_proxies: Optional[list[str]] = None


class OptionCatalog(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)

    as_of: str
    source: str
    status: Literal["verified", "secondary", "assumption"]
    options: list[Option] = Field(min_length=1)

    def ids(self) -> list[str]:
        return [o.id for o in self.options]

    def get(self, option_id: str) -> Option:
        for o in self.options:
            if o.id == option_id:
                return o
        raise KeyError(option_id)


def load_options(catalog_dir: Path) -> OptionCatalog:
    path = catalog_file(catalog_dir, "options.yaml")
    doc = load_file(path, what="options catalog")
    catalog = validate_document(OptionCatalog, doc)
    check_unique_ids(doc, "options", [o.id for o in catalog.options], "option")
    return catalog


# Jurisdictions moved to advisor.catalog.jurisdictions; re-exported for callers.
from advisor.catalog.jurisdictions import Jurisdictions, load_jurisdictions  # noqa: E402,F401
