"""Controls in place and waivers (advisor evaluate --evidence)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from advisor.cli import main
from tests.conftest import EXAMPLES

CLINIC = str(EXAMPLES / "clinique-fr.yaml")
AS_OF = ["--as-of", "2026-11-30"]

IN_PLACE = """\
controls_in_place:
  - control: transfer_sccs
    evidence: SCCs module 2 signed with the provider
    owner: Legal
    date: 2025-02-10
    reference: CTR-9
"""

WAIVE_NIS2_ON_CONSUMER = """\
waivers:
  - rule: nis2-supply-chain
    options: [consumer_api]
    justification: Supplier assessed in the 2025 vendor review.
    approver: CISO
    expires: {expires}
    reference: RISK-42
"""


def _evaluate(runner: Any, tmp_path: Path, evidence: str, *extra: str) -> Any:
    path = tmp_path / "evidence.yaml"
    path.write_text(evidence)
    return runner.invoke(main, ["evaluate", CLINIC, "--evidence", str(path), *AS_OF, *extra])


def _json(runner: Any, tmp_path: Path, evidence: str) -> dict[str, Any]:
    r = _evaluate(runner, tmp_path, evidence, "--format", "json")
    assert r.exit_code == 0, r.stderr
    return json.loads(r.output)  # type: ignore[no-any-return]


def _finding(d: dict[str, Any], option: str, rule: str) -> dict[str, Any]:
    o = next(o for o in d["options"] if o["id"] == option)
    return next(f for f in o["findings"] if f["rule_id"] == rule)


def test_without_evidence_nothing_changes_in_the_json(runner) -> None:  # type: ignore[no-untyped-def]
    d = json.loads(runner.invoke(main, ["evaluate", CLINIC, "--format", "json", *AS_OF]).output)
    assert "evidence" not in d
    assert all("waived" not in f for o in d["options"] for f in o["findings"])
    assert all("in_place" not in c for c in d["controls"])


def test_controls_in_place_are_checked_off(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    d = _json(runner, tmp_path, IN_PLACE)
    control = next(c for c in d["controls"] if c["id"] == "transfer_sccs")
    assert control["in_place"]["owner"] == "Legal" and control["in_place"]["date"] == "2025-02-10"
    assert control["in_place"]["source"].endswith("evidence.yaml:2")
    assert d["evidence"]["controls_in_place"] == ["transfer_sccs"]
    assert all("in_place" not in c for c in d["controls"] if c["id"] != "transfer_sccs")
    md = _evaluate(runner, tmp_path, IN_PLACE, "--format", "markdown").output
    assert "- [x] **Transfer tool for personal data leaving the EEA** (`transfer_sccs`)" in md
    assert "  - In place: SCCs module 2 signed with the provider (Legal, 2025-02-10, CTR-9)" in md
    assert md.count("- [x]") == 1
    html = _evaluate(runner, tmp_path, IN_PLACE, "--format", "html").output
    assert "<strong>In place:</strong> SCCs module 2 signed with the provider" in html


def test_a_waiver_marks_the_finding_and_recomputes_the_status(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    base = json.loads(runner.invoke(main, ["evaluate", CLINIC, "--format", "json", *AS_OF]).output)
    cloud = next(o for o in base["options"] if o["id"] == "cloud_gpu")
    # its own conditions and the shared obligations it needs too
    shared = {f["rule_id"]: f for f in base["obligations"]}
    every = cloud["findings"] + [shared[r] for r in cloud["shared"]]
    conditional = [f["rule_id"] for f in every if f["effect"] == "conditional"]
    assert cloud["status"] == "conditional" and conditional
    waivers = "waivers:\n" + "".join(
        f"  - rule: {rid}\n    options: [cloud_gpu]\n    justification: Accepted by the board in 2026.\n"
        f"    approver: Board\n    expires: 2027-12-31\n    reference: BRD-{i}\n"
        for i, rid in enumerate(conditional))
    d = _json(runner, tmp_path, waivers)
    cloud = next(o for o in d["options"] if o["id"] == "cloud_gpu")
    # shown, never hidden: every finding is still there, the waived ones marked
    assert sorted(f["rule_id"] for f in cloud["findings"] if "waived" in f) == sorted(conditional)
    # a duty waived for this option only is no longer shared: it moves to its own findings
    assert len(cloud["findings"]) + len(cloud["shared"]) == len(every)
    assert cloud["status"] == "viable" and "waived" in cloud["reason"]
    assert _finding(d, "cloud_gpu", conditional[0])["waived"]["approver"] == "Board"
    md = _evaluate(runner, tmp_path, waivers, "--format", "markdown").output
    assert "## Waivers and accepted risks" in md
    assert f"| `cloud_gpu` | **{conditional[0]}** | conditional | Accepted by the board in 2026." in md


def test_waiving_an_exclusion_needs_accept_exclusion(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    text = WAIVE_NIS2_ON_CONSUMER.format(expires="2027-06-30")
    r = _evaluate(runner, tmp_path, text)
    assert r.exit_code == 2
    assert "evidence.yaml:2:" in r.stderr and "would lift an exclusion of consumer_api" in r.stderr
    assert "accept_exclusion: true" in r.stderr
    d = _json(runner, tmp_path, text + "    accept_exclusion: true\n")
    f = _finding(d, "consumer_api", "NIS2-SUPPLY-CHAIN")
    assert f["waived"]["accept_exclusion"] is True
    assert d["evidence"]["waived"] == ["NIS2-SUPPLY-CHAIN on consumer_api"]
    consumer = next(o for o in d["options"] if o["id"] == "consumer_api")
    # another rule still excludes it: the waiver does not make it usable
    assert consumer["status"] == "excluded" and consumer["findings"][0]["rule_id"] != "NIS2-SUPPLY-CHAIN"


def test_an_expired_waiver_does_not_apply_and_is_flagged(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    text = WAIVE_NIS2_ON_CONSUMER.format(expires="2026-11-29") + "    accept_exclusion: true\n"
    d = _json(runner, tmp_path, text)
    assert "waived" not in _finding(d, "consumer_api", "NIS2-SUPPLY-CHAIN")
    (expired,) = d["evidence"]["expired_waivers"]
    assert expired["rule_id"] == "NIS2-SUPPLY-CHAIN" and expired["expired_on"] == "2026-11-29"
    r = _evaluate(runner, tmp_path, text, "--format", "summary")
    assert "expired on 2026-11-29, no longer applied: waiver of NIS2-SUPPLY-CHAIN" in r.output
    # on its last day it still applies
    d = _json(runner, tmp_path, text.replace("2026-11-29", "2026-11-30"))
    assert "waived" in _finding(d, "consumer_api", "NIS2-SUPPLY-CHAIN")


def test_evidence_mistakes_are_reported_together(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    text = (IN_PLACE.replace("transfer_sccs", "transfer_scc")
            + WAIVE_NIS2_ON_CONSUMER.format(expires="2027-01-01")
            .replace("nis2-supply-chain", "NIS2-SUPLY-CHAIN").replace("[consumer_api]", "[consumer_apii]"))
    r = _evaluate(runner, tmp_path, text)
    assert r.exit_code == 2
    assert "unknown control id 'transfer_scc' (did you mean 'transfer_sccs'" in r.stderr
    assert "unknown rule id 'NIS2-SUPLY-CHAIN' (did you mean 'NIS2-SUPPLY-CHAIN'?)" in r.stderr
    assert "unknown option id 'consumer_apii' (did you mean 'consumer_api'?)" in r.stderr
    r = _evaluate(runner, tmp_path, "waivers:\n  - rule: X\n    options: all\n")
    assert r.exit_code == 2 and "missing required key 'waivers.justification'" in r.stderr
    path = tmp_path / "evidence.yaml"
    path.write_text(IN_PLACE)
    r = runner.invoke(main, ["validate", str(path)])
    assert r.exit_code == 0 and "(evidence file)" in r.output


def test_unused_entries_are_listed(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    text = ("controls_in_place:\n  - control: hipaa_baa\n    evidence: BAA signed\n"
            "    owner: Legal\n    date: 2025-01-01\n")
    d = _json(runner, tmp_path, text)
    assert d["evidence"]["controls_in_place"] == []
    assert d["evidence"]["unused"][0].startswith("control hipaa_baa")
