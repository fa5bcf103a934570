"""advisor diff (two decisions) and advisor rules impact (two rule libraries)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from advisor.cli import main
from advisor.compare import compare
from advisor.resources import default_rules_dir
from tests.conftest import EXAMPLES

CLINIC = str(EXAMPLES / "clinique-fr.yaml")
AS_OF = ["--as-of", "2026-11-30"]


def _edited_health(tmp_path: Path, old: str, new: str) -> Path:
    folder = tmp_path / "edited"
    folder.mkdir()
    text = (default_rules_dir() / "health.yaml").read_text()
    assert text.count(old) >= 1
    (folder / "health.yaml").write_text(text.replace(old, new, 1))
    return folder


ON_PREM_WARN = "      - options: [on_premise]\n        effect: warn"
ON_PREM_EXCLUDE = "      - options: [on_premise]\n        effect: exclude"


def test_diff_of_two_decisions(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    edited = _edited_health(tmp_path, ON_PREM_WARN, ON_PREM_EXCLUDE)
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    assert runner.invoke(main, ["evaluate", CLINIC, "--format", "json", "-o", str(a)] + AS_OF).exit_code == 0
    assert runner.invoke(main, ["evaluate", CLINIC, "--format", "json", "-o", str(b),
                                "--rules", str(edited)] + AS_OF).exit_code == 0
    r = runner.invoke(main, ["diff", str(a), str(b)])
    assert r.exit_code == 0, r.stderr
    assert "on_premise:\n  status: conditional -> excluded\n  ~ HDS-FR-CERTIFIED-HOST: warn -> exclude" in r.output
    r = runner.invoke(main, ["diff", str(a), str(b), "--format", "json", "--exit-code"])
    assert r.exit_code == 1
    d = json.loads(r.output)
    changed = {o["id"]: o for o in d["options"]}
    assert changed["on_premise"]["status"] == {"old": "conditional", "new": "excluded"}
    assert changed["on_premise"]["cost"] is None  # excluded options are not costed
    # the others only moved up one rank
    assert all(o["status"] is None and not o["findings_added"] and not o["findings_removed"]
               for oid, o in changed.items() if oid != "on_premise")
    r = runner.invoke(main, ["diff", str(a), str(a), "--exit-code"])
    assert r.exit_code == 0 and "no differences" in r.output


def test_diff_cost_threshold_and_findings() -> None:
    base = {"schema_version": 1, "profile": {"name": "P"}, "evaluated_on": "2026-01-01",
            "ruleset": {"sha256": "x", "source": "rules"},
            "options": [{"id": "cloud_gpu", "status": "viable", "rank": 1, "findings": [],
                         "tco": {"expected_npv": "1000", "currency": "EUR"}}],
            "recommendation": {"option": "cloud_gpu"}, "controls": [], "upcoming_obligations": []}
    cheaper = copy.deepcopy(base)
    cheaper["options"][0]["tco"]["expected_npv"] = "960"
    assert not compare(base, cheaper).changed  # -4 %: under the 5 % threshold
    assert compare(base, cheaper, threshold_pct=1).options[0].cost.change_pct == -4.0  # type: ignore[union-attr]
    warned = copy.deepcopy(base)
    warned["options"][0]["findings"] = [{"rule_id": "X-Y", "effect": "warn", "title": "t"}]
    warned["controls"] = [{"id": "dpia"}]
    d = compare(base, warned)
    assert [f.rule_id for f in d.options[0].findings_added] == ["X-Y"]
    assert d.controls_added == ["dpia"] and d.rules == ["X-Y"]


def test_diff_bad_input_is_exit_2(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema_version": 1,\n "options": 3')
    profile = tmp_path / "p.json"
    profile.write_text('{"schema_version": 2}')
    r = runner.invoke(main, ["diff", str(bad), str(profile)])
    assert r.exit_code == 2
    assert f"{bad}:2:" in r.stderr and "invalid JSON" in r.stderr
    assert f"{profile}: not a decision" in r.stderr


def test_rules_impact_of_a_one_line_edit_lists_exactly_the_changed_decisions(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    edited = _edited_health(tmp_path, ON_PREM_WARN, ON_PREM_EXCLUDE)
    r = runner.invoke(main, ["rules", "impact", "--rules", str(edited), str(EXAMPLES),
                             "--format", "json", "--exit-code"] + AS_OF)
    assert r.exit_code == 1, r.stderr
    d = json.loads(r.output)
    assert d["profiles"] == len(list(EXAMPLES.glob("*.yaml")))
    assert d["library"]["modified"] == ["HDS-FR-CERTIFIED-HOST"]
    # only the French clinic processes French care data on a possible on-premise option
    assert [Path(c["profile"]).name for c in d["changed"]] == ["clinique-fr.yaml"]
    (option,) = d["changed"][0]["diff"]["options"]
    assert option["id"] == "on_premise"
    assert option["status"] == {"old": "conditional", "new": "excluded"}
    assert option["findings_changed"] == [{"rule_id": "HDS-FR-CERTIFIED-HOST", "old": "warn",
                                           "new": "exclude", "title": option["findings_changed"][0]["title"]}]
    assert d["rules_causing_changes"] == ["HDS-FR-CERTIFIED-HOST"]

    r = runner.invoke(main, ["rules", "impact", "--rules", str(edited), CLINIC,
                             "--format", "markdown", "-o", str(tmp_path / "impact.md")] + AS_OF)
    assert r.exit_code == 0
    md = (tmp_path / "impact.md").read_text()
    assert "| Clinique Exemple | `on_premise` | conditional -> excluded | `HDS-FR-CERTIFIED-HOST` |" in md


def test_rules_impact_of_a_test_only_edit_is_nothing(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    edited = _edited_health(tmp_path, "name: fires_for_french_care_data", "name: fires_for_french_care")
    r = runner.invoke(main, ["rules", "impact", "--baseline", str(default_rules_dir()),
                             "--rules", str(edited), str(EXAMPLES)] + AS_OF)
    assert r.exit_code == 0, r.stderr
    assert "test cases only: HDS-FR-CERTIFIED-HOST" in r.output
    assert "0 decisions change" in r.output
    r = runner.invoke(main, ["rules", "impact", CLINIC])
    assert r.exit_code == 2 and "nothing to compare" in r.output + r.stderr
