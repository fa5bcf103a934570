"""``advisor rules impact``: which decisions an edit of the rule library changes."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from advisor.cli.common import EXIT_NONE_USABLE, catalog_option, guarded, parse_date, rules_option

if TYPE_CHECKING:
    from advisor.workspace import RulesChoice


def profile_files(paths: tuple[str, ...]) -> list[Path]:
    """The profiles named, a folder standing for the YAML files in it."""
    from advisor.errors import InputError

    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            inside = sorted(p.glob("*.yaml")) + sorted(p.glob("*.yml"))
            if not inside:
                raise InputError.single(str(p), "folder holds no YAML profiles")
            out += inside
        else:
            out.append(p)
    return out


@click.command("impact", short_help="List the decisions a rule edit changes.")
@click.argument("profiles", nargs=-1, required=True, type=click.Path())
@click.option("--baseline", "baseline_dir", type=click.Path(file_okay=False), default=None,
              help="The library before the edit, complete (e.g. a checkout of the main "
                   "branch's rules/). Default: the bundled library.")
@rules_option
@catalog_option
@click.option("--as-of", "as_of", default=None, metavar="YYYY-MM-DD",
              help="Evaluate both as of this date (default: today).")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text",
              show_default=True, help="Markdown suits a pull request.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write the report to this file instead of standard output.")
@click.option("--exit-code", is_flag=True, help="Exit 1 when some decision changes (for CI).")
@guarded
def impact(profiles: tuple[str, ...], baseline_dir: str | None, rules_dir: "RulesChoice | None",
           catalog_dir: str | None, as_of: str | None, fmt: str, output: str | None,
           exit_code: bool) -> None:
    """List every decision that changes between two rule libraries.

    PROFILES (files or folders of profiles) are evaluated under the baseline
    and under the edited library (--rules DIR laid over the bundled one, or
    --rules-only DIR); each decision that changes is listed with the options
    whose status or findings moved and the rules that moved them.
    """
    from advisor.errors import collect
    from advisor.profile import load_profile
    from advisor.rules.impact import render_json, render_markdown, render_text, rules_impact
    from advisor.workspace import RulesChoice, load_rules, load_workspace

    if baseline_dir is None and rules_dir is None:
        raise click.UsageError("nothing to compare: give the edited library with --rules DIR "
                               "(or --rules-only DIR), and/or --baseline DIR")
    on = parse_date(as_of)
    loaded = collect(load_profile, profile_files(profiles))
    ws = load_workspace(rules_dir, catalog_dir)
    if baseline_dir is None:
        baseline, baseline_name = load_rules(None, ws.options)
    else:
        baseline, baseline_name = load_rules(RulesChoice(baseline_dir, only=True), ws.options)
    result = rules_impact(loaded, baseline, ws.ruleset, ws.options, ws.jurisdictions, on=on,
                          baseline_name=baseline_name, edited_name=ws.rules_display)
    render = {"text": render_text, "markdown": render_markdown, "json": render_json}[fmt]
    text = render(result)
    if output:
        from advisor.report.output import write_output

        write_output(output, text.encode("utf-8"))
    else:
        click.echo(text, nl=False)
    if exit_code and result.changed:
        sys.exit(EXIT_NONE_USABLE)
