"""Benchmark: how fast advisor evaluates.

Prints
* wall time of `advisor evaluate EXAMPLE --format json` as a user runs it
  (a fresh process: imports included), median of several runs;
* in-process evaluation time per profile (all rules over all options) for the
  durable-rules engine and for the reference evaluator;
* rule loading time.

Run: python bench/bench_evaluate.py
"""

from __future__ import annotations

import datetime as dt
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))


def wall(args: list[str], runs: int = 7) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(args, capture_output=True, check=False)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    exe = shutil.which("advisor") or str(Path(sys.executable).parent / "advisor")
    example = str(ROOT / "examples" / "clinique-fr.yaml")
    print(f"advisor evaluate (json), wall, median of 7: "
          f"{wall([exe, 'evaluate', example, '--format', 'json']) * 1000:.0f} ms")
    print(f"advisor evaluate (markdown), wall, median of 7: "
          f"{wall([exe, 'evaluate', example]) * 1000:.0f} ms")
    print(f"python -c 'import advisor.cli', wall: "
          f"{wall([sys.executable, '-c', 'import advisor.cli']) * 1000:.0f} ms")

    from advisor.decision import evaluate
    from advisor.profile import load_profile
    from advisor.workspace import load_workspace

    t = time.perf_counter()
    ws = load_workspace()
    print(f"load rules + catalog: {(time.perf_counter() - t) * 1000:.1f} ms "
          f"({len(ws.ruleset.rules)} rules, {len(ws.options.options)} options)")
    profiles = [load_profile(p) for p in EXAMPLES]
    on = dt.date(2026, 11, 30)
    for engine in ("durable", "reference"):
        evaluate(profiles[0].profile, ws.ruleset, ws.options, ws.jurisdictions, on=on,
                 profile_sha256="x", engine=engine)  # warm-up: compile and register
        n = 200
        t = time.perf_counter()
        for i in range(n):
            lp = profiles[i % len(profiles)]
            evaluate(lp.profile, ws.ruleset, ws.options, ws.jurisdictions, on=on,
                     profile_sha256=lp.sha256, engine=engine)
        per = (time.perf_counter() - t) / n * 1000
        print(f"evaluate() per profile, {engine:<9}: {per:.2f} ms "
              f"(all rules x all options, incl. facts and explanations)")
    from advisor.decision import fire
    from advisor.engine.facts import build_facts

    facts = [build_facts(lp.profile, list(ws.options.options), ws.jurisdictions) for lp in profiles]
    for engine in ("durable", "reference"):
        n = 500
        t = time.perf_counter()
        for i in range(n):
            fire(ws.ruleset, facts[i % len(facts)], engine)
        print(f"rule matching only per profile, {engine:<9}: "
              f"{(time.perf_counter() - t) / n * 1000:.2f} ms")


if __name__ == "__main__":
    main()
