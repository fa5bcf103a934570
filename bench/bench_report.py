"""Benchmark: how long the briefing takes in each format, as a user runs it.

Prints the wall time (fresh process, imports included; median of 5 runs) of
`advisor evaluate EXAMPLE --format F -o FILE` for json, markdown, html and pdf,
and for `--format all`.

Run: python bench/bench_report.py [PROFILE]
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    exe = shutil.which("advisor") or str(Path(sys.executable).parent / "advisor")
    profile = sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "examples" / "clinique-fr.yaml")
    with tempfile.TemporaryDirectory() as tmp:
        for fmt, target in (("json", "d.json"), ("markdown", "r.md"), ("html", "r.html"),
                            ("pdf", "r.pdf"), ("all", "all")):
            times = []
            for _ in range(5):
                t = time.perf_counter()
                r = subprocess.run([exe, "evaluate", profile, "--format", fmt, "-o",
                                    str(Path(tmp) / target)], capture_output=True)
                times.append(time.perf_counter() - t)
                if r.returncode not in (0, 1):
                    sys.exit(f"{fmt}: exit {r.returncode}: {r.stderr.decode()[:300]}")
            print(f"advisor evaluate --format {fmt:<8}: {statistics.median(times):.2f} s "
                  f"(median of 5, min {min(times):.2f} s)")


if __name__ == "__main__":
    main()
