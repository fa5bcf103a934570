"""``advisor diff``: what changed between two saved decisions."""

from __future__ import annotations

import sys

import click

from advisor.cli.common import EXIT_NONE_USABLE, guarded


@click.command("diff", short_help="Compare two saved decisions.")
@click.argument("old", type=click.Path())
@click.argument("new", type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text",
              show_default=True, help="Markdown suits a pull request or a ticket.")
@click.option("--threshold", type=click.FloatRange(min=0), default=None, metavar="PERCENT",
              help="Report a cost change only from this share of the old figure "
                   "(default: 5).")
@click.option("--exit-code", is_flag=True,
              help="Exit 1 when the decisions differ (for scripts and CI).")
@guarded
def diff(old: str, new: str, fmt: str, threshold: float | None, exit_code: bool) -> None:
    """Compare two decisions written with 'advisor evaluate --format json'.

    Lists status changes per option, findings added, removed or changed (with
    their rule ids), rank changes, cost changes beyond the threshold, and
    changes to the recommendation, the controls and the upcoming obligations.
    """
    from advisor.compare import (DEFAULT_THRESHOLD_PCT, compare, load_decision,
                                 render_markdown, render_text)
    from advisor.errors import collect

    decisions = collect(load_decision, (old, new))
    result = compare(decisions[0], decisions[1], old_source=old, new_source=new,
                     threshold_pct=DEFAULT_THRESHOLD_PCT if threshold is None else threshold)
    if fmt == "json":
        click.echo(result.model_dump_json(indent=2))
    else:
        click.echo(render_markdown(result) if fmt == "markdown" else render_text(result), nl=False)
    if exit_code and result.changed:
        sys.exit(EXIT_NONE_USABLE)
