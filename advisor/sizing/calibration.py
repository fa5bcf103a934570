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
from advisor.sizing.throughput import Params, Speculation, make_instance
from advisor.yamlload import load_file

#: Rounds used for fitting; every other round is held out.
FIT_ROUNDS = ("v4.1", "v5.0", "v5.1")

#: Speculative-decoding methods the MLPerf rules admit per round (v6.0 introduced the DeepSeek-R1
#: MTP head as the first speculative-decoding standard, mlcommons.org/2026/03/mlperf-inference-gpt-oss);
#: the model then picks the better of with and without, as the optimiser does.
MLPERF_SPECULATION: dict[str, tuple[str, ...]] = {"v6.0": ("mtp",)}

#: Software generation of each round (Row.generation).
GENERATIONS = {"v4.1": "2024", "v5.0": "2025", "v5.1": "2025", "v6.0": "2026"}


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

    @property
    def generation(self) -> str:
        """Software generation: the year of the round's serving stacks (2024: TensorRT-LLM 0.12-0.13,
        vLLM 0.4-0.6; 2025 on: the current generation the catalog's stack factors describe)."""
        return GENERATIONS[self.round]


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


@dataclass(frozen=True)
class Factors:
    """The per-family efficiencies (catalog/sizing.yaml ``stacks``: dense and MoE) and the factor of
    older serving software relative to the current generation, as plain numbers the fit can vary."""

    stacks: tuple[tuple[str, float], ...]
    moe: tuple[tuple[str, float], ...]
    gpu_stack: tuple[tuple[str, str], ...]
    older_software: float

    @classmethod
    def from_catalog(cls, catalog: Catalog) -> "Factors":
        stacks = tuple((sid, s.value) for sid, s in catalog.stacks.items())
        moe = tuple((sid, s.moe) for sid, s in catalog.stacks.items())
        owners = tuple((gid, sid) for sid, s in catalog.stacks.items() for gid in s.gpus)
        older = catalog.sizing["software_2024_factor"].value if "software_2024_factor" in catalog.sizing else 1.0
        return cls(stacks=stacks, moe=moe, gpu_stack=owners, older_software=older)

    def with_values(self, stacks: dict[str, float] | None = None, moe: dict[str, float] | None = None,
                    older_software: float | None = None) -> "Factors":
        return replace(self, stacks=tuple((dict(self.stacks) | (stacks or {})).items()),
                       moe=tuple((dict(self.moe) | (moe or {})).items()),
                       older_software=self.older_software if older_software is None else older_software)

    def efficiency(self, row: "Row | ServingRow", is_moe: bool = False) -> float:
        """Stack efficiency of the row's GPU (times its MoE factor for a MoE model), times the
        older-software factor for 2024 rounds."""
        owner = dict(self.gpu_stack).get(row.gpu)
        eff = dict(self.stacks)[owner] * (dict(self.moe)[owner] if is_moe else 1.0) if owner else 1.0
        return eff * (self.older_software if row.generation == "2024" else 1.0)


def predict(row: Row, catalog: Catalog, params: Params, factors: Factors | None = None) -> float:
    """The model's whole-system output tokens/s for one published result."""
    factors = factors or Factors.from_catalog(catalog)
    model, gpu = catalog.model(row.model), catalog.gpu(row.gpu)
    kv = "fp8" if "fp8" in gpu.tflops else "bf16"
    eff = factors.efficiency(row, model.moe is not None)
    best_total = 0.0
    for spec in [None] + [_speculation(catalog, m) for m in MLPERF_SPECULATION.get(row.round, ())
                          if row.model in (catalog.speculative_methods[m].models or [row.model])]:
        if row.scenario == "Offline":
            best = best_system(catalog, model, gpu, row.count, row.precision, kv, row.input_tokens,
                               row.output_tokens, params, efficiency=eff, speculation=spec)
        else:
            best = best_system(catalog, model, gpu, row.count, row.precision, kv, row.input_tokens,
                               row.output_tokens, params, ttft_s=row.ttft_ms / 1e3 if row.ttft_ms else None,
                               tpot_s=row.tpot_ms / 1e3 if row.tpot_ms else None,
                               load_factor=params.server_load_factor, efficiency=eff, speculation=spec)
        if best and best[0] > best_total:
            best_total = best[0]
    return best_total


@dataclass(frozen=True)
class ServingRow:
    """One serving-level published figure (vendor tables, framework blogs, production disclosures).

    ``kind`` says what was measured: ``offline`` (output tokens/s per GPU at max load, the best
    layout of ``gpus`` GPUs), ``serving_tpot`` (the same at a mean time per output token of
    ``tpot_ms``, prefill interleaved), ``decode_batch`` (decode-only output tokens/s per GPU at
    ``batch_per_gpu`` sequences, prefill disaggregated), ``decode_tpot`` (decode-only output
    tokens/s per GPU at the largest batch whose mean time per token is ``tpot_ms``),
    ``prefill`` (input tokens/s per GPU of a prefill-only instance) and ``single_stream``
    (tokens/s of one sequence alone). All are fitted rows of the current software generation
    unless ``generation`` says otherwise.
    """

    key: str
    kind: str
    model: str
    gpu: str
    gpus: int
    precision: str
    input_tokens: int
    output_tokens: int
    batch_per_gpu: float | None
    tpot_ms: float | None
    ep: int
    speculation: str | None
    cached_share: float
    scaleup_bw_gbs: float | None
    measured: float
    generation: str
    source: str

    held_out = False

    @property
    def scenario(self) -> str:
        return self.kind


def load_serving_rows(csv_path: str | Path) -> list[ServingRow]:
    """The serving-level calibration rows (tests/data/serving-calibration.csv)."""
    def num(text: str) -> float | None:
        return float(text) if text.strip() else None

    rows = []
    with open(csv_path, newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            rows.append(ServingRow(
                key=r["key"], kind=r["kind"], model=r["model"], gpu=r["gpu"], gpus=int(r["gpus"]),
                precision=r["precision"], input_tokens=int(r["input_tokens"]), output_tokens=int(r["output_tokens"]),
                batch_per_gpu=num(r["batch_per_gpu"]), tpot_ms=num(r["tpot_ms"]), ep=int(r["ep"] or 1),
                speculation=r["speculation"] or None, cached_share=num(r["cached_share"]) or 0.0,
                scaleup_bw_gbs=num(r["scaleup_bw_gbs"]), measured=float(r["measured"]),
                generation=r["generation"], source=r["source"]))
    return rows


def _speculation(catalog: Catalog, method: str | None) -> Speculation | None:
    if method is None:
        return None
    m = catalog.speculative_methods[method]
    return Speculation(method, m.draft_tokens[0], m.acceptance, m.draft_cost)


def predict_serving(row: ServingRow, catalog: Catalog, params: Params, factors: Factors | None = None) -> float:
    """The model's figure for one serving-level row, in the row's unit (see :class:`ServingRow`)."""
    factors = factors or Factors.from_catalog(catalog)
    model, gpu = catalog.model(row.model), catalog.gpu(row.gpu)
    if row.scaleup_bw_gbs is not None:
        gpu = gpu.model_copy(update={"scaleup_bw_gbs": row.scaleup_bw_gbs})
    kv = "fp8" if "fp8" in gpu.tflops else "bf16"
    eff = factors.efficiency(row, model.moe is not None)
    spec = _speculation(catalog, row.speculation)
    if row.kind in ("offline", "serving_tpot"):
        tpot_s = row.tpot_ms / 1e3 * params.tpot_p99_factor if row.kind == "serving_tpot" and row.tpot_ms else None
        best = best_system(catalog, model, gpu, row.gpus, row.precision, kv, row.input_tokens, row.output_tokens,
                           params, tpot_s=tpot_s, efficiency=eff, speculation=spec)
        return best[0] / row.gpus if best else 0.0
    inst = make_instance(model, gpu, row.precision, kv, 1, 1, catalog, params, ep=row.ep, efficiency=eff,
                         speculation=spec)
    if not inst.memory.fits:
        return 0.0
    if row.kind == "prefill":
        return row.input_tokens / inst.prefill_time(row.input_tokens, row.cached_share) / inst.gpus
    curve = inst.curve(row.input_tokens, row.output_tokens, row.cached_share)
    if row.kind == "single_stream":
        return curve.per_step / curve.step(1)
    if row.kind == "decode_batch":
        assert row.batch_per_gpu is not None
        batch = row.batch_per_gpu * inst.gpus
    elif row.kind == "decode_tpot":
        assert row.tpot_ms is not None
        limit = row.tpot_ms / 1e3
        upper = max(1, inst.max_batch_memory(row.input_tokens, row.output_tokens))
        if curve.step(1) / curve.per_step > limit:
            return 0.0
        lo, hi = 1, upper
        if curve.step(hi) / curve.per_step <= limit:
            lo = hi
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if curve.step(mid) / curve.per_step <= limit:
                lo = mid
            else:
                hi = mid
        batch = lo
    else:
        raise ValueError(f"unknown serving row kind '{row.kind}'")
    return batch * curve.per_step / curve.step(batch) / inst.gpus


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


def errors(rows: Iterable[Row], catalog: Catalog, params: Params,
           factors: Factors | None = None) -> list[tuple[Row, float, float]]:
    """(row, prediction, signed % error) for each row."""
    factors = factors or Factors.from_catalog(catalog)
    out = []
    for row in rows:
        pred = predict(row, catalog, params, factors)
        out.append((row, pred, 100.0 * (pred - row.measured) / row.measured))
    return out


def report(rows: Sequence[Row], catalog: Catalog, params: Params,
           factors: Factors | None = None) -> dict[str, dict[str, Summary]]:
    """Median and worst absolute % error per scenario, for the fitted and the held-out rows."""
    result: dict[str, dict[str, Summary]] = {"fitted": {}, "held_out": {}}
    errs = errors(rows, catalog, params, factors)
    for part, held in (("fitted", False), ("held_out", True)):
        chosen = [(r, e) for r, _, e in errs if r.held_out == held]
        for scenario in ("Offline", "Server", "Interactive"):
            group = [e for r, e in chosen if r.scenario == scenario]
            if group:
                result[part][scenario] = summarise(group)
        result[part]["all"] = summarise([e for _, e in chosen])
    return result


#: Search bounds of the fitted global parameters (physically plausible ranges).
FITTED: dict[str, tuple[float, float]] = {
    "mbu": (0.3, 0.95),
    "mbu_kv": (0.15, 0.95),
    "mfu_prefill": (0.1, 0.9),
    "mfu_decode": (0.1, 0.9),
    "step_overhead_us_per_layer": (0.0, 300.0),
    "tpot_p99_factor": (1.0, 3.0),
    "server_load_factor": (0.5, 1.0),
    "moe_expert_us": (0.0, 5.0),
    "seq_overhead_us": (0.0, 5.0),
    "max_batch": (64.0, 2048.0),
    "moe_token_passes": (0.0, 30.0),
}
#: Bounds of the per-family factors (dense and MoE) and of the older-software factor.
STACK_BOUNDS = (0.3, 2.0)
OLDER_BOUNDS = (0.5, 1.2)
#: Pull of each family factor towards 1 (per unit of |ln factor|): a family with few rows keeps
#: the global values unless its rows clearly disagree.
STACK_PRIOR = 0.02
#: Weight of the serving-level rows' mean error against the MLPerf rows' in the loss.
SERVING_WEIGHT = 0.5


def _loss_terms(rows: Sequence[Row], serving: Sequence[ServingRow], catalog: Catalog, params: Params,
                factors: Factors) -> float:
    """Mean absolute log ratio over the fitted MLPerf rows, and over the serving rows, weighted.

    Symmetric in over/under-prediction, scale-free, and (unlike a squared loss) not dragged by
    the few rows the physics misses, which is what a median error report rewards."""
    train = [r for r in rows if not r.held_out]
    a = sum(abs(math.log(max(predict(r, catalog, params, factors), 1e-3) / r.measured)) for r in train) / len(train)
    if not serving:
        return a
    b = sum(abs(math.log(max(predict_serving(r, catalog, params, factors), 1e-3) / r.measured))
            for r in serving) / len(serving)
    return (a + SERVING_WEIGHT * b) / (1.0 + SERVING_WEIGHT)


def _nelder_mead(f: Callable[[list[float]], float], x0: list[float], steps: list[float],
                 iterations: int = 400) -> list[float]:
    """A small Nelder-Mead, used when SciPy (the ``calibrate`` extra) is not installed."""
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


def _minimise(f: Callable[[list[float]], float], x0: list[float], evaluations: int) -> list[float]:
    """Powell's method in log space (SciPy) when available, else Nelder-Mead. The loss is not
    smooth (layouts and integer batches switch), so derivative-free methods are used."""
    try:
        import numpy as np
        from scipy.optimize import minimize
    except ImportError:  # pragma: no cover - the calibrate extra is not installed
        steps = [0.1 * max(abs(v), 1e-3) for v in x0]
        x = _nelder_mead(f, x0, steps, iterations=evaluations // 4)
        return _nelder_mead(f, x, [s / 3 for s in steps], iterations=evaluations // 4)
    res = minimize(lambda z: f(list(np.exp(z))), np.log(np.maximum(np.array(x0), 1e-6)), method="Powell",
                   options={"maxfev": evaluations, "xtol": 1e-3, "ftol": 1e-5})
    return list(np.exp(res.x))


def fit(rows: Sequence[Row], serving: Sequence[ServingRow], catalog: Catalog, start: Params | None = None,
        factors: Factors | None = None, evaluations: int = 4000) -> tuple[Params, Factors]:
    """Fit the global parameters (FITTED), the per-family dense and MoE factors and the older-software
    factor on the fitted MLPerf rows and the serving rows, starting from the catalog's values.

    A family without rows of a kind keeps 1.0 (its MoE factor: its vendor's other family's, since
    the MoE kernels are the vendor's software, not the chip's)."""
    base = start or Params.from_catalog(catalog)
    f0 = factors or Factors.from_catalog(catalog)
    stacks = [sid for sid, _ in f0.stacks]
    owner = dict(f0.gpu_stack)
    with_rows = {owner.get(r.gpu) for r in rows if not r.held_out} | {owner.get(r.gpu) for r in serving}
    moe_rows = {owner.get(r.gpu) for r in list(rows) + list(serving)
                if (not getattr(r, "held_out", False)) and catalog.model(r.model).moe is not None}
    fitted_stacks = [s for s in stacks if s in with_rows]
    fitted_moe = [s for s in stacks if s in moe_rows]
    names = list(FITTED) + fitted_stacks + [s + ":moe" for s in fitted_moe] + ["older"]
    start_values = {n: getattr(base, n) for n in FITTED} | dict(f0.stacks) | {
        s + ":moe": v for s, v in f0.moe} | {"older": f0.older_software}

    def clamp(v: float, lo: float, hi: float) -> float:
        return min(max(v, lo), hi)

    def unpack(x: list[float]) -> tuple[Params, Factors, float]:
        vals = dict(zip(names, x))
        params = replace(base, **{n: clamp(vals[n], *FITTED[n]) for n in FITTED})
        st = {s: clamp(vals[s], *STACK_BOUNDS) for s in fitted_stacks}
        mo = {s: clamp(vals[s + ":moe"], *STACK_BOUNDS) for s in fitted_moe}
        for s in stacks:  # a family without MoE rows takes its vendor's fitted MoE factor
            if s not in mo:
                same_vendor = [m for m in fitted_moe if m.split("-")[0] == s.split("-")[0]]
                if same_vendor:
                    mo[s] = mo[same_vendor[0]]
        f = f0.with_values(stacks=st, moe=mo, older_software=clamp(vals["older"], *OLDER_BOUNDS))
        prior = STACK_PRIOR * (sum(abs(math.log(v)) for v in st.values()) + sum(abs(math.log(v)) for v in mo.values()))
        outside = sum(max(0.0, FITTED[n][0] - vals[n]) + max(0.0, vals[n] - FITTED[n][1]) for n in FITTED)
        return params, f, prior + 10.0 * outside

    def objective(x: list[float]) -> float:
        params, f, penalty = unpack(x)
        return _loss_terms(rows, serving, catalog, params, f) + penalty

    x = _minimise(objective, [start_values[n] for n in names], evaluations)
    params, f, _ = unpack(x)
    return params, f


# ------------------------------------------------------------------ reports ----

def _vendor(catalog: Catalog, gpu_id: str) -> str:
    return catalog.gpu(gpu_id).vendor


def grouped(errs: Sequence[tuple[Any, float, float]], key: Callable[[Any], str]) -> dict[str, Summary]:
    """Summaries of signed % errors grouped by ``key(row)``."""
    groups: dict[str, list[float]] = {}
    for row, _, e in errs:
        groups.setdefault(key(row), []).append(e)
    return {k: summarise(v) for k, v in sorted(groups.items())}


def bias_table(rows: Sequence[Row], catalog: Catalog, params: Params, factors: Factors | None = None,
               held_out: bool = True) -> dict[str, Summary]:
    """Per-vendor and per-family signed error of the MLPerf rows (held out by default), dense and MoE."""
    factors = factors or Factors.from_catalog(catalog)
    errs = [e for e in errors(rows, catalog, params, factors) if e[0].held_out == held_out]
    owner = dict(factors.gpu_stack)

    def key(r: Row) -> str:
        kind = "MoE" if catalog.model(r.model).moe is not None else "dense"
        return f"{_vendor(catalog, r.gpu)} / {owner.get(r.gpu, 'no family')} / {kind}"
    out = grouped(errs, lambda r: f"{_vendor(catalog, r.gpu)} / all")
    out |= grouped(errs, key)
    return dict(sorted(out.items()))


def throughput_error(rows: Sequence[Row], serving: Sequence[ServingRow], catalog: Catalog, params: Params,
                     factors: Factors | None = None) -> dict[str, dict[str, float]]:
    """The residual spread the cost engine's Monte Carlo draws throughput from, per vendor and
    dense/MoE: quantiles of measured / predicted over every MLPerf row (fitted and held out) and
    every serving row of the group. ``p10``/``p50``/``p90`` multiply the modelled throughput."""
    factors = factors or Factors.from_catalog(catalog)
    ratios: dict[str, list[float]] = {}
    items: list[tuple[Any, float]] = [(r, predict(r, catalog, params, factors)) for r in rows]
    items += [(r, predict_serving(r, catalog, params, factors)) for r in serving]
    for r, pred in items:
        if pred <= 0:
            continue
        kind = "moe" if catalog.model(r.model).moe is not None else "dense"
        ratios.setdefault(f"{_vendor(catalog, r.gpu)}-{kind}", []).append(r.measured / pred)
    out = {}
    for k, v in sorted(ratios.items()):
        q = statistics.quantiles(v, n=10, method="inclusive") if len(v) >= 2 else [v[0]] * 9
        out[k] = {"rows": float(len(v)), "p10": round(float(q[0]), 3), "p50": round(float(statistics.median(v)), 3),
                  "p90": round(float(q[-1]), 3)}
    return out


def format_table(groups: dict[str, Summary], label: str = "group") -> str:
    lines = [f"| {label} | rows | median abs % error | worst abs % error | mean signed % |",
             "|---|---:|---:|---:|---:|"]
    for k, s in groups.items():
        lines.append(f"| {k} | {s.n} | {s.median:.1f} | {s.worst:.1f} | {s.mean_signed:+.1f} |")
    return "\n".join(lines)


def format_report(rep: dict[str, dict[str, Summary]]) -> str:
    lines = ["| set | scenario | rows | median abs % error | worst abs % error | mean signed % |",
             "|---|---|---:|---:|---:|---:|"]
    for part, groups in rep.items():
        for scenario, s in groups.items():
            lines.append(f"| {part} | {scenario} | {s.n} | {s.median:.1f} | {s.worst:.1f} | {s.mean_signed:+.1f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("csv")
    parser.add_argument("workloads")
    parser.add_argument("--serving", default=None, help="serving-level rows (tests/data/serving-calibration.csv)")
    parser.add_argument("--catalog", default=None)
    parser.add_argument("--fit", action="store_true",
                        help="refit the global parameters, the family factors and the older-software factor")
    parser.add_argument("--evaluations", type=int, default=4000, help="loss evaluations of the fit")
    parser.add_argument("--rows", action="store_true", help="print every row's prediction")
    args = parser.parse_args(argv)
    catalog = load_catalog(args.catalog)
    rows = load_rows(args.csv, args.workloads)
    serving = load_serving_rows(args.serving) if args.serving else []
    params, factors = Params.from_catalog(catalog), Factors.from_catalog(catalog)
    if args.fit:
        params, factors = fit(rows, serving, catalog, params, factors, args.evaluations)
        print("fitted: " + ", ".join(f"{n}={getattr(params, n):.4g}" for n in FITTED))
        print("stacks: " + ", ".join(f"{s}={v:.3f}" for s, v in factors.stacks)
              + "; moe: " + ", ".join(f"{s}={v:.3f}" for s, v in factors.moe)
              + f"; software_2024_factor={factors.older_software:.3f}")
    print(format_report(report(rows, catalog, params, factors)))
    print()
    print(format_table(bias_table(rows, catalog, params, factors), "held out: vendor / family / kind"))
    if serving:
        errs = [(r, p, 100.0 * (p - r.measured) / r.measured)
                for r in serving for p in [predict_serving(r, catalog, params, factors)]]
        print()
        print(format_table(grouped(errs, lambda r: r.kind), "serving rows: kind"))
        print()
        print("throughput_error (measured / predicted):")
        for k, v in throughput_error(rows, serving, catalog, params, factors).items():
            print(f"  {k}: {v}")
        if args.rows:
            for srow, pred, err in errs:
                print(f"S {err:+7.1f}%  pred {pred:10.1f}  meas {srow.measured:10.1f}  {srow.key}")
    if args.rows:
        for row, pred, err in errors(rows, catalog, params, factors):
            print(f"{'H' if row.held_out else 'F'} {err:+7.1f}%  pred {pred:10.0f}  meas {row.measured:10.0f}  {row.key}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())


__all__: list[Any] = ["FITTED", "FIT_ROUNDS", "Factors", "Row", "ServingRow", "bias_table", "errors", "fit",
                      "load_rows", "load_serving_rows", "predict", "predict_serving", "report", "summarise",
                      "throughput_error"]
