"""The content-keyed cache of loaded libraries, catalogs and validators (advisor.cache)."""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from advisor import cache
from advisor.resources import default_catalog_dir, default_rules_dir

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def fresh(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """An empty cache folder and no objects kept in memory."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("ADVISOR_CACHE_DIR", str(folder))
    monkeypatch.delenv("ADVISOR_NO_CACHE", raising=False)
    monkeypatch.setattr(cache, "_memory", type(cache._memory)())
    return folder


def _entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.pickle")) if folder.is_dir() else []


def _load_rules_dir(rules: Path):  # type: ignore[no-untyped-def]
    from advisor.workspace import load_workspace

    return load_workspace(rules)


def test_second_load_reads_the_cache_not_the_files(fresh, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from advisor import workspace

    first = workspace.load_workspace()
    assert len(_entries(fresh)) == 1
    cache._memory.clear()

    def refuse(*_a, **_k):  # type: ignore[no-untyped-def]
        raise AssertionError("rules were parsed again")

    monkeypatch.setattr(workspace, "load_ruleset", refuse)
    second = workspace.load_workspace()
    assert second.ruleset is not first.ruleset  # unpickled, not the same object
    assert [r.id for r in second.ruleset.rules] == [r.id for r in first.ruleset.rules]
    assert second.ruleset.sha256 == first.ruleset.sha256
    assert second.options == first.options


def test_same_process_gets_the_same_objects(fresh) -> None:  # type: ignore[no-untyped-def]
    from advisor.workspace import load_workspace

    assert load_workspace().ruleset is load_workspace().ruleset


def test_an_edited_rule_file_is_loaded_again(fresh, tmp_path) -> None:  # type: ignore[no-untyped-def]
    rules = tmp_path / "rules"
    shutil.copytree(default_rules_dir(), rules)
    before = _load_rules_dir(rules)
    target = rules / "general.yaml"
    text = target.read_text(encoding="utf-8")
    rule = before.ruleset.rules[[r.file for r in before.ruleset.rules].index(str(target))]
    target.write_text(text.replace(rule.spec.title, rule.spec.title + " (edited)", 1),
                      encoding="utf-8")
    cache._memory.clear()
    after = _load_rules_dir(rules)
    assert after.ruleset.get(rule.id).spec.title == rule.spec.title + " (edited)"
    assert after.ruleset.sha256 != before.ruleset.sha256
    assert len(_entries(fresh)) == 2


def test_an_error_is_not_cached(fresh, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from advisor.errors import InputError

    rules = tmp_path / "rules"
    shutil.copytree(default_rules_dir(), rules)
    (rules / "general.yaml").write_text("regime: x\nrules: [{id: BAD}]\n", encoding="utf-8")
    for _ in range(2):
        with pytest.raises(InputError):
            _load_rules_dir(rules)
    assert _entries(fresh) == []


def test_another_advisor_version_does_not_read_the_entry(fresh, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import advisor

    files = cache.yaml_files(default_catalog_dir())
    key = cache.content_key("x", files)
    monkeypatch.setattr(cache, "_fingerprint", None)
    monkeypatch.setattr(advisor, "__version__", advisor.__version__ + ".post1")
    assert cache.content_key("x", files) != key


def test_an_unwritable_folder_is_ignored(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("ADVISOR_CACHE_DIR", str(blocker / "cache"))
    monkeypatch.setattr(cache, "_memory", type(cache._memory)())
    assert cache.cached("t", [], lambda: 42) == 42


def test_a_corrupt_entry_is_rebuilt(fresh) -> None:  # type: ignore[no-untyped-def]
    assert cache.cached("t", [], lambda: [1, 2]) == [1, 2]
    (entry,) = _entries(fresh)
    entry.write_bytes(b"\x80\x05garbage")
    cache._memory.clear()
    assert cache.cached("t", [], lambda: [1, 2]) == [1, 2]
    assert pickle.loads(entry.read_bytes()) == [1, 2]


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_a_folder_others_can_write_is_not_read(fresh) -> None:  # type: ignore[no-untyped-def]
    cache.cached("t", [], lambda: "built")
    (entry,) = _entries(fresh)
    entry.write_bytes(pickle.dumps("planted"))
    cache._memory.clear()
    os.chmod(fresh, 0o777)
    assert cache.cached("t", [], lambda: "built") == "built"
    os.chmod(fresh, 0o700)
    cache._memory.clear()
    assert cache.cached("t", [], lambda: "built") == "planted"  # (the test's own plant)


def test_cache_can_be_turned_off(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ADVISOR_NO_CACHE", "1")
    assert cache.cache_dir() is None


def test_old_entries_are_pruned(fresh) -> None:  # type: ignore[no-untyped-def]
    for i in range(cache.KEEP + 5):
        cache.cached("t", [], lambda: i, extra=str(i))
    assert len(_entries(fresh)) == cache.KEEP


_CONCURRENT = """
import sys
from advisor.workspace import load_workspace
from advisor.costing import load_cost_catalog
ws = load_workspace()
cat = load_cost_catalog(None)
print(ws.ruleset.sha256, len(ws.ruleset.rules), len(cat.gpus))
"""


def test_concurrent_cold_runs_agree(tmp_path) -> None:
    """Several processes filling an empty cache at once all load the same
    library, and leave whole entries behind that a later run reads."""
    env = {**os.environ, "ADVISOR_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("ADVISOR_NO_CACHE", None)
    procs = [subprocess.Popen([sys.executable, "-c", _CONCURRENT], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(4)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), [e for _, e in outs]
    assert len({o for o, _ in outs}) == 1
    assert not list((tmp_path / "cache").glob(".*.tmp"))  # no half-written files left
    again = subprocess.run([sys.executable, "-c", _CONCURRENT], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and again.stdout == outs[0][0]


_VALIDATORS = """
from advisor.profile import load_profile
from advisor.profile import schema
from advisor import decision
lp = load_profile("examples/clinique-fr.yaml")
# models prepared from the cache are complete without pydantic building their
# nested models; models pydantic built itself would have been built as a whole
print(schema.Profile.__pydantic_complete__, decision.Decision.__pydantic_complete__,
      schema.Organisation.__pydantic_complete__, lp.profile.organisation.hq_country)
"""


def test_validators_come_from_the_cache_and_still_validate(tmp_path) -> None:
    env = {**os.environ, "ADVISOR_CACHE_DIR": str(tmp_path / "cache"),
           "PYDANTIC_DISABLE_PLUGINS": "__all__"}
    env.pop("ADVISOR_NO_CACHE", None)
    runs = [subprocess.run([sys.executable, "-c", _VALIDATORS], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=300) for _ in range(2)]
    assert [r.returncode for r in runs] == [0, 0], runs[1].stderr
    assert runs[1].stdout.split() == ["True", "True", "False", "FR"]
    profile = tmp_path / "bad.yaml"
    text = (ROOT / "examples" / "clinique-fr.yaml").read_text(encoding="utf-8")
    profile.write_text(text.replace("hq_country: FR", "hq_country: XX", 1), encoding="utf-8")
    bad = subprocess.run([sys.executable, "-m", "advisor", "validate", str(profile)], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "'XX' is not an ISO 3166" in bad.stderr, bad.stderr
