"""The reference evaluator: the condition language in plain Python.

It defines what a condition *means*. The tests run it beside the durable-rules
adapter on thousands of generated profiles and require identical findings;
production uses it only to explain which leaves of a fired rule matched.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from advisor.rules.conditions import All, Any_, Leaf, Node, Not
from advisor.rules.fields import LIST_KINDS

_MISSING = object()


def _leaf(leaf: Leaf, fact: dict[str, Any]) -> bool:
    spec, op, want = leaf.field, leaf.op, leaf.value
    value = fact.get(spec.key, _MISSING)
    present = value is not _MISSING
    if op == "exists":
        if spec.kind in LIST_KINDS:
            return (present and len(value) > 0) == want
        return present == want
    if op == "ne":
        return not present or value != want
    if op == "not_in":
        return not present or value not in want
    if not present:
        return False
    if op == "eq":
        return bool(value == want)
    if op == "in":
        return value in want
    if op in ("lt", "lte", "gt", "gte"):
        if spec.kind == "ordinal":
            value, want = fact[spec.rank_key], spec.rank(want)
        if op == "lt":
            return bool(value < want)
        if op == "lte":
            return bool(value <= want)
        if op == "gt":
            return bool(value > want)
        return bool(value >= want)
    if op == "contains":
        return want in value
    if op == "contains_any":
        return any(w in value for w in want)
    if op == "contains_all":
        return all(w in value for w in want)
    if op == "contains_none":
        return not any(w in value for w in want)
    raise ValueError(f"unknown operator {op!r}")  # unreachable: the parser checks


def holds(node: Node, fact: dict[str, Any]) -> bool:
    if isinstance(node, Leaf):
        return _leaf(node, fact)
    if isinstance(node, All):
        return all(holds(c, fact) for c in node.children)
    if isinstance(node, Any_):
        return any(holds(c, fact) for c in node.children)
    if isinstance(node, Not):
        return not holds(node.child, fact)
    raise TypeError(f"not a condition node: {node!r}")


@dataclass(frozen=True)
class Match:
    """One leaf that made a rule fire, with the value the profile actually had."""

    condition: str
    field: str
    actual: Any


def actual_value(leaf: Leaf, fact: dict[str, Any]) -> Any:
    return fact.get(leaf.field.key)


def explain(node: Node, fact: dict[str, Any], negated: bool = False) -> list[Match]:
    """The leaves that make ``node`` hold (or, under ``not``, fail) for ``fact``."""
    if isinstance(node, Leaf):
        text = node.describe()
        return [Match(f"not ({text})" if negated else text, node.field.name,
                      actual_value(node, fact))]
    if isinstance(node, Not):
        return explain(node.child, fact, not negated)
    children = node.children
    conjunctive = isinstance(node, All) != negated  # not(any) behaves like all(not)
    if conjunctive:
        return [m for c in children for m in explain(c, fact, negated)]
    decisive = [c for c in children if holds(c, fact) != negated]
    return [m for c in decisive for m in explain(c, fact, negated)]
