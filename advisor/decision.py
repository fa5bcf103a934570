"""From a profile and a ruleset to a Decision: the pure core of advisor.

No file access, no clock: the evaluation date is an argument. The Decision is
what JSON serialises and what every template reads.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

from advisor import __version__
from advisor.engine import reference
from advisor.catalog.costdata import Catalog
from advisor.catalog.jurisdictions import Home, Jurisdictions
from advisor.catalog.offers import Requirement, meeting, realising_offers
from advisor.catalog.options import OptionCatalog
from advisor.countries import country_of
from advisor.engine.facts import (build_facts, home_of, required_schemes, residency_countries,
                                  resolve_location)
from advisor.profile import Profile
from advisor.rules.library import EFFECTS, ConstrainSpec, ControlSpec, Rule, RuleSet, Selector

#: Controls advisor itself may require (a user's rule library need not define them).
BUILTIN_CONTROLS = {
    "local_legal_review": ControlSpec(
        id="local_legal_review", title="Legal review under the law of the jurisdictions advisor did not assess",
        description="advisor's rule library does not cover every jurisdiction this organisation touches. "
                    "Before relying on this briefing, have counsel in those jurisdictions check transfer, "
                    "localisation, sector and accreditation rules for each option.",
        evidence="A signed legal opinion per unassessed jurisdiction, naming the options reviewed."),
}

DECISION_SCHEMA_VERSION: Literal[1] = 1
Status = Literal["viable", "conditional", "excluded"]
Fired = tuple[str, int, str]


class _Out(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid")

    #: fields left out of the JSON while they are None: what only an evidence
    #: file adds, so decisions made without one read as before
    _omit_when_none: ClassVar[tuple[str, ...]] = ()

    @model_serializer(mode="wrap")
    def _omit(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        if isinstance(data, dict):
            for name in self._omit_when_none:
                if data.get(name, 0) is None:
                    del data[name]
        return data


class CitationOut(_Out):
    ref: str
    url: Optional[str] = None


class MatchOut(_Out):
    condition: str = Field(description="The rule condition that held, as written")
    field: str
    actual: Any = Field(description="The profile's value for that field")


class WaiverOut(_Out):
    """A finding's waiver, from the evidence file: the finding stays, marked."""

    justification: str
    approver: str
    expires: dt.date
    reference: str
    accept_exclusion: bool = False
    source: str = Field(description="Evidence file and line of the waiver")


class Finding(_Out):
    _omit_when_none = ("waived",)

    rule_id: str
    effect: Literal["exclude", "conditional", "warn"]
    title: str
    regime: str
    jurisdiction: Optional[str] = None
    citations: list[CitationOut]
    rationale: str
    controls: list[str]
    reason: Optional[str] = Field(default=None, description="Why this option in particular")
    note: Optional[str] = Field(default=None, description="Where the legal position is moving")
    source: str = Field(description="Rule file and line, e.g. rules/gdpr.yaml:12")
    matched: list[MatchOut]
    waived: Optional[WaiverOut] = Field(
        default=None, description="Set when an evidence file waives this finding for this "
                                  "option; a waived finding does not count towards the status")


class ConstraintOut(_Out):
    kind: Literal["processing", "exposure", "accreditation"]
    allowed: list[str] = Field(description="Countries (processing, exposure) or scheme ids "
                                           "(accreditation) an offer must stay within / hold")
    rule_id: str
    text: str


class OptionResult(_Out):
    id: str
    name: str
    kind: str
    status: Status
    reason: str = Field(description="One line: the deciding finding, or why it is viable")
    rank: Optional[int] = None
    tco: Optional[dict[str, Any]] = None
    findings: list[Finding] = Field(
        description="Findings specific to this option (duties shared by every usable option "
                    "are listed once, under the decision's obligations)")
    shared: list[str] = Field(default_factory=list,
                              description="Rule ids of the organisation obligations that also apply")
    constraints: list[ConstraintOut] = Field(
        default_factory=list, description="Which offers may realise this option")
    offers: Optional[list[str]] = Field(
        default=None, description="Catalogued offers that realise the option and meet every "
                                  "constraint (null: the organisation operates it itself)")
    offers_note: Optional[str] = None


class CoverageOut(_Out):
    assessed: list[str] = Field(description="Jurisdictions the profile touches that the rule library covers")
    not_assessed: list[str] = Field(description="Jurisdictions the profile touches that no rule file covers")
    library: list[str] = Field(description="What the rule library declares it covers")


class InPlaceOut(_Out):
    """A control already in place, from the evidence file."""

    evidence: str
    owner: str
    date: dt.date
    reference: Optional[str] = None
    source: str = Field(description="Evidence file and line")


class ControlOut(_Out):
    _omit_when_none = ("in_place",)

    id: str
    title: str
    description: str
    evidence: str
    rules: list[str]
    options: list[str] = Field(description="Non-excluded options that need this control")
    in_place: Optional[InPlaceOut] = Field(
        default=None, description="Set when the evidence file records the control in place")


class UpcomingObligation(_Out):
    rule_id: str
    title: str
    regime: str
    effective_from: dt.date
    citations: list[CitationOut]
    effects: dict[str, Literal["exclude", "conditional", "warn"]]
    note: Optional[str] = None


class ProfileRef(_Out):
    name: str
    sha256: str


class RulesetRef(_Out):
    sha256: str
    rules: int
    in_force: int
    source: str


class ExpiredWaiver(_Out):
    rule_id: str
    options: list[str]
    expired_on: dt.date
    reference: str
    source: str


class EvidenceOut(_Out):
    """What the evidence file (``--evidence``) changed, and what it could not use."""

    source: str
    sha256: str
    controls_in_place: list[str] = Field(description="Controls recorded in place and needed")
    waived: list[str] = Field(description="'RULE-ID on option' for every finding waived")
    expired_waivers: list[ExpiredWaiver] = Field(
        description="Waivers past their expiry date: they no longer apply")
    unused: list[str] = Field(description="Entries that matched nothing in this decision")


class Decision(_Out):
    _omit_when_none = ("evidence",)

    schema_version: Literal[1] = DECISION_SCHEMA_VERSION
    advisor_version: str = __version__
    evaluated_on: dt.date
    profile: ProfileRef
    ruleset: RulesetRef
    options: list[OptionResult]
    home: Optional[str] = Field(default=None,
                                description="The organisation's home country, from which the law is read")
    coverage: CoverageOut = Field(default_factory=lambda: CoverageOut(assessed=[], not_assessed=[],
                                                                      library=[]))
    obligations: list[Finding] = Field(
        default_factory=list,
        description="Findings that apply to every usable option: the organisation's duties "
                    "whichever option it chooses")
    controls: list[ControlOut] = Field(default_factory=list)
    upcoming_obligations: list[UpcomingObligation] = Field(default_factory=list)
    recommendation: Optional[dict[str, Any]] = None
    costing: Optional[dict[str, Any]] = Field(
        default=None, description="Cost method, inputs, sources and options that could not be costed")
    evidence: Optional[EvidenceOut] = Field(
        default=None, description="Controls in place and waivers applied from --evidence")

    def option(self, option_id: str) -> OptionResult:
        for o in self.options:
            if o.id == option_id:
                return o
        raise KeyError(option_id)

    def findings_of(self, option_id: str) -> list[Finding]:
        """Every finding that applies to the option: its own and the shared obligations."""
        res = self.option(option_id)
        shared = [f for f in self.obligations if f.rule_id in res.shared]
        return [*res.findings, *shared]

    @property
    def any_usable(self) -> bool:
        return any(o.status != "excluded" for o in self.options)


def reference_fired(ruleset: RuleSet, facts: list[dict[str, Any]]) -> set[Fired]:
    """What the reference evaluator says fires: (rule id, entry index, option id)."""
    fired: set[Fired] = set()
    for rule in ruleset.rules:
        for fact in facts:
            if not reference.holds(rule.condition, fact):
                continue
            for sel in rule.selectors:
                if reference.holds(sel.match, fact):
                    fired.add((rule.id, sel.index, fact["option__id"]))
    return fired


def fire(ruleset: RuleSet, facts: list[dict[str, Any]], engine: str) -> set[Fired]:
    if engine == "reference":
        return reference_fired(ruleset, facts)
    from advisor.engine.durable import DurableEngine

    return DurableEngine.for_ruleset(ruleset).evaluate(facts)


def resolve(fired: set[Fired], ruleset: RuleSet | None = None,
            on: dt.date | None = None) -> dict[tuple[str, str], int]:
    """Each option takes the *first* matching effect entry of a rule (entries
    read top to bottom, like a decision table). With a date, entries that are a
    phase not in force on that date are skipped."""
    chosen: dict[tuple[str, str], int] = {}
    for rule_id, entry, option_id in sorted(fired):
        if (rule_id, option_id) in chosen:
            continue
        if on is not None and ruleset is not None:
            sel = next(s for s in ruleset.get(rule_id).selectors if s.index == entry)
            if not sel.in_force(on):
                continue
        chosen[(rule_id, option_id)] = entry
    return chosen


def _source(rule: Rule, ruleset: RuleSet, display_dir: str) -> str:
    if rule.shown_file:  # the loader knows the folder (bundled or overlay)
        return rule.source
    name = rule.file.replace("\\", "/").rsplit("/", 1)[-1]
    return f"{display_dir}/{name}:{rule.line}"


def _finding(rule: Rule, entry: int, fact: dict[str, Any], ruleset: RuleSet,
             display_dir: str) -> Finding:
    sel = next(s for s in rule.selectors if s.index == entry)
    matched = [MatchOut(condition=m.condition, field=m.field, actual=m.actual)
               for m in reference.explain(rule.condition, fact)]
    return Finding(
        rule_id=rule.id, effect=sel.effect, title=rule.spec.title, regime=rule.regime,
        jurisdiction=rule.jurisdiction,
        citations=[CitationOut(ref=c.ref, url=c.url) for c in rule.spec.citations],
        rationale=rule.spec.rationale, controls=list(rule.controls_for(sel)),
        reason=sel.reason, note=rule.spec.note, source=_source(rule, ruleset, display_dir),
        matched=matched)


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


#: The finding advisor adds where the rule library is silent on a jurisdiction.
COVERAGE_RULE_ID = "COVERAGE-GAP"


def coverage(profile: Profile, ruleset: RuleSet, jurisdictions: Jurisdictions) -> CoverageOut:
    """Which jurisdictions the profile touches, and which of them no rule file covers."""
    org, data = profile.organisation, profile.data
    touched: list[str] = []
    for code in [org.hq_country, *org.establishment_countries, org.parent_country,
                 *data.subject_jurisdictions, *data.subject_volumes,
                 profile.finance.deployment_country]:
        if not code:
            continue
        c = code if code in jurisdictions.groups else country_of(code)
        if c not in touched:
            touched.append(c)
    covered = jurisdictions.expand(ruleset.coverage)
    assessed: list[str] = []
    gaps: list[str] = []
    for c in touched:
        members = jurisdictions.members(c) if c in jurisdictions.groups else frozenset({c})
        (assessed if members <= covered else gaps).append(c)
    return CoverageOut(assessed=assessed, not_assessed=gaps, library=list(ruleset.coverage))


def _coverage_finding(gaps: list[str]) -> Finding:
    shown = ", ".join(gaps)
    return Finding(
        rule_id=COVERAGE_RULE_ID, effect="conditional",
        title=f"Not assessed: the rule library does not cover {shown}",
        regime="Coverage", jurisdiction=shown, citations=[CitationOut(
            ref="advisor rule library coverage (the coverage key of each rule file; docs/rules-format.md)")],
        rationale=("The profile touches jurisdictions whose law no rule file assesses. Silence is not "
                   "approval: no option can be called viable there until local counsel has reviewed "
                   "transfer, localisation, sector and accreditation rules."),
        controls=["local_legal_review"], source="advisor (coverage check)", matched=[])


def _named(req: Requirement, jurisdictions: Jurisdictions) -> list[str]:
    """The allowed countries in words: whole groups by name (the EEA), then the rest."""
    if req.kind == "accreditation":
        return sorted(req.allowed) or ["a scheme of the home security authority (none catalogued)"]
    left = set(req.allowed)
    names = []
    for name, group in sorted(jurisdictions.groups.items(), key=lambda g: -len(g[1].members)):
        members = set(group.members)
        if len(members) > 1 and members <= left:
            names.append(name)
            left -= members
    return names + sorted(left)


def requirements(spec: ConstrainSpec, profile: Profile, jurisdictions: Jurisdictions,
                 home: Home) -> list[Requirement]:
    """A rule's constraint in concrete terms for this organisation."""
    out: list[Requirement] = []
    if spec.processing is not None:
        if spec.processing == "residency":
            allowed = residency_countries(profile, jurisdictions, home) or frozenset()
        elif spec.processing == "home":
            allowed = frozenset({home.country})
        else:
            allowed = jurisdictions.expand(spec.processing, home.country)
        out.append(Requirement("processing", allowed))
    if spec.exposure == "home":
        out.append(Requirement("exposure", home.law))
    if spec.accreditation is not None:
        if spec.accreditation == "required":
            schemes = required_schemes(profile, jurisdictions, home)
        elif spec.accreditation == "national":
            schemes = jurisdictions.schemes_issued_by(home.country)
        elif spec.accreditation == "classification":
            owners = jurisdictions.expand(
                jurisdictions.classification_authorities.get(profile.data.classification_scheme, []),
                home.country)
            # a classified-level scheme of the home authority, if it may accredit for the data
            schemes = frozenset(sid for sid, sc in jurisdictions.schemes.items()
                                if sc.classified and sc.issuer == home.country and home.country in owners)
        else:
            schemes = frozenset(spec.accreditation)
        out.append(Requirement("accreditation", schemes))
    return out


def evaluate(profile: Profile, ruleset: RuleSet, options: OptionCatalog,
             jurisdictions: Jurisdictions, *, on: dt.date, profile_sha256: str,
             engine: str = "durable", rules_display_dir: str = "rules") -> Decision:
    """Decide, per option, viable / conditional / excluded with the findings why."""
    facts = build_facts(profile, list(options.options), jurisdictions)
    home = home_of(profile, jurisdictions)
    fact_by_option = {f["option__id"]: f for f in facts}
    fired = fire(ruleset, facts, engine)
    chosen = resolve(fired, ruleset, on)
    order = {r.id: i for i, r in enumerate(ruleset.rules)}
    horizon_end = _add_years(on, profile.finance.horizon_years)

    per_option: dict[str, list[Finding]] = {o.id: [] for o in options.options}
    constraints: dict[str, list[ConstraintOut]] = {o.id: [] for o in options.options}
    upcoming: dict[str, UpcomingObligation] = {}

    def add_upcoming(rule: Rule, sel: Selector, option_id: str, start: dt.date) -> None:
        item = upcoming.setdefault(rule.id, UpcomingObligation(
            rule_id=rule.id, title=rule.spec.title, regime=rule.regime,
            effective_from=start, note=rule.spec.note, effects={},
            citations=[CitationOut(ref=c.ref, url=c.url) for c in rule.spec.citations]))
        item.effects.setdefault(option_id, sel.effect)  # type: ignore[arg-type]

    for (rule_id, option_id), entry in sorted(chosen.items(), key=lambda kv: order[kv[0][0]]):
        rule = ruleset.get(rule_id)
        sel = next(s for s in rule.selectors if s.index == entry)
        if rule.in_force(on):
            per_option[option_id].append(_finding(rule, entry, fact_by_option[option_id],
                                                  ruleset, rules_display_dir))
            if sel.constrain is not None:
                for req in requirements(sel.constrain, profile, jurisdictions, home):
                    if any(c.kind == req.kind and set(c.allowed) == req.allowed
                           for c in constraints[option_id]):
                        continue  # the same constraint from another rule: said once
                    constraints[option_id].append(ConstraintOut(
                        kind=req.kind, allowed=sorted(req.allowed), rule_id=rule.id,
                        text=req.describe(_named(req, jurisdictions))))
            continue
        start = rule.spec.effective_from
        if start is not None and on < start <= horizon_end:
            add_upcoming(rule, sel, option_id, start)
    # Phases: a later entry of a rule in force that takes over within the horizon.
    for rule_id, entry, option_id in sorted(fired):
        rule = ruleset.get(rule_id)
        sel = next(s for s in rule.selectors if s.index == entry)
        start = sel.effective_from
        if (rule.in_force(on) and start is not None and on < start <= horizon_end
                and chosen.get((rule_id, option_id)) != entry):
            add_upcoming(rule, sel, option_id, start)

    cover = coverage(profile, ruleset, jurisdictions)
    if cover.not_assessed:
        gap = _coverage_finding(cover.not_assessed)
        for option in options.options:
            found = per_option[option.id]
            if not any(f.effect == "exclude" for f in found):
                found.append(gap)
        order[COVERAGE_RULE_ID] = len(order)

    # Within a severity, the finding that affects the fewest options comes first:
    # it is the one that tells this option apart (a rule that excludes
    # everything is no reason to prefer one option's explanation over another).
    reach: dict[tuple[str, str], int] = {}
    for found in per_option.values():
        for f in found:
            reach[(f.rule_id, f.effect)] = reach.get((f.rule_id, f.effect), 0) + 1
    results = []
    for option in options.options:
        findings = sorted(per_option[option.id],
                          key=lambda f: (EFFECTS.index(f.effect), reach[(f.rule_id, f.effect)],
                                         order[f.rule_id]))
        status, reason = option_status(findings)
        results.append(OptionResult(id=option.id, name=option.name, kind=option.kind,
                                    status=status, reason=reason, findings=findings,
                                    constraints=constraints[option.id] if status != "excluded" else []))
    results, obligations = share_obligations(results)

    return Decision(
        evaluated_on=on,
        profile=ProfileRef(name=profile.organisation.name, sha256=profile_sha256),
        ruleset=RulesetRef(sha256=ruleset.sha256, rules=len(ruleset.rules),
                           in_force=sum(1 for r in ruleset.rules if r.in_force(on)),
                           source=rules_display_dir),
        options=results,
        home=home.country,
        coverage=cover,
        obligations=obligations,
        controls=consolidate_controls(results, ruleset, obligations),
        upcoming_obligations=sorted(upcoming.values(),
                                    key=lambda u: (u.effective_from, u.rule_id)),
    )


def option_status(findings: list[Finding]) -> tuple[Status, str]:
    """An option's status and its one-line reason, from its findings (most
    severe first); waived findings do not count."""
    waived = sum(1 for f in findings if f.waived is not None)
    findings = [f for f in findings if f.waived is None]
    note = f" ({waived} finding{'s' if waived > 1 else ''} waived)" if waived else ""
    if findings and findings[0].effect == "exclude":
        return "excluded", (findings[0].reason or findings[0].title) + note
    if findings and findings[0].effect == "conditional":
        n = sum(1 for f in findings if f.effect == "conditional")
        return "conditional", (f"Viable with the controls of {n} rule{'s' if n > 1 else ''}, "
                               f"notably: {findings[0].title}{note}")
    if findings:
        return "viable", (f"Viable; {len(findings)} warning{'s' if len(findings) > 1 else ''} "
                          f"to note{note}.")
    if waived:
        return "viable", f"Viable: every finding is waived{note}."
    return "viable", "No rule restricts this option for this profile."


def share_obligations(results: list[OptionResult]) -> tuple[list[OptionResult], list[Finding]]:
    """Findings with the same rule and effect on every usable option (two or more)
    do not separate options: they become the organisation's obligations, said once.
    Statuses are unchanged (an option that needs a shared control is still conditional)."""
    usable = [r for r in results if r.status != "excluded"]
    if len(usable) < 2:
        return results, []
    # a finding waived for some option is not shared: it stays with each option
    # (the same rule, effect and controls: a duty worded or controlled differently
    # for some option is specific to it)
    keys = [{(f.rule_id, f.effect) for f in r.findings if f.effect != "exclude" and f.waived is None}
            for r in usable]
    controls_seen: dict[tuple[str, str], set[tuple[str, ...]]] = {}
    for r in usable:
        for f in r.findings:
            controls_seen.setdefault((f.rule_id, f.effect), set()).add(tuple(f.controls))
    keys = [{k for k in ks if len(controls_seen[k]) == 1} for ks in keys]
    common = set.intersection(*keys)
    if not common:
        return results, []
    obligations: list[Finding] = []
    seen: set[tuple[str, str]] = set()
    for f in usable[0].findings:
        if (f.rule_id, f.effect) in common and (f.rule_id, f.effect) not in seen:
            seen.add((f.rule_id, f.effect))
            # the shared finding without option-specific wording
            obligations.append(f.model_copy(update={"reason": None}))
    out = []
    for r in results:
        if r.status == "excluded":
            out.append(r)
            continue
        specific = [f for f in r.findings if (f.rule_id, f.effect) not in common]
        shared = [f.rule_id for f in r.findings if (f.rule_id, f.effect) in common]
        reason = r.reason
        if r.status == "conditional" and not any(f.effect == "conditional" for f in specific):
            reason = "Viable with the organisation's obligations (they apply whichever option you choose)."
        elif r.status == "viable" and not specific:
            reason = "No rule restricts this option beyond the organisation's obligations."
        out.append(r.model_copy(update={"findings": specific, "shared": shared, "reason": reason}))
    return out, obligations


def realise_offers(decision: Decision, profile: Profile, catalog: Catalog, options: OptionCatalog,
                   jurisdictions: Jurisdictions) -> Decision:
    """A copy of ``decision`` where each usable option lists the catalogued offers
    that realise it and meet its constraints (costing prices only those)."""
    home = home_of(profile, jurisdictions)
    out = []
    for res in decision.options:
        if res.status == "excluded":
            out.append(res)
            continue
        option = options.get(res.id)
        loc = resolve_location(option, profile, jurisdictions, home)
        offers = realising_offers(option, catalog, jurisdictions, home, loc.processing, loc.exposure)
        if offers is None:
            out.append(res)
            continue
        reqs = [Requirement(c.kind, frozenset(c.allowed)) for c in res.constraints]
        ok = meeting(offers, reqs)
        note = None
        if not ok:
            what = "; ".join(dict.fromkeys(c.text for c in res.constraints))
            first = (f"No catalogued offer meets: {what}." if what else
                     f"No catalogued offer is this kind of option for an organisation in {home.country}.")
            note = (f"{first} This is a gap in the catalog, not a legal exclusion: add your "
                    "provider's offer to a copy of the catalog and pass it with --catalog.")
        out.append(res.model_copy(update={"offers": [o.id for o in ok], "offers_note": note}))
    return decision.model_copy(update={"options": out})


def consolidate_controls(results: list[OptionResult], ruleset: RuleSet,
                         obligations: list[Finding] | None = None) -> list[ControlOut]:
    """Every control some usable option needs, once, with the rules and options
    (a waived finding's controls are not needed; shared obligations count for
    every option that lists them)."""
    rules_of: dict[str, list[str]] = {}
    options_of: dict[str, list[str]] = {}
    shared = {f.rule_id: f for f in obligations or []}
    for res in results:
        if res.status == "excluded":
            continue
        for f in [*res.findings, *(shared[r] for r in res.shared if r in shared)]:
            if f.waived is not None:
                continue
            for cid in f.controls:
                rules_of.setdefault(cid, [])
                if f.rule_id not in rules_of[cid]:
                    rules_of[cid].append(f.rule_id)
                options_of.setdefault(cid, [])
                if res.id not in options_of[cid]:
                    options_of[cid].append(res.id)
    out = []
    for cid in sorted(rules_of, key=lambda c: (-len(options_of[c]), c)):
        spec = ruleset.controls.get(cid) or BUILTIN_CONTROLS[cid]
        out.append(ControlOut(id=cid, title=spec.title, description=spec.description,
                              evidence=spec.evidence, rules=sorted(rules_of[cid]),
                              options=options_of[cid]))
    return out


# validators from the cache (advisor.cache): building them is most of a cold start
from advisor.cache import prepare_models  # noqa: E402

prepare_models([CitationOut, MatchOut, WaiverOut, Finding, OptionResult, InPlaceOut, ControlOut,
                UpcomingObligation, ProfileRef, RulesetRef, ExpiredWaiver, EvidenceOut, Decision])
