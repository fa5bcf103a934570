"""The condition language of rule files: parsing, checking, and the AST.

A condition is YAML a compliance officer can read::

    all:
      - data.categories: {contains_any: [special_category_art9, phi]}
      - data.classification_level: {at_least: restricted_gov}
      - not: {organisation.flags: {contains: law_firm_or_legal_dept}}
      - sovereignty: immunity_from_non_eu_law      # shorthand for eq

Combinators: ``all`` / ``any`` (a non-empty list) and ``not`` (one condition).
A leaf is one field with one operator. The operators are a fixed registry
(:data:`OPERATORS`); an unknown field, operator or value is a load-time error
that points at the line, with a did-you-mean hint.

Both evaluators (durable-rules in production, the pure-Python reference used
by the tests) read this AST, never the raw YAML.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Union

from advisor.countries import check_code
from advisor.errors import Problem, did_you_mean, one_of
from advisor.rules.fields import LIST_KINDS, FieldRegistry, FieldSpec
from advisor.yamlload import Document, PathKey


@dataclass(frozen=True)
class Operator:
    name: str
    kinds: frozenset[str]
    operand: str  # "scalar" | "list" | "bool"
    doc: str
    canonical: str = ""  # aliases name the operator they stand for

    @property
    def op(self) -> str:
        return self.canonical or self.name


_SCALARS = frozenset({"text", "country", "bool", "number", "enum", "ordinal"})
_CHOICE = frozenset({"text", "country", "enum", "ordinal"})
_ORDERED = frozenset({"number", "ordinal"})
_ALL = _SCALARS | LIST_KINDS

#: The operator registry: the only operators a rule may use.
OPERATORS: dict[str, Operator] = {o.name: o for o in (
    Operator("eq", _SCALARS, "scalar", "equals"),
    Operator("ne", _SCALARS, "scalar", "differs from (also true when the field is absent)"),
    Operator("in", _CHOICE, "list", "is one of"),
    Operator("not_in", _CHOICE, "list", "is none of (also true when absent)"),
    Operator("lt", _ORDERED, "scalar", "is less than (ordinal fields: less sensitive than)"),
    Operator("lte", _ORDERED, "scalar", "is at most"),
    Operator("gt", _ORDERED, "scalar", "is greater than"),
    Operator("gte", _ORDERED, "scalar", "is at least"),
    Operator("at_least", _ORDERED, "scalar", "is at least (same as gte)", "gte"),
    Operator("at_most", _ORDERED, "scalar", "is at most (same as lte)", "lte"),
    Operator("contains", LIST_KINDS, "scalar", "list contains the value"),
    Operator("contains_any", LIST_KINDS, "list", "list contains at least one of the values"),
    Operator("contains_all", LIST_KINDS, "list", "list contains every one of the values"),
    Operator("contains_none", LIST_KINDS, "list", "list contains none of the values"),
    Operator("exists", _ALL, "bool", "the field has a value (true) or has none (false)"),
)}

COMBINATORS = ("all", "any", "not")

#: How explanations word each operator.
_PHRASES = {
    "eq": "is", "ne": "is not", "in": "is one of", "not_in": "is none of",
    "lt": "is below", "lte": "is at most", "gt": "is above", "gte": "is at least",
    "at_least": "is at least", "at_most": "is at most", "contains": "contains",
    "contains_any": "contains any of", "contains_all": "contains all of",
    "contains_none": "contains none of",
}


@dataclass(frozen=True)
class Leaf:
    field: FieldSpec
    op: str  # canonical operator name
    value: Any  # scalar, tuple of scalars, or bool for exists
    written: str  # the operator as written (for explanations)
    path: PathKey = ()

    def describe(self) -> str:
        """The condition in words, e.g. 'data.categories contains any of phi, sud_part2'."""
        def text(v: Any) -> str:
            return ("true" if v else "false") if isinstance(v, bool) else str(v)

        name = self.field.name
        if isinstance(self.value, tuple):
            shown = ", ".join(text(v) for v in self.value)
        else:
            shown = text(self.value)
        if self.written == "exists":
            return f"{name} is given" if self.value else f"{name} is not given"
        phrase = _PHRASES.get(self.written, self.written.replace("_", " "))
        return f"{name} {phrase} {shown}"


@dataclass(frozen=True)
class All:
    children: tuple["Node", ...]
    path: PathKey = ()


@dataclass(frozen=True)
class Any_:
    children: tuple["Node", ...]
    path: PathKey = ()


@dataclass(frozen=True)
class Not:
    child: "Node"
    path: PathKey = ()


Node = Union[Leaf, All, Any_, Not]


def leaves(node: Node) -> list[Leaf]:
    if isinstance(node, Leaf):
        return [node]
    if isinstance(node, Not):
        return leaves(node.child)
    return [leaf for child in node.children for leaf in leaves(child)]


class ConditionParser:
    """Parses and checks conditions, collecting every problem."""

    def __init__(self, registry: FieldRegistry, doc: Document,
                 allowed_prefixes: tuple[str, ...] | None = None,
                 forbidden_prefixes: tuple[str, ...] | None = None) -> None:
        self.registry = registry
        self.doc = doc
        self.problems: list[Problem] = []
        self.allowed_prefixes = allowed_prefixes
        self.forbidden_prefixes = forbidden_prefixes

    def _problem(self, path: PathKey, message: str, hint: str | None = None,
                 key: bool = False) -> None:
        self.problems.append(self.doc.problem(path, message, hint, key=key))

    def parse(self, raw: Any, path: PathKey) -> Node | None:
        if not isinstance(raw, dict):
            self._problem(path, "a condition must be a mapping such as "
                                "'data.categories: {contains: phi}' or 'all: [...]'")
            return None
        if len(raw) != 1:
            keys = ", ".join(str(k) for k in raw)
            self._problem(path, f"one condition per mapping, found {len(raw)} keys ({keys})",
                          "combine conditions with 'all:' or 'any:' and a list")
            return None
        (key, value), = raw.items()
        key = str(key)
        if key in ("all", "any"):
            if not isinstance(value, list) or not value:
                self._problem(path + (key,), f"'{key}' needs a non-empty list of conditions")
                return None
            children = [self.parse(c, path + (key, i)) for i, c in enumerate(value)]
            if any(c is None for c in children):
                return None
            cls = All if key == "all" else Any_
            return cls(tuple(c for c in children if c is not None), path)
        if key == "not":
            child = self.parse(value, path + (key,))
            return None if child is None else Not(child, path)
        return self._leaf(key, value, path)

    def _leaf(self, name: str, raw: Any, path: PathKey) -> Leaf | None:
        spec = self.registry.lookup(name)
        if spec is None:
            hint = did_you_mean(name, list(self.registry.names()) + list(COMBINATORS))
            self._problem(path + (name,), f"unknown field '{name}'",
                          hint or "see docs/rules-format.md for the fields rules can test",
                          key=True)
            return None
        if self.allowed_prefixes and not name.startswith(self.allowed_prefixes):
            self._problem(path + (name,),
                          f"field '{name}' cannot be used here",
                          "an effect's 'where' tests option attributes (option.*) only", key=True)
            return None
        if self.forbidden_prefixes and name.startswith(self.forbidden_prefixes):
            self._problem(path + (name,), f"field '{name}' cannot be used here",
                          "a rule's 'when' describes the organisation; test option "
                          "attributes in an effect's 'where'", key=True)
            return None
        vpath = path + (name,)
        if isinstance(raw, dict):
            if len(raw) != 1:
                self._problem(vpath, f"'{name}' needs exactly one operator, found {len(raw)}",
                              "use 'all:' to combine several tests of one field")
                return None
            (written, operand), = raw.items()
            written = str(written)
            vpath = vpath + (written,)
        else:
            if spec.kind in LIST_KINDS:
                self._problem(vpath, f"'{name}' is a list; say how to test it",
                              "use contains, contains_any, contains_all or contains_none")
                return None
            written, operand = "eq", raw
        op = OPERATORS.get(written)
        if op is None:
            self._problem(path + (name,), f"unknown operator '{written}'",
                          did_you_mean(written, OPERATORS) or one_of(list(OPERATORS)))
            return None
        if spec.kind not in op.kinds:
            usable = [o for o, d in OPERATORS.items() if spec.kind in d.kinds]
            self._problem(vpath, f"operator '{written}' does not apply to {spec.kind} field "
                                 f"'{name}'", "use one of: " + ", ".join(usable))
            return None
        value = self._operand(spec, op, operand, vpath)
        if value is _BAD:
            return None
        if op.name == "exists" and not spec.optional and spec.kind not in LIST_KINDS:
            self._problem(vpath, f"'{name}' always has a value; 'exists' cannot be false",
                          "test its value instead")
            return None
        return Leaf(spec, op.op, value, written, vpath)

    def _operand(self, spec: FieldSpec, op: Operator, operand: Any, path: PathKey) -> Any:
        if op.operand == "bool":
            if not isinstance(operand, bool):
                self._problem(path, f"'{op.name}' takes true or false, got {operand!r}")
                return _BAD
            return operand
        if op.operand == "list":
            if not isinstance(operand, list) or not operand:
                self._problem(path, f"'{op.name}' takes a non-empty list, got {operand!r}")
                return _BAD
            values = [self._value(spec, v, path + (i,)) for i, v in enumerate(operand)]
            if any(v is _BAD for v in values):
                return _BAD
            return tuple(values)
        if isinstance(operand, list):
            self._problem(path, f"'{op.name}' takes a single value, got a list",
                          "use 'in' or 'contains_any' for several values")
            return _BAD
        return self._value(spec, operand, path)

    def _value(self, spec: FieldSpec, value: Any, path: PathKey) -> Any:
        kind = spec.kind
        if kind == "bool":
            if isinstance(value, bool):
                return value
            self._problem(path, f"'{spec.name}' is true or false, got {value!r}")
            return _BAD
        if kind == "number":
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return value
            self._problem(path, f"'{spec.name}' is a number, got {value!r}")
            return _BAD
        if not isinstance(value, str):
            self._problem(path, f"'{spec.name}' takes text values, got {value!r}")
            return _BAD
        if kind in ("country", "country_list"):
            try:
                return check_code(value, allow_bloc=spec.allow_bloc)
            except ValueError as exc:
                self._problem(path, str(exc))
                return _BAD
        if spec.values and value not in spec.values:
            self._problem(path, f"'{value}' is not a value of '{spec.name}'",
                          did_you_mean(value, spec.values) or one_of(list(spec.values)))
            return _BAD
        return value


class _Bad:
    def __repr__(self) -> str:
        return "<invalid>"


_BAD = _Bad()
