"""Benchmark: how fast advisor costs and ranks the options.

Prints
* Monte Carlo with 10,000 draws over every option of an example (all ten
  options costed, whatever the rules say), in process, median of several runs
  (target <= 50 ms);
* building the ledgers of those options (sizing included);
* wall time of `advisor evaluate EXAMPLE --format json` with costs, as a user
  runs it (a fresh process, imports included), median of several runs
  (target <= 1 s);
* the TCO of every ranked option of examples/clinique-fr.yaml.

Run: python bench/bench_costing.py
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "clinique-fr.yaml"


def wall(args: list[str], runs: int = 7) -> tuple[float, str]:
    times, out = [], ""
    for _ in range(runs):
        t = time.perf_counter()
        proc = subprocess.run(args, capture_output=True, check=False, text=True)
        times.append(time.perf_counter() - t)
        out = proc.stdout
    return statistics.median(times), out


def main() -> None:
    from advisor.costing import load_cost_catalog
    from advisor.costing.context import Context
    from advisor.costing.kinds import build_ledger
    from advisor.costing.ledger import CostUnknown
    from advisor.costing.montecarlo import simulate
    from advisor.profile import load_profile
    from advisor.workspace import load_workspace

    ws = load_workspace()
    catalog = load_cost_catalog()
    profile = load_profile(EXAMPLE).profile

    times = []
    for _ in range(5):
        t = time.perf_counter()
        ctx = Context(catalog, profile, eea=ws.jurisdictions.members("EEA"))
        ledgers = {}
        for option in ws.options.options:
            try:
                ledgers[option.id] = build_ledger(ctx, option)
            except CostUnknown:
                pass
        times.append(time.perf_counter() - t)
    print(f"ledgers for {len(ledgers)} options (sizing included), median of 5: "
          f"{statistics.median(times) * 1000:.0f} ms")

    growth = ctx.growth_factor()
    simulate(ledgers, ctx.factors, growth, float(ctx.rate), draws=100, seed=1)  # warm-up (numpy import)
    times = []
    for seed in range(7):
        t = time.perf_counter()
        simulate(ledgers, ctx.factors, growth, float(ctx.rate), draws=10_000, seed=seed)
        times.append(time.perf_counter() - t)
    print(f"Monte Carlo, 10,000 draws x {len(ledgers)} options, median of 7: "
          f"{statistics.median(times) * 1000:.0f} ms (target <= 50 ms)")

    exe = shutil.which("advisor") or str(Path(sys.executable).parent / "advisor")
    seconds, out = wall([exe, "evaluate", str(EXAMPLE), "--format", "json"])
    print(f"advisor evaluate (json, with costs), wall, median of 7: {seconds * 1000:.0f} ms (target <= 1000 ms)")
    seconds, _ = wall([sys.executable, "-c", "import advisor.cli"])
    print(f"python -c 'import advisor.cli', wall: {seconds * 1000:.0f} ms")

    try:
        data = json.loads(out)
    except json.JSONDecodeError:
        print("(advisor evaluate produced no JSON; is the rule library loadable?)")
        return
    print(f"\n{EXAMPLE.name}: TCO of the ranked options")
    print(f"{'rank':>4}  {'option':<26}{'NPV':>14}{'NPV P10':>12}{'NPV P90':>12}{'total':>14}{'per 1M':>9}  cheapest")
    for o in sorted((o for o in data["options"] if o.get("rank")), key=lambda o: o["rank"]):
        t = o["tco"]
        print(f"{o['rank']:>4}  {o['id']:<26}{float(t['npv']):>14,.0f}{float(t['npv_p10']):>12,.0f}"
              f"{float(t['npv_p90']):>12,.0f}{float(t['total']):>14,.0f}{float(t['per_million_tokens']):>9.2f}"
              f"  {t['probability_cheapest']:.0%}")
    for o in data["options"]:
        if o.get("tco") and o["tco"].get("status") == "unknown":
            print(f"   -  {o['id']:<26}unknown: {o['tco']['reason']}")
    rec = data.get("recommendation") or {}
    if rec:
        print(f"recommended: {rec['option']} ({rec['tco']['currency']})")


if __name__ == "__main__":
    main()
