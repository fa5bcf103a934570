"""Jurisdictions as data (catalog/jurisdictions.yaml): groups, home law,
accreditation schemes and who may accredit systems for classified information.

:class:`Home` is the organisation's point of view, derived once from the
profile: its home country, the groups it belongs to, which states' law is
"home" (an EU member treats EU law as its own), and which states' law reaches
the organisation itself (a foreign parent, US-person status). Rules never say
"non-EU" or "US"; they compare offers with this.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from advisor.countries import check_code, country_of
from advisor.errors import InputError
from advisor.resources import catalog_file
from advisor.schemacheck import validate_document
from advisor.yamlload import load_file

Status = Literal["verified", "secondary", "assumption"]


class _Frozen(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)


class Group(_Frozen):
    name: str
    members: list[str]
    source: str
    url: str
    as_of: str
    status: Status

    @field_validator("members")
    @classmethod
    def _codes(cls, v: list[str]) -> list[str]:
        return [check_code(c, allow_subdivision=False) for c in v]


class Scheme(_Frozen):
    """A cloud accreditation scheme and the state whose authority issues it."""

    name: str
    issuer: str
    authority: str
    #: the scheme accredits systems for classified information
    classified: bool = False
    url: str
    source: str
    as_of: str
    status: Status

    @field_validator("issuer")
    @classmethod
    def _issuer(cls, v: str) -> str:
        return check_code(v, allow_subdivision=False)


class Jurisdictions(_Frozen):
    groups: dict[str, Group]
    home_law_groups: list[str] = Field(default_factory=list)
    schemes: dict[str, Scheme] = Field(default_factory=dict)
    classification_authorities: dict[str, list[str]] = Field(default_factory=dict)

    def members(self, group: str) -> frozenset[str]:
        return frozenset(self.groups[group].members)

    def expand(self, codes: Iterable[str], home: str | None = None) -> frozenset[str]:
        """Country codes for a list of codes, group names and 'home'."""
        out: set[str] = set()
        for code in codes:
            if code == "home":
                if home:
                    out.add(home)
            elif code in self.groups:
                out |= self.members(code)
            elif code == "EEA" or code == "EU":  # blocs without a catalogued group
                continue
            else:
                out.add(country_of(code))
        return frozenset(out)

    def groups_of(self, country: str) -> list[str]:
        """Multi-country groups the country belongs to (EEA, EU, NATO, ...)."""
        return sorted(name for name, g in self.groups.items()
                      if len(g.members) > 1 and country in g.members)

    def home(self, home_country: str, reaching: Iterable[str] = ()) -> "Home":
        home = country_of(home_country)
        law = {home}
        for g in self.home_law_groups:
            if g in self.groups and home in self.groups[g].members:
                law |= self.members(g)
        reach = {home} | {country_of(c) for c in reaching}
        return Home(country=home, groups=tuple(self.groups_of(home)), law=frozenset(law),
                    reaches=frozenset(reach))

    def schemes_issued_by(self, country: str) -> frozenset[str]:
        return frozenset(sid for sid, s in self.schemes.items() if s.issuer == country)

    def issuer_of(self, scheme: str) -> str | None:
        s = self.schemes.get(scheme)
        return s.issuer if s else None


@dataclass(frozen=True)
class Home:
    """The organisation's own point of view on the law."""

    country: str
    groups: tuple[str, ...]
    #: states whose law is home law (home, plus the EU for an EU member)
    law: frozenset[str]
    #: states whose law reaches the organisation itself (home, a parent's
    #: country, the US for a US person)
    reaches: frozenset[str]

    def foreign(self, states: Iterable[str]) -> frozenset[str]:
        return frozenset(s for s in states if s not in self.law)

    @property
    def foreign_reach(self) -> frozenset[str]:
        return self.foreign(self.reaches)


def load_jurisdictions(catalog_dir: Path) -> Jurisdictions:
    doc = load_file(catalog_file(catalog_dir, "jurisdictions.yaml"), what="jurisdictions catalog")
    j = validate_document(Jurisdictions, doc)
    missing = {"EEA", "EU", "EU_ADEQUATE", "UK"} - set(j.groups)
    if missing:
        raise InputError([doc.problem(("groups",), "missing jurisdiction group(s): "
                                      + ", ".join(sorted(missing)))])
    problems = []
    for g in j.home_law_groups:
        if g not in j.groups:
            problems.append(doc.problem(("home_law_groups",), f"unknown group '{g}'"))
    for scheme, places in j.classification_authorities.items():
        for k, code in enumerate(places):
            if code != "home" and code not in j.groups:
                try:
                    check_code(code, allow_subdivision=False)
                except ValueError as exc:
                    problems.append(doc.problem(("classification_authorities", scheme, k), str(exc)))
    if problems:
        raise InputError(problems)
    return j
