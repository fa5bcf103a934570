"""The durable-rules adapter: the only module that talks to durable-rules.

Each (rule, effect entry) becomes one durable-rules rule whose pattern is
``kind == option fact AND rule condition AND option selector``. An evaluation
asserts one fact per option, one fact at a time, in a fresh session id, reads
the rules that fired, then deletes the session.

It drives durable-rules' C engine (``durable_rules_engine``, the extension the
durable-rules package ships) directly rather than through ``durable.engine.Host``:
the Host wraps every firing in a closure that re-serialises the session state
(twice as slow here) and starts background threads (see below). The calls used
are the ones the Host itself makes: ``create_ruleset``, ``assert_fact``,
``start_action_for_state``, ``complete_and_start_action``, ``delete_state``.

The measured pitfalls this code avoids (../shared/reference/durable-rules-measured.md
and our own probes):

* facts, not events: an event is consumed by the first rule that matches it;
* one fact per assert: batch asserts with unmatched facts skip all actions;
* a fact that matches no rule is "not handled", and deleting that session
  afterwards crashed the interpreter (segfault). A *sentinel* rule
  (``kind == option fact``, an equality test, not a catch-all ``$nex``) matches
  every fact, so every session is valid and deletable, and its firing proves
  the fact reached the engine: no sentinel, no result (fail closed);
* ``durable.engine.Host()`` starts two timer threads that call into the C
  engine every 0.2 s without any lock; racing with our calls they made ruleset
  creation fail at random (error 102, about half of all runs). advisor uses no
  Host, so nothing runs in the background;
* the C engine has no locks: every call holds one process-wide lock;
* ``$iall`` is false on an empty list, so "contains none" also accepts
  ``length == 0``; durable-rules has no ``$in``, so membership is an ``$or``;
* the C engine walks matching alpha nodes with a fixed stack of 64 entries
  and fails with error 303 (ERR_MAX_STACK_SIZE) when too many rules match one
  fact at once (seen with 230 rules). The compiled rules are therefore split
  into chunks of at most :data:`CHUNK` rules, each its own durable ruleset;
* after *any* failed assert the session is left alone: deleting it aborted
  the interpreter;
* the C engine parses numbers with its own reader: an exponent (``5e-05``,
  which ``json.dumps`` writes for small floats) makes ruleset creation or the
  assert fail (error 204), and integers beyond 64 bits saturate. Everything
  sent to the engine is written by :func:`engine_json` (decimals without
  exponent; integers are within +-2^53 by the YAML loader and the schemas);
* objects are capped at 255 properties: only the keys the rules read are
  asserted, and :func:`limit_problems` checks at load that a rule library
  reads fewer;
* never an ``$or`` inside ``$iany``/``$iall``: for it the C engine creates a
  forward node whose ``expression.right.type`` it never initialises, then
  tests that field (rete.c, createAlpha, the OP_IANY/OP_IALL branch). Found
  with valgrind; it made ruleset creation fail at random with error 102
  (about 1 in 300 creations, depending on what the heap held). "contains any"
  therefore compiles to an ``$or`` of single-value ``$iany`` tests.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
import weakref
from dataclasses import dataclass
from typing import Any

from advisor.rules.conditions import All, Leaf, Node, Not, leaves
from advisor.engine.facts import FACT_KIND, MAX_PROPERTIES

#: Marks the one profile fact an evaluation asserts for the rule conditions.
PROFILE_KIND = "advisor_profile_fact"
from advisor.errors import EvaluationError, Problem
from advisor.rules.fields import LIST_KINDS
from advisor.rules.library import Rule, RuleSet

_LOCK = threading.Lock()
_SENTINEL = "z_sentinel"
#: durable rules per durable ruleset (see the stack limit above)
CHUNK = 32
_sids = itertools.count(1)

Fired = tuple[str, int, str]  # (rule id, effect entry index, option id)


def _number(value: float) -> str:
    """A finite float as the engine reads it: positional, with a decimal point."""
    from decimal import Decimal

    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"the rule engine cannot compare {value!r}")
    text = format(Decimal(repr(value)), "f")
    return text if "." in text else text + ".0"


def engine_json(value: Any) -> str:
    """JSON for durable-rules' parser: like ``json.dumps``, but floats never in
    exponent form (``0.00005``, not ``5e-05``)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))}: {engine_json(v)}"
                               for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(engine_json(v) for v in value) + "]"
    if isinstance(value, float):
        return _number(value)
    return json.dumps(value)


def _engine() -> Any:
    # imported lazily: the C extension is not free to load, and JSON-only
    # commands that never evaluate rules should not pay for it
    import durable_rules_engine

    return durable_rules_engine


# --- compiling conditions -------------------------------------------------

def _or(parts: list[dict[str, Any]]) -> dict[str, Any]:
    return parts[0] if len(parts) == 1 else {"$or": parts}


def _and(parts: list[dict[str, Any]]) -> dict[str, Any]:
    return parts[0] if len(parts) == 1 else {"$and": parts}


def _eq(key: str, v: Any) -> dict[str, Any]:
    return {key: v}


def _ne(key: str, v: Any) -> dict[str, Any]:
    return {"$neq": {key: v}}


def _has(key: str, v: Any) -> dict[str, Any]:
    return {"$iany": {key: {"$i": v}}}


def _has_none(leaf: Leaf, values: tuple[Any, ...]) -> dict[str, Any]:
    items = _and([{"$neq": {"$i": v}} for v in values])
    return _or([{leaf.field.count_key: 0}, {"$iall": {leaf.field.key: items}}])


_COMPLEMENT = {"lt": "gte", "lte": "gt", "gt": "lte", "gte": "lt", "eq": "ne", "ne": "eq",
               "in": "not_in", "not_in": "in", "contains_any": "contains_none",
               "contains_none": "contains_any"}


def _leaf(leaf: Leaf, negate: bool) -> dict[str, Any]:
    spec, op, v = leaf.field, leaf.op, leaf.value
    key = spec.key
    if op == "exists":
        want = v != negate
        if spec.kind in LIST_KINDS:
            return {"$gt": {spec.count_key: 0}} if want else {spec.count_key: 0}
        return {"$ex": {key: 1}} if want else {"$nex": {key: 1}}
    if op == "contains":
        return _has_none(leaf, (v,)) if negate else _has(key, v)
    if op == "contains_all":
        if negate:  # some value missing
            return _or([_has_none(leaf, (x,)) for x in v])
        return _and([_has(key, x) for x in v])
    if negate:
        op = _COMPLEMENT[op]
    if op == "contains_any":
        # one $iany per value: an $or *inside* $iany makes the C engine read an
        # uninitialised field (see the module docstring)
        return _or([_has(key, x) for x in v])
    if op == "contains_none":
        return _has_none(leaf, v)
    # Scalar operators. Fields that may be absent: a negative test ("ne",
    # "not_in") is true when the field is absent; a positive one is false.
    if op in ("lt", "lte", "gt", "gte"):
        if spec.kind == "ordinal":
            key, v = spec.rank_key, spec.rank(v)
        positive = {f"${op}": {key: v}}
        # the complement of a comparison on an absent field is true
        return _or([{"$nex": {key: 1}}, positive]) if negate and spec.optional else positive
    if op == "eq":
        return _eq(key, v)
    if op == "in":
        return _or([_eq(key, x) for x in v])
    if op == "ne":
        expr = _ne(key, v)
    else:  # not_in
        expr = _and([_ne(key, x) for x in v])
    return _or([{"$nex": {key: 1}}, expr]) if spec.optional else expr


def compile_condition(node: Node, negate: bool = False) -> dict[str, Any]:
    """Condition AST -> durable-rules JSON expression (negation pushed to leaves)."""
    if isinstance(node, Leaf):
        return _leaf(node, negate)
    if isinstance(node, Not):
        return compile_condition(node.child, not negate)
    parts = [compile_condition(c, negate) for c in node.children]
    conjunctive = isinstance(node, All) != negate
    return _and(parts) if conjunctive else _or(parts)


@dataclass(frozen=True)
class CompiledChunk:
    name: str
    definition: dict[str, Any]  # durable-rules JSON, without actions


@dataclass(frozen=True)
class CompiledStage:
    """One set of durable rules over one kind of fact, split into chunks."""

    kind: str  # the fact kind its sentinel and patterns match
    chunks: tuple[CompiledChunk, ...]
    index: dict[str, tuple[str, int]]  # durable rule name -> (rule id, entry index)
    #: fact keys the rules read; facts are cut down to these before asserting,
    #: since JSON encoding and matching cost grows with the fact's size
    keys: frozenset[str]


@dataclass(frozen=True)
class CompiledRuleset:
    """Rule conditions are about the organisation and effect selectors about
    the options, so they are matched separately: the conditions on one profile
    fact per evaluation, the selectors on the option facts once per option
    catalog (they do not depend on the profile). A rule's effect applies to an
    option when its condition fired and the entry's selector matched."""

    name: str
    conditions: CompiledStage
    selectors: CompiledStage


def _stage(name: str, kind: str, patterns: dict[str, Any], index: dict[str, tuple[str, int]],
           keys: set[str]) -> CompiledStage:
    names = list(patterns)
    chunks = []
    for i, start in enumerate(range(0, max(len(names), 1), CHUNK)):
        definition: dict[str, Any] = {n: {"all": [{"m": {"$and": [{"kind": kind}, patterns[n]]}}]}
                      for n in names[start:start + CHUNK]}
        definition[_SENTINEL] = {"all": [{"m": {"kind": kind}}]}
        chunks.append(CompiledChunk(f"{name}_{kind}_{i}", definition))
    return CompiledStage(kind, tuple(chunks), index, frozenset(keys | {"kind", "option__id"}))


def _keys(nodes: list[Node]) -> set[str]:
    keys: set[str] = set()
    for node in nodes:
        for leaf in leaves(node):
            keys.update({leaf.field.key, leaf.field.rank_key, leaf.field.count_key})
    return keys


def limit_problems(rules: "list[Rule] | tuple[Rule, ...]", where: str) -> list[Problem]:
    """What the engine could not hold: more fact properties than it accepts
    (the keys the rule conditions, or the option selectors, read; plus the
    ``kind``, ``option__id`` and ``sid`` keys the adapter adds)."""
    problems = []
    for what, nodes in (("rule conditions", [r.condition for r in rules]),
                        ("effect selectors", [s.match for r in rules for s in r.selectors])):
        count = len(_keys(nodes) | {"kind", "option__id", "sid"})
        if count > MAX_PROPERTIES:
            problems.append(Problem(where, None, None,
                                    f"the {what} of this rule library test {count} fact "
                                    f"properties; the rule engine accepts at most {MAX_PROPERTIES}",
                                    "split the library, or test fewer distinct fields "
                                    "(each subject_volumes.XX is one)"))
    return problems


def compile_ruleset(ruleset: RuleSet) -> CompiledRuleset:
    conditions: dict[str, Any] = {}
    condition_index: dict[str, tuple[str, int]] = {}
    selectors: dict[str, Any] = {}
    selector_index: dict[str, tuple[str, int]] = {}
    for n, rule in enumerate(ruleset.rules):
        conditions[f"c{n:04d}"] = compile_condition(rule.condition)
        condition_index[f"c{n:04d}"] = (rule.id, -1)
        for sel in rule.selectors:
            name = f"s{len(selectors):04d}"
            selectors[name] = compile_condition(sel.match)
            selector_index[name] = (rule.id, sel.index)
    # the indexes too: two libraries whose rules read alike but carry other ids
    # must not share an engine
    digest = hashlib.sha256(json.dumps([conditions, selectors, condition_index, selector_index],
                                       sort_keys=True).encode()).hexdigest()[:16]
    name = f"advisor_{digest}"
    return CompiledRuleset(
        name,
        _stage(name, PROFILE_KIND, conditions, condition_index,
               _keys([r.condition for r in ruleset.rules])),
        _stage(name, FACT_KIND, selectors, selector_index,
               _keys([s.match for r in ruleset.rules for s in r.selectors])))


#: durable-rules ruleset handles whose engine is gone, freed at the next call
#: into the C engine (under the lock). A finalizer only appends here: it may run
#: inside a garbage collection that interrupts a locked call on this thread.
_TO_FREE: list[Any] = []
#: option catalogs whose selector matches an engine keeps (a bounded cache)
SELECTOR_CACHE_SIZE = 16


def _queue_free(handles: dict[str, list[Any]], poisoned: list[bool]) -> None:
    if not poisoned:  # an engine that saw a failed assert is never deleted (see above)
        _TO_FREE.extend(h for hs in handles.values() for h in hs)


def _free_queued() -> None:
    """Delete the durable rulesets of engines that were dropped; hold ``_LOCK``."""
    if _TO_FREE:
        c = _engine()
        while _TO_FREE:
            c.delete_ruleset(_TO_FREE.pop())


#: compiled rulesets handed over by the loader (advisor.workspace keeps them in
#: its cache with the RuleSet), by id of a live RuleSet
_compiled_of: dict[int, CompiledRuleset] = {}


def remember_compiled(ruleset: RuleSet, compiled: CompiledRuleset) -> None:
    """Use ``compiled`` (``compile_ruleset(ruleset)``, e.g. from a cache) for ``ruleset``."""
    if id(ruleset) not in _compiled_of:
        _compiled_of[id(ruleset)] = compiled
        weakref.finalize(ruleset, _compiled_of.pop, id(ruleset), None)


class DurableEngine:
    """Evaluates a profile against a compiled ruleset in durable-rules.

    Engines live as long as a RuleSet that uses them: when the last such
    RuleSet is garbage collected, the engine goes and its C rulesets are
    deleted, so a long-running process that loads many rule libraries stays
    flat in memory (each compiled library holds about 4 MB in the C engine).
    """

    # engine of each live RuleSet (by id; the entry goes with the RuleSet)
    _by_ruleset: dict[int, "DurableEngine"] = {}
    # ... and by compiled content: a ruleset loaded twice (the same files, read
    # again) reuses the engine rulesets already created while either is alive
    _by_content: "weakref.WeakValueDictionary[str, DurableEngine]" = weakref.WeakValueDictionary()

    def __init__(self, compiled: CompiledRuleset) -> None:
        self.compiled = compiled
        self._handles: dict[str, list[Any]] = {}
        # selector matches per option catalog (keyed by the option facts' JSON)
        self._selector_cache: dict[str, set[Fired]] = {}
        self._poisoned: list[bool] = []
        weakref.finalize(self, _queue_free, self._handles, self._poisoned)

    @classmethod
    def for_ruleset(cls, ruleset: RuleSet) -> "DurableEngine":
        engine = cls._by_ruleset.get(id(ruleset))
        if engine is not None:
            return engine
        compiled = _compiled_of.get(id(ruleset)) or compile_ruleset(ruleset)
        engine = cls._by_content.get(compiled.name)
        if engine is None:
            engine = cls(compiled)
            engine._register()
            cls._by_content[compiled.name] = engine
        cls._by_ruleset[id(ruleset)] = engine
        # the entry goes when the RuleSet does (before its id can be reused)
        weakref.finalize(ruleset, cls._by_ruleset.pop, id(ruleset), None)
        return engine

    def _register(self) -> None:
        """Create the durable rulesets of the condition stage; the selector
        stage's are created when a selector match is not in the cache."""
        with _LOCK:
            _free_queued()
            self._handles_for(self.compiled.conditions)

    def _handles_for(self, stage: CompiledStage) -> list[Any]:
        """The durable rulesets of ``stage``, created on first use; hold ``_LOCK``."""
        if stage.kind in self._handles:
            return self._handles[stage.kind]
        c = _engine()
        handles: list[Any] = []
        try:
            for chunk in stage.chunks:
                handles.append(c.create_ruleset(f"{chunk.name}_{next(_sids)}",
                                                engine_json(chunk.definition)))
        except Exception as exc:  # the engine rejected what we compiled: a bug
            self._handles[f"{stage.kind} (failed)"] = handles  # still freed with the engine
            raise EvaluationError(f"durable-rules rejected the compiled ruleset: {exc}") from exc
        self._handles[stage.kind] = handles
        return handles

    def evaluate(self, facts: list[dict[str, Any]]) -> set[Fired]:
        """(rule id, effect entry, option id) for every effect that applies.

        ``facts`` are the per-option facts of :func:`build_facts` (profile
        fields plus option attributes); the profile part is matched once."""
        if not facts:
            return set()
        profile = {k: v for k, v in facts[0].items() if not k.startswith("option__")}
        profile["kind"] = PROFILE_KIND
        profile["option__id"] = "(profile)"
        options = [{k: v for k, v in f.items() if k.startswith("option__")} for f in facts]
        for o in options:
            o["kind"] = FACT_KIND
        with _LOCK:
            _free_queued()
            fired_rules = {rule_id for rule_id, _, _ in
                           self._match(self.compiled.conditions, [profile])}
            key = json.dumps(options, sort_keys=True)
            selected = self._selector_cache.get(key)
            if selected is None:
                selected = self._selectors(options, key)
                if len(self._selector_cache) >= SELECTOR_CACHE_SIZE:
                    del self._selector_cache[next(iter(self._selector_cache))]
                self._selector_cache[key] = selected
        return {f for f in selected if f[0] in fired_rules}

    def _selectors(self, options: list[dict[str, Any]], key: str) -> set[Fired]:
        """Which effect entries select which options: they depend only on the
        compiled library and the option facts, so a match the engine made
        once is kept in advisor's cache folder; hold ``_LOCK``."""
        from advisor.cache import cached

        return cached("selectors", [], lambda: self._match(self.compiled.selectors, options),
                      extra=f"{self.compiled.name}\0{key}", memory=False)

    def _match(self, stage: CompiledStage, facts: list[dict[str, Any]]) -> set[Fired]:
        facts = [{k: v for k, v in fact.items() if k in stage.keys} for fact in facts]
        collected: list[tuple[str, Any]] = []
        for handle in self._handles_for(stage):
            self._evaluate_chunk(handle, facts, collected)
        fired: set[Fired] = set()
        for rule_name, option_id in collected:
            if rule_name != _SENTINEL:
                rule_id, entry = stage.index[rule_name]
                fired.add((rule_id, entry, str(option_id)))
        return fired

    def _evaluate_chunk(self, handle: Any, facts: list[dict[str, Any]],
                        collected: list[tuple[str, Any]]) -> None:
        c = _engine()
        sid = f"e{next(_sids)}"
        deletable = True
        try:
            for fact in facts:
                option_id = fact.get("option__id")
                try:
                    code, state = c.assert_fact(handle, engine_json({**fact, "sid": sid}))
                    if code != 0:  # 1 = not handled: impossible while the sentinel matches
                        raise RuntimeError(f"result code {code}")
                    fired_now = []
                    result = c.start_action_for_state(handle, state)
                    message = result[1] if result else None
                    while message:
                        for name, frame in json.loads(message).items():
                            fired_now.append((name, frame["m"]["option__id"]))
                        message = c.complete_and_start_action(handle, state)
                except Exception as exc:
                    # leave a failed session alone: deleting it (or its ruleset)
                    # can crash the process
                    deletable = False
                    self._poisoned.append(True)
                    raise EvaluationError(
                        f"rule engine failed on the fact for option {option_id}: "
                        f"{type(exc).__name__}: {exc}") from None
                if (_SENTINEL, option_id) not in fired_now:
                    raise EvaluationError(
                        f"rule engine did not confirm the fact for option {option_id}; "
                        "refusing to report a decision")
                collected.extend(fired_now)
        finally:
            if deletable:
                c.delete_state(handle, sid)
