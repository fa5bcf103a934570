"""Timings of the sizing core and the calibration error (run: python bench/bench_sizing.py).

Prints how long one ``size_fixed`` / ``plan_capacity`` / full-profile sizing takes
after the catalog is loaded, the catalog load itself, and the calibration table.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from advisor.sizing.calibration import format_report, load_rows, report  # noqa: E402
from advisor.catalog.costdata import Catalog  # noqa: E402
from advisor.sizing.plan import plan_capacity, plan_workload, size_fixed  # noqa: E402
from advisor.sizing.throughput import Params  # noqa: E402


def timed(label: str, fn, repeat: int = 50) -> None:
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    print(f"{label:58} median {statistics.median(samples) * 1e3:8.2f} ms   max {max(samples) * 1e3:8.2f} ms")


def main() -> None:
    t = time.perf_counter()
    catalog = Catalog(default_directory=ROOT / "catalog")
    catalog.validate_all()
    print(f"{'load + validate all catalog files (cold)':58} {(time.perf_counter() - t) * 1e3:8.2f} ms")
    timed("size_fixed llama-3.1-70b on 8x h100-sxm",
          lambda: size_fixed(catalog, "llama-3.1-70b", "h100-sxm", 8, "fp8", 1500, 400))
    timed("size_fixed deepseek-r1 on 72x gb200 with latency targets",
          lambda: size_fixed(catalog, "deepseek-r1", "gb200", 72, "fp4", 1000, 1000, ttft_ms=2000, tpot_ms=50))
    timed("plan_capacity llama-3.1-70b on h100-sxm, 50 req/s",
          lambda: plan_capacity(catalog, "llama-3.1-70b", "h100-sxm", peak_requests_per_s=50, input_tokens=1500,
                                output_tokens=400, ttft_ms=1000, tpot_ms=50))
    workload = {"model": "llama-3.1-70b", "requests_per_day": 20000, "input_tokens": 1500, "output_tokens": 400,
                "peak_factor": 3, "latency": {"ttft_ms": 1000, "tpot_ms": 50}}
    timed(f"plan_workload on all {len(catalog.gpus)} GPUs", lambda: plan_workload(catalog, workload), repeat=10)
    rows = load_rows(ROOT / "tests/data/mlperf-calibration.csv", ROOT / "tests/data/mlperf-workloads.yaml")
    t = time.perf_counter()
    rep = report(rows, catalog, Params.from_catalog(catalog))
    print(f"{'calibration: predict all ' + str(len(rows)) + ' MLPerf rows':58} {(time.perf_counter() - t) * 1e3:8.2f} ms")
    print()
    print(format_report(rep))


if __name__ == "__main__":
    main()
