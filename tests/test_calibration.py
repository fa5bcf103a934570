"""The sizing model's calibration error stays within the bounds docs/calibration.md reports.

Recomputes every prediction from the shipped catalog parameters against the
MLPerf results copied into tests/data (the package never reads them). If a
model or catalog change moves the error past these bounds, either the change is
wrong or the bounds and docs/calibration.md must be updated together.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from advisor.sizing.calibration import FIT_ROUNDS, load_rows, report
from advisor.catalog.costdata import Catalog
from advisor.sizing.throughput import Params

DATA = Path(__file__).resolve().parent / "data"
CATALOG = Path(__file__).resolve().parents[1] / "catalog"

#: (set, scenario) -> (median abs % error bound, worst abs % error bound); the
#: reported figures plus about 1 point of slack for floating-point drift.
BOUNDS = {
    ("fitted", "Offline"): (21, 49),
    ("fitted", "Server"): (22, 56),
    ("fitted", "Interactive"): (41, 94),
    ("fitted", "all"): (22, 94),
    ("held_out", "Offline"): (25, 165),
    ("held_out", "Server"): (13, 65),
    ("held_out", "Interactive"): (31, 55),
    ("held_out", "all"): (20, 165),
}


@pytest.fixture(scope="module")
def result() -> dict:
    catalog = Catalog(default_directory=CATALOG)
    rows = load_rows(DATA / "mlperf-calibration.csv", DATA / "mlperf-workloads.yaml")
    return {"rows": rows, "report": report(rows, catalog, Params.from_catalog(catalog))}


def test_rows_and_split(result: dict) -> None:
    rows = result["rows"]
    assert len(rows) == 95
    held = [r for r in rows if r.held_out]
    assert len(held) == 30 and all(r.round not in FIT_ROUNDS for r in held)
    # the held-out round brings a model the fit never saw
    assert {r.model for r in held} - {r.model for r in rows if not r.held_out} == {"gpt-oss-120b"}


@pytest.mark.parametrize("part, scenario", sorted(BOUNDS))
def test_error_within_reported_bounds(result: dict, part: str, scenario: str) -> None:
    summary = result["report"][part][scenario]
    median_bound, worst_bound = BOUNDS[(part, scenario)]
    assert summary.median <= median_bound, f"{part}/{scenario} median {summary.median:.1f}%"
    assert summary.worst <= worst_bound, f"{part}/{scenario} worst {summary.worst:.1f}%"


def test_held_out_generalises_on_seen_models(result: dict) -> None:
    """On the newest round, models the fit saw are predicted about as well as the fitted rows."""
    from advisor.sizing.calibration import errors, summarise

    catalog = Catalog(default_directory=CATALOG)
    seen = [r for r in result["rows"] if r.held_out and r.model != "gpt-oss-120b"]
    errs = [e for _, _, e in errors(seen, catalog, Params.from_catalog(catalog))]
    assert summarise(errs).median <= result["report"]["fitted"]["all"].median + 2
