"""Why a rule did or did not fire for a profile (``advisor rules why``).

The condition tree is walked with the reference evaluator (the definition of
what a condition means; the tests hold durable-rules to it), each leaf shown
with the profile's own value. When the rule stays silent, the leaves that
stopped it are listed; when it fires, each option's first matching effect
entry is named, exactly as an evaluation picks it.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from advisor.catalog.options import Jurisdictions, OptionCatalog
from advisor.engine.facts import build_facts
from advisor.engine.reference import actual_value, holds
from advisor.profile import Profile
from advisor.rules.conditions import All, Any_, Leaf, Node, Not
from advisor.rules.library import Rule

_MISSING = "(not given)"


def _shown(value: Any) -> str:
    if value is None:
        return _MISSING
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_shown(v) for v in value) + "]"
    return json.dumps(value) if not isinstance(value, str) else value


def _tree(node: Node, fact: dict[str, Any], depth: int, out: list[str]) -> None:
    mark = "yes" if holds(node, fact) else "no "
    pad = "  " * depth
    if isinstance(node, Leaf):
        out.append(f"{pad}[{mark}] {node.describe()}   (profile: {_shown(actual_value(node, fact))})")
    elif isinstance(node, Not):
        out.append(f"{pad}[{mark}] not:")
        _tree(node.child, fact, depth + 1, out)
    elif isinstance(node, (All, Any_)):
        out.append(f"{pad}[{mark}] {'all' if isinstance(node, All) else 'any'} of:")
        for child in node.children:
            _tree(child, fact, depth + 1, out)
    else:  # a node kind this explainer does not know: say so rather than guess
        out.append(f"{pad}[{mark}] {node!r}")


def blocking(node: Node, fact: dict[str, Any], want: bool = True) -> list[tuple[Leaf, bool]]:
    """The leaves that keep ``node`` from being ``want``, each with the truth
    value it would need (False under a ``not``)."""
    if holds(node, fact) == want:
        return []
    if isinstance(node, Leaf):
        return [(node, want)]
    if isinstance(node, Not):
        return blocking(node.child, fact, not want)
    if isinstance(node, (All, Any_)):
        # all needing True / any needing False: the children that disagree;
        # any needing True / all needing False: every child disagrees
        return [b for c in node.children for b in blocking(c, fact, want)]
    return []


@dataclass(frozen=True)
class Why:
    rule: Rule
    in_force: bool
    holds: bool
    effects: dict[str, tuple[str, int]]  # option id -> (effect, entry number from 1)
    text: str

    @property
    def fires(self) -> bool:
        return self.in_force and bool(self.effects)


def why(rule: Rule, profile: Profile, options: OptionCatalog, jurisdictions: Jurisdictions,
        on: dt.date) -> Why:
    facts = build_facts(profile, list(options.options), jurisdictions)
    fact = facts[0]  # rule conditions read profile fields only: the same in every fact
    s = rule.spec
    out = [f"{rule.id}: {s.title}", f"  defined at {rule.source}"]
    in_force = rule.in_force(on)
    if s.effective_from or s.effective_until:
        span = f"{s.effective_from or 'always'} to {s.effective_until or 'open'}"
        out.append(f"  in force {span}: {'yes' if in_force else 'no'} on {on}")
    condition = holds(rule.condition, fact)
    out.append("")
    out.append(f"Condition ({'holds' if condition else 'does not hold'} for this profile):")
    _tree(rule.condition, fact, 1, out)

    effects: dict[str, tuple[str, int]] = {}
    if condition:
        out.append("")
        out.append("Effects (the first matching entry for each option):")
        untouched = []
        for option_fact in facts:
            oid = option_fact["option__id"]
            sel = next((sel for sel in rule.selectors if holds(sel.match, option_fact)), None)
            if sel is None:
                untouched.append(oid)
                continue
            effects[oid] = (sel.effect, sel.index + 1)
            out.append(f"  {oid}: {sel.effect} (entry {sel.index + 1})")
        if untouched:
            out.append(f"  no entry selects: {', '.join(untouched)}")

    out.append("")
    if not condition:
        out.append("Result: the rule does not fire. What stopped it:")
        for leaf, needed in blocking(rule.condition, fact):
            test = leaf.describe() if needed else f"not ({leaf.describe()})"
            derived = (f" (derived: {leaf.field.doc})"
                       if leaf.field.name.startswith("derived.") and leaf.field.doc else "")
            out.append(f"  - needs {test}, but the profile has "
                       f"{_shown(actual_value(leaf, fact))}{derived}")
    elif not effects:
        out.append("Result: the condition holds, but no effect entry selects any option.")
    elif not in_force:
        out.append(f"Result: the condition holds, but the rule is not in force on {on}; "
                   "it would " + _summary(effects) + ".")
    else:
        out.append("Result: the rule fires: " + _summary(effects) + ".")
    return Why(rule, in_force, condition, effects, "\n".join(out) + "\n")


def _summary(effects: dict[str, tuple[str, int]]) -> str:
    by_effect: dict[str, list[str]] = {}
    for oid, (effect, _) in effects.items():
        by_effect.setdefault(effect, []).append(oid)
    return "; ".join(f"{effect} {', '.join(ids)}" for effect, ids in by_effect.items())
