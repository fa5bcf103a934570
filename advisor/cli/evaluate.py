"""``advisor evaluate``: profile -> decision -> costs -> briefing."""

from __future__ import annotations

import contextlib
import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

import click

from advisor.cli.common import (EXIT_NONE_USABLE, EXIT_OK, catalog_option, guarded, parse_date,
                                raw_stdout, rules_option)

if TYPE_CHECKING:
    from advisor.workspace import RulesChoice


@click.command(short_help="Evaluate a profile and write the briefing.")
@click.argument("profile", type=click.Path())
@rules_option
@catalog_option
@click.option("--templates", "templates_dir", type=click.Path(), default=None,
              help="Folder of report templates (run in a sandbox).")
@click.option("--format", "fmt",
              type=click.Choice(["summary", "markdown", "html", "pdf", "json", "all"]),
              default=None,
              help="Output format (default: a short summary on a terminal, the Markdown "
                   "briefing when piped or written with -o); 'all' writes every format into "
                   "the folder given with -o.")
@click.option("-o", "--output", type=click.Path(), default=None,
              help="Write to this file instead of standard output; a folder (an existing one, "
                   "or a path ending in '/') gets report.md, report.html, report.pdf or "
                   "decision.json; --format all writes every file into the folder.")
@click.option("--force", is_flag=True,
              help="Let -o write into a device or FIFO, or through a symbolic link "
                   "(refused by default: advisor writes only regular files).")
@click.option("--page-size", type=click.Choice(["a4", "letter"]), default=None,
              help="Paper size of HTML print and PDF (default: Letter for organisations "
                   "in North America, A4 elsewhere).")
@click.option("--neutral", is_flag=True,
              help="Compare the options without naming a recommended one.")
@click.option("--as-of", "as_of", default=None, metavar="YYYY-MM-DD",
              help="Evaluate the law as in force on this date (default: today).")
@click.option("--evidence", "evidence_file", type=click.Path(dir_okay=False), default=None,
              metavar="FILE",
              help="Evidence file: controls already in place (checked off in the briefing) "
                   "and waivers of findings (shown, with approver and expiry).")
@click.option("--engine", type=click.Choice(["durable", "reference"]), default="durable",
              hidden=True, help="Rule engine (reference = the pure-Python evaluator).")
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=None,
              help="Seed of the cost Monte Carlo (default: a fixed seed, so runs repeat).")
@guarded
def evaluate(profile: str, rules_dir: "RulesChoice | None", catalog_dir: str | None,
             templates_dir: str | None, fmt: str | None, output: str | None, force: bool,
             page_size: str | None, neutral: bool, as_of: str | None,
             evidence_file: str | None, engine: str, seed: int | None) -> None:
    """Evaluate PROFILE (a file, or - for standard input) and print the advisory briefing.

    On a terminal, a short coloured summary is printed (statuses, the
    recommendation, why options were excluded, the first controls); with -o the
    full briefing goes to the file and the summary to the terminal. Piped, the
    full Markdown briefing is printed, as with --format markdown.
    """
    from advisor.report.output import plan_output

    on = parse_date(as_of)
    if fmt is None:
        fmt = "summary" if output is None and sys.stdout.isatty() else "markdown"
    # where the output goes is checked before seconds of work, not after
    plan = plan_output(fmt, output, force=force, inputs=(profile, evidence_file or ""))
    worker = pdf_worker = None
    if fmt in ("pdf", "all"):
        # the PDF is laid out by another process, which loads WeasyPrint now
        from advisor.report.chartworker import PdfWorker
        from advisor.resources import default_templates_dir

        css = Path(templates_dir or default_templates_dir()) / "report.css"
        pdf_worker = PdfWorker(css if css.is_file() else default_templates_dir() / "report.css")
    if fmt in ("html", "pdf", "all"):
        # charts are drawn by another process, which loads matplotlib now
        from advisor.report.chartworker import ChartWorker

        worker = ChartWorker()
    try:
        _evaluate(profile, rules_dir, catalog_dir, templates_dir, fmt, output, page_size,
                  neutral, on, evidence_file, engine, seed, worker, pdf_worker, plan)
    finally:
        for w in (worker, pdf_worker):
            if w is not None:
                w.close()


def _evaluate(profile: str, rules_dir: "RulesChoice | None", catalog_dir: str | None,
              templates_dir: str | None, fmt: str, output: str | None, page_size: str | None,
              neutral: bool, on: dt.date, evidence_file: str | None, engine: str,
              seed: int | None, worker: Any, pdf_worker: Any = None,
              plan: Any = "unplanned") -> None:
    from advisor.costing import load_cost_catalog
    from advisor.decision import evaluate as run
    from advisor.profile import load_profile
    from advisor.workspace import load_workspace

    # the whole catalog, from advisor's cache: the profile's references are
    # checked against it and the costing reads it
    costs = load_cost_catalog(catalog_dir)
    loaded = load_profile(profile, catalog=costs)
    ws = load_workspace(rules_dir, catalog_dir, templates_dir)
    decision = run(loaded.profile, ws.ruleset, ws.options, ws.jurisdictions, on=on,
                   profile_sha256=loaded.sha256, engine=engine,
                   rules_display_dir=ws.rules_display)
    if evidence_file:
        from advisor.evidence import apply_evidence, load_evidence

        decision = apply_evidence(decision, load_evidence(evidence_file, ws.ruleset, ws.options),
                                  ws.ruleset)
    if decision.any_usable:
        from advisor.costing import rank_decision

        extra = {} if seed is None else {"seed": seed}
        decision = rank_decision(decision, loaded.profile, costs, ws.options,
                                 jurisdictions=ws.jurisdictions, **extra)
    if fmt == "summary":
        _summary(decision, output, neutral, profile, plan)
    else:
        from advisor.report.output import default_page_size, emit

        with _progress(fmt):
            emit(decision, fmt=fmt, output=output, templates_dir=ws.templates_dir,
                 catalog_dir=ws.catalog_dir, neutral=neutral,
                 page_size=page_size or default_page_size(loaded.profile.organisation.hq_country),
                 drawer=worker.draw if worker is not None else None, pdf_worker=pdf_worker,
                 plan=plan)
        if output and output != "-" and sys.stdout.isatty():
            from advisor.report.summary import render_summary

            render_summary(decision, raw_stdout(), neutral=neutral,
                           full_briefing=f"Full briefing ({fmt}): {output}")
    sys.exit(EXIT_OK if decision.any_usable else EXIT_NONE_USABLE)


def _summary(decision: Any, output: str | None, neutral: bool, profile: str,
             plan: Any = None) -> None:
    from advisor.report.summary import render_summary

    if output and output != "-":
        import io

        from advisor.report.output import write_output
        from advisor.safeio import FileTarget, write_file

        buffer = io.StringIO()
        render_summary(decision, buffer, neutral=neutral, color=False, width=100)
        if isinstance(plan, FileTarget):
            write_file(plan, buffer.getvalue().encode("utf-8"))
        else:
            write_output(output, buffer.getvalue().encode("utf-8"))
        return
    # rich writes its own colour codes and strips control characters from text
    render_summary(decision, raw_stdout(), neutral=neutral,
                   full_briefing=f"Full briefing: advisor evaluate {profile} --format markdown "
                                 "(or -o report.html, or --format all -o DIR)")


@contextlib.contextmanager
def _progress(fmt: str) -> Iterator[None]:
    """A spinner with the elapsed time on a terminal while a PDF is laid out
    (5-20 s); nothing when standard error is not a terminal."""
    if fmt not in ("pdf", "all") or not sys.stderr.isatty():
        yield
        return
    from rich.console import Console

    what = "the PDF briefing" if fmt == "pdf" else "every format"
    with Console(stderr=True).status(f"Writing {what}...", spinner="dots"):
        yield
