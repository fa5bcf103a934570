"""``advisor portfolio``: many profiles, one decision each, and a summary."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from advisor.cli.common import catalog_option, guarded, parse_date, rules_option

if TYPE_CHECKING:
    from advisor.workspace import RulesChoice


@click.command()
@click.argument("profiles", nargs=-1, required=True, type=click.Path())
@click.option("-o", "--output", type=click.Path(), required=True,
              help="Folder to write into: decisions/NAME.json per profile, and "
                   "summary.csv, summary.md and summary.json.")
@rules_option
@catalog_option
@click.option("--as-of", "as_of", default=None, metavar="YYYY-MM-DD",
              help="Evaluate the law as in force on this date (default: today).")
@click.option("--seed", type=int, default=None,
              help="Seed of the cost Monte Carlo (default: a fixed seed, so runs repeat).")
@click.option("-j", "--jobs", type=click.IntRange(min=0), default=0, show_default=True,
              help="Worker processes (0: one per core; 1: no extra process).")
@guarded
def portfolio(profiles: tuple[str, ...], output: str, rules_dir: "RulesChoice | None",
              catalog_dir: str | None, as_of: str | None, seed: int | None, jobs: int) -> None:
    """Evaluate many PROFILES (files or folders of profiles) at once.

    Writes each profile's decision as JSON (the same as `advisor evaluate
    --format json`) and a summary with one row per profile: the recommended
    option, its NPV, and every option's status. A profile that cannot
    be evaluated is reported and the others go on. The exit code is the worst
    of the profiles': 0 each has a usable option, 1 some has none, 2 some
    profile is bad input, 3 some evaluation failed.
    """
    from advisor import portfolio as pf
    from advisor.cli.impact import profile_files
    from advisor.errors import InputError

    on = parse_date(as_of)
    folder = Path(output)
    if folder.exists() and not folder.is_dir():
        raise InputError.single(output, "exists and is not a folder")
    if not folder.parent.exists():
        raise InputError.single(output, f"folder {folder.parent} does not exist")
    paths = profile_files(profiles)
    settings = pf.Settings(folder, on, rules_dir, catalog_dir, seed)
    tty = sys.stderr.isatty()

    def progress(done: int, total: int) -> None:
        if tty:
            click.echo(f"\r{done}/{total} profiles", err=True, nl=done == total)

    outcomes = pf.run(paths, settings, jobs=jobs, progress=progress)
    pf.write_summary(outcomes, settings)
    for o in outcomes:
        for line in o.error.splitlines():
            click.echo(line if line.startswith("error") else f"error: {line}", err=True)
    counts = {code: sum(1 for o in outcomes if o.exit_code == code) for code in range(4)}
    click.echo(f"{len(outcomes)} profiles: {counts[0]} with a usable option, {counts[1]} with "
               f"none, {counts[2]} bad input, {counts[3]} failed; wrote {folder}/summary.csv, "
               f"summary.md, summary.json and {pf.DECISIONS}/", err=True)
    sys.exit(pf.worst(outcomes))
