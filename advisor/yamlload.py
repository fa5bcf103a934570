"""Safe YAML for files that non-programmers edit, and others may send.

PyYAML's safe loader is close, but its habits bite compliance officers and
let hostile files through: duplicate keys silently overwrite each other,
``NO`` (Norway) or ``on`` become booleans, ``2025-08-02`` becomes a date
object, ``1:20:00`` becomes 4800 (YAML 1.1 base 60) and ``0x4E20`` 20000; it
expands aliases, which turns a few hundred bytes into gigabytes (the "billion
laughs" alias bomb), and deeply nested text crashes its C composer. This
loader:

* resolves plain scalars by the YAML 1.2 core schema, narrowed: only
  ``true``/``false`` are booleans, only decimal digits are integers (no base
  60, no ``0x``/``0o``, no leading zeros, no ``_``), dates stay strings;
* refuses integers beyond +-2^53 (exact everywhere), infinite and NaN
  numbers, YAML tags other than ``!!str``, control characters (terminal
  escapes, bidirectional overrides) in text, overlong scalars and nesting
  deeper than :data:`MAX_DEPTH`;
* rejects duplicate keys, anchors/aliases, merge keys, non-scalar keys and
  oversized files (read once, bounded, by :func:`advisor.safeio.read_bounded`);
* records the line and column of every value, keyed by its path, so later
  validation errors can point at the exact place in the file.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from advisor.errors import InputError, Problem, shorten
from advisor.safeio import MAX_BYTES, read_bounded

__all__ = ["MAX_BYTES", "MAX_DEPTH", "MAX_SCALAR", "Document", "PathKey", "load_file",
           "load_text"]

#: Deepest nesting of mappings and lists accepted (advisor files need about 20).
MAX_DEPTH = 64
#: Longest text value or key, in characters (a rule's rationale is about 1,000).
MAX_SCALAR = 100_000
#: Integers must lie strictly within +-2^53: every JSON reader, and the rule
#: engine when it compares an integer with a decimal number, holds them exactly.
INT_LIMIT = 2 ** 53

PathKey = tuple[str | int, ...]

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"

#: C0 and C1 control characters except tab and line breaks, and the Unicode
#: bidirectional controls (which can make text display in another order).
CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
                           "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")

# libyaml's C parser when PyYAML was built with it (several times faster on
# the rule library); the pure-Python parser otherwise.
_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[misc, valid-type]
    """Safe loader with the narrowed YAML 1.2 core schema. Aliases are
    detected after composing (an alias is a node reached twice)."""


class _AliasFound(Exception):
    def __init__(self, mark: Any) -> None:
        self.mark = mark


class _TooDeep(Exception):
    def __init__(self, mark: Any) -> None:
        self.mark = mark


# The implicit resolvers, rebuilt from nothing: YAML 1.1's booleans (yes/no/
# on/off), timestamps, base-60, hex, octal and underscore integers are gone.
_Loader.yaml_implicit_resolvers = {}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""])
_Loader.add_implicit_resolver(
    _INT, re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$"), list("-+0123456789"))
_Loader.add_implicit_resolver(
    _FLOAT, re.compile(r"""^(?:[-+]?(?:\.[0-9]+|(?:0|[1-9][0-9]*)(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?
                          |[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$""", re.X),
    list("-+0123456789."))
_Loader.add_implicit_resolver("tag:yaml.org,2002:merge", re.compile(r"^(?:<<)$"), ["<"])


def _nesting_bound(text: str) -> int:
    """An upper bound of the nesting depth of ``text``, computed without
    parsing (libyaml's composer recurses in C and crashes on deep input).
    Block nesting needs indentation or indicators at the start of a line;
    flow nesting needs brackets (counted even inside quotes: an over-estimate)."""
    prefix = max((len(m) for m in re.findall(r"(?m)^[ \t?:-]+", text)), default=0)
    depth = deepest = 0
    for bracket in re.findall(r"[\[\]{}]", text):
        depth = depth + 1 if bracket in "[{" else max(depth - 1, 0)
        if depth > deepest:
            deepest = depth
            if deepest > _SAFE_COMPOSE_DEPTH:
                break
    return 2 * prefix + deepest + 1


#: Nesting libyaml composes safely (it crashed at 100,000 levels, not at 10,000).
_SAFE_COMPOSE_DEPTH = 5_000


@dataclass
class Document:
    """Parsed YAML plus where each value came from."""

    file: str
    data: Any
    positions: dict[PathKey, tuple[int, int]] = field(default_factory=dict)
    #: the bytes parsed (for provenance hashes: what was hashed is what was read)
    raw: bytes = b""

    def where(self, path: PathKey) -> tuple[int | None, int | None]:
        """Line and column (1-based) of the value at ``path``, or of its nearest
        ancestor that has a position."""
        path = tuple(path)
        while True:
            if path in self.positions:
                return self.positions[path]
            if not path:
                return (None, None)
            path = path[:-1]

    def key_where(self, path: PathKey) -> tuple[int | None, int | None]:
        """Position of a mapping *key* (recorded under path + ('<key>',))."""
        key_pos = self.positions.get(tuple(path) + ("<key>",))
        return key_pos if key_pos else self.where(path)

    def problem(self, path: PathKey, message: str, hint: str | None = None,
                key: bool = False) -> Problem:
        line, col = self.key_where(path) if key else self.where(path)
        return Problem(self.file, line, col, message, hint)


def _mark(node: yaml.Node) -> tuple[int, int]:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


def _scalar(loader: _Loader, node: yaml.Node, doc: Document,
            problems: list[Problem]) -> Any:
    """A scalar's value; problems for what advisor files never hold."""
    value = node.value
    # a plain scalar's style is None (pure-Python parser) or "" (libyaml)
    plain = not getattr(node, "style", None)
    implicit = loader.resolve(yaml.ScalarNode, value, (plain, not plain))
    if node.tag != implicit and node.tag != _STR:
        problems.append(Problem(doc.file, *_mark(node),
                                f"YAML tag '{shorten(node.tag)}' is not supported",
                                "remove the tag; advisor files hold plain text, numbers, "
                                "true/false, lists and mappings"))
        return value
    if node.tag == _INT:
        if len(value.lstrip("+-")) > 16 or abs(int(value)) >= INT_LIMIT:
            problems.append(Problem(doc.file, *_mark(node),
                                    f"integer {shorten(value, 24)} is out of range",
                                    "integers must lie between -(2^53-1) and 2^53-1"))
            return 0
        return int(value)
    if node.tag == _FLOAT:
        special = value.lstrip("+-").lower() in (".inf", ".nan")
        number = math.inf if special else float(value)
        if not math.isfinite(number):
            problems.append(Problem(doc.file, *_mark(node),
                                    f"'{shorten(value, 24)}' is not a finite number",
                                    "infinite and NaN values are not accepted"))
            return 0.0
        return number
    if node.tag == _STR:
        if len(value) > MAX_SCALAR:
            problems.append(Problem(doc.file, *_mark(node),
                                    f"text of {len(value):,} characters is longer than the "
                                    f"{MAX_SCALAR:,}-character limit"))
            return ""
        bad = CONTROL_CHARS.search(value)
        if bad:
            problems.append(Problem(doc.file, *_mark(node),
                                    f"text contains the control character U+{ord(bad.group()):04X}: "
                                    f"'{shorten(value)}'",
                                    "terminal escapes and bidirectional overrides are not accepted"))
            return ""
        return value
    return loader.construct_object(node, deep=True)


def _construct(loader: _Loader, node: yaml.Node, path: PathKey, doc: Document,
               problems: list[Problem], seen: set[int]) -> Any:
    if id(node) in seen:  # the same node reached twice: an alias (the tree keeps
        raise _AliasFound(node.start_mark)  # every node alive, so ids are unique)
    seen.add(id(node))
    if len(path) > MAX_DEPTH:
        raise _TooDeep(node.start_mark)
    doc.positions[path] = _mark(node)
    if isinstance(node, yaml.MappingNode):
        if node.tag != _MAP:
            problems.append(Problem(doc.file, *_mark(node),
                                    f"YAML tag '{shorten(node.tag)}' is not supported",
                                    "remove the tag; a mapping is written as plain 'key: value' lines"))
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                problems.append(Problem(doc.file, *_mark(key_node),
                                        "YAML merge keys ('<<') are not supported",
                                        "write the keys out in full"))
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                problems.append(Problem(doc.file, *_mark(key_node), "mapping keys must be plain text"))
                continue
            key = _scalar(loader, key_node, doc, problems)
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                key = str(key_node.value)
            if key in result:
                first = doc.positions.get(path + (key, "<key>"))
                where = f" (first defined on line {first[0]})" if first else ""
                problems.append(Problem(doc.file, *_mark(key_node),
                                        f"duplicate key '{shorten(str(key))}'{where}",
                                        "each key may appear only once in a mapping"))
                continue
            doc.positions[path + (key, "<key>")] = _mark(key_node)
            result[key] = _construct(loader, value_node, path + (key,), doc, problems, seen)
        return result
    if isinstance(node, yaml.SequenceNode):
        if node.tag != _SEQ:
            problems.append(Problem(doc.file, *_mark(node),
                                    f"YAML tag '{shorten(node.tag)}' is not supported",
                                    "remove the tag; a list is written as '- item' lines or [a, b]"))
        return [_construct(loader, child, path + (i,), doc, problems, seen)
                for i, child in enumerate(node.value)]
    return _scalar(loader, node, doc, problems)


def load_text(text: str, file: str) -> Document:
    """Parse YAML text; raise :class:`InputError` listing every problem."""
    doc = Document(file=file, data=None)
    if _nesting_bound(text) > _SAFE_COMPOSE_DEPTH:
        raise InputError.single(file, f"nested more than {MAX_DEPTH} levels deep",
                                hint="advisor files need a few levels of nesting")
    loader = _Loader(text)
    problems: list[Problem] = []
    try:
        node = loader.get_single_node()
        if node is not None:
            doc.data = _construct(loader, node, (), doc, problems, set())
    except _AliasFound as exc:
        raise InputError([Problem(file, exc.mark.line + 1, exc.mark.column + 1,
                                  "this value is reused through a YAML alias ('&name' ... '*name'), "
                                  "which advisor files do not allow",
                                  "repeat the value instead; aliases can expand without bound")])
    except _TooDeep as exc:
        raise InputError([Problem(file, exc.mark.line + 1, exc.mark.column + 1,
                                  f"nested more than {MAX_DEPTH} levels deep",
                                  "advisor files need a few levels of nesting")])
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        col = mark.column + 1 if mark else None
        message = (exc.problem or "invalid YAML").strip()
        if exc.context:
            message = f"{exc.context.strip()}: {message}"
        raise InputError([Problem(file, line, col, f"invalid YAML: {message}")])
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow in a file
        before = text[:exc.position]
        line, col = before.count("\n") + 1, exc.position - (before.rfind("\n") + 1) + 1
        char = ord(exc.character) if isinstance(exc.character, str) else int(exc.character)
        raise InputError([Problem(file, line, col,
                                  f"invalid YAML: character U+{char:04X} is not allowed "
                                  "in a YAML file",
                                  "control characters are not accepted")])
    except yaml.YAMLError as exc:
        raise InputError([Problem(file, None, None, f"invalid YAML: {exc}")])
    finally:
        loader.dispose()
    if problems:
        raise InputError(sorted(problems, key=lambda p: (p.line or 0, p.column or 0)))
    return doc


def load_file(path: str | os.PathLike[str], *, what: str = "file") -> Document:
    """Read (once, bounded) and parse one YAML file, with clear errors for the
    usual mistakes (missing, a directory or device, unreadable, too large, not
    UTF-8, empty)."""
    name = str(path)
    raw = read_bounded(path, what=what)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError.single(name, f"{what} is not UTF-8 text (byte {exc.start})")
    doc = load_text(text, name)
    doc.raw = raw
    if doc.data is None:
        raise InputError.single(name, f"{what} is empty", hint="expected a YAML mapping")
    return doc
