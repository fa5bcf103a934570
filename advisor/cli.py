"""The ``advisor`` command line: one click group, each command a few lines.

Exit codes (stable): 0 success; 1 evaluation done but no option is viable or
conditional; 2 bad input or usage; 3 the evaluation itself failed (a bug;
advisor fails closed rather than report a decision it cannot vouch for).
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from typing import Any, Callable

import click

from advisor import __version__
from advisor.errors import AdvisorError, InputError

EXIT_OK, EXIT_NONE_USABLE, EXIT_BAD_INPUT, EXIT_INTERNAL = 0, 1, 2, 3


def _fail(error: AdvisorError) -> None:
    for line in str(error).splitlines():
        click.echo(f"error: {line}" if not line.startswith("error") else line, err=True)
    sys.exit(error.exit_code)


def guarded(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn advisor errors into one line per problem and an exit code; turn
    anything unexpected into a one-line internal error (ADVISOR_DEBUG=1 shows
    the traceback)."""
    import functools

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except AdvisorError as exc:
            _fail(exc)
        except (click.exceptions.Exit, click.ClickException, SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:  # noqa: BLE001 - last line of defence, fail closed
            if os.environ.get("ADVISOR_DEBUG"):
                raise
            click.echo(f"error: internal error: {type(exc).__name__}: {exc} "
                       "(this is a bug in advisor; rerun with ADVISOR_DEBUG=1 and report it)",
                       err=True)
            sys.exit(EXIT_INTERNAL)
    return wrapper


def parse_date(value: str | None) -> dt.date:
    if value is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError.single("--as-of", f"'{value}' is not a date",
                                hint="use YYYY-MM-DD, e.g. 2026-11-30") from None


rules_option = click.option("--rules", "rules_dir", type=click.Path(), default=None,
                            help="Folder of rule files (default: the bundled library).")
catalog_option = click.option("--catalog", "catalog_dir", type=click.Path(), default=None,
                              help="Folder of catalog files: options, prices, hardware "
                                   "(default: the bundled catalog).")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="advisor")
def main() -> None:
    """Compliance and deployment advisor for large language models.

    Evaluates an organisation profile against declarative rule files, keeps the
    deployment options that remain viable, and writes an advisory briefing.
    """


@main.command()
@click.argument("profile", type=click.Path())
@rules_option
@catalog_option
@click.option("--templates", "templates_dir", type=click.Path(), default=None,
              help="Folder of report templates (run in a sandbox).")
@click.option("--format", "fmt", type=click.Choice(["markdown", "html", "pdf", "json", "all"]),
              default="markdown", show_default=True,
              help="Output format; 'all' writes every format into the folder given with -o.")
@click.option("-o", "--output", type=click.Path(), default=None,
              help="Write to this file (or folder, for --format all) instead of standard output.")
@click.option("--page-size", type=click.Choice(["a4", "letter"]), default=None,
              help="Paper size of HTML print and PDF (default: Letter for organisations "
                   "in North America, A4 elsewhere).")
@click.option("--neutral", is_flag=True,
              help="Compare the options without naming a recommended one.")
@click.option("--as-of", "as_of", default=None, metavar="YYYY-MM-DD",
              help="Evaluate the law as in force on this date (default: today).")
@click.option("--engine", type=click.Choice(["durable", "reference"]), default="durable",
              hidden=True, help="Rule engine (reference = the pure-Python evaluator).")
@click.option("--seed", type=int, default=None,
              help="Seed of the cost Monte Carlo (default: a fixed seed, so runs repeat).")
@guarded
def evaluate(profile: str, rules_dir: str | None, catalog_dir: str | None,
             templates_dir: str | None, fmt: str, output: str | None, page_size: str | None,
             neutral: bool, as_of: str | None, engine: str, seed: int | None) -> None:
    """Evaluate PROFILE and print the advisory briefing."""
    on = parse_date(as_of)
    worker = None
    if fmt in ("html", "pdf", "all"):
        # charts are drawn by a second process, which loads matplotlib now
        from advisor.report.chartworker import ChartWorker

        worker = ChartWorker()
    try:
        _evaluate(profile, rules_dir, catalog_dir, templates_dir, fmt, output, page_size,
                  neutral, on, engine, seed, worker)
    finally:
        if worker is not None:
            worker.close()


def _evaluate(profile: str, rules_dir: str | None, catalog_dir: str | None,
              templates_dir: str | None, fmt: str, output: str | None, page_size: str | None,
              neutral: bool, on: dt.date, engine: str, seed: int | None, worker: Any) -> None:
    from advisor.decision import evaluate as run
    from advisor.profile import load_profile
    from advisor.workspace import load_workspace

    loaded = load_profile(profile)
    ws = load_workspace(rules_dir, catalog_dir, templates_dir)
    decision = run(loaded.profile, ws.ruleset, ws.options, ws.jurisdictions, on=on,
                   profile_sha256=loaded.sha256, engine=engine,
                   rules_display_dir=ws.rules_display)
    if decision.any_usable:
        from advisor.costing import load_cost_catalog, rank_decision

        extra = {} if seed is None else {"seed": seed}
        decision = rank_decision(decision, loaded.profile, load_cost_catalog(catalog_dir), ws.options,
                                 jurisdictions=ws.jurisdictions, **extra)
    from advisor.report.output import default_page_size, emit

    emit(decision, fmt=fmt, output=output, templates_dir=ws.templates_dir,
         catalog_dir=ws.catalog_dir, neutral=neutral,
         page_size=page_size or default_page_size(loaded.profile.organisation.hq_country),
         drawer=worker.draw if worker is not None else None)
    sys.exit(EXIT_OK if decision.any_usable else EXIT_NONE_USABLE)


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path())
@rules_option
@catalog_option
@guarded
def validate(files: tuple[str, ...], rules_dir: str | None, catalog_dir: str | None) -> None:
    """Check profiles, rule files or rule folders; report every error."""
    from advisor.validate import validate_paths

    problems, checked = validate_paths(list(files), rules_dir, catalog_dir)
    for line in checked:
        click.echo(line)
    if problems:
        raise InputError(problems)


@main.command()
@click.argument("which", type=click.Choice(["profile", "decision"]))
@guarded
def schema(which: str) -> None:
    """Print the JSON Schema of a profile or of the JSON decision output."""
    import json

    if which == "profile":
        from advisor.profile import Profile as model
    else:
        from advisor.decision import Decision as model  # type: ignore[assignment]
    data = model.model_json_schema()
    data["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    click.echo(json.dumps(data, indent=2, sort_keys=True))


@main.group()
def rules() -> None:
    """List, explain and test the rule library."""


@rules.command("list")
@rules_option
@catalog_option
@click.option("--regime", default=None, help="Only rules whose regime contains this text.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@guarded
def rules_list(rules_dir: str | None, catalog_dir: str | None, regime: str | None,
               fmt: str) -> None:
    """List the rules, grouped by regime, with counts."""
    from advisor.rulecli import list_rules

    click.echo(list_rules(rules_dir, catalog_dir, regime, fmt), nl=False)


@rules.command("explain")
@click.argument("rule_id")
@rules_option
@catalog_option
@guarded
def rules_explain(rule_id: str, rules_dir: str | None, catalog_dir: str | None) -> None:
    """Show one rule: where it lives, its condition, effects, controls and tests."""
    from advisor.rulecli import explain_rule

    click.echo(explain_rule(rule_id, rules_dir, catalog_dir), nl=False)


@rules.command("test")
@click.argument("directory", required=False, type=click.Path())
@catalog_option
@click.option("--rule", "only", default=None, help="Only this rule's cases.")
@click.option("-v", "--verbose", is_flag=True, help="List passing cases too.")
@guarded
def rules_test(directory: str | None, catalog_dir: str | None, only: str | None,
               verbose: bool) -> None:
    """Run every rule's own test cases (exit 1 if any fails)."""
    from advisor.rulecli import test_rules

    text, ok = test_rules(directory, catalog_dir, only, verbose)
    click.echo(text, nl=False)
    if not ok:
        sys.exit(EXIT_NONE_USABLE)


@rules.command("docs")
@rules_option
@catalog_option
@click.option("-o", "--output", type=click.Path(), default="docs/rules.md", show_default=True,
              help="Where to write the Markdown reference ('-' for standard output).")
@guarded
def rules_docs(rules_dir: str | None, catalog_dir: str | None, output: str) -> None:
    """Write the Markdown reference of all rules, grouped by regime."""
    from advisor.ruledocs import write_rules_docs

    text = write_rules_docs(rules_dir, catalog_dir, None if output == "-" else output)
    if output == "-":
        click.echo(text, nl=False)
    else:
        click.echo(f"wrote {output}", err=True)


# Commands that live in their own modules (advisor/commands/), registered here
# explicitly rather than by import side effects.
from advisor.commands.size import size  # noqa: E402

main.add_command(size)
