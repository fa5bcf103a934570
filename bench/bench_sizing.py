"""Timings of the sizing core and the calibration error (run: python bench/bench_sizing.py).

Prints, each as a median and as a ratio to a floor measured in the same run:

* the floor: one instance built and one TPOT evaluated for every candidate (GPU x weight
  format x layout) of the plan below, the least work any search over them must do (it builds
  every pipeline depth, which the plan stops at the first that fits);
* the whole capacity plan of one profile's workload across every catalogued GPU with an empty
  memo (what the first option of a profile costs; issue 11's target: <= 10 ms on 2 cores), for a
  dense and a large MoE workload (the MoE one also tries expert-parallel layouts and MTP);
* the same plan again (memoised: what every further option, year and bound costs);
* ``size_fixed`` and ``plan_capacity`` on one GPU, the catalog load, and the calibration
  table (docs/calibration.md).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from advisor.catalog.costdata import Catalog  # noqa: E402
from advisor.sizing.calibration import format_report, load_rows, report  # noqa: E402
from advisor.sizing.plan import (_instances, default_params, plan_capacity, plan_workload,  # noqa: E402
                                 precision_candidates, resolve_kv_precision, size_fixed)
from advisor.sizing import cache  # noqa: E402

WORKLOADS: dict[str, dict[str, Any]] = {
    "llama-3.1-70b": {"model": "llama-3.1-70b", "requests_per_day": 20000, "input_tokens": 1500,
                      "output_tokens": 400, "peak_factor": 3, "latency": {"ttft_ms": 1000, "tpot_ms": 50}},
    "deepseek-r1": {"model": "deepseek-r1", "requests_per_day": 2000000, "input_tokens": 2000, "output_tokens": 1000,
                    "peak_factor": 3, "latency": {"ttft_ms": 3000, "tpot_ms": 50}},
}


def median_ms(fn: Callable[[], Any], repeat: int, setup: Callable[[], Any] | None = None) -> float:
    samples = []
    for _ in range(repeat):
        if setup is not None:
            setup()
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples) * 1e3


def floor_fn(catalog: Catalog, workload: dict[str, Any]) -> Callable[[], None]:
    """Build every plain candidate instance the plan considers (each weight format x layout, on
    every GPU, as ``_instances`` lists them) and evaluate one TPOT on each: the least work any
    search over the same candidates must do. Run with an empty memo."""
    model_id = str(workload["model"])
    model = catalog.model(model_id)
    params = default_params(catalog)
    isl, osl = int(workload["input_tokens"]), int(workload["output_tokens"])

    def run() -> None:
        for gpu in catalog.gpus.values():
            for precision in precision_candidates(catalog, model_id, gpu, "auto"):
                kv = resolve_kv_precision(gpu, precision, "auto")
                for inst in _instances(catalog, model, gpu, precision, kv, gpu.scaleup_domain * 16, params):
                    inst.curve(isl, osl).tpot(1)
    return run


def main() -> None:
    t = time.perf_counter()
    catalog = Catalog(default_directory=ROOT / "catalog")
    catalog.validate_all()
    print(f"{'load + validate all catalog files (cold)':62} {(time.perf_counter() - t) * 1e3:8.2f} ms")

    def clear() -> None:
        cache.clear(catalog)

    print(f"{'':62} {'median':>8}    {'x floor':>8}")
    for name, workload in WORKLOADS.items():
        floor = median_ms(floor_fn(catalog, workload), 30, setup=clear)
        rows = [
            (f"{name}: floor (one instance + one TPOT per candidate)", floor),
            (f"{name}: plan_workload on all {len(catalog.gpus)} GPUs, empty memo",
             median_ms(lambda: plan_workload(catalog, workload), 30, setup=clear)),
            (f"{name}: plan_workload on all {len(catalog.gpus)} GPUs, memoised",
             median_ms(lambda: plan_workload(catalog, workload), 30)),
        ]
        for label, ms in rows:
            print(f"{label:62} {ms:8.2f} ms {ms / floor:8.1f}")
    others = [
        ("size_fixed llama-3.1-70b on 8x h100-sxm, empty memo",
         median_ms(lambda: size_fixed(catalog, "llama-3.1-70b", "h100-sxm", 8, "fp8", 1500, 400), 30, setup=clear)),
        ("size_fixed deepseek-r1 on 72x gb200 with targets, empty memo",
         median_ms(lambda: size_fixed(catalog, "deepseek-r1", "gb200", 72, "fp4", 1000, 1000, ttft_ms=2000,
                                      tpot_ms=50), 30, setup=clear)),
        ("plan_capacity llama-3.1-70b on h100-sxm, empty memo",
         median_ms(lambda: plan_capacity(catalog, "llama-3.1-70b", "h100-sxm", peak_requests_per_s=50,
                                         input_tokens=1500, output_tokens=400, ttft_ms=1000, tpot_ms=50),
                   30, setup=clear)),
    ]
    for label, ms in others:
        print(f"{label:62} {ms:8.2f} ms")
    data = load_rows(ROOT / "tests/data/mlperf-calibration.csv", ROOT / "tests/data/mlperf-workloads.yaml")
    t = time.perf_counter()
    cache.clear(catalog)
    rep = report(data, catalog, default_params(catalog))
    print(f"{'calibration: predict all ' + str(len(data)) + ' MLPerf rows':62} {(time.perf_counter() - t) * 1e3:8.2f} ms")
    print()
    print(format_report(rep))


if __name__ == "__main__":
    main()
