"""What every benchmark here shares: the import floor, measured in the same run.

The floor is the wall time of ``python -c 'import yaml, pydantic, jinja2,
click, durable.engine'``: a Python process that imports advisor's main
dependencies and does nothing. Timings on a shared or slow machine move
together with it, so each figure is printed both in milliseconds and as a
ratio to the floor. Runs are interleaved with floor runs so that a change in
the machine's load hits both.

Before measuring, advisor's own modules are byte-compiled (as ``pip install``
does), so a checkout run with PYTHONDONTWRITEBYTECODE is not charged for
compiling them on every start.
"""

from __future__ import annotations

import compileall
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional, Sequence

ROOT = Path(__file__).resolve().parent.parent
FLOOR_IMPORTS = "import yaml, pydantic, jinja2, click, durable.engine"


def advisor_exe() -> str:
    return shutil.which("advisor") or str(Path(sys.executable).parent / "advisor")


def compile_advisor() -> None:
    import advisor

    compileall.compile_dir(str(Path(advisor.__file__).parent), quiet=1)


class Bench:
    """Timed commands, each run alternately with the floor."""

    def __init__(self, runs: int = 5) -> None:
        self.runs = runs
        self.floors: list[float] = []
        compile_advisor()

    def _floor_once(self) -> None:
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", FLOOR_IMPORTS], check=True)
        self.floors.append(time.perf_counter() - t)

    @property
    def floor(self) -> float:
        if not self.floors:
            for _ in range(self.runs):
                self._floor_once()
        return statistics.median(self.floors)

    def wall(self, args: Sequence[str], env: Optional[dict[str, str]] = None,
             ok: Sequence[int] = (0, 1), runs: Optional[int] = None) -> float:
        """Median wall time of a fresh process running ``args``."""
        times = []
        for _ in range(runs or self.runs):
            self._floor_once()
            t = time.perf_counter()
            r = subprocess.run(args, capture_output=True, env={**os.environ, **(env or {})})
            times.append(time.perf_counter() - t)
            if r.returncode not in ok:
                sys.exit(f"{' '.join(args)}: exit {r.returncode}: {r.stderr.decode()[:500]}")
        return statistics.median(times)

    def show(self, label: str, seconds: float, note: str = "") -> None:
        ratio = seconds / self.floor
        value = f"{seconds * 1000:8.0f} ms" if seconds < 10 else f"{seconds:8.2f} s "
        print(f"{label:<58} {value}  {ratio:6.2f} x floor{('  ' + note) if note else ''}",
              flush=True)

    def show_floor(self) -> None:
        print(f"{'floor: python -c ' + repr(FLOOR_IMPORTS):<58} {self.floor * 1000:8.0f} ms"
              f"    1.00 x floor  (median of {len(self.floors)})", flush=True)
