"""Benchmark: how long the briefing takes in each format, as a user runs it.

Prints the wall time (fresh process, imports included, advisor's cache filled
by an earlier run; median of several runs) of `advisor evaluate EXAMPLE
--format F -o FILE` for json, markdown, html and pdf, and for `--format all`,
each in seconds and as a ratio to the import floor measured in the same run
(bench/floor.py). Targets on 2 cores: pdf <= 3 s, all <= 4 s. It also checks
that two runs give byte-identical files.

Run: python bench/bench_report.py [PROFILE] [--runs N]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from floor import ROOT, Bench, advisor_exe  # noqa: E402

TARGETS = {"pdf": "target <= 3 s", "all": "target <= 4 s"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("profile", nargs="?", default=str(ROOT / "examples" / "clinique-fr.yaml"))
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    bench = Bench(args.runs)
    exe = advisor_exe()
    os.environ["ADVISOR_CACHE_DIR"] = tempfile.mkdtemp(prefix="advisor-bench-cache-")
    bench.show_floor()
    with tempfile.TemporaryDirectory() as tmp:
        for fmt, target in (("json", "d.json"), ("markdown", "r.md"), ("html", "r.html"),
                            ("pdf", "r.pdf"), ("all", "all")):
            cmd = [exe, "evaluate", args.profile, "--format", fmt, "-o", str(Path(tmp) / target),
                   "--as-of", "2026-11-30"]
            bench.wall(cmd, runs=1)  # fills the cache
            first = _snapshot(Path(tmp) / target)
            bench.show(f"advisor evaluate --format {fmt}", bench.wall(cmd), TARGETS.get(fmt, ""))
            if _snapshot(Path(tmp) / target) != first:
                sys.exit(f"--format {fmt}: two runs wrote different bytes")


def _snapshot(path: Path) -> dict[str, bytes]:
    if path.is_dir():
        return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*"))
                if p.is_file()}
    return {path.name: path.read_bytes()}


if __name__ == "__main__":
    main()
