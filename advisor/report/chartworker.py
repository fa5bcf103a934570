"""Draw the charts and lay out the PDF in other processes, in parallel.

Importing matplotlib (~0.35 s) and WeasyPrint (~0.7 s), WeasyPrint's first
use of the fonts, drawing the charts and laying out the PDF would otherwise
run one after the other after the rule evaluation and the costing. Workers
forked before the evaluation do their imports while the main process
evaluates:

* :class:`ChartWorker` imports matplotlib, then draws chart jobs;
* :class:`PdfWorker` imports WeasyPrint and lays out a small page in the
  report's fonts (loading them), then turns the briefing's HTML into a PDF
  while the main process writes the other formats.

The work is the same functions on the same data, so the output is identical
to drawing in-process; if a worker cannot be started or fails, the work is
done in-process (where an error is reported as usual).
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
from pathlib import Path
from typing import Any, Callable, Optional

from advisor.report.briefing import ChartJob, run_chart_jobs

#: How long to wait for a worker before doing its work in-process instead.
TIMEOUT_S = 120


def _serve(conn: Any, warm: Callable[[], None], work: Callable[[Any], Any]) -> None:
    try:
        try:
            warm()
        except Exception:  # noqa: BLE001 - the work will fail (and be redone in-process)
            pass
        while True:
            request = conn.recv()
            if request is None:
                return
            try:
                conn.send(("ok", work(request)))
            except Exception as exc:  # report, let the parent fall back
                conn.send(("error", f"{type(exc).__name__}: {exc}"))
    except (EOFError, KeyboardInterrupt, BrokenPipeError):
        return
    finally:
        conn.close()


class _Forked:
    """A forked process: ``warm()`` at once, then ``work(request)`` per request."""

    def __init__(self, warm: Callable[[], None], work: Callable[[Any], Any]) -> None:
        self._conn: Any = None
        self._proc: Any = None
        if os.name != "posix" or "fork" not in multiprocessing.get_all_start_methods():
            return
        ctx = multiprocessing.get_context("fork")
        parent, child = ctx.Pipe()
        try:
            proc = ctx.Process(target=_serve, args=(child, warm, work), daemon=True)
            proc.start()
        except OSError:
            return
        child.close()
        self._conn, self._proc = parent, proc

    @property
    def alive(self) -> bool:
        return self._conn is not None

    def _send(self, request: Any) -> bool:
        if self._conn is None:
            return False
        try:
            self._conn.send(request)
            return True
        except (OSError, ValueError):
            self.close()
            return False

    def _receive(self) -> tuple[bool, Any]:
        """(True, result) from the worker, or (False, None) if it failed."""
        if self._conn is not None:
            try:
                if self._conn.poll(TIMEOUT_S):
                    status, result = self._conn.recv()
                    if status == "ok":
                        return True, result
            except (OSError, EOFError, ValueError):
                pass
            self.close()
        return False, None

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

    def __enter__(self) -> "_Forked":
        return self

    def __exit__(self, *exc: Optional[object]) -> None:
        self.close()


def _import_matplotlib() -> None:
    from advisor.report import charts

    charts._plt()


class ChartWorker(_Forked):
    """Draws chart jobs (see :func:`advisor.report.briefing.run_chart_jobs`)."""

    def __init__(self) -> None:
        self._pending: Optional[list[ChartJob]] = None
        super().__init__(_import_matplotlib, run_chart_jobs)

    def prefetch(self, jobs: list[ChartJob]) -> None:
        """Start drawing ``jobs`` now; a later :meth:`draw` of the same jobs collects them."""
        if self._pending is None and self._send(jobs):
            self._pending = jobs

    def draw(self, jobs: list[ChartJob]) -> dict[str, Any]:
        """The charts of ``jobs``, from the worker when it is alive, else in-process."""
        if self.alive:
            if self._pending != jobs:
                if self._pending is not None:  # collect and drop a stale prefetch
                    self._receive()
                self._send(jobs)
            self._pending = None
            ok, result = self._receive()
            if ok:
                return result  # type: ignore[no-any-return]
        return run_chart_jobs(jobs)


def _warm_weasyprint(css: Path) -> None:
    """Import WeasyPrint and lay out and write a small page in the report's
    styles, so the fonts are found, loaded and parsed before the briefing
    arrives."""
    from advisor.report.render import pdf_from_html

    style = css.read_text(encoding="utf-8") if css.is_file() else ""
    pdf_from_html(f"<html><head><style>{style}</style></head><body><h1>a</h1><p>a <b>b</b> "
                  "<i>c</i> <em>d</em> <code>e</code> ☐ –</p></body></html>",
                  dt.date(2000, 1, 1))


def _pdf(request: tuple[str, dt.date]) -> bytes:
    from advisor.report.render import pdf_from_html

    html, evaluated_on = request
    return pdf_from_html(html, evaluated_on)


class PdfWorker(_Forked):
    """Imports WeasyPrint and warms its fonts now; turns HTML into PDF bytes later."""

    def __init__(self, css: Path) -> None:
        super().__init__(lambda: _warm_weasyprint(css), _pdf)
        self._submitted: Optional[tuple[str, dt.date]] = None

    def submit(self, html: str, evaluated_on: dt.date) -> None:
        """Start laying out ``html``; :meth:`result` collects the PDF."""
        if self._send((html, evaluated_on)):
            self._submitted = (html, evaluated_on)

    def result(self, html: str, evaluated_on: dt.date) -> bytes:
        """The PDF of ``html``: the worker's if it is alive and succeeds, else
        laid out in-process."""
        from advisor.report.render import pdf_from_html

        if self._submitted != (html, evaluated_on):
            self.submit(html, evaluated_on)
        if self._submitted == (html, evaluated_on):
            self._submitted = None
            ok, pdf = self._receive()
            if ok:
                return pdf  # type: ignore[no-any-return]
        return pdf_from_html(html, evaluated_on)
