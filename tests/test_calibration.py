"""The sizing model's calibration error is what docs/calibration.md publishes.

Recomputes every prediction from the shipped catalog parameters against the MLPerf results
and the serving-level figures copied into tests/data (the package never reads them), checks
the targets (held-out median |error| <= 15 %, no held-out row worse than 60 % but the one
documented outlier), and checks that the tables in docs/calibration.md and the
``throughput_error`` spread in catalog/sizing.yaml are exactly what the model gives today.
If a model or catalog change moves them, regenerate both (python -m
advisor.sizing.calibration ... --serving ...) and review the diff.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from advisor.catalog.costdata import Catalog
from advisor.sizing.calibration import (FIT_ROUNDS, bias_table, errors, format_report, format_table, grouped,
                                        load_rows, load_serving_rows, predict_serving, report, summarise,
                                        throughput_error)
from advisor.sizing.throughput import Params

DATA = Path(__file__).resolve().parent / "data"
ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "calibration.md").read_text(encoding="utf-8")

#: Held-out rows allowed past 60 %, each with the bound it must stay under (docs/calibration.md
#: explains why): HPE's RTX PRO 6000 gpt-oss Offline result is barely above its own Server result.
KNOWN_OUTLIERS = {
    "v6.0 HPE HPE_PROLIANT_DL380A_RTX_PRO_6000_PCIE_96GBx8_TRT_10_14_1_48_TRT gpt-oss-120b Offline": 125.0,
}


@pytest.fixture(scope="module")
def result() -> dict:
    catalog = Catalog(default_directory=ROOT / "catalog")
    params = Params.from_catalog(catalog)
    rows = load_rows(DATA / "mlperf-calibration.csv", DATA / "mlperf-workloads.yaml")
    serving = load_serving_rows(DATA / "serving-calibration.csv")
    serving_errs = [(r, p, 100.0 * (p - r.measured) / r.measured)
                    for r in serving for p in [predict_serving(r, catalog, params)]]
    return {"catalog": catalog, "params": params, "rows": rows, "serving": serving,
            "errors": errors(rows, catalog, params), "serving_errors": serving_errs,
            "report": report(rows, catalog, params)}


def test_rows_and_split(result: dict) -> None:
    rows = result["rows"]
    assert len(rows) == 95
    held = [r for r in rows if r.held_out]
    assert len(held) == 30 and all(r.round not in FIT_ROUNDS for r in held)
    # the held-out round brings a model the MLPerf fit never saw
    assert {r.model for r in held} - {r.model for r in rows if not r.held_out} == {"gpt-oss-120b"}
    assert len(result["serving"]) == 50 and all(r.source for r in result["serving"])


def test_held_out_median_within_15_percent(result: dict) -> None:
    assert result["report"]["held_out"]["all"].median <= 15.0


def test_no_held_out_row_worse_than_60_percent_but_the_documented_outlier(result: dict) -> None:
    for row, pred, err in result["errors"]:
        if row.held_out:
            bound = KNOWN_OUTLIERS.get(row.key, 60.0)
            assert abs(err) <= bound, f"{row.key}: {err:+.1f}% (bound {bound}%)"
    for key in KNOWN_OUTLIERS:  # an outlier that recovers is taken off the list
        err = next(e for r, _, e in result["errors"] if r.key == key)
        assert abs(err) > 60.0, f"{key} is back within 60 %: remove it from KNOWN_OUTLIERS and the docs"


def test_docs_publish_the_recomputed_tables(result: dict) -> None:
    """docs/calibration.md carries the tables this model gives today, to the digit."""
    assert format_report(result["report"]) in DOC
    assert format_table(bias_table(result["rows"], result["catalog"], result["params"]),
                        "held out: vendor / family / kind") in DOC
    assert format_table(grouped(result["serving_errors"], lambda r: r.kind), "serving rows: kind") in DOC


def test_catalog_throughput_error_is_the_recomputed_spread(result: dict) -> None:
    fresh = throughput_error(result["rows"], result["serving"], result["catalog"], result["params"])
    shipped = result["catalog"].throughput_error
    assert set(shipped) == set(fresh) == {"nvidia-dense", "nvidia-moe", "amd-dense", "amd-moe"}
    for key, spread in fresh.items():
        entry = shipped[key]
        assert entry.rows == spread["rows"]
        assert (entry.p10, entry.p50, entry.p90) == pytest.approx((spread["p10"], spread["p50"], spread["p90"]),
                                                                  abs=0.002)


def test_serving_level_disclosures(result: dict) -> None:
    """MoE is calibrated also on serving-level figures; the anchors the issue names stay close."""
    by_key = {r.key: e for r, _, e in result["serving_errors"]}
    assert abs(by_key["DeepSeek production decode, H800 EP144"]) <= 45
    assert abs(by_key["SGLang decode, 9x8 H100 EP72, 256 seqs/GPU, 2K input"]) <= 15
    assert abs(by_key["NVIDIA single stream, Llama-3.3-70B FP8, H200"]) <= 25
    assert summarise([e for _, _, e in result["serving_errors"]]).median <= 25
