"""durable-rules (production) and the reference evaluator must agree exactly.

1. The bundled rule library on 2,000 generated profiles.
2. 150 randomly generated rules, using every field kind and every operator,
   with random option selectors, on 300 generated profiles.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import yaml

from advisor.decision import fire
from advisor.engine.facts import build_facts
from advisor.rules.fields import FieldRegistry
from advisor.profile import profile_from_data
from advisor.resources import default_rules_dir
from advisor.rules.library import load_ruleset
from advisor.yamlload import Document
from tests.generators import random_option_selector, random_profile, random_rule_condition


def _facts(ws, data):  # type: ignore[no-untyped-def]
    profile = profile_from_data(data, Document("generated", data))
    return build_facts(profile, list(ws.options.options), ws.jurisdictions)


def test_library_rules_agree_on_2000_generated_profiles(workspace) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(20261130)
    fired_total = 0
    for i in range(2000):
        facts = _facts(workspace, random_profile(rng))
        durable = fire(workspace.ruleset, facts, "durable")
        reference = fire(workspace.ruleset, facts, "reference")
        assert durable == reference, f"profile #{i}: {sorted(durable ^ reference)}"
        fired_total += len(durable)
    assert fired_total > 2000  # the generated profiles do exercise the rules


def test_random_rules_agree(workspace, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(7)
    registry = FieldRegistry(tuple(workspace.options.ids()),
                             tuple(sorted({o.kind for o in workspace.options.options})))
    rules = []
    for n in range(150):
        effects = [{"where": random_option_selector(rng, registry),
                    "effect": rng.choice(["exclude", "conditional", "warn"])}]
        if rng.random() < 0.5:
            effects.append({"options": rng.sample(workspace.options.ids(), 3), "effect": "warn"})
        rules.append({"id": f"RND-{n:03d}", "title": f"Random rule {n}",
                      "citations": [{"ref": "none", "url": "https://example.org"}],
                      "rationale": "Generated to compare the two evaluators on every operator.",
                      "when": random_rule_condition(rng, registry), "effects": effects})
    d = tmp_path / "rules"
    d.mkdir()
    for name in ("controls.yaml", "test-profile.yaml"):
        shutil.copy(default_rules_dir() / name, d / name)
    (d / "random.yaml").write_text(yaml.safe_dump({"regime": "Random", "rules": rules}))
    ruleset = load_ruleset(d, workspace.options)
    seen = set()
    for i in range(300):
        facts = _facts(workspace, random_profile(rng))
        durable = fire(ruleset, facts, "durable")
        reference = fire(ruleset, facts, "reference")
        assert durable == reference, f"profile #{i}: {sorted(durable ^ reference)[:5]}"
        seen |= {r for r, _, _ in durable}
    assert len(seen) > 50  # a good share of the random rules fired at least once
