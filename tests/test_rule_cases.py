"""Every rule's own test cases, collected as RULE-ID::case, plus the meta-rules
every rule must follow."""

from __future__ import annotations

import pytest

from advisor.rules.testing import coverage_problems, run_case
from advisor.workspace import load_workspace

_WS = load_workspace()
CASES = [(rule, i, t) for rule in _WS.ruleset.rules for i, t in enumerate(rule.spec.tests)]


@pytest.mark.parametrize("rule,index,test", CASES,
                         ids=[f"{r.id}::{t.name}" for r, _, t in CASES])
def test_rule_case(rule, index, test) -> None:  # type: ignore[no-untyped-def]
    result = run_case(rule, test, index, _WS.ruleset, _WS.options, _WS.jurisdictions)
    assert result.passed, f"{result.location}: {result.message}"


@pytest.mark.parametrize("rule,index,test", CASES,
                         ids=[f"{r.id}::{t.name}::reference" for r, _, t in CASES])
def test_rule_case_reference_engine(rule, index, test) -> None:  # type: ignore[no-untyped-def]
    result = run_case(rule, test, index, _WS.ruleset, _WS.options, _WS.jurisdictions,
                      engine="reference")
    assert result.passed, f"{result.location}: {result.message}"


def test_every_rule_has_a_firing_and_a_silent_case() -> None:
    assert coverage_problems(_WS.ruleset) == []


def test_every_rule_cites_an_official_url_and_explains_itself() -> None:
    for rule in _WS.ruleset.rules:
        assert rule.spec.citations
        for c in rule.spec.citations:
            # a source without a public text must be the organisation's own (its profile)
            assert (c.url or "").startswith("https://") or "profile" in c.ref, (rule.id, c.ref)
        laws = [c for c in rule.spec.citations if c.url]
        assert laws or rule.regime == "Use-case needs" or rule.id.startswith("SOV-"), rule.id
        assert len(rule.spec.rationale.split()) >= 25, f"{rule.id}: rationale too short"


def test_library_size_floor() -> None:
    assert len(_WS.ruleset.rules) >= 60
    assert len(CASES) >= 120
    regimes = {r.regime for r in _WS.ruleset.rules}
    assert len(regimes) >= 20


def test_every_rule_is_dated_and_controls_are_described() -> None:
    for rule in _WS.ruleset.rules:
        assert rule.spec.effective_from is not None, f"{rule.id}: no effective_from"
        for cid in rule.spec.controls:
            c = _WS.ruleset.controls[cid]
            assert c.evidence.strip(), f"{cid}: no evidence"
    used = {c for r in _WS.ruleset.rules for c in [*r.spec.controls,
                                                     *(x for e in r.spec.effects for x in e.controls)]}
    assert set(_WS.ruleset.controls) - used == set(), "controls described but never used"

