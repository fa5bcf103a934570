"""What every command shares: exit codes, the error guard, common options.

Exit codes (stable): 0 success; 1 evaluation done but no option is viable or
conditional; 2 bad input or usage; 3 the evaluation itself failed (a bug;
advisor fails closed rather than report a decision it cannot vouch for).
Command modules import from here, never from ``advisor.cli`` itself.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from typing import Any, Callable

import click

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


def rules_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--rules DIR`` (an overlay on the bundled library) and ``--rules-only
    DIR`` (a complete library), passed to the command as one ``rules_dir``
    (a :class:`~advisor.workspace.RulesChoice`, or None for the bundled one)."""
    import functools

    @click.option("--rules", "rules_overlay", type=click.Path(), default=None,
                  help="Folder of rule files laid over the bundled library: its files replace "
                       "the bundled files of the same name, its rules replace bundled rules "
                       "with the same id, and anything else is added.")
    @click.option("--rules-only", "rules_only", type=click.Path(), default=None,
                  help="Folder holding a complete rule library (with controls.yaml and "
                       "test-profile.yaml) used instead of the bundled one.")
    @functools.wraps(func)
    def wrapper(*args: Any, rules_overlay: str | None, rules_only: str | None,
                **kwargs: Any) -> Any:
        from advisor.workspace import RulesChoice

        if rules_overlay and rules_only:
            raise click.UsageError("give --rules (an overlay) or --rules-only (a whole "
                                   "library), not both")
        chosen = rules_only or rules_overlay
        kwargs["rules_dir"] = RulesChoice(chosen, only=bool(rules_only)) if chosen else None
        return func(*args, **kwargs)
    return wrapper


catalog_option = click.option("--catalog", "catalog_dir", type=click.Path(), default=None,
                              help="Folder of catalog files: options, prices, hardware "
                                   "(default: the bundled catalog).")
