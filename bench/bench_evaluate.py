"""Benchmark: how fast advisor evaluates, against the import floor of the same run.

Prints, each in milliseconds and as a ratio to the floor (bench/floor.py):

* wall time of `advisor evaluate EXAMPLE --format json` (with costing) and of
  the Markdown briefing as a user runs them: a fresh process, imports
  included, with advisor's cache filled by an earlier run (the usual case)
  and with the cache off (ADVISOR_NO_CACHE=1: the first run after an edit or
  an upgrade); median of several runs (target: json <= 2.5 x floor);
* in process: loading the rule library and catalogs (from the cache, and
  parsed from the YAML files), evaluation per profile with durable-rules and
  with the reference evaluator, rule matching only, costing per profile,
  JSON rendering per profile;
* library use: `load_workspace()` + `evaluate()` per profile, and the memory
  that stays behind per profile (should be ~0).

Run: python bench/bench_evaluate.py [--runs N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))

from floor import ROOT, Bench, advisor_exe  # noqa: E402

EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
EXAMPLE = str(ROOT / "examples" / "clinique-fr.yaml")
ON = dt.date(2026, 11, 30)


def per_call(fn: Callable[[int], Any], n: int) -> float:
    """Median over 3 rounds of the mean seconds per call of fn(i), i < n."""
    rounds = []
    for _ in range(3):
        t = time.perf_counter()
        for i in range(n):
            fn(i)
        rounds.append((time.perf_counter() - t) / n)
    return statistics.median(rounds)


def rss_mb() -> float:
    statm = Path("/proc/self/statm")
    if not statm.exists():
        return float("nan")
    return int(statm.read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    bench = Bench(args.runs)
    exe = advisor_exe()
    cache = tempfile.mkdtemp(prefix="advisor-bench-cache-")
    os.environ["ADVISOR_CACHE_DIR"] = cache  # this process and the commands it starts
    bench.show_floor()
    json_cmd = [exe, "evaluate", EXAMPLE, "--format", "json", "--as-of", ON.isoformat()]
    bench.wall(json_cmd, runs=1)  # fills the cache
    bench.show("advisor evaluate --format json (cache filled)", bench.wall(json_cmd),
               "target <= 2.50")
    bench.show("advisor evaluate --format json (cache off)",
               bench.wall(json_cmd, env={"ADVISOR_NO_CACHE": "1"}))
    bench.show("advisor evaluate (markdown, cache filled)",
               bench.wall([exe, "evaluate", EXAMPLE, "--as-of", ON.isoformat()]))

    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")  # as the command line does
    from advisor import cache as advisor_cache
    from advisor.costing import load_cost_catalog, rank_decision
    from advisor.decision import evaluate, fire
    from advisor.engine.facts import build_facts
    from advisor.profile import load_profile
    from advisor.report.render import render_json
    from advisor.workspace import load_workspace

    def from_cache(_: int) -> None:
        advisor_cache._memory.clear()
        load_workspace()

    bench.show("load rules + catalogs, from the cache (in process)", per_call(from_cache, 20))
    os.environ["ADVISOR_NO_CACHE"] = "1"
    bench.show("load rules + catalogs, parsing YAML (in process)", per_call(from_cache, 5))
    del os.environ["ADVISOR_NO_CACHE"]
    advisor_cache._memory.clear()

    ws = load_workspace()
    costs = load_cost_catalog(None)
    loaded = [load_profile(p) for p in EXAMPLES]
    n = len(loaded)
    print(f"({len(ws.ruleset.rules)} rules, {len(ws.options.options)} options, {n} example "
          f"profiles; per-profile figures are means over the examples)")
    decisions: dict[int, Any] = {}
    for engine in ("durable", "reference"):
        def run(i: int, engine: str = engine) -> None:
            lp = loaded[i % n]
            decisions[i % n] = evaluate(lp.profile, ws.ruleset, ws.options, ws.jurisdictions,
                                        on=ON, profile_sha256=lp.sha256, engine=engine)
        run(0)  # compile and register
        bench.show(f"evaluate() per profile, {engine}", per_call(run, 5 * n))
    facts = [build_facts(lp.profile, list(ws.options.options), ws.jurisdictions) for lp in loaded]
    for engine in ("durable", "reference"):
        bench.show(f"rule matching only per profile, {engine}",
                   per_call(lambda i, e=engine: fire(ws.ruleset, facts[i % n], e), 10 * n))
    ranked: dict[int, Any] = {}

    def cost(i: int) -> None:
        d = decisions[i % n]
        ranked[i % n] = rank_decision(d, loaded[i % n].profile, costs, ws.options,
                                      jurisdictions=ws.jurisdictions) if d.any_usable else d
    bench.show("costing (rank_decision) per profile", per_call(cost, n))
    bench.show("JSON rendering per profile", per_call(lambda i: render_json(ranked[i % n]), n))

    def library(i: int) -> None:
        lp = loaded[i % n]
        w = load_workspace()
        evaluate(lp.profile, w.ruleset, w.options, w.jurisdictions, on=ON,
                 profile_sha256=lp.sha256)
    bench.show("library: load_workspace() + evaluate() per profile", per_call(library, 3 * n))
    gc.collect()
    before = rss_mb()
    for i in range(200):
        advisor_cache._memory.clear()  # a new RuleSet each time, as a long-running host sees
        library(i)
    gc.collect()
    print(f"{'library: memory left behind per profile (200 reloads)':<58} "
          f"{(rss_mb() - before) * 1000 / 200:8.1f} kB")


if __name__ == "__main__":
    main()
