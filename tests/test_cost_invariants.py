"""The cost figures reconcile: one central estimate inside its own P10-P90, ranks
ascending with the NPV shown, for every example and for 500 generated workloads."""

from __future__ import annotations

import datetime as dt
import json
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from advisor.costing import load_cost_catalog, rank_decision
from advisor.decision import Decision, OptionResult, ProfileRef, RulesetRef
from advisor.profile import profile_from_data
from advisor.yamlload import load_text

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.yaml"))
MODELS = ["llama-3.1-8b", "llama-3.1-70b", "mixtral-8x7b", "qwen2.5-72b", "mistral-large-2", "gpt-oss-20b"]
COUNTRIES = ["FR", "DE", "US", "GB", "CH", "NL", "IT"]
CURRENCIES = ["EUR", "USD", "GBP", "CHF"]


def assert_reconciles(options: list[dict[str, Any]], recommendation: dict[str, Any] | None) -> int:
    """Every costed option: npv_p10 <= npv <= npv_p90, total_p10 <= total <= total_p90;
    ranks 1..n in ascending NPV; the recommendation is rank 1 with rank 1's figures."""
    costed = [o for o in options if o.get("rank")]
    for o in costed:
        t = o["tco"]
        n, n10, n90 = Decimal(str(t["npv"])), Decimal(str(t["npv_p10"])), Decimal(str(t["npv_p90"]))
        s, s10, s90 = Decimal(str(t["total"])), Decimal(str(t["total_p10"])), Decimal(str(t["total_p90"]))
        assert n10 <= n <= n90, (o["id"], n10, n, n90)
        assert s10 <= s <= s90, (o["id"], s10, s, s90)
    ranked = sorted(costed, key=lambda o: o["rank"])
    assert [o["rank"] for o in ranked] == list(range(1, len(ranked) + 1))
    npvs = [Decimal(str(o["tco"]["npv"])) for o in ranked]
    assert npvs == sorted(npvs)
    if ranked:
        assert recommendation is not None and recommendation["option"] == ranked[0]["id"]
        assert Decimal(str(recommendation["tco"]["npv"])) == npvs[0]
        base = recommendation["tornado"][0]["base"] if recommendation["tornado"] else npvs[0]
        assert Decimal(str(base)) == npvs[0]
    return len(ranked)


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_examples_reconcile(runner, path: Path) -> None:  # type: ignore[no-untyped-def]
    from advisor.cli import main

    result = runner.invoke(main, ["evaluate", str(path), "--format", "json", "--as-of", "2026-11-30",
                                  "--engine", "reference"])
    assert result.exit_code in (0, 1), result.output
    data = json.loads(result.output)
    assert_reconciles(data["options"], data["recommendation"])


def _workload_profile(rng: random.Random) -> Any:
    country = rng.choice(COUNTRIES)
    workload: dict[str, Any] = {
        "model": rng.choice(MODELS),
        "requests_per_day": rng.choice([200, 3_000, 40_000, 400_000, 4_000_000]),
        "input_tokens": rng.choice([100, 800, 3_000]), "output_tokens": rng.choice([50, 300, 1_000]),
        "peak_factor": rng.choice([1.0, 2.0, 4.0]), "growth_per_year": rng.choice([0.0, 0.1, 0.5, -0.2]),
        "high_availability": rng.random() < 0.5,
    }
    if rng.random() < 0.5:
        workload["api_model"] = rng.choice(["gpt-4o", "gpt-4o-mini", "mistral-large-2411"])
    if rng.random() < 0.3:
        workload["sensitive_share"] = rng.choice([0.1, 0.5, 0.9])
    base = {
        "schema_version": 1,
        "organisation": {"name": "Generated", "hq_country": country, "sectors": ["banking"]},
        "data": {"categories": ["personal_basic"], "subject_jurisdictions": [country],
                 "classification_level": "internal"},
        "ai": {"use_cases": ["internal_productivity"]},
        "sovereignty": rng.choice(["none", "residency_in_region"]),
        "workload": workload,
        "finance": {"currency": rng.choice(CURRENCIES), "horizon_years": rng.choice([1, 3, 5]),
                    "discount_rate": rng.choice([0.0, 0.05, 0.12])},
    }
    doc = load_text(json.dumps(base), "generated.yaml")
    return profile_from_data(doc.data, doc)


def test_generated_workloads_reconcile(workspace) -> None:  # type: ignore[no-untyped-def]
    """500 seeded workloads, every option usable: the invariants hold for each."""
    catalog = load_cost_catalog()
    rng = random.Random(8)
    options = [OptionResult(id=o.id, name=o.name, kind=o.kind, status="conditional", reason="generated",
                            findings=[]) for o in workspace.options.options]
    decision = Decision(evaluated_on=dt.date(2026, 11, 30), profile=ProfileRef(name="g", sha256="0"),
                        ruleset=RulesetRef(sha256="0", rules=0, in_force=0, source="rules"), options=options)
    costed = 0
    for i in range(500):
        profile = _workload_profile(rng)
        ranked = rank_decision(decision, profile, catalog, workspace.options, draws=1_000, seed=i)
        data = json.loads(ranked.model_dump_json())
        costed += assert_reconciles(data["options"], data["recommendation"])
    assert costed > 1_000  # the invariants were checked on many options, not vacuously
