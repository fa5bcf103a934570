"""The ``advisor`` command line: one click group, one module per command.

Exit codes and the error guard live in :mod:`advisor.cli.common`; each command
module registers nothing by itself: the group below adds them explicitly.
"""

from __future__ import annotations

import os
from typing import Any

# Pydantic looks for plugins in every installed distribution's entry points
# when it builds its first validator (tens of ms); none apply to this command
# line, and without them advisor.cache can reuse stored validators.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

import click  # noqa: E402

from advisor import __version__
from advisor.cli.common import (EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_NONE_USABLE, EXIT_OK,
                                guarded, interrupted)
from advisor.cli.diff import diff
from advisor.cli.evaluate import evaluate
from advisor.cli.portfolio import portfolio
from advisor.cli.impact import impact
from advisor.cli.migrate import migrate
from advisor.cli.rules import rules
from advisor.cli.schema import schema
from advisor.cli.size import size
from advisor.cli.validate import validate

__all__ = ["EXIT_BAD_INPUT", "EXIT_INTERNAL", "EXIT_NONE_USABLE", "EXIT_OK", "guarded", "main"]


class _Group(click.Group):
    """The command group; Ctrl-C anywhere exits 130 (click's default is 1,
    which advisor documents as "nothing viable")."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            interrupted()


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="advisor")
def main() -> None:
    """Compliance and deployment advisor for large language models.

    Evaluates an organisation profile against declarative rule files, keeps the
    deployment options that remain viable, and writes an advisory briefing.
    """


for _command in (evaluate, portfolio, validate, schema, rules, size, diff, migrate):
    main.add_command(_command)
rules.add_command(impact)
