"""``advisor migrate``: rewrite a schema-version-1 profile as version 2."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import click

from advisor.cli.common import guarded


@click.command(short_help="Rewrite a version-1 profile as schema_version 2.")
@click.argument("profile", type=click.Path(dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Write the version-2 profile here (default: standard output). "
                   "Never the input file itself.")
@guarded
def migrate(profile: str, output: Optional[str]) -> None:
    """Rewrite a version-1 profile as schema_version 2 (sovereignty as a mapping
    relative to home), keeping its comments; the result is validated."""
    from advisor.errors import InputError
    from advisor.profile.migrate import migrate_text
    from advisor.yamlload import load_file

    doc = load_file(profile, what="profile")  # size limits and regular-file checks
    text = Path(profile).read_text(encoding="utf-8")
    out, changes = migrate_text(text, str(profile))
    del doc
    for line in changes or ["already schema_version 2: nothing to change"]:
        click.echo(f"{profile}: {line}", err=True)
    if output is None:
        sys.stdout.write(out)
        return
    if Path(output).resolve() == Path(profile).resolve():
        raise InputError.single(output, "refusing to overwrite the input profile",
                                hint="write to another file and compare them first")
    tmp = Path(output).with_name(Path(output).name + ".tmp")
    tmp.write_text(out, encoding="utf-8")
    tmp.replace(output)
