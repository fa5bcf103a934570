"""``advisor validate``: check any mix of profiles, rule files and rule folders,
collecting every problem rather than stopping at the first."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from advisor.errors import InputError, Problem
from advisor.yamlload import load_file


def _kind(path: Path) -> str:
    if path.is_dir():
        return "rules folder"
    doc = load_file(path, what="file")
    data = doc.data
    if isinstance(data, dict) and "rules" in data:
        return "rule file"
    if isinstance(data, dict) and "controls" in data:
        return "controls file"
    return "profile"


def validate_paths(paths: list[str], rules_dir: str | None,
                   catalog_dir: str | None) -> tuple[list[Problem], list[str]]:
    from advisor.options import load_options
    from advisor.profile import load_profile
    from advisor.resources import default_catalog_dir, default_rules_dir
    from advisor.rules import CONTROLS_FILE, TEST_PROFILE_FILE, load_ruleset

    problems: list[Problem] = []
    checked: list[str] = []
    options = None
    for name in paths:
        path = Path(name)
        try:
            kind = _kind(path) if path.exists() else "profile"
            if kind == "profile":
                load_profile(path)
            else:
                if options is None:
                    options = load_options(Path(catalog_dir) if catalog_dir
                                           else default_catalog_dir())
                if kind == "rules folder":
                    load_ruleset(path, options)
                else:
                    # check one file in the context of its library's controls and
                    # test profile: copy it beside them into a scratch folder
                    base = Path(rules_dir) if rules_dir else (
                        path.parent if (path.parent / CONTROLS_FILE).exists()
                        else default_rules_dir())
                    with tempfile.TemporaryDirectory() as tmp:
                        for support in (CONTROLS_FILE, TEST_PROFILE_FILE):
                            if (base / support).exists():
                                shutil.copy(base / support, Path(tmp) / support)
                        shutil.copy(path, Path(tmp) / (path.name if kind == "rule file"
                                                       else CONTROLS_FILE))
                        load_ruleset_one(Path(tmp), path, options, load_ruleset)
            checked.append(f"ok: {name} ({kind})")
        except InputError as exc:
            problems.extend(exc.problems)
    return problems, checked


def load_ruleset_one(tmp: Path, original: Path, options, load_ruleset) -> None:  # type: ignore[no-untyped-def]
    """Load a scratch folder, reporting problems against the original path."""
    try:
        load_ruleset(tmp, options)
    except InputError as exc:
        fixed = []
        for p in exc.problems:
            file = str(original) if Path(p.file).parent == tmp else p.file
            fixed.append(Problem(file, p.line, p.column, p.message, p.hint))
        raise InputError(fixed) from None
