"""Calibrate the sizing model's few global efficiency factors against MLPerf.

Why: an uncalibrated roofline is 1.4-1.9x optimistic (LLM-Viewer #4), and a
sizing tool that is 2x off sizes a deployment 2x wrong. Why only a few global
factors: a per-row or per-GPU correction would reproduce the benchmark table and
say nothing about the next GPU or model. So six numbers (bandwidth and compute
efficiencies, a per-layer step overhead, a p99/mean TPOT factor and a server
load factor), plus a per-expert overhead for mixture-of-experts fitted second, are fitted to the older MLPerf rounds and checked on the newest
round, which also brings a model (gpt-oss-120b) and GPUs (B300, RTX PRO 6000)
that the fit never saw.

Usage (refit and print the table that goes into docs/calibration.md)::

    python -m advisor.sizing.calibration tests/data/mlperf-calibration.csv \
        tests/data/mlperf-workloads.yaml --catalog catalog --fit-moe

This module reads files only when asked (paths are arguments); the installed
package never depends on the calibration data.
"""

from __future__ import annotations

import argparse
import csv
import math
import statistics
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from advisor.catalog.costdata import Catalog, load_catalog
from advisor.sizing.plan import best_system
from advisor.sizing.throughput import Params
from advisor.yamlload import load_file

#: The fitted parameters, their search bounds (physically plausible ranges).
FITTED: dict[str, tuple[float, float]] = {
    "mbu": (0.3, 0.95),
    "mfu_prefill": (0.1, 0.9),
    "mfu_decode": (0.1, 0.9),
    "step_overhead_us_per_layer": (0.0, 300.0),
    "tpot_p99_factor": (1.0, 3.0),
    "server_load_factor": (0.5, 1.0),
}

#: The mixture-of-experts term, fitted in a second stage with the six above held fixed: the
#: 55 dense rows identify those, and a joint seven-parameter fit let the 10 MoE rows pull them
#: (held-out dense error rose, docs/calibration.md).
FITTED_MOE: dict[str, tuple[float, float]] = {
    "moe_expert_us": (0.0, 50.0),
}

#: Rounds used for fitting; every other round is held out.
FIT_ROUNDS = ("v4.1", "v5.0", "v5.1")


@dataclass(frozen=True)
class Row:
    """One published result turned into a sizing question."""

    key: str
    round: str
    scenario: str
    model: str
    gpu: str
    count: int
    precision: str
    input_tokens: int
    output_tokens: int
    ttft_ms: float | None
    tpot_ms: float | None
    measured: float
    software: str

    @property
    def held_out(self) -> bool:
        return self.round not in FIT_ROUNDS


def _precision(text: str) -> str:
    t = text.lower()
    return "fp4" if "fp4" in t else "fp8"


def load_rows(csv_path: str | Path, workloads_path: str | Path) -> list[Row]:
    """Rows of the MLPerf CSV whose benchmark has a workload description."""
    workloads = load_file(workloads_path, what="workloads file").data["benchmarks"]
    rows = []
    with open(csv_path, newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            bench = workloads.get(r["model_norm"])
            if bench is None:
                continue
            scenario = r["scenario"]
            limits = {"Offline": {}, "Server": bench.get("server"), "Interactive": bench.get("interactive")}[scenario]
            if limits is None:
                continue
            rows.append(Row(
                key=f"{r['round']} {r['submitter']} {r['system_id']} {r['model']} {scenario}",
                round=r["round"], scenario=scenario, model=bench["model"], gpu=r["gpu_id"],
                count=int(r["accelerators_total"]), precision=_precision(r["precision"]),
                input_tokens=int(bench["input_tokens"]), output_tokens=int(bench["output_tokens"]),
                ttft_ms=limits.get("ttft_ms"), tpot_ms=limits.get("tpot_ms"),
                measured=float(r["tokens_per_s"]), software=r["software"]))
    return rows


def predict(row: Row, catalog: Catalog, params: Params) -> float:
    """The model's whole-system output tokens/s for one published result."""
    model, gpu = catalog.model(row.model), catalog.gpu(row.gpu)
    kv = "fp8" if "fp8" in gpu.tflops else "bf16"
    if row.scenario == "Offline":
        best = best_system(catalog, model, gpu, row.count, row.precision, kv, row.input_tokens, row.output_tokens,
                           params)
    else:
        best = best_system(catalog, model, gpu, row.count, row.precision, kv, row.input_tokens, row.output_tokens,
                           params, ttft_s=row.ttft_ms / 1e3 if row.ttft_ms else None,
                           tpot_s=row.tpot_ms / 1e3 if row.tpot_ms else None, load_factor=params.server_load_factor)
    return best[0] if best else 0.0


@dataclass(frozen=True)
class Summary:
    """Absolute percentage errors of one group of rows."""

    n: int
    median: float
    worst: float
    mean_signed: float


def summarise(errors: Sequence[float]) -> Summary:
    absolute = [abs(e) for e in errors]
    return Summary(n=len(errors), median=statistics.median(absolute) if absolute else math.nan,
                   worst=max(absolute) if absolute else math.nan,
                   mean_signed=statistics.fmean(errors) if errors else math.nan)


def errors(rows: Iterable[Row], catalog: Catalog, params: Params) -> list[tuple[Row, float, float]]:
    """(row, prediction, signed % error) for each row."""
    out = []
    for row in rows:
        pred = predict(row, catalog, params)
        out.append((row, pred, 100.0 * (pred - row.measured) / row.measured))
    return out


def report(rows: Sequence[Row], catalog: Catalog, params: Params) -> dict[str, dict[str, Summary]]:
    """Median and worst absolute % error per scenario, for the fitted and the held-out rows."""
    result: dict[str, dict[str, Summary]] = {"fitted": {}, "held_out": {}}
    errs = errors(rows, catalog, params)
    for part, held in (("fitted", False), ("held_out", True)):
        chosen = [(r, e) for r, _, e in errs if r.held_out == held]
        for scenario in ("Offline", "Server", "Interactive"):
            group = [e for r, e in chosen if r.scenario == scenario]
            if group:
                result[part][scenario] = summarise(group)
        result[part]["all"] = summarise([e for _, e in chosen])
    return result


def _loss(rows: Sequence[Row], catalog: Catalog, params: Params) -> float:
    """Mean absolute log ratio: symmetric in over/under-prediction, scale-free, and (unlike a
    squared loss) not dragged by the few rows the physics misses, which is what a median
    error report rewards."""
    total = 0.0
    for row in rows:
        pred = predict(row, catalog, params)
        total += abs(math.log(max(pred, 1.0) / row.measured))
    return total / len(rows)


def _nelder_mead(f: Callable[[list[float]], float], x0: list[float], steps: list[float],
                 iterations: int = 400) -> list[float]:
    """A small Nelder-Mead (no SciPy dependency for a six-parameter fit)."""
    simplex = [x0] + [[x + (steps[i] if j == i else 0.0) for j, x in enumerate(x0)] for i in range(len(x0))]
    values = [f(x) for x in simplex]
    for _ in range(iterations):
        order = sorted(range(len(simplex)), key=values.__getitem__)
        simplex = [simplex[i] for i in order]
        values = [values[i] for i in order]
        centroid = [sum(p[i] for p in simplex[:-1]) / (len(simplex) - 1) for i in range(len(x0))]
        worst = simplex[-1]
        reflected = [c + (c - w) for c, w in zip(centroid, worst)]
        fr = f(reflected)
        if fr < values[0]:
            expanded = [c + 2 * (c - w) for c, w in zip(centroid, worst)]
            fe = f(expanded)
            simplex[-1], values[-1] = (expanded, fe) if fe < fr else (reflected, fr)
        elif fr < values[-2]:
            simplex[-1], values[-1] = reflected, fr
        else:
            contracted = [c + 0.5 * (w - c) for c, w in zip(centroid, worst)]
            fc = f(contracted)
            if fc < values[-1]:
                simplex[-1], values[-1] = contracted, fc
            else:
                best = simplex[0]
                simplex = [best] + [[b + 0.5 * (x - b) for b, x in zip(best, p)] for p in simplex[1:]]
                values = [values[0]] + [f(p) for p in simplex[1:]]
        if max(values) - min(values) < 1e-7:
            break
    return simplex[min(range(len(simplex)), key=values.__getitem__)]


def fit(rows: Sequence[Row], catalog: Catalog, start: Params | None = None,
        bounds: dict[str, tuple[float, float]] | None = None) -> Params:
    """Fit the global parameters named in ``bounds`` (default FITTED) on the non-held-out rows;
    every other parameter keeps its value in ``start``."""
    base = start or Params.from_catalog(catalog)
    train = [r for r in rows if not r.held_out]
    bounds = FITTED if bounds is None else bounds
    names = list(bounds)

    def to_params(x: list[float]) -> Params:
        values = {}
        for name, v in zip(names, x):
            lo, hi = bounds[name]
            values[name] = min(max(v, lo), hi)
        return replace(base, **values)

    def objective(x: list[float]) -> float:
        penalty = sum(max(0.0, bounds[n][0] - v) + max(0.0, v - bounds[n][1]) for n, v in zip(names, x))
        return _loss(train, catalog, to_params(x)) + 10.0 * penalty

    x0 = [getattr(base, n) for n in names]
    steps = [(bounds[n][1] - bounds[n][0]) * 0.15 for n in names]
    x = _nelder_mead(objective, x0, steps)
    x = _nelder_mead(objective, x, [s / 3 for s in steps])  # restart: Nelder-Mead stalls on flat ridges
    return to_params(x)


def format_report(rep: dict[str, dict[str, Summary]]) -> str:
    lines = ["| set | scenario | rows | median abs % error | worst abs % error | mean signed % |",
             "|---|---|---:|---:|---:|---:|"]
    for part, groups in rep.items():
        for scenario, s in groups.items():
            lines.append(f"| {part} | {scenario} | {s.n} | {s.median:.1f} | {s.worst:.1f} | {s.mean_signed:+.1f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("csv")
    parser.add_argument("workloads")
    parser.add_argument("--catalog", default=None)
    parser.add_argument("--fit", action="store_true", help="refit the six dense parameters before reporting")
    parser.add_argument("--fit-moe", action="store_true",
                        help="then refit the MoE expert overhead with the other parameters held fixed")
    parser.add_argument("--rows", action="store_true", help="print every row's prediction")
    args = parser.parse_args(argv)
    catalog = load_catalog(args.catalog)
    rows = load_rows(args.csv, args.workloads)
    params = Params.from_catalog(catalog)
    if args.fit:
        params = fit(rows, catalog, params)
        print("fitted: " + ", ".join(f"{n}={getattr(params, n):.4g}" for n in FITTED))
    if args.fit_moe:
        params = fit(rows, catalog, params, FITTED_MOE)
        print("fitted: " + ", ".join(f"{n}={getattr(params, n):.4g}" for n in FITTED_MOE))
    print(format_report(report(rows, catalog, params)))
    if args.rows:
        for row, pred, err in errors(rows, catalog, params):
            print(f"{'H' if row.held_out else 'F'} {err:+7.1f}%  pred {pred:10.0f}  meas {row.measured:10.0f}  {row.key}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())


__all__: list[Any] = ["FITTED", "FITTED_MOE", "FIT_ROUNDS", "Row", "errors", "fit", "load_rows", "predict", "report", "summarise"]
