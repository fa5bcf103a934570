"""docs/rules.md is generated from the rule library and must be current; rules
that select options by attribute judge a new offer described as data."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from advisor.cli import main
from advisor.catalog.options import load_options
from advisor.resources import default_catalog_dir, default_rules_dir
from advisor.rules.docs import render_rules_docs
from advisor.rules.library import load_ruleset
from advisor.rules.testing import merge
from advisor.profile import profile_from_data
from advisor.engine.facts import build_facts
from advisor.decision import fire, resolve
from advisor.yamlload import Document

DOCS = Path(__file__).resolve().parent.parent / "docs" / "rules.md"


def test_checked_in_rules_reference_is_current(workspace) -> None:  # type: ignore[no-untyped-def]
    text = render_rules_docs(workspace.ruleset, workspace.options)
    assert DOCS.exists(), "docs/rules.md missing: run 'advisor rules docs'"
    assert DOCS.read_text(encoding="utf-8") == text, \
        "docs/rules.md is out of date: run 'advisor rules docs' and commit the result"


def test_rules_docs_command_writes_the_file(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "sub" / "rules.md"
    r = runner.invoke(main, ["rules", "docs", "-o", str(out)])
    assert r.exit_code == 0, r.output
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Rule reference")
    assert "### HIPAA-BAA:" in text and "| consumer_api | exclude" in text
    r = runner.invoke(main, ["rules", "docs", "-o", "-"])
    assert r.exit_code == 0 and r.output == text


def _effects(tmp_path: Path, extra_option: dict, profile_fragment: dict, rule_id: str) -> dict:  # type: ignore[type-arg]
    catalog = tmp_path / "catalog"
    shutil.copytree(default_catalog_dir(), catalog, ignore=shutil.ignore_patterns("__*"))
    doc = yaml.safe_load((catalog / "options.yaml").read_text())
    doc["options"].append(extra_option)
    (catalog / "options.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    options = load_options(catalog)
    from advisor.catalog.options import load_jurisdictions
    jurisdictions = load_jurisdictions(catalog)
    ruleset = load_ruleset(default_rules_dir(), options)
    data = merge(ruleset.test_profile, profile_fragment)
    profile = profile_from_data(data, Document("test", data))
    facts = build_facts(profile, list(options.options), jurisdictions)
    chosen = resolve(fire(ruleset, facts, "reference"))
    rule = ruleset.get(rule_id)
    return {o: next(s.effect for s in rule.selectors if s.index == e)
            for (r, o), e in chosen.items() if r == rule_id}


def _offer(option_id: str, location: dict | None = None, **attrs) -> dict:  # type: ignore[no-untyped-def, type-arg]
    base = yaml.safe_load((default_catalog_dir() / "options.yaml").read_text())
    enterprise = next(o for o in base["options"] if o["id"] == "enterprise_api")
    return {**enterprise, "id": option_id, "name": option_id,
            "location": {**enterprise["location"], **(location or {})},
            "attributes": {**enterprise["attributes"], **attrs}}


def test_doj_rule_excludes_a_covered_person_offer(tmp_path: Path) -> None:
    offer = _offer("prc_llm_api", provider_parent_country="CN", us_controlled=False,
                   doj_covered_person=True)
    got = _effects(tmp_path, offer, {
        "organisation": {"hq_country": "US"},
        "data": {"categories": ["us_bulk_sensitive_data"], "subject_jurisdictions": ["US"]}},
        "DOJ-BULK-SENSITIVE-DATA")
    assert got["prc_llm_api"] == "exclude"
    assert got["enterprise_api"] == "conditional"


def test_an_option_processing_in_russia_is_not_excluded_by_localisation(tmp_path: Path) -> None:
    offer = _offer("ru_cloud_api", location={"processing": ["RU"], "exposure": ["RU"]},
                   provider_parent_country="RU", us_controlled=False,
                   processing_region="in_region", support_access="in_region")
    got = _effects(tmp_path, offer, {
        "organisation": {"hq_country": "RU"},
        "data": {"categories": ["personal_basic"], "subject_jurisdictions": ["RU"]}},
        "RU-152FZ-LOCALISATION")
    assert got["ru_cloud_api"] == "conditional"
    assert got["enterprise_api"] == "exclude"
