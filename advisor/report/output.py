"""Writing the briefing in the requested format(s) (the output edge).

``markdown``, ``html``, ``json`` and ``pdf`` go to standard output or to one
file; ``all`` writes every format into a folder, with PNG charts beside the
Markdown. Files are written atomically: a failed run leaves nothing
half-written behind.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Optional

from advisor.decision import Decision
from advisor.errors import InputError

FORMATS = ("markdown", "html", "pdf", "json", "all")
PAGE_SIZES = {"a4": "A4", "letter": "letter"}
#: countries whose paper is Letter by default
LETTER_COUNTRIES = frozenset({"US", "CA", "MX", "PH", "CL", "CO", "VE", "GT", "CR"})


def default_page_size(hq_country: str) -> str:
    return "letter" if hq_country.split("-")[0] in LETTER_COUNTRIES else "a4"


def _atomic_write(target: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=str(target.parent), prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the usual file mode
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _check_file_target(output: str) -> Path:
    target = Path(output)
    if target.is_dir():
        raise InputError.single(output, "is a directory; give a file name (or use --format all)")
    if not target.parent.exists():
        raise InputError.single(output, f"folder {target.parent} does not exist")
    return target


def write_output(output: str, data: bytes) -> None:
    """Write one file given with -o (or --junit), atomically, with the same
    checks as a briefing."""
    _atomic_write(_check_file_target(output), data)


class _Charts:
    """Draws chart jobs once: the PNG charts serve both the PDF and the Markdown."""

    def __init__(self, drawer: Any) -> None:
        from advisor.report.briefing import run_chart_jobs

        self.drawer = drawer or run_chart_jobs
        self.drawn: list[tuple[Any, dict[str, Any]]] = []

    def __call__(self, jobs: Any) -> dict[str, Any]:
        for done, result in self.drawn:
            if done == jobs:
                return result
        result = self.drawer(jobs)
        self.drawn.append((jobs, result))
        return result


def emit(decision: Decision, *, fmt: str, output: Optional[str], templates_dir: Path,
         catalog_dir: Path, page_size: str, neutral: bool, drawer: Any = None,
         pdf_worker: Any = None) -> None:
    """Render ``fmt`` and write it. ``drawer`` draws chart jobs (a
    :class:`~advisor.report.chartworker.ChartWorker`'s ``draw`` works ahead
    when told what comes next); ``pdf_worker`` (a
    :class:`~advisor.report.chartworker.PdfWorker`) lays out the PDF while the
    other formats are rendered here."""
    from advisor.report import render

    worker = getattr(drawer, "__self__", None)
    prefetch = getattr(worker, "prefetch", None)
    charts = _Charts(drawer)

    def pdf_of(html: str) -> bytes:
        if pdf_worker is not None:
            return pdf_worker.result(html, decision.evaluated_on)  # type: ignore[no-any-return]
        return render.render_pdf(html, decision)

    if fmt in ("pdf", "all"):
        if prefetch is not None:
            # the PDF's PNG charts are drawn in the worker while this process goes on
            prefetch(render.chart_jobs_for(decision, catalog_dir, neutral=neutral, fmt="png"))
        if pdf_worker is None:
            render.load_weasyprint()  # a missing WeasyPrint or Pango is reported now

    if fmt == "all":
        if not output:
            raise InputError.single("--output", "--format all writes several files",
                                    hint="give a folder with -o DIR")
        folder = Path(output)
        if folder.exists() and not folder.is_dir():
            raise InputError.single(output, "exists and is not a folder")
        if not folder.parent.exists():
            raise InputError.single(output, f"folder {folder.parent} does not exist")
        # render everything first, write only when all succeeded
        files: dict[str, bytes] = {}
        # the PDF's HTML first: the PDF worker lays it out while the rest is rendered
        pdf_html = render.render_html(decision, templates_dir, catalog_dir, page_size=page_size,
                                      neutral=neutral, drawer=charts, chart_format="png")
        if pdf_worker is not None:
            pdf_worker.submit(pdf_html, decision.evaluated_on)
        if prefetch is not None:
            prefetch(render.chart_jobs_for(decision, catalog_dir, neutral=neutral))
        html = render.render_html(decision, templates_dir, catalog_dir, page_size=page_size,
                                  neutral=neutral, drawer=charts)
        files["report.html"] = html.encode("utf-8")
        md, images = render.render_markdown_with_charts(decision, templates_dir, catalog_dir,
                                                        neutral=neutral, drawer=charts)
        files["report.md"] = md.encode("utf-8")
        for name, png in images.items():
            files[f"charts/{name}"] = png
        files["decision.json"] = render.render_json(decision).encode("utf-8")
        files["report.pdf"] = pdf_of(pdf_html)
        folder.mkdir(exist_ok=True)
        for rel, data in files.items():
            target = folder / rel
            target.parent.mkdir(exist_ok=True)
            _atomic_write(target, data)
        return

    if fmt == "json":
        data = render.render_json(decision).encode("utf-8")
    elif fmt == "markdown":
        data = render.render_markdown(decision, templates_dir, neutral=neutral).encode("utf-8")
    elif fmt == "html":
        data = render.render_html(decision, templates_dir, catalog_dir, page_size=page_size,
                                  neutral=neutral, drawer=drawer).encode("utf-8")
    elif fmt == "pdf":
        data = pdf_of(render.render_html(decision, templates_dir, catalog_dir,
                                         page_size=page_size, neutral=neutral, drawer=charts,
                                         chart_format="png"))
        if not output or output == "-":
            if sys.stdout.isatty():
                raise InputError.single("--output", "a PDF is binary",
                                        hint="write it to a file with -o report.pdf")
    else:  # pragma: no cover - click restricts the choice
        raise InputError.single("--format", f"unknown format {fmt!r}")

    if not output or output == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    write_output(output, data)
