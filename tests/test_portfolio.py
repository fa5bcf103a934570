"""``advisor portfolio``: many profiles in one run (advisor.portfolio)."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from advisor import portfolio as pf
from advisor.cli import main
from tests.conftest import AS_OF, EXAMPLES

DAY = AS_OF.isoformat()


@pytest.fixture
def profiles(tmp_path: Path) -> Path:
    """Two usable profiles, one with no usable option and one bad profile."""
    folder = tmp_path / "profiles"
    folder.mkdir()
    for name in ("clinique-fr.yaml", "law-firm-de.yaml", "hr-emotion-prohibited.yaml"):
        shutil.copy(EXAMPLES / name, folder / name)
    text = (EXAMPLES / "clinique-fr.yaml").read_text(encoding="utf-8")
    (folder / "zz-bad.yaml").write_text(text.replace("hq_country: FR", "hq_country: XX", 1),
                                        encoding="utf-8")
    return folder


def test_portfolio_writes_decisions_and_summary(runner, profiles: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "out"
    r = runner.invoke(main, ["portfolio", str(profiles), "-o", str(out), "--as-of", DAY,
                             "-j", "2"])
    assert r.exit_code == 2, r.output  # the worst: a bad profile
    assert "zz-bad.yaml:" in r.stderr and "'XX' is not an ISO 3166" in r.stderr
    assert "4 profiles: 2 with a usable option, 1 with none, 1 bad input" in r.stderr
    assert sorted(p.name for p in (out / "decisions").iterdir()) == [
        "clinique-fr.json", "hr-emotion-prohibited.json", "law-firm-de.json"]
    rows = list(csv.DictReader((out / "summary.csv").open(encoding="utf-8")))
    assert [Path(r["profile"]).name for r in rows] == [
        "clinique-fr.yaml", "hr-emotion-prohibited.yaml", "law-firm-de.yaml", "zz-bad.yaml"]
    clinic, prohibited, _, bad = rows
    decision = json.loads((out / "decisions" / "clinique-fr.json").read_text(encoding="utf-8"))
    assert clinic["exit"] == "0" and clinic["recommended"]
    assert clinic["npv"] == decision["recommendation"]["tco"]["npv"]
    assert clinic["decision"] == "decisions/clinique-fr.json"
    assert clinic["recommended"] == decision["recommendation"]["option"]
    assert {o["id"]: o["status"] for o in decision["options"]} == \
        {k: clinic[k] for k in (o["id"] for o in decision["options"])}
    assert prohibited["exit"] == "1" and prohibited["recommended"] == ""
    assert prohibited["excluded"] == str(len(decision["options"]))
    assert bad["exit"] == "2" and "XX" in bad["error"] and bad["decision"] == ""
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["exit_code"] == 2 and summary["counts"] == {
        "usable": 2, "none_usable": 1, "bad_input": 1, "failed": 0}
    md = (out / "summary.md").read_text(encoding="utf-8")
    assert md.splitlines()[2].startswith("| profile | exit | organisation | recommended")
    assert "| Clinique Exemple |" in md and "## Profiles not evaluated" in md


def test_portfolio_decision_is_the_evaluate_json(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "out"
    profile = str(EXAMPLES / "law-firm-de.yaml")
    r = runner.invoke(main, ["portfolio", profile, "-o", str(out), "--as-of", DAY, "-j", "1"])
    assert r.exit_code == 0, r.output
    single = runner.invoke(main, ["evaluate", profile, "--format", "json", "--as-of", DAY])
    assert (out / "decisions" / "law-firm-de.json").read_text(encoding="utf-8") == single.stdout


def test_worker_processes_give_the_same_results(profiles: Path, tmp_path: Path) -> None:
    paths = sorted(profiles.glob("*.yaml"))
    results = {}
    for jobs in (1, 2):
        settings = pf.Settings(tmp_path / f"out{jobs}", AS_OF)
        outcomes = pf.run(paths, settings, jobs=jobs)
        results[jobs] = ([(o.exit_code, o.row, o.statuses) for o in outcomes],
                         {p.name: p.read_bytes() for p in (settings.out_dir / "decisions").iterdir()})
    assert results[1] == results[2]


def test_names_that_clash_get_a_suffix(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        shutil.copy(EXAMPLES / "law-firm-de.yaml", tmp_path / sub / "law-firm-de.yaml")
    out = tmp_path / "out"
    r = runner.invoke(main, ["portfolio", str(tmp_path / "a"), str(tmp_path / "b"), "-o",
                             str(out), "--as-of", DAY, "-j", "1"])
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in (out / "decisions").iterdir()) == [
        "law-firm-de-2.json", "law-firm-de.json"]


def test_output_must_be_a_folder(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "file.txt"
    target.write_text("x")
    r = runner.invoke(main, ["portfolio", str(EXAMPLES / "law-firm-de.yaml"), "-o", str(target)])
    assert r.exit_code == 2 and "not a folder" in r.stderr
    r = runner.invoke(main, ["portfolio", str(tmp_path / "missing"), "-o", str(tmp_path / "o")])
    assert r.exit_code == 2
