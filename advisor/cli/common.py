"""What every command shares: exit codes, the error guard, common options.

Exit codes (stable): 0 success; 1 evaluation done but no option is viable or
conditional; 2 bad input or usage; 3 the evaluation itself failed (a bug;
advisor fails closed rather than report a decision it cannot vouch for);
130 interrupted (Ctrl-C), with nothing half-written.
Command modules import from here, never from ``advisor.cli`` itself.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from typing import Any, Callable

import click

from advisor.errors import AdvisorError, InputError, escape_controls

EXIT_OK, EXIT_NONE_USABLE, EXIT_BAD_INPUT, EXIT_INTERNAL = 0, 1, 2, 3
#: Interrupted by Ctrl-C (128 + SIGINT, as shells report it).
EXIT_INTERRUPTED = 130
#: The range of --as-of: the law of another millennium is not in the library,
#: and dates near year 9999 overflow once a cost horizon is added.
EARLIEST_DATE, LATEST_DATE = dt.date(1900, 1, 1), dt.date(2199, 12, 31)


def _fail(error: AdvisorError) -> None:
    for line in str(error).splitlines():
        line = escape_controls(line)  # text from input files never reaches the terminal raw
        click.echo(f"error: {line}" if not line.startswith("error") else line, err=True)
    sys.exit(error.exit_code)


def interrupted() -> None:
    """Ctrl-C: say so and exit 130 (outputs are written atomically, so nothing
    is left half-written)."""
    click.echo("\nerror: interrupted", err=True)
    sys.exit(EXIT_INTERRUPTED)


class _TerminalText:
    """Standard output when it is a terminal: text is written with control and
    bidirectional characters escaped, so no file name, argument or value can
    send escape sequences to the terminal. Writers that colour their output
    (rich) write to :func:`raw_stdout` and escape their text themselves."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(escape_controls(text))
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _terminal_safe_stdout() -> Any:
    """The stdout to use for a command (see :class:`_TerminalText`)."""
    stream = sys.stdout
    try:
        if stream is not None and stream.isatty() and not isinstance(stream, _TerminalText):
            return _TerminalText(stream)
    except (AttributeError, ValueError):
        pass
    return stream


def raw_stdout() -> Any:
    """The terminal itself, for a writer that emits its own escape sequences
    (rich's colours) and escapes the text it is given."""
    stream = sys.stdout
    return stream._stream if isinstance(stream, _TerminalText) else stream  # noqa: SLF001


def guarded(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn advisor errors into one line per problem and an exit code; turn
    anything unexpected into a one-line internal error (ADVISOR_DEBUG=1 shows
    the traceback)."""
    import functools

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from advisor.safeio import reading_session

        previous = sys.stdout
        sys.stdout = _terminal_safe_stdout()
        try:
            with reading_session():  # inputs are read once; outputs never replace one
                return func(*args, **kwargs)
        except AdvisorError as exc:
            _fail(exc)
        except KeyboardInterrupt:
            interrupted()
        except (click.exceptions.Exit, click.ClickException, SystemExit):
            raise
        except Exception as exc:  # noqa: BLE001 - last line of defence, fail closed
            if os.environ.get("ADVISOR_DEBUG"):
                raise
            text = escape_controls(f"{type(exc).__name__}: {exc}").replace("\n", " ")
            click.echo(f"error: internal error: {text[:500]} "
                       "(this is a bug in advisor; rerun with ADVISOR_DEBUG=1 and report it)",
                       err=True)
            sys.exit(EXIT_INTERNAL)
        finally:
            sys.stdout = previous
    return wrapper


class FiniteFloat(click.ParamType):
    """A finite number within [low, high] (click's FloatRange lets nan and inf through)."""

    name = "number"

    def __init__(self, low: float, high: float) -> None:
        self.low, self.high = low, high

    def convert(self, value: Any, param: Any, ctx: Any) -> float:
        import math

        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)
        if not math.isfinite(number) or not self.low <= number <= self.high:
            self.fail(f"{value} is not a number from {self.low:g} to {self.high:g}", param, ctx)
        return number


def parse_date(value: str | None) -> dt.date:
    if value is None:
        return dt.date.today()
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise InputError.single("--as-of", f"'{value}' is not a date",
                                hint="use YYYY-MM-DD, e.g. 2026-11-30") from None
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise InputError.single("--as-of", f"{day} is outside the dates advisor evaluates",
                                hint=f"give a date from {EARLIEST_DATE} to {LATEST_DATE}")
    return day


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
