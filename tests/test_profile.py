"""Profile schema v1: validation, defaults and error messages."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from advisor.errors import InputError
from advisor.profile import load_profile
from tests.conftest import EXAMPLES


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "p.yaml"
    p.write_text(text)
    return p


def example_text() -> str:
    return (EXAMPLES / "clinique-fr.yaml").read_text()


def errors_for(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(InputError) as exc:
        load_profile(write(tmp_path, text))
    return [str(p) for p in exc.value.problems]


def test_every_example_profile_loads() -> None:
    for path in EXAMPLES.glob("*.yaml"):
        assert load_profile(path).profile.schema_version in (1, 2)


def test_defaults_are_applied() -> None:
    prof = load_profile(EXAMPLES / "startup-public-data.yaml").profile
    assert prof.organisation.establishment_countries == ["SG"]
    assert prof.organisation.parent_country == "SG"
    assert prof.organisation.is_us_person is False
    assert prof.finance.deployment_country == "SG"
    assert prof.data.classification_scheme == "none"


def test_us_state_hq_makes_a_us_person() -> None:
    prof = load_profile(EXAMPLES / "us-hospital-hipaa.yaml").profile
    assert prof.organisation.hq_country == "US-OH"
    assert prof.organisation.is_us_person is True
    assert prof.finance.deployment_country == "US"


def test_unknown_key_has_did_you_mean_and_line(tmp_path: Path) -> None:
    msgs = errors_for(tmp_path, example_text().replace("  parent_country: FR", "  parent_contry: FR"))
    assert f"{tmp_path / 'p.yaml'}:8:3: unknown key 'parent_contry' " \
           "(did you mean 'parent_country' or 'hq_country'?)" in msgs


def test_bad_enum_value_has_hint(tmp_path: Path) -> None:
    msgs = errors_for(tmp_path, example_text().replace("risk_appetite: low", "risk_appetite: lo"))
    assert msgs == [f"{tmp_path / 'p.yaml'}:27:16: risk_appetite: unknown value 'lo' "
                    "(did you mean 'low'?)"]


def test_all_errors_are_reported_together(tmp_path: Path) -> None:
    text = (example_text().replace("hq_country: FR", "hq_country: XX")
            .replace("fr_care_health_data]", "fr_care_health_dat]")
            .replace("requests_per_day: 20000", "requests_per_day: -5"))
    msgs = errors_for(tmp_path, text)
    assert len(msgs) == 3
    assert "not an ISO 3166-1 alpha-2 country code" in msgs[0]
    assert "did you mean 'fr_care_health_data'" in msgs[1]
    assert "greater than or equal to 1" in msgs[2]


def test_norway_is_a_country_not_false(tmp_path: Path) -> None:
    text = example_text().replace("subject_jurisdictions: [FR]", "subject_jurisdictions: [FR, NO]")
    prof = load_profile(write(tmp_path, text)).profile
    assert prof.data.subject_jurisdictions == ["FR", "NO"]


def test_subdivisions_and_eea_bloc(tmp_path: Path) -> None:
    text = example_text().replace("subject_jurisdictions: [FR]", "subject_jurisdictions: [EEA, US-CA]")
    assert load_profile(write(tmp_path, text)).profile.data.subject_jurisdictions == ["EEA", "US-CA"]
    bad = example_text().replace("subject_jurisdictions: [FR]", "subject_jurisdictions: [US-ZZ]")
    assert "subdivision" in errors_for(tmp_path, bad)[0]


def test_missing_required_sections(tmp_path: Path) -> None:
    data = yaml.safe_load(example_text())
    del data["workload"]
    del data["data"]["categories"]
    msgs = errors_for(tmp_path, yaml.safe_dump(data))
    assert any("missing required key 'workload'" in m for m in msgs)
    assert any("missing required key 'data.categories'" in m for m in msgs)


def test_wrong_schema_version(tmp_path: Path) -> None:
    msgs = errors_for(tmp_path, example_text().replace("schema_version: 1", "schema_version: 3"))
    assert "unsupported schema_version 3" in msgs[0]


def test_version_2_states_sovereignty_as_a_mapping(tmp_path: Path) -> None:
    msgs = errors_for(tmp_path, example_text().replace("schema_version: 1", "schema_version: 2"))
    assert "schema_version 2 states sovereignty as a mapping" in msgs[0]
    assert "advisor migrate" in msgs[0]


def test_top_level_must_be_mapping(tmp_path: Path) -> None:
    assert "expected a profile mapping" in errors_for(tmp_path, "- a\n- b\n")[0]
