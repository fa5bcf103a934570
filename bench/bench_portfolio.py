"""Benchmark: profiles per second of `advisor portfolio` (JSON with costing).

Generates N profiles (default 1,000) from the examples, each with its own
organisation name and workload (requests per day and token counts drawn
from a seeded generator, so the sizing and costs differ), then times
`advisor portfolio DIR -o OUT` as a user runs it (a fresh process, advisor's
cache filled by an earlier run) with one worker per core and with one
process, and prints profiles per second (target: >= 100 on 2 cores), the
CPU time per profile, and the floor of the same run (bench/floor.py).

Run: python bench/bench_portfolio.py [--n 1000] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from floor import ROOT, Bench, advisor_exe  # noqa: E402


def generate(folder: Path, n: int, seed: int = 11) -> None:
    import yaml

    from advisor.yamlload import load_file

    rng = random.Random(seed)
    bases = [load_file(p).data for p in sorted((ROOT / "examples").glob("*.yaml"))]
    for i in range(n):
        data = dict(bases[i % len(bases)])
        data["organisation"] = {**data["organisation"], "name": f"Generated organisation {i}"}
        w = dict(data["workload"])
        w["requests_per_day"] = rng.choice([500, 2_000, 10_000, 50_000, 200_000, 1_000_000])
        w["input_tokens"] = rng.choice([300, 800, 1500, 4000])
        w["output_tokens"] = rng.choice([100, 250, 400, 800])
        data["workload"] = w
        (folder / f"p{i:05d}.yaml").write_text(yaml.safe_dump(data, sort_keys=False),
                                               encoding="utf-8")


def timed(cmd: list[str]) -> tuple[float, float]:
    """Wall and CPU (user + system, the process and its workers) seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode not in (0, 1):
        sys.exit(f"exit {r.returncode}: {r.stderr.decode()[-800:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    bench = Bench(args.runs)
    exe = advisor_exe()
    os.environ["ADVISOR_CACHE_DIR"] = tempfile.mkdtemp(prefix="advisor-bench-cache-")
    bench.show_floor()
    with tempfile.TemporaryDirectory() as tmp:
        profiles = Path(tmp) / "profiles"
        profiles.mkdir()
        generate(profiles, args.n)
        cores = os.cpu_count() or 1
        for jobs in (0, 1):
            cmd = [exe, "portfolio", str(profiles), "-o", str(Path(tmp) / "out"), "-j", str(jobs),
                   "--as-of", "2026-11-30"]
            if jobs == 0:
                timed(cmd[:2] + [str(profiles / "p00000.yaml")] + cmd[3:])  # fills the cache
            results = sorted(timed(cmd) for _ in range(args.runs))
            wall, cpu = results[len(results) // 2]
            label = f"{cores} workers (one per core)" if jobs == 0 else "one process"
            bench.show(f"advisor portfolio, {args.n} profiles, {label}", wall,
                       f"{args.n / wall:6.1f} profiles/s, {cpu / args.n * 1000:.1f} ms CPU "
                       f"per profile" + ("  (target >= 100 profiles/s)" if jobs == 0 else ""))


if __name__ == "__main__":
    main()
