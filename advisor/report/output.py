"""Writing the briefing in the requested format(s) (the output edge).

``markdown``, ``html``, ``json`` and ``pdf`` go to standard output or to one
file; ``all`` writes every format into a folder, with PNG charts beside the
Markdown. The output path is checked before anything is rendered
(:func:`plan_output`), and written by :mod:`advisor.safeio`: only regular
files, atomically, never over an input; ``--format all`` moves the whole set
in at once, so a folder holds either the complete new set or the old one.
``-o DIR/`` (a trailing slash, or an existing folder) writes the format's
usual file name into DIR.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Optional, Union

from advisor.decision import Decision
from advisor.errors import InputError
from advisor.safeio import (FileTarget, FolderTarget, check_file_target, check_folder_target,
                            identity, write_file, write_folder, write_stdout)

FORMATS = ("markdown", "html", "pdf", "json", "all")
PAGE_SIZES = {"a4": "A4", "letter": "letter"}
#: countries whose paper is Letter by default
LETTER_COUNTRIES = frozenset({"US", "CA", "MX", "PH", "CL", "CO", "VE", "GT", "CR"})
#: the file a single format writes when -o names a folder
FILE_NAMES = {"markdown": "report.md", "html": "report.html", "pdf": "report.pdf",
              "json": "decision.json", "summary": "summary.txt"}

#: None is standard output
OutputPlan = Union[None, FileTarget, FolderTarget]


def default_page_size(hq_country: str) -> str:
    return "letter" if hq_country.split("-")[0] in LETTER_COUNTRIES else "a4"


def _identities(paths: tuple[str, ...]) -> frozenset[tuple[int, int]]:
    found = set()
    for p in paths:
        if p and p != "-":
            try:
                found.add(identity(os.stat(p)))
            except OSError:
                pass
    return frozenset(found)


def plan_output(fmt: str, output: Optional[str], *, force: bool = False,
                inputs: tuple[str, ...] = ()) -> OutputPlan:
    """Check where the output goes before anything is rendered (seconds of
    work must not end in "cannot write"). ``inputs`` are the paths named on
    the command line, which are never written over."""
    protect = _identities(inputs)
    if fmt == "all":
        if not output or output == "-":
            raise InputError.single("--output", "--format all writes several files",
                                    hint="give a folder with -o DIR")
        return check_folder_target(output, force=force, protect=protect)
    if not output or output == "-":
        if fmt == "pdf" and sys.stdout.isatty():
            raise InputError.single("--output", "a PDF is binary",
                                    hint="write it to a file with -o report.pdf")
        return None
    if output.endswith(("/", os.sep)) or os.path.isdir(output):
        folder = Path(output)
        if not folder.is_dir() and not folder.parent.is_dir():
            raise InputError.single(output, f"folder {folder.parent} does not exist")
        return check_file_target(folder / FILE_NAMES[fmt], force=force, protect=protect,
                                 create_folder=True)
    return check_file_target(output, force=force, protect=protect)


def write_output(output: str, data: bytes, *, force: bool = False) -> None:
    """Write one file given with -o (or --junit), with the same checks as a
    briefing: a regular file, atomically, never over an input of the run."""
    write_file(check_file_target(output, force=force), data)


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


def _atomic_write(target: Path, data: bytes) -> None:
    """The former name of :func:`write_output` (advisor.portfolio uses it)."""
    write_output(str(target), data)


def emit(decision: Decision, *, fmt: str, output: Optional[str], templates_dir: Path,
         catalog_dir: Path, page_size: str, neutral: bool, drawer: Any = None,
         pdf_worker: Any = None, force: bool = False,
         plan: OutputPlan | str = "unplanned") -> None:
    """Render ``fmt`` and write it (to ``plan``, from :func:`plan_output`,
    checked again when written). ``drawer`` draws chart jobs (a
    :class:`~advisor.report.chartworker.ChartWorker`'s ``draw`` works ahead
    when told what comes next); ``pdf_worker`` (a
    :class:`~advisor.report.chartworker.PdfWorker`) lays out the PDF while the
    other formats are rendered here."""
    from advisor.report import render

    if isinstance(plan, str):
        plan = plan_output(fmt, output, force=force)
    worker = getattr(drawer, "__self__", None)
    prefetch = getattr(worker, "prefetch", None)
    charts = _Charts(drawer)

    def pdf_of(html: str) -> bytes:
        try:
            if pdf_worker is not None:
                return pdf_worker.result(html, decision.evaluated_on)  # type: ignore[no-any-return]
            return render.render_pdf(html, decision, templates_dir=templates_dir)
        except render.FetchRefused as exc:  # name the template that asked for it
            raise render.fetch_refused(exc.urls, templates_dir) from None

    if fmt in ("pdf", "all"):
        if prefetch is not None:
            # the PDF's PNG charts are drawn in the worker while this process goes on
            prefetch(render.chart_jobs_for(decision, catalog_dir, neutral=neutral, fmt="png"))
        if pdf_worker is None:
            render.load_weasyprint()  # a missing WeasyPrint or Pango is reported now

    if fmt == "all":
        assert isinstance(plan, FolderTarget)
        # render everything first, write only when all succeeded; the JSON
        # first, from the Decision itself, before any template runs
        files: dict[str, bytes] = {"decision.json": render.render_json(decision).encode("utf-8")}
        # the PDF's HTML next: the PDF worker lays it out while the rest is rendered
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
        files["report.pdf"] = pdf_of(pdf_html)
        write_folder(plan, files)
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
    else:  # pragma: no cover - click restricts the choice
        raise InputError.single("--format", f"unknown format {fmt!r}")

    if plan is None:
        write_stdout(data, text=fmt != "pdf")
    else:
        assert isinstance(plan, FileTarget)
        write_file(plan, data)
