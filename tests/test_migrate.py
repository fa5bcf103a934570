"""advisor migrate: a version-1 profile rewritten as version 2 decides the same."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from advisor.cli import main
from advisor.decision import evaluate
from advisor.profile import load_profile
from advisor.profile.migrate import migrate_text
from tests.conftest import AS_OF, EXAMPLES


def test_every_v1_example_migrates_and_decides_the_same(workspace, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    migrated = 0
    for path in sorted(EXAMPLES.glob("*.yaml")):
        before = load_profile(path)
        if before.profile.schema_version != 1:
            continue
        text, changes = migrate_text(path.read_text(), str(path))
        assert changes and changes[0] == "schema_version: 1 -> 2"
        out = tmp_path / path.name
        out.write_text(text)
        after = load_profile(out)
        assert after.profile.schema_version == 2
        assert "# " in text  # comments survive
        d1 = evaluate(before.profile, workspace.ruleset, workspace.options, workspace.jurisdictions,
                      on=AS_OF, profile_sha256=before.sha256, engine="reference")
        d2 = evaluate(after.profile, workspace.ruleset, workspace.options, workspace.jurisdictions,
                      on=AS_OF, profile_sha256=after.sha256, engine="reference")
        assert [(o.id, o.status) for o in d1.options] == [(o.id, o.status) for o in d2.options], path
        migrated += 1
    assert migrated >= 10


def test_migrate_refuses_to_overwrite_its_input(tmp_path: Path) -> None:
    src = tmp_path / "p.yaml"
    src.write_text((EXAMPLES / "clinique-fr.yaml").read_text())
    r = CliRunner().invoke(main, ["migrate", str(src), "-o", str(src)])
    assert r.exit_code == 2 and "refusing to overwrite" in r.stderr
    assert src.read_text() == (EXAMPLES / "clinique-fr.yaml").read_text()
    r = CliRunner().invoke(main, ["migrate", str(src), "-o", str(tmp_path / "v2.yaml")])
    assert r.exit_code == 0 and "schema_version: 2" in (tmp_path / "v2.yaml").read_text()
