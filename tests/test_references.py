"""Catalog-aware validation, and a JSON Schema exactly as strict as the command line."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Iterator

import jsonschema
import pytest

from advisor.catalog.costdata import load_catalog
from advisor.cli import main
from advisor.errors import InputError
from advisor.profile import profile_from_data
from advisor.profile.jsonschema import profile_json_schema
from advisor.profile.references import reference_problems
from advisor.resources import default_rules_dir
from advisor.yamlload import Document, load_file
from tests.conftest import EXAMPLES

CLINIC = EXAMPLES / "clinique-fr.yaml"


def _bad_clinic(tmp_path: Path, **replace: str) -> Path:
    text = CLINIC.read_text()
    for old, new in replace.items():
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / "p.yaml"
    path.write_text(text)
    return path


def test_validate_and_evaluate_reject_unknown_catalog_references(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = _bad_clinic(tmp_path, **{"model: llama-3.1-70b": "model: llama3-70b",
                                   "api_model: gpt-4o": "api_model: gpt4o",
                                   "hq_country: FR": "hq_country: XX"})
    for command in (["validate", str(bad)], ["evaluate", str(bad)], ["size", str(bad)]):
        r = runner.invoke(main, command)
        assert r.exit_code == 2, (command, r.output)
        lines = r.stderr.strip().splitlines()
        # every problem at once, in file order, each at its line
        assert len(lines) == 3, lines
        assert "organisation.hq_country: 'XX' is not an ISO 3166-1" in lines[0]
        assert f"{bad}:29:10: workload.model: unknown model 'llama3-70b' (did you mean 'llama-3.1-70b'" in lines[1]
        assert f"{bad}:30:14: workload.api_model: unknown API model 'gpt4o' (did you mean 'gpt-4o'" in lines[2]
        assert "not costed" not in r.output.lower()


def test_catalog_references_follow_the_catalog_overlay(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    models = Path(load_catalog().path_of("models")).read_text().splitlines()
    first = models.index("  llama-3.1-70b:")
    last = next(i for i in range(first + 1, len(models))
                if models[i].startswith("  ") and not models[i].startswith("   "))
    # the same entry under a new id: the user's catalog adds a model
    block = ["  our-llama:"] + models[first + 1:last]
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "models.yaml").write_text("\n".join(models + block) + "\n")
    profile = _bad_clinic(tmp_path, **{"model: llama-3.1-70b": "model: our-llama"})
    assert runner.invoke(main, ["validate", str(profile)]).exit_code == 2
    r = runner.invoke(main, ["validate", str(profile), "--catalog", str(catalog)])
    assert r.exit_code == 0, r.stderr


def test_unknown_currency_has_a_did_you_mean(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = _bad_clinic(tmp_path, **{"currency: EUR": "currency: EUX"})
    r = runner.invoke(main, ["validate", str(bad)])
    assert r.exit_code == 2
    assert r.stderr.count("EUX") == 1 and "did you mean 'EUR'" in r.stderr


def test_reference_check_reads_the_catalog_not_a_list() -> None:
    doc = load_file(CLINIC, what="profile")
    catalog = load_catalog()
    assert reference_problems(doc, catalog) == []
    for path, value in ((("workload", "model"), "gpt-4o"), (("workload", "api_model"), "llama-3.1-70b"),
                        (("finance", "currency"), "XYZ")):
        data = copy.deepcopy(doc.data)
        data[path[0]][path[1]] = value
        found = reference_problems(Document(doc.file, data, doc.positions), catalog)
        assert [p.message.split(":")[0] for p in found] == [".".join(path)], (path, found)


# ------------------------------------------------------------ JSON Schema ----

def _string_leaves(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], bool]]:
    """Paths to every text value, and to every mapping key (flag True)."""
    if isinstance(node, dict):
        for k, v in node.items():
            if path and path[-1] == "subject_volumes":
                yield path + (k,), True
            yield from _string_leaves(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _string_leaves(v, path + (i,))
    elif isinstance(node, str):
        yield path, False


def _replace(data: Any, path: tuple[Any, ...], value: str, key: bool) -> Any:
    data = copy.deepcopy(data)
    target = data
    for part in path[:-1]:
        target = target[part]
    if key:
        target[value] = target.pop(path[-1])
    else:
        target[path[-1]] = value
    return data


def _cli_accepts(data: Any, catalog: Any) -> bool:
    doc = Document("p.yaml", data)
    try:
        profile_from_data(data, doc)
    except InputError:
        return False
    return not reference_problems(doc, catalog)


@pytest.mark.parametrize("name", ["clinique-fr", "bank-de-dora", "us-hospital-hipaa"])
def test_json_schema_rejects_exactly_what_the_cli_rejects(name: str) -> None:
    """Every text value and code key of the example, replaced with a bad and a
    good code (and a bad model), is accepted or rejected alike by the command
    line and by the published schema: a country field added later without its
    schema pattern fails here."""
    catalog = load_catalog()
    validator = jsonschema.Draft202012Validator(profile_json_schema(catalog))
    data = load_file(EXAMPLES / f"{name}.yaml", what="profile").data
    assert validator.is_valid(data) and _cli_accepts(data, catalog)
    checked = 0
    for path, key in _string_leaves(data):
        for value in ("XX", "US-ZZ", "DE", "US-CA", "EEA", "llama3-70b", "llama-3.1-8b"):
            mutated = _replace(data, path, value, key)
            cli = _cli_accepts(mutated, catalog)
            assert validator.is_valid(mutated) == cli, (
                path, value, "cli accepts" if cli else "cli rejects",
                "a field checked as an ISO 3166 code belongs in COUNTRY_FIELDS of "
                "advisor/profile/jsonschema.py")
            checked += 1
    assert checked > 100


def test_schema_command_prints_the_strict_schema(runner) -> None:  # type: ignore[no-untyped-def]
    r = runner.invoke(main, ["schema", "profile"])
    assert r.exit_code == 0
    schema = json.loads(r.output)
    assert "FR" in schema["$defs"]["CountryCode"]["anyOf"][0]["enum"]
    assert "llama-3.1-70b" in schema["$defs"]["Workload"]["properties"]["model"]["enum"]
    assert schema["$id"] == "urn:advisor:schema:profile:1"
    assert json.loads(runner.invoke(main, ["schema", "decision"]).output)["$id"] == \
        "urn:advisor:schema:decision:1"
    test_profile = load_file(default_rules_dir() / "test-profile.yaml", what="profile").data
    jsonschema.validate(test_profile, schema)
