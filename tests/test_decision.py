"""The decision: statuses, isolation, determinism, dates, fail-closed."""

from __future__ import annotations

import datetime as dt

import pytest

from advisor.decision import evaluate
from advisor.engine import durable
from advisor.errors import EvaluationError
from advisor.profile import load_profile
from tests.conftest import AS_OF, EXAMPLES


def decide(ws, name: str, on: dt.date = AS_OF, engine: str = "durable"):  # type: ignore[no-untyped-def]
    lp = load_profile(EXAMPLES / name)
    return evaluate(lp.profile, ws.ruleset, ws.options, ws.jurisdictions, on=on,
                    profile_sha256=lp.sha256, engine=engine)


def test_status_follows_the_most_severe_finding(workspace) -> None:  # type: ignore[no-untyped-def]
    d = decide(workspace, "clinique-fr.yaml")
    for opt in d.options:
        effects = {f.effect for f in d.findings_of(opt.id)}
        expected = ("excluded" if "exclude" in effects else
                    "conditional" if "conditional" in effects else "viable")
        assert opt.status == expected, opt.id


def test_findings_explain_themselves(workspace) -> None:  # type: ignore[no-untyped-def]
    d = decide(workspace, "clinique-fr.yaml")
    f = next(f for f in d.option("enterprise_api").findings if f.rule_id == "HDS-FR-CERTIFIED-HOST")
    assert f.effect == "exclude"
    assert f.source.startswith("rules/health.yaml:")
    assert f.citations[0].url.startswith("https://www.legifrance.gouv.fr/")
    assert f.matched[0].field == "data.categories"
    assert "fr_care_health_data" in f.matched[0].actual
    assert f.controls == []  # an exclusion lists no controls of its own
    cond = next(f for f in d.option("regional_api").findings if f.rule_id == "HDS-FR-CERTIFIED-HOST")
    assert cond.controls == ["hds_certified_host"]


def test_evaluations_are_isolated_and_deterministic(workspace) -> None:  # type: ignore[no-untyped-def]
    first = decide(workspace, "clinique-fr.yaml").model_dump_json()
    decide(workspace, "defence-contractor-itar.yaml")
    decide(workspace, "hr-emotion-prohibited.yaml")
    again = decide(workspace, "clinique-fr.yaml").model_dump_json()
    assert first == again


def test_engines_agree_on_every_example(workspace) -> None:  # type: ignore[no-untyped-def]
    for path in sorted(EXAMPLES.glob("*.yaml")):
        a = decide(workspace, path.name, engine="durable").model_dump()
        b = decide(workspace, path.name, engine="reference").model_dump()
        assert a == b, path.name


def test_rules_not_yet_in_force_become_upcoming_obligations(workspace) -> None:  # type: ignore[no-untyped-def]
    d = decide(workspace, "bank-de-dora.yaml")
    (up,) = [u for u in d.upcoming_obligations if u.rule_id == "AIA-HIGH-RISK-DEPLOYER"]
    assert up.effective_from == dt.date(2027, 12, 2)
    assert up.effects["consumer_api"] == "exclude" and up.effects["on_premise"] == "conditional"
    assert all(f.rule_id != "AIA-HIGH-RISK-DEPLOYER" for o in d.options for f in d.findings_of(o.id))
    later = decide(workspace, "bank-de-dora.yaml", on=dt.date(2028, 1, 1))
    assert not later.upcoming_obligations
    assert any(f.rule_id == "AIA-HIGH-RISK-DEPLOYER" for f in later.findings_of("on_premise"))


def test_upcoming_only_within_horizon(workspace) -> None:  # type: ignore[no-untyped-def]
    d = decide(workspace, "bank-de-dora.yaml", on=dt.date(2021, 1, 1))  # horizon 5 years: to 2026
    assert all(u.rule_id != "AIA-HIGH-RISK-DEPLOYER" for u in d.upcoming_obligations)
    assert any(u.rule_id == "DORA-ICT-REGISTER" for u in d.upcoming_obligations)


def test_prohibited_practice_excludes_everything(workspace) -> None:  # type: ignore[no-untyped-def]
    d = decide(workspace, "hr-emotion-prohibited.yaml")
    assert not d.any_usable
    before = decide(workspace, "hr-emotion-prohibited.yaml", on=dt.date(2025, 1, 1))
    assert before.any_usable


def test_engine_failure_fails_closed(workspace) -> None:  # type: ignore[no-untyped-def]
    """If the engine does not confirm a fact (here: its sentinel rule renamed),
    the evaluation is an error, never a silent "viable"."""
    from advisor.engine.facts import build_facts

    engine = durable.DurableEngine.for_ruleset(workspace.ruleset)
    stage = engine.compiled.conditions
    chunk = stage.chunks[0]
    definition = dict(chunk.definition)
    definition["y_not_the_sentinel"] = definition.pop(durable._SENTINEL)
    broken_stage = durable.CompiledStage(stage.kind, (durable.CompiledChunk(
        chunk.name + "_broken", definition),), stage.index, stage.keys)
    broken = durable.DurableEngine(durable.CompiledRuleset(
        engine.compiled.name + "_broken", broken_stage, engine.compiled.selectors))
    broken._register()
    lp = load_profile(EXAMPLES / "clinique-fr.yaml")
    facts = build_facts(lp.profile, list(workspace.options.options), workspace.jurisdictions)
    with pytest.raises(EvaluationError, match="did not confirm"):
        broken.evaluate(facts)
    assert engine.evaluate(facts)  # the real engine still works afterwards


def test_no_background_threads(workspace) -> None:  # type: ignore[no-untyped-def]
    import threading

    before = threading.active_count()
    decide(workspace, "clinique-fr.yaml")
    assert threading.active_count() == before
