"""Errors that reach the user.

Every problem a user can fix (bad profile, bad rule file, bad catalog entry,
bad option on the command line) is a :class:`Problem` with a location, so the
CLI can print ``file:line:col: message (hint)`` and exit 2. Loaders collect all
problems of a file before raising one :class:`InputError`, so a compliance
officer sees every mistake at once rather than one per run.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence, TypeVar

_T = TypeVar("_T")
_R = TypeVar("_R")

#: Characters that must never reach a terminal raw: C0/C1 controls (escape
#: sequences) and Unicode bidirectional controls (which reorder what is shown).
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f"
                          "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def escape_controls(text: str) -> str:
    """``text`` with control and bidi characters written as escapes (\\x1b, \\u202e)."""
    def esc(m: re.Match[str]) -> str:
        code = ord(m.group())
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return _UNPRINTABLE.sub(esc, text)


def shorten(value: object, limit: int = 40) -> str:
    """A value for a message: escaped, and cut to ``limit`` characters."""
    text = escape_controls(str(value))
    return text if len(text) <= limit else text[:limit] + "..."


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with one input, with where it is."""

    file: str
    line: int | None = None
    column: int | None = None
    message: str = ""
    hint: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        text = f"{where}: {self.message}"
        if self.hint:
            text += f" ({self.hint})"
        return escape_controls(text).replace("\n", "\\n")  # one problem, one line


class AdvisorError(Exception):
    """Base class of every error advisor raises on purpose."""

    exit_code = 2


@dataclass
class InputError(AdvisorError):
    """One or more problems with user-supplied input (exit code 2)."""

    problems: list[Problem] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(self.__str__())

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)

    @classmethod
    def single(cls, file: str, message: str, line: int | None = None,
               column: int | None = None, hint: str | None = None) -> "InputError":
        return cls([Problem(file, line, column, message, hint)])


class EvaluationError(AdvisorError):
    """The evaluation itself failed (a rule could not be evaluated, the engine
    misbehaved). advisor fails closed: this is never turned into "viable".
    Exit code 3 tells scripts that this is not their input's fault."""

    exit_code = 3


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """A "did you mean ...?" hint for a misspelt name, or None."""
    matches = difflib.get_close_matches(str(word), sorted(set(candidates)), n=3, cutoff=0.6)
    if not matches:
        return None
    if len(matches) == 1:
        return f"did you mean '{matches[0]}'?"
    return "did you mean " + ", ".join(f"'{m}'" for m in matches[:-1]) + f" or '{matches[-1]}'?"


def one_of(candidates: Sequence[str], limit: int = 12) -> str:
    """A short "expected one of ..." list for hints."""
    shown = list(candidates)[:limit]
    more = "" if len(candidates) <= limit else f", ... ({len(candidates) - limit} more)"
    return "expected one of: " + ", ".join(shown) + more


def collect(load: Callable[[_T], _R], items: Iterable[_T]) -> list[_R]:
    """``load`` every item; if some fail, raise one InputError with every
    problem of every item (a user fixes all the files in one round)."""
    problems: list[Problem] = []
    out: list[_R] = []
    for item in items:
        try:
            out.append(load(item))
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    return out
