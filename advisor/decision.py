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
from advisor.engine.facts import build_facts
from advisor.catalog.options import Jurisdictions, OptionCatalog
from advisor.profile import Profile
from advisor.rules.library import EFFECTS, Rule, RuleSet

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
    url: str


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


class OptionResult(_Out):
    id: str
    name: str
    kind: str
    status: Status
    reason: str = Field(description="One line: the deciding finding, or why it is viable")
    rank: Optional[int] = None
    tco: Optional[dict[str, Any]] = None
    findings: list[Finding]


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


def resolve(fired: set[Fired]) -> dict[tuple[str, str], int]:
    """Each option takes the *first* matching effect entry of a rule (entries
    read top to bottom, like a decision table)."""
    chosen: dict[tuple[str, str], int] = {}
    for rule_id, entry, option_id in sorted(fired):
        chosen.setdefault((rule_id, option_id), entry)
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


def evaluate(profile: Profile, ruleset: RuleSet, options: OptionCatalog,
             jurisdictions: Jurisdictions, *, on: dt.date, profile_sha256: str,
             engine: str = "durable", rules_display_dir: str = "rules") -> Decision:
    """Decide, per option, viable / conditional / excluded with the findings why."""
    facts = build_facts(profile, list(options.options), jurisdictions)
    fact_by_option = {f["option__id"]: f for f in facts}
    chosen = resolve(fire(ruleset, facts, engine))
    order = {r.id: i for i, r in enumerate(ruleset.rules)}
    horizon_end = _add_years(on, profile.finance.horizon_years)

    per_option: dict[str, list[Finding]] = {o.id: [] for o in options.options}
    upcoming: dict[str, UpcomingObligation] = {}
    for (rule_id, option_id), entry in sorted(chosen.items(), key=lambda kv: order[kv[0][0]]):
        rule = ruleset.get(rule_id)
        if rule.in_force(on):
            per_option[option_id].append(_finding(rule, entry, fact_by_option[option_id],
                                                  ruleset, rules_display_dir))
            continue
        start = rule.spec.effective_from
        if start is not None and on < start <= horizon_end:
            sel = next(s for s in rule.selectors if s.index == entry)
            item = upcoming.setdefault(rule_id, UpcomingObligation(
                rule_id=rule_id, title=rule.spec.title, regime=rule.regime,
                effective_from=start, note=rule.spec.note, effects={},
                citations=[CitationOut(ref=c.ref, url=c.url) for c in rule.spec.citations]))
            item.effects[option_id] = sel.effect  # type: ignore[assignment]

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
                                    status=status, reason=reason, findings=findings))

    return Decision(
        evaluated_on=on,
        profile=ProfileRef(name=profile.organisation.name, sha256=profile_sha256),
        ruleset=RulesetRef(sha256=ruleset.sha256, rules=len(ruleset.rules),
                           in_force=sum(1 for r in ruleset.rules if r.in_force(on)),
                           source=rules_display_dir),
        options=results,
        controls=consolidate_controls(results, ruleset),
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


def consolidate_controls(results: list[OptionResult], ruleset: RuleSet) -> list[ControlOut]:
    """Every control some usable option needs, once, with the rules and options
    (a waived finding's controls are not needed)."""
    rules_of: dict[str, list[str]] = {}
    options_of: dict[str, list[str]] = {}
    for res in results:
        if res.status == "excluded":
            continue
        for f in res.findings:
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
        spec = ruleset.controls[cid]
        out.append(ControlOut(id=cid, title=spec.title, description=spec.description,
                              evidence=spec.evidence, rules=sorted(rules_of[cid]),
                              options=options_of[cid]))
    return out


# validators from the cache (advisor.cache): building them is most of a cold start
from advisor.cache import prepare_models  # noqa: E402

prepare_models([CitationOut, MatchOut, WaiverOut, Finding, OptionResult, InPlaceOut, ControlOut,
                UpcomingObligation, ProfileRef, RulesetRef, ExpiredWaiver, EvidenceOut, Decision])
