"""Draw the briefing's charts in a second process, in parallel.

Importing matplotlib (~0.35 s) and drawing the charts (~0.6 s) would otherwise
follow the rule evaluation and the costing, and precede WeasyPrint's import.
A worker forked before the evaluation imports matplotlib while the main
process evaluates, then draws the charts while the main process loads
WeasyPrint. The charts are the same functions on the same plain data, so the
output is identical; if the worker cannot be started or fails, the charts are
drawn in-process.
"""

from __future__ import annotations

import multiprocessing
import os
from typing import Any, Optional

from advisor.report.briefing import ChartJob, run_chart_jobs

#: How long to wait for the worker before drawing in-process instead.
TIMEOUT_S = 60


def _serve(conn: Any) -> None:
    try:
        from advisor.report import charts

        charts._plt()  # import matplotlib now, while the parent evaluates
        while True:
            jobs = conn.recv()
            if jobs is None:
                return
            try:
                conn.send(("ok", run_chart_jobs(jobs)))
            except Exception as exc:  # report, let the parent fall back
                conn.send(("error", f"{type(exc).__name__}: {exc}"))
    except (EOFError, KeyboardInterrupt):
        return
    finally:
        conn.close()


class ChartWorker:
    """A forked process that draws chart jobs; use as a context manager."""

    def __init__(self) -> None:
        self._conn: Any = None
        self._proc: Any = None
        self._pending: Optional[list[ChartJob]] = None
        if os.name != "posix" or "fork" not in multiprocessing.get_all_start_methods():
            return
        ctx = multiprocessing.get_context("fork")
        parent, child = ctx.Pipe()
        try:
            proc = ctx.Process(target=_serve, args=(child,), daemon=True)
            proc.start()
        except OSError:
            return
        child.close()
        self._conn, self._proc = parent, proc

    def prefetch(self, jobs: list[ChartJob]) -> None:
        """Start drawing ``jobs`` now; a later :meth:`draw` of the same jobs collects them."""
        if self._conn is not None and self._pending is None:
            try:
                self._conn.send(jobs)
                self._pending = jobs
            except (OSError, ValueError):
                self.close()

    def draw(self, jobs: list[ChartJob]) -> dict[str, Any]:
        """The charts of ``jobs``, from the worker when it is alive, else in-process."""
        if self._conn is not None:
            try:
                if self._pending != jobs:
                    if self._pending is not None:  # collect and drop a stale prefetch
                        self._conn.poll(TIMEOUT_S) and self._conn.recv()
                    self._conn.send(jobs)
                self._pending = None
                if self._conn.poll(TIMEOUT_S):
                    status, result = self._conn.recv()
                    if status == "ok":
                        return result  # type: ignore[no-any-return]
            except (OSError, EOFError, ValueError):
                pass
            self.close()
        return run_chart_jobs(jobs)

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.send(None)
            except (OSError, ValueError):
                pass
            self._conn.close()
            self._conn = None
        if self._proc is not None:
            self._proc.join(timeout=5)
            if self._proc.is_alive():
                self._proc.kill()
            self._proc = None

    def __enter__(self) -> "ChartWorker":
        return self

    def __exit__(self, *exc: Optional[object]) -> None:
        self.close()
