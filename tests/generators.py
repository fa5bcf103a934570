"""Seeded generators of random (valid) profiles and random rule conditions,
for the differential test of the two evaluators."""

from __future__ import annotations

import random
from typing import Any

from advisor.profile import vocabulary as V
from advisor.rules.conditions import OPERATORS
from advisor.rules.fields import LIST_KINDS, FieldRegistry, FieldSpec

COUNTRIES = ["FR", "DE", "NL", "IE", "US", "US-CA", "GB", "CH", "CN", "RU", "IN", "SG", "BR",
             "JP", "NO", "EEA"]
HQ = ["FR", "DE", "US", "US-NY", "GB", "CN", "RU", "SG", "NO", "CH", "IN"]


def _some(rng: random.Random, values: tuple[str, ...] | list[str], lo: int = 0,
          hi: int = 4) -> list[str]:
    return rng.sample(list(values), rng.randint(lo, min(hi, len(values))))


def random_profile(rng: random.Random) -> dict[str, Any]:
    hq = rng.choice(HQ)
    subjects = _some(rng, COUNTRIES, 1, 3)
    volumes = {c: rng.choice([0, 10, 5_000, 99_999, 100_000, 1_500_000, 10_000_000_000])
               for c in _some(rng, subjects, 0, len(subjects))}
    workload: dict[str, Any] = {
        "model": "llama-3.1-8b",
        "requests_per_day": rng.choice([1, 1.5, 100, 20_000, 1e6, 10_000_000_000]),
        "input_tokens": rng.choice([1, 200, 1500]), "output_tokens": rng.choice([100, 400]),
        "peak_factor": rng.choice([1, 3.5, 100]),
        "growth_per_year": rng.choice([0, 0.3, 0.00005, -0.9]),
        "high_availability": rng.random() < 0.5,
    }
    if rng.random() < 0.5:
        workload["api_model"] = "gpt-4o"
    org: dict[str, Any] = {
        "name": "Generated", "hq_country": hq, "sectors": _some(rng, V.SECTORS, 1, 2),
        "flags": _some(rng, V.ENTITY_FLAGS, 0, 4),
    }
    if rng.random() < 0.5:
        org["establishment_countries"] = _some(rng, [c for c in COUNTRIES if c != "EEA"], 1, 3)
    if rng.random() < 0.3:
        org["parent_country"] = rng.choice(HQ)
    if rng.random() < 0.3:
        org["is_us_person"] = rng.random() < 0.5
    return {
        "schema_version": 1,
        "organisation": org,
        "data": {
            "categories": _some(rng, V.DATA_CATEGORIES, 1, 4),
            "subject_jurisdictions": subjects,
            "subject_volumes": volumes,
            "classification_scheme": rng.choice(V.CLASSIFICATION_SCHEMES),
            "classification_level": rng.choice(V.CLASSIFICATION_LEVELS),
            "us_federal_impact": rng.choice(V.US_FEDERAL_IMPACT),
            "dod_impact_level": rng.choice(V.DOD_IMPACT_LEVELS),
        },
        "ai": {
            "use_cases": _some(rng, V.USE_CASES, 1, 3),
            "critical_or_important_function": rng.random() < 0.3,
            "ai_act_role": rng.choice(V.AI_ACT_ROLES),
            "customisation": rng.choice(V.CUSTOMISATION),
            "model_source": rng.choice(V.MODEL_SOURCES),
        },
        "sovereignty": rng.choice(V.SOVEREIGNTY),
        "risk_appetite": rng.choice(V.RISK_APPETITE),
        "workload": workload,
        "finance": {"currency": rng.choice(["EUR", "USD"]), "horizon_years": rng.randint(1, 6)},
    }


def _operand_value(rng: random.Random, spec: FieldSpec) -> Any:
    if spec.kind == "bool":
        return rng.random() < 0.5
    if spec.kind == "number":
        # extreme magnitudes too: the engine must read them as the reference does
        # (no exponent notation, integers exact up to 2^53)
        return rng.choice([0, 1, 3, 30, 1000, 100_000, 1_000_000, 0.00005, 1e-300, 0.1,
                           1.5, -1e300, 1e300, 2 ** 53 - 1, 10_000_000_000, 9_999_999_999.5])
    if spec.kind in ("country", "country_list"):
        return rng.choice([c for c in COUNTRIES if c != "EEA" or spec.allow_bloc])
    if spec.values:
        return rng.choice(spec.values)
    return rng.choice(["llama-3.1-8b", "gpt-4o", "Generated"])


def random_leaf(rng: random.Random, registry: FieldRegistry) -> dict[str, Any]:
    specs = [s for s in registry.all() if s.kind != "number_map"]
    if rng.random() < 0.15 and "data.subject_volumes" in registry.names():
        spec = registry.lookup(f"data.subject_volumes.{rng.choice(['FR', 'CN', 'EEA', 'US'])}")
    else:
        spec = rng.choice(specs)
    assert spec is not None
    ops = [o for o in OPERATORS.values() if spec.kind in o.kinds
           and (o.name != "exists" or spec.optional or spec.kind in LIST_KINDS)]
    op = rng.choice(ops)
    if op.operand == "bool":
        operand: Any = rng.random() < 0.5
    elif op.operand == "list":
        operand = list(dict.fromkeys(_operand_value(rng, spec) for _ in range(rng.randint(1, 3))))
    else:
        operand = _operand_value(rng, spec)
    if op.name == "eq" and rng.random() < 0.5 and spec.kind not in LIST_KINDS:
        return {spec.name: operand}
    return {spec.name: {op.name: operand}}


def random_condition(rng: random.Random, registry: FieldRegistry, depth: int = 0) -> dict[str, Any]:
    roll = rng.random()
    if depth >= 3 or roll < 0.45:
        return random_leaf(rng, registry)
    if roll < 0.6:
        return {"not": random_condition(rng, registry, depth + 1)}
    key = "all" if roll < 0.8 else "any"
    return {key: [random_condition(rng, registry, depth + 1) for _ in range(rng.randint(1, 3))]}


def _narrowed(registry: FieldRegistry, options: bool) -> FieldRegistry:
    specs = [s for s in registry.all() if s.name.startswith("option.") == options]
    sub = FieldRegistry.__new__(FieldRegistry)
    sub._by_name = {s.name: s for s in specs}  # noqa: SLF001 - test-only narrowing
    return sub


def random_option_selector(rng: random.Random, registry: FieldRegistry) -> dict[str, Any]:
    """A random 'where' (option attributes only)."""
    return random_condition(rng, _narrowed(registry, True), depth=2)


def random_rule_condition(rng: random.Random, registry: FieldRegistry) -> dict[str, Any]:
    """A random 'when' (profile and derived fields only)."""
    return random_condition(rng, _narrowed(registry, False))
