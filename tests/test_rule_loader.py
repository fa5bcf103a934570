"""Rule files: every kind of mistake is a load-time error at file:line:col."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from advisor.errors import InputError
from advisor.catalog.options import load_options
from advisor.resources import default_catalog_dir, default_rules_dir
from advisor.rules.library import load_ruleset

GOOD_RULE = """\
regime: Test
rules:
  - id: TEST-ONE
    title: A rule used by the loader tests
    citations:
      - ref: "Test Act s.1"
        url: https://example.org/act
    rationale: This rationale is long enough to pass the minimum length check.
    when:
      data.categories: {contains: phi}
    effects:
      - options: [consumer_api]
        effect: exclude
    controls: [dpia]
    tests:
      - name: fires
        profile: {data: {categories: [phi]}}
        expect: {consumer_api: exclude}
      - name: silent
        expect: none
"""


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    d = tmp_path / "rules"
    d.mkdir()
    src = default_rules_dir()
    shutil.copy(src / "controls.yaml", d / "controls.yaml")
    shutil.copy(src / "test-profile.yaml", d / "test-profile.yaml")
    return d


def load(d: Path):  # type: ignore[no-untyped-def]
    return load_ruleset(d, load_options(default_catalog_dir()))


def errors(d: Path, text: str) -> list[str]:
    (d / "t.yaml").write_text(text)
    with pytest.raises(InputError) as exc:
        load(d)
    return [str(p) for p in exc.value.problems]


def test_good_rule_loads(rules_dir: Path) -> None:
    (rules_dir / "t.yaml").write_text(GOOD_RULE)
    rs = load(rules_dir)
    assert [r.id for r in rs.rules] == ["TEST-ONE"]
    assert rs.rules[0].line == 3


def test_unknown_field(rules_dir: Path) -> None:
    (msg,) = errors(rules_dir, GOOD_RULE.replace("data.categories:", "data.categorys:"))
    assert msg.endswith("t.yaml:10:7: unknown field 'data.categorys' "
                        "(did you mean 'data.categories'?)")


def test_unknown_operator(rules_dir: Path) -> None:
    (msg,) = errors(rules_dir, GOOD_RULE.replace("{contains: phi}", "{contain: phi}"))
    assert "t.yaml:10:" in msg and "unknown operator 'contain' (did you mean 'contains'" in msg


def test_operator_not_applicable_to_field_kind(rules_dir: Path) -> None:
    (msg,) = errors(rules_dir, GOOD_RULE.replace("{contains: phi}", "{gte: phi}"))
    assert "operator 'gte' does not apply to enum_list field" in msg


def test_unknown_value(rules_dir: Path) -> None:
    (msg,) = errors(rules_dir, GOOD_RULE.replace("{contains: phi}", "{contains: phy}"))
    assert "'phy' is not a value of 'data.categories'" in msg and "did you mean 'phi'" in msg


def test_unknown_option_id(rules_dir: Path) -> None:
    (msg,) = errors(rules_dir, GOOD_RULE.replace("options: [consumer_api]", "options: [consumer_apii]"))
    assert "t.yaml:12:19: unknown option id 'consumer_apii' (did you mean 'consumer_api'?)" in msg


def test_unknown_control_id(rules_dir: Path) -> None:
    (msg,) = errors(rules_dir, GOOD_RULE.replace("controls: [dpia]", "controls: [dpiaa]"))
    assert "t.yaml:14:16: unknown control id 'dpiaa' (did you mean 'dpia'?)" in msg


def test_duplicate_rule_ids_across_files(rules_dir: Path) -> None:
    (rules_dir / "a.yaml").write_text(GOOD_RULE)
    msgs = errors(rules_dir, GOOD_RULE)
    assert any("duplicate rule id 'TEST-ONE'" in m and "first defined at" in m for m in msgs)


def test_duplicate_yaml_key(rules_dir: Path) -> None:
    (msg,) = errors(rules_dir, GOOD_RULE.replace("    rationale:", "    title: again\n    rationale:"))
    assert "t.yaml:8:5: duplicate key 'title'" in msg


def test_unknown_rule_key(rules_dir: Path) -> None:
    (msg,) = errors(rules_dir, GOOD_RULE.replace("    rationale:", "    rationnale: x\n    rationale:"))
    assert "unknown key 'rationnale' (did you mean 'rationale'?)" in msg


def test_where_may_only_test_option_fields(rules_dir: Path) -> None:
    text = GOOD_RULE.replace("- options: [consumer_api]", "- where: {data.categories: {contains: phi}}")
    (msg,) = errors(rules_dir, text)
    assert "cannot be used here" in msg


def test_options_and_where_together(rules_dir: Path) -> None:
    text = GOOD_RULE.replace("        effect: exclude", "        where: {option.us_controlled: true}\n        effect: exclude")
    (msg,) = errors(rules_dir, text)
    assert "either 'options'" in msg


def test_several_mistakes_in_one_file_all_reported(rules_dir: Path) -> None:
    text = (GOOD_RULE.replace("{contains: phi}", "{contain: phi}")
            .replace("controls: [dpia]", "controls: [nope]")
            .replace("url: https://example.org/act", "url: example.org/act"))
    assert len(errors(rules_dir, text)) == 3


def test_one_condition_per_mapping(rules_dir: Path) -> None:
    text = GOOD_RULE.replace("      data.categories: {contains: phi}",
                             "      data.categories: {contains: phi}\n      sovereignty: none")
    (msg,) = errors(rules_dir, text)
    assert "one condition per mapping" in msg and "all:" in msg


def test_bad_test_expectation_option(rules_dir: Path) -> None:
    (msg,) = errors(rules_dir, GOOD_RULE.replace("expect: {consumer_api: exclude}", "expect: {consumr_api: exclude}"))
    assert "unknown option id 'consumr_api' in test expectation" in msg


def test_missing_rules_folder_and_empty_folder(tmp_path: Path, rules_dir: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        load(tmp_path / "none")
    with pytest.raises(InputError, match="no rule files"):
        load(rules_dir)
