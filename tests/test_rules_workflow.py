"""The rule-library workflow: overlays, export, coverage gaps, JUnit, why."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

from advisor.cli import main
from advisor.resources import default_rules_dir
from tests.conftest import EXAMPLES

CLINIC = str(EXAMPLES / "clinique-fr.yaml")
STARTUP = str(EXAMPLES / "startup-public-data.yaml")

LOCAL_RULE = """\
regime: Local policy
rules:
  - id: LOCAL-NO-CONSUMER
    title: Our policy forbids consumer chat tiers
    citations:
      - {ref: "Internal policy IT-7", url: "https://intranet.example/it7"}
    rationale: The board decided that consumer tiers are never used for work data.
    when:
      data.categories: {contains_any: [special_category_art9]}
    effects:
      - options: [consumer_api]
        effect: exclude
"""

LOCAL_TESTS = """\
    tests:
      - name: fires_for_health_data
        profile: {data: {categories: [special_category_art9]}}
        expect: {consumer_api: exclude}
      - name: silent_otherwise
        expect: none
"""


def _overlay(tmp_path: Path, text: str, name: str = "local.yaml") -> Path:
    folder = tmp_path / "mine"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text)
    return folder


def _findings(output: str, option: str) -> dict[str, str]:
    d = json.loads(output)
    return {f["rule_id"]: f["source"] for f in next(o for o in d["options"] if o["id"] == option)["findings"]}


def test_rules_folder_overlays_the_bundled_library(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    mine = _overlay(tmp_path, LOCAL_RULE)
    r = runner.invoke(main, ["evaluate", CLINIC, "--rules", str(mine), "--format", "json",
                             "--as-of", "2026-11-30"])
    assert r.exit_code == 0, r.stderr
    found = _findings(r.output, "consumer_api")
    # the new rule fires beside the bundled ones, each cited where it is written
    assert found["LOCAL-NO-CONSUMER"] == f"{mine}/local.yaml:3"
    assert found["GDPR-PROCESSOR-CONTRACT"].startswith("rules/gdpr.yaml:")
    bundled = json.loads(runner.invoke(main, ["evaluate", CLINIC, "--format", "json",
                                              "--as-of", "2026-11-30"]).output)
    overlaid = json.loads(r.output)
    assert overlaid["ruleset"]["rules"] == bundled["ruleset"]["rules"] + 1
    assert overlaid["ruleset"]["sha256"] != bundled["ruleset"]["sha256"]
    assert overlaid["ruleset"]["source"] == f"rules + {mine}"

    # --rules-only: the folder is the whole library, so it lacks controls.yaml
    r = runner.invoke(main, ["evaluate", CLINIC, "--rules-only", str(mine)])
    assert r.exit_code == 2 and "controls.yaml: controls file not found" in r.stderr
    r = runner.invoke(main, ["evaluate", CLINIC, "--rules", str(mine), "--rules-only", str(mine)])
    assert r.exit_code == 2 and "not both" in r.stderr


def test_overlay_rule_with_a_bundled_id_replaces_it_in_place(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    text = (default_rules_dir() / "health.yaml").read_text()
    start = text.index("  - id: HDS-FR-CERTIFIED-HOST")
    end = text.index("\n  - id:", start + 1)
    rule = text[start:end].replace("      - options: [on_premise]\n        effect: warn",
                                   "      - options: [on_premise]\n        effect: exclude")
    mine = _overlay(tmp_path, "regime: My health rules\nrules:\n" + rule + "\n", "my-health.yaml")
    r = runner.invoke(main, ["rules", "list", "--rules", str(mine)])
    assert "[replaces rules/health.yaml:" in r.output
    r = runner.invoke(main, ["rules", "test", str(mine), "--rule", "hds-fr-certified-host"])
    assert r.exit_code == 1
    assert "on_premise: expected warn, got exclude" in r.output
    r = runner.invoke(main, ["evaluate", CLINIC, "--rules", str(mine), "--format", "json"])
    d = json.loads(r.output)
    assert d["ruleset"]["rules"] == json.loads(runner.invoke(
        main, ["evaluate", CLINIC, "--format", "json"]).output)["ruleset"]["rules"]
    assert next(o for o in d["options"] if o["id"] == "on_premise")["status"] == "excluded"
    # two rules with one id inside the user's own folder is still a mistake
    (mine / "again.yaml").write_text("regime: Again\nrules:\n" + rule + "\n")
    r = runner.invoke(main, ["validate", str(mine)])
    assert r.exit_code == 2 and "duplicate rule id 'HDS-FR-CERTIFIED-HOST'" in r.stderr


def test_overlay_controls_add_to_the_bundled_ones(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rule = LOCAL_RULE.replace("        effect: exclude", "        effect: conditional\n"
                              "        controls: [board_sign_off, dpia]") + LOCAL_TESTS.replace(
        "{consumer_api: exclude}", "{consumer_api: conditional}")
    mine = _overlay(tmp_path, rule)
    r = runner.invoke(main, ["rules", "test", str(mine), "--rule", "LOCAL-NO-CONSUMER"])
    assert r.exit_code == 2 and "unknown control id 'board_sign_off'" in r.stderr
    (mine / "controls.yaml").write_text(
        "controls:\n  - id: board_sign_off\n    title: Board sign-off\n"
        "    description: The board approves the use.\n    evidence: Minutes of the board meeting\n")
    r = runner.invoke(main, ["rules", "test", str(mine), "--rule", "LOCAL-NO-CONSUMER", "-v"])
    assert r.exit_code == 0, r.output + r.stderr
    assert "2 passed, 0 failed" in r.output
    r = runner.invoke(main, ["validate", str(mine)])
    assert r.exit_code == 0, r.stderr


def test_rules_test_fails_a_rule_without_cases_even_alone(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    mine = _overlay(tmp_path, LOCAL_RULE)
    junit = tmp_path / "rules.xml"
    r = runner.invoke(main, ["rules", "test", str(mine), "--rule", "LOCAL-NO-CONSUMER",
                             "--junit", str(junit)])
    assert r.exit_code == 1
    assert "LOCAL-NO-CONSUMER has no test case where it fires" in r.output
    assert "LOCAL-NO-CONSUMER has no test case where it stays silent" in r.output
    root = ET.parse(junit).getroot()
    assert root.get("failures") == "1" and root.get("tests") == "1"
    case = root.find("testsuite/testcase")
    assert case is not None and case.get("classname") == "LOCAL-NO-CONSUMER"
    failure = case.find("failure")
    assert failure is not None and failure.get("type") == "coverage"

    (mine / "local.yaml").write_text(LOCAL_RULE + LOCAL_TESTS.replace("silent_otherwise",
                                                                      "silent_otherwise_wrong")
                                     .replace("expect: none", "expect: {consumer_api: exclude}"))
    r = runner.invoke(main, ["rules", "test", str(mine), "--rule", "LOCAL-NO-CONSUMER",
                             "--junit", str(junit)])
    assert r.exit_code == 1
    root = ET.parse(junit).getroot()
    failed = [c.get("name") for c in root.iter("testcase") if c.find("failure") is not None]
    assert failed == ["silent_otherwise_wrong", "coverage"]

    (mine / "local.yaml").write_text(LOCAL_RULE + LOCAL_TESTS)
    r = runner.invoke(main, ["rules", "test", str(mine), "--junit", str(junit)])
    assert r.exit_code == 0, r.output
    root = ET.parse(junit).getroot()
    assert root.get("failures") == "0" and int(root.get("tests") or 0) > 150
    assert {s.get("name") for s in root.iter("testsuite")} >= {"gdpr", "local"}


def test_rules_export_then_edit_then_overlay(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "lib"
    r = runner.invoke(main, ["rules", "export", str(out)])
    assert r.exit_code == 0, r.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(
        p.name for p in default_rules_dir().glob("*.yaml"))
    r = runner.invoke(main, ["rules", "export", str(out), "gdpr"])
    assert r.exit_code == 2 and "already exists (give --force" in r.stderr
    assert runner.invoke(main, ["rules", "export", str(out), "gdpr", "--force"]).exit_code == 0
    r = runner.invoke(main, ["rules", "export", str(tmp_path / "one"), "helth"])
    assert r.exit_code == 2 and "did you mean 'health.yaml'" in r.stderr
    assert not (tmp_path / "one").exists()
    r = runner.invoke(main, ["rules", "export", str(tmp_path / "one"), "health"])
    assert [p.name for p in (tmp_path / "one").iterdir()] == ["health.yaml"]
    # the exported complete library works as --rules-only
    r = runner.invoke(main, ["rules", "test", "--rules-only", str(out)])
    assert r.exit_code == 0, r.output


def test_explain_is_case_insensitive(runner) -> None:  # type: ignore[no-untyped-def]
    r = runner.invoke(main, ["rules", "explain", "gdpr-processor-contract"])
    assert r.exit_code == 0 and r.output.startswith("GDPR-PROCESSOR-CONTRACT:")
    r = runner.invoke(main, ["rules", "explain", "gdpr-procesor-contract"])
    assert r.exit_code == 2 and "did you mean 'GDPR-PROCESSOR-CONTRACT'" in r.stderr


def test_why_says_which_condition_did_not_hold(runner) -> None:  # type: ignore[no-untyped-def]
    r = runner.invoke(main, ["rules", "why", "hipaa-baa", CLINIC, "--as-of", "2026-11-30"])
    assert r.exit_code == 0, r.stderr
    assert "Result: the rule does not fire" in r.output
    assert ("needs data.categories contains any of phi, sud_part2, but the profile has "
            "[personal_basic, special_category_art9, fr_care_health_data]") in r.output
    r = runner.invoke(main, ["rules", "why", "GDPR-PROCESSOR-CONTRACT", STARTUP])
    assert "needs derived.gdpr_applies is true, but the profile has false (derived:" in r.output


def test_why_agrees_with_the_evaluation(runner) -> None:  # type: ignore[no-untyped-def]
    d = json.loads(runner.invoke(main, ["evaluate", CLINIC, "--format", "json",
                                        "--as-of", "2026-11-30"]).output)
    fired = {(f["rule_id"], o["id"]): f["effect"] for o in d["options"] for f in o["findings"]}
    ids = json.loads(runner.invoke(main, ["rules", "list", "--format", "json"]).output)
    for rule in ids[::7]:
        r = runner.invoke(main, ["rules", "why", rule["id"], CLINIC, "--as-of", "2026-11-30"])
        assert r.exit_code == 0, r.stderr
        expected = {o: e for (rid, o), e in fired.items() if rid == rule["id"]}
        if expected:
            assert "Result: the rule fires" in r.output, rule["id"]
            for option, effect in expected.items():
                assert f"  {option}: {effect} (entry " in r.output, (rule["id"], option)
        else:
            assert "Result: the rule fires" not in r.output, rule["id"]


def test_rules_docs_prints_unless_given_a_file(runner, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    r = runner.invoke(main, ["rules", "docs"])
    assert r.exit_code == 0 and r.output.startswith("# ")
    assert list(tmp_path.iterdir()) == []
