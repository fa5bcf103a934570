"""Safe YAML for files that non-programmers edit.

PyYAML's safe loader is close, but three of its habits bite compliance
officers: duplicate keys silently overwrite each other, ``NO`` (Norway) or
``on`` become booleans, and ``2025-08-02`` becomes a date object. It also
expands aliases, which turns a few hundred bytes into gigabytes (the "billion
laughs" alias bomb). This loader:

* keeps only ``true``/``false`` as booleans (YAML 1.2 core schema),
* leaves dates as strings (models parse them explicitly),
* rejects duplicate keys, anchors/aliases, non-scalar keys and oversized files,
* records the line and column of every value, keyed by its path, so later
  validation errors can point at the exact place in the file.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from advisor.errors import InputError, Problem

#: Largest file advisor reads. Profiles are a few KB and the whole rule
#: library is well under 1 MB; anything bigger is a mistake or an attack.
MAX_BYTES = 2 * 1024 * 1024

PathKey = tuple[str | int, ...]


# libyaml's C parser when PyYAML was built with it (several times faster on
# the rule library); the pure-Python parser otherwise.
_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[misc, valid-type]
    """Safe loader with YAML 1.2 booleans and no implicit timestamps. Aliases
    are detected after composing (an alias is a node reached twice)."""


class _AliasFound(Exception):
    def __init__(self, mark: Any) -> None:
        self.mark = mark


# Rebuild the implicit resolvers: drop YAML 1.1 booleans and timestamps.
_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers
            if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


@dataclass
class Document:
    """Parsed YAML plus where each value came from."""

    file: str
    data: Any
    positions: dict[PathKey, tuple[int, int]] = field(default_factory=dict)

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


def _construct(loader: _Loader, node: yaml.Node, path: PathKey, doc: Document,
               problems: list[Problem], seen: set[int]) -> Any:
    if id(node) in seen:  # the same node reached twice: an alias (the tree keeps
        raise _AliasFound(node.start_mark)  # every node alive, so ids are unique)
    seen.add(id(node))
    doc.positions[path] = _mark(node)
    if isinstance(node, yaml.MappingNode):
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
            key = loader.construct_object(key_node)
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                key = str(key_node.value)
            if key in result:
                first = doc.positions.get(path + (key, "<key>"))
                where = f" (first defined on line {first[0]})" if first else ""
                problems.append(Problem(doc.file, *_mark(key_node),
                                        f"duplicate key '{key}'{where}",
                                        "each key may appear only once in a mapping"))
                continue
            doc.positions[path + (key, "<key>")] = _mark(key_node)
            result[key] = _construct(loader, value_node, path + (key,), doc, problems, seen)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_construct(loader, child, path + (i,), doc, problems, seen)
                for i, child in enumerate(node.value)]
    return loader.construct_object(node, deep=True)


def load_text(text: str, file: str) -> Document:
    """Parse YAML text; raise :class:`InputError` listing every problem."""
    doc = Document(file=file, data=None)
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
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        col = mark.column + 1 if mark else None
        message = (exc.problem or "invalid YAML").strip()
        if exc.context:
            message = f"{exc.context.strip()}: {message}"
        raise InputError([Problem(file, line, col, f"invalid YAML: {message}")])
    except yaml.YAMLError as exc:
        raise InputError([Problem(file, None, None, f"invalid YAML: {exc}")])
    finally:
        loader.dispose()
    if problems:
        raise InputError(sorted(problems, key=lambda p: (p.line or 0, p.column or 0)))
    return doc


def load_file(path: str | os.PathLike[str], *, what: str = "file") -> Document:
    """Read and parse one YAML file, with clear errors for the usual mistakes
    (missing, a directory, unreadable, too large, not UTF-8, empty)."""
    p = Path(path)
    name = str(path)
    if not p.exists():
        raise InputError.single(name, f"{what} not found")
    if p.is_dir():
        raise InputError.single(name, f"is a directory, expected a YAML {what}")
    try:
        size = p.stat().st_size
        if size > MAX_BYTES:
            raise InputError.single(
                name, f"{what} is {size:,} bytes, larger than the {MAX_BYTES:,}-byte limit",
                hint="advisor files are small; check that this is the right file")
        raw = p.read_bytes()
    except OSError as exc:
        raise InputError.single(name, f"cannot read {what}: {exc.strerror or exc}")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError.single(name, f"{what} is not UTF-8 text (byte {exc.start})")
    doc = load_text(text, name)
    if doc.data is None:
        raise InputError.single(name, f"{what} is empty", hint="expected a YAML mapping")
    return doc
