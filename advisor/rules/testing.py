"""Running the test cases that each rule carries (``advisor rules test``).

A case merges its profile fragment over the folder's ``test-profile.yaml``
(mappings merge, lists replace), evaluates the whole ruleset, and compares
*this rule's* effect on every option with the case's ``expect``: the listed
options must have exactly those effects and every other option none. Without
``as_of`` a case checks the rule as if in force; with ``as_of`` it checks the
dates as well.
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass
from typing import Any

from advisor.decision import fire, resolve
from advisor.engine.facts import build_facts
from advisor.errors import InputError
from advisor.catalog.options import Jurisdictions, OptionCatalog
from advisor.profile import profile_from_data
from advisor.rules.library import Rule, RuleSet, RuleTestSpec
from advisor.yamlload import Document


@dataclass(frozen=True)
class CaseResult:
    rule_id: str
    case: str
    passed: bool
    message: str
    location: str

    @property
    def case_id(self) -> str:
        return f"{self.rule_id}::{self.case}"


def merge(base: Any, fragment: Any) -> Any:
    if isinstance(base, dict) and isinstance(fragment, dict):
        out = dict(base)
        for k, v in fragment.items():
            out[k] = merge(base.get(k), v) if k in base else copy.deepcopy(v)
        return out
    return copy.deepcopy(fragment)


def _rule_effects(rule: Rule, ruleset: RuleSet, facts: list[dict[str, Any]], engine: str,
                  as_of: dt.date | None) -> dict[str, str]:
    if as_of is not None and not rule.in_force(as_of):
        return {}
    # without a date a case checks the rule's latest phase
    chosen = resolve(fire(ruleset, facts, engine), ruleset, as_of or dt.date.max)
    effects: dict[str, str] = {}
    for (rule_id, option_id), entry in chosen.items():
        if rule_id == rule.id:
            effects[option_id] = next(s.effect for s in rule.selectors if s.index == entry)
    return effects


def run_case(rule: Rule, test: RuleTestSpec, index: int, ruleset: RuleSet,
             options: OptionCatalog, jurisdictions: Jurisdictions,
             engine: str = "durable") -> CaseResult:
    location = f"{rule.file}:{rule.line}"
    data = merge(ruleset.test_profile, test.profile)
    doc = Document(file=f"{location} (test '{test.name}')", data=data)
    try:
        profile = profile_from_data(data, doc)
    except InputError as exc:
        problems = "; ".join(p.message for p in exc.problems)
        return CaseResult(rule.id, test.name, False, f"test profile is invalid: {problems}",
                          location)
    facts = build_facts(profile, list(options.options), jurisdictions)
    got = _rule_effects(rule, ruleset, facts, engine, test.as_of)
    want = {} if test.expect == "none" else dict(test.expect)
    if got == want:
        return CaseResult(rule.id, test.name, True, "ok", location)
    lines = []
    for option_id in options.ids():
        g, w = got.get(option_id), want.get(option_id)
        if g != w:
            lines.append(f"{option_id}: expected {w or 'no effect'}, got {g or 'no effect'}")
    return CaseResult(rule.id, test.name, False, "; ".join(lines), location)


def run_all(ruleset: RuleSet, options: OptionCatalog, jurisdictions: Jurisdictions,
            engine: str = "durable", only: str | None = None) -> list[CaseResult]:
    results = []
    for rule in ruleset.rules:
        if only and rule.id != only:
            continue
        for i, test in enumerate(rule.spec.tests):
            results.append(run_case(rule, test, i, ruleset, options, jurisdictions, engine))
    return results


def coverage_gaps(ruleset: RuleSet, only: str | None = None) -> dict[str, list[str]]:
    """Rule id -> what its test cases lack: a case where it fires, a case where
    it stays silent (every rule needs both, so an edit that breaks either shows)."""
    out: dict[str, list[str]] = {}
    for rule in ruleset.rules:
        if only and rule.id != only:
            continue
        missing = []
        if not any(t.expect != "none" for t in rule.spec.tests):
            missing.append("has no test case where it fires")
        if not any(t.expect == "none" for t in rule.spec.tests):
            missing.append("has no test case where it stays silent")
        if missing:
            out[rule.id] = missing
    return out


def coverage_problems(ruleset: RuleSet, only: str | None = None) -> list[str]:
    """:func:`coverage_gaps` as one line per gap, at the rule's file and line."""
    rules = {r.id: r for r in ruleset.rules}
    return [f"{rules[rid].file}:{rules[rid].line}: {rid} {gap}"
            for rid, gaps in coverage_gaps(ruleset, only).items() for gap in gaps]
