"""The durable-rules engine frees what a dropped rule library held.

A long-running process (a portfolio run, a service) that loads rule libraries
again and again must stay flat in memory: each compiled library holds about
4 MB inside the C engine, which only ``delete_ruleset`` gives back.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import os
from pathlib import Path

import pytest

from advisor.decision import evaluate
from advisor.engine import durable
from advisor.profile import load_profile

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
STATM = Path("/proc/self/statm")


def _rss_mb() -> float:
    return int(STATM.read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def _variant(ruleset, i: int):  # type: ignore[no-untyped-def]
    """A rule library that compiles differently for each i (a different subset
    of rules), as a user editing rules between runs produces."""
    keep = tuple(r for k, r in enumerate(ruleset.rules) if k != i % len(ruleset.rules))
    return dataclasses.replace(ruleset, rules=keep)


@pytest.mark.skipif(not STATM.exists(), reason="resident memory read from /proc (Linux)")
def test_changing_rule_libraries_stay_flat_in_memory(workspace) -> None:  # type: ignore[no-untyped-def]
    """Every iteration compiles a new library (its own C rulesets) and drops it.
    Leaking would cost several MB per iteration; 30 iterations after a warm-up
    must grow resident memory by less than 8 MB in all (a long-running process
    evaluating 10,000 profiles with changing libraries stays flat the same way)."""
    profile = load_profile(EXAMPLES / "clinique-fr.yaml").profile
    on = dt.date(2026, 11, 30)

    def run(i: int) -> None:
        rs = _variant(workspace.ruleset, i)
        evaluate(profile, rs, workspace.options, workspace.jurisdictions, on=on,
                 profile_sha256="x")

    for i in range(5):  # warm-up: allocator pools, caches of the first evaluation
        run(i)
    gc.collect()
    before = _rss_mb()
    for i in range(5, 35):
        run(i)
    gc.collect()
    grown = _rss_mb() - before
    assert grown < 8, f"resident memory grew {grown:.1f} MB over 30 rule libraries"
    live = {id(e) for e in durable.DurableEngine._by_ruleset.values()}
    assert len(live) <= 2  # the session workspace's engine, at most one more


def test_engine_goes_with_its_ruleset(workspace) -> None:  # type: ignore[no-untyped-def]
    rs = _variant(workspace.ruleset, 3)
    engine = durable.DurableEngine.for_ruleset(rs)
    name = engine.compiled.name
    assert durable.DurableEngine.for_ruleset(rs) is engine
    # a second RuleSet with the same content shares the engine
    twin = dataclasses.replace(rs)
    assert durable.DurableEngine.for_ruleset(twin) is engine
    del engine, rs
    gc.collect()
    assert name in durable.DurableEngine._by_content  # the twin still uses it
    del twin
    gc.collect()
    assert name not in durable.DurableEngine._by_content
