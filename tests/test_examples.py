"""Each example profile against its reviewed expected decision, and golden
Markdown/JSON output (regenerate with ADVISOR_REGEN=1 and review the diff)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from advisor.decision import evaluate
from advisor.profile import load_profile
from advisor.report.render import render_json, render_markdown
from tests.conftest import AS_OF, EXAMPLES

EXPECTED = Path(__file__).parent / "expected"
GOLDEN = Path(__file__).parent / "golden"
NAMES = sorted(p.stem for p in EXAMPLES.glob("*.yaml"))


def decide(ws, name):  # type: ignore[no-untyped-def]
    """The decision as `advisor evaluate` makes it: rules, then costs and ranking."""
    from advisor.costing import load_cost_catalog, rank_decision

    lp = load_profile(EXAMPLES / f"{name}.yaml")
    d = evaluate(lp.profile, ws.ruleset, ws.options, ws.jurisdictions, on=AS_OF,
                 profile_sha256=lp.sha256)
    if not d.any_usable:
        return d
    return rank_decision(d, lp.profile, load_cost_catalog(), ws.options, jurisdictions=ws.jurisdictions)


def test_at_least_twelve_sector_families_have_examples() -> None:
    assert len(NAMES) >= 12
    assert set(NAMES) == {p.stem for p in EXPECTED.glob("*.yaml")}


@pytest.mark.parametrize("name", NAMES)
def test_example_matches_reviewed_decision(workspace, name: str) -> None:  # type: ignore[no-untyped-def]
    expected = yaml.safe_load((EXPECTED / f"{name}.yaml").read_text())
    d = decide(workspace, name)
    assert {o.id: o.status for o in d.options} == expected["options"]
    excluded_by = {o.id: sorted({f.rule_id for f in o.findings if f.effect == "exclude"})
                   for o in d.options if o.status == "excluded"}
    assert excluded_by == expected["excluded_by"]
    assert [u.rule_id for u in d.upcoming_obligations] == expected["upcoming"]


@pytest.mark.parametrize("name", NAMES)
def test_golden_outputs(workspace, name: str) -> None:  # type: ignore[no-untyped-def]
    d = decide(workspace, name)
    outputs = {f"{name}.md": render_markdown(d), f"{name}.json": render_json(d)}
    for filename, text in outputs.items():
        path = GOLDEN / filename
        if os.environ.get("ADVISOR_REGEN"):
            path.write_text(text)
        assert path.exists(), f"missing golden file {path}; run with ADVISOR_REGEN=1"
        assert text == path.read_text(), f"{filename} differs from its golden file"
