"""The command line: outputs, exit codes, one clear line per bad input."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from advisor.cli import main
from advisor.resources import default_rules_dir
from tests.conftest import EXAMPLES

CLINIC = str(EXAMPLES / "clinique-fr.yaml")


def test_evaluate_markdown(runner) -> None:  # type: ignore[no-untyped-def]
    r = runner.invoke(main, ["evaluate", CLINIC, "--as-of", "2026-11-30"])
    assert r.exit_code == 0, r.output
    assert r.output.startswith("# LLM deployment advisory: Clinique Exemple")
    assert "| Public LLM API, enterprise tier (`enterprise_api`) | **Excluded** |" in r.output
    assert "## Controls to put in place" in r.output


def test_evaluate_json_contract(runner) -> None:  # type: ignore[no-untyped-def]
    r = runner.invoke(main, ["evaluate", CLINIC, "--format", "json", "--as-of", "2026-11-30"])
    assert r.exit_code == 0
    d = json.loads(r.output)
    assert d["schema_version"] == 1 and d["evaluated_on"] == "2026-11-30"
    assert set(d) >= {"advisor_version", "profile", "ruleset", "options", "recommendation"}
    assert len(d["profile"]["sha256"]) == 64 and d["ruleset"]["rules"] >= 12
    ids = [o["id"] for o in d["options"]]
    assert ids[0] == "consumer_api" and ids[-1] == "government_cloud" and len(ids) == 10
    f = d["options"][0]["findings"][0]
    assert set(f) >= {"rule_id", "effect", "title", "citations", "controls"}


def test_exit_code_1_when_nothing_is_usable(runner) -> None:  # type: ignore[no-untyped-def]
    r = runner.invoke(main, ["evaluate", str(EXAMPLES / "hr-emotion-prohibited.yaml"),
                             "--as-of", "2026-11-30", "--format", "json"])
    assert r.exit_code == 1
    assert all(o["status"] == "excluded" for o in json.loads(r.output)["options"])


def test_bad_profile_exit_2_one_line_each_no_traceback(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.yaml"
    bad.write_text(Path(CLINIC).read_text().replace("risk_appetite: low", "risk_appetite: lo")
                   .replace("hq_country: FR", "hq_country: FRA"))
    r = runner.invoke(main, ["evaluate", str(bad)])
    assert r.exit_code == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 2 and all(line.startswith(f"error: {bad}:") for line in lines)
    assert "Traceback" not in r.output + r.stderr


def test_missing_file_directory_and_bad_date(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    r = runner.invoke(main, ["evaluate", str(tmp_path / "none.yaml")])
    assert r.exit_code == 2 and "profile not found" in r.stderr
    r = runner.invoke(main, ["evaluate", str(tmp_path)])
    assert r.exit_code == 2 and "is a directory" in r.stderr
    r = runner.invoke(main, ["evaluate", CLINIC, "--as-of", "30/11/2026"])
    assert r.exit_code == 2 and "use YYYY-MM-DD" in r.stderr
    r = runner.invoke(main, ["evaluate", CLINIC, "--format", "docx"])
    assert r.exit_code == 2


def test_output_file_written_atomically(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "report.md"
    r = runner.invoke(main, ["evaluate", CLINIC, "-o", str(out), "--as-of", "2026-11-30"])
    assert r.exit_code == 0 and r.output == ""
    assert out.read_text().startswith("# LLM deployment advisory")
    assert [p.name for p in tmp_path.iterdir()] == ["report.md"]
    r = runner.invoke(main, ["evaluate", CLINIC, "-o", str(tmp_path / "no" / "r.md")])
    assert r.exit_code == 2 and "does not exist" in r.stderr


def test_bad_rules_folder_reports_every_problem(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rules = tmp_path / "rules"
    shutil.copytree(default_rules_dir(), rules, ignore=shutil.ignore_patterns("__*"))
    text = (rules / "gdpr.yaml").read_text()
    (rules / "gdpr.yaml").write_text(text.replace("derived.gdpr_applies: true", "derived.gdpr_aplies: true", 1)
                                     .replace("controls: [dpia]", "controls: [dpai]"))
    r = runner.invoke(main, ["evaluate", CLINIC, "--rules", str(rules)])
    assert r.exit_code == 2
    assert "unknown field 'derived.gdpr_aplies' (did you mean 'derived.gdpr_applies'" in r.stderr
    assert "unknown control id 'dpai' (did you mean 'dpia'?)" in r.stderr
    assert all(":" in line.split(" ", 1)[1] for line in r.stderr.strip().splitlines())


def test_officer_edits_a_rule_and_sees_the_effect(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rules = tmp_path / "rules"
    shutil.copytree(default_rules_dir(), rules, ignore=shutil.ignore_patterns("__*"))
    text = (rules / "health.yaml").read_text()
    (rules / "health.yaml").write_text(text.replace(
        "      - options: [on_premise]\n        effect: warn", "      - options: [on_premise]\n        effect: exclude"))
    r = runner.invoke(main, ["rules", "test", str(rules)])
    assert r.exit_code == 1
    assert "FAIL HDS-FR-CERTIFIED-HOST::fires_for_french_care_data" in r.output
    assert "on_premise: expected warn, got exclude" in r.output
    r = runner.invoke(main, ["evaluate", CLINIC, "--rules", str(rules), "--format", "json"])
    d = json.loads(r.output)
    assert next(o for o in d["options"] if o["id"] == "on_premise")["status"] == "excluded"


def test_validate_checks_everything_and_reports_all(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    r = runner.invoke(main, ["validate", CLINIC, str(default_rules_dir()),
                             str(default_rules_dir() / "gdpr.yaml")])
    assert r.exit_code == 0, r.stderr
    assert r.output.count("ok:") == 3
    bad1 = tmp_path / "p1.yaml"
    bad1.write_text(Path(CLINIC).read_text().replace("sovereignty: residency_in_region", "sovereignty: yes"))
    bad2 = tmp_path / "rule.yaml"
    bad2.write_text((default_rules_dir() / "general.yaml").read_text().replace("contains_any", "contains_some"))
    r = runner.invoke(main, ["validate", str(bad1), str(bad2), CLINIC])
    assert r.exit_code == 2
    assert f"{bad1}:" in r.stderr and "sovereignty: unknown value 'yes'" in r.stderr
    assert f"{bad2}:" in r.stderr and "unknown operator 'contains_some'" in r.stderr
    assert "ok:" in r.output


def test_rules_list_explain_test(runner) -> None:  # type: ignore[no-untyped-def]
    r = runner.invoke(main, ["rules", "list"])
    assert r.exit_code == 0
    header = next(line for line in r.output.splitlines() if line.startswith("gdpr ("))
    assert "GDPR" in header  # one heading per rule file, naming its regimes
    assert r.output.rstrip().splitlines()[-1].endswith("test cases")
    r = runner.invoke(main, ["rules", "list", "--regime", "gdpr", "--format", "json"])
    assert {x["regime"] for x in json.loads(r.output)} == {"GDPR"}
    r = runner.invoke(main, ["rules", "explain", "HDS-FR-CERTIFIED-HOST"])
    assert r.exit_code == 0 and "health.yaml:" in r.output and "Test cases:" in r.output
    r = runner.invoke(main, ["rules", "explain", "HDS-FR-CERTIFIED-HOTS"])
    assert r.exit_code == 2 and "did you mean 'HDS-FR-CERTIFIED-HOST'" in r.stderr
    r = runner.invoke(main, ["rules", "test"])
    assert r.exit_code == 0 and " passed, 0 failed" in r.output


def test_installed_entry_point_runs_in_a_subprocess(tmp_path: Path) -> None:
    exe = shutil.which("advisor") or str(Path(sys.executable).parent / "advisor")
    r = subprocess.run([exe, "evaluate", CLINIC, "--format", "json", "--as-of", "2026-11-30"],
                       capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["profile"]["name"] == "Clinique Exemple"
    r = subprocess.run([exe, "evaluate", str(tmp_path / "missing.yaml")],
                       capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert r.returncode == 2 and r.stderr.startswith("error: ") and "Traceback" not in r.stderr


def test_catalog_folder_needs_only_the_files_it_overrides(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import yaml as _yaml

    from advisor.resources import default_catalog_dir

    options = _yaml.safe_load((default_catalog_dir() / "options.yaml").read_text())
    for o in options["options"]:
        if o["id"] == "enterprise_api":
            o["attributes"]["processing_region"] = "in_region"  # a provider with an EU data zone
    (tmp_path / "options.yaml").write_text(_yaml.safe_dump(options))
    r = runner.invoke(main, ["evaluate", CLINIC, "--catalog", str(tmp_path), "--format", "json",
                             "--as-of", "2026-11-30"])
    assert r.exit_code == 0, r.stderr
    d = json.loads(r.output)
    ent = next(o for o in d["options"] if o["id"] == "enterprise_api")
    assert all(f["rule_id"] != "SOV-RESIDENCY-IN-REGION" or f["effect"] != "exclude"
               for f in ent["findings"])


def test_validate_folders_and_catalog_files(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from advisor.resources import default_catalog_dir

    r = runner.invoke(main, ["validate", str(EXAMPLES), str(default_catalog_dir()),
                             str(default_catalog_dir() / "opex.yaml")])
    assert r.exit_code == 0, r.stderr
    assert r.output.count("(profile)") == len(list(EXAMPLES.glob("*.yaml")))
    assert "(catalog folder)" in r.output and "(catalog file)" in r.output
    bad = tmp_path / "opex.yaml"
    bad.write_text("items:\n  pue: {value: high}\n")
    other = tmp_path / "notes.yaml"
    other.write_text("foo: 1\n")
    r = runner.invoke(main, ["validate", str(bad), str(other)])
    assert r.exit_code == 2
    assert f"{bad}:2:" in r.stderr and "missing required key 'source'" in r.stderr
    assert f"{other}: not a profile, rule file" in r.stderr
