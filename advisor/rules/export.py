"""``advisor rules export``: the bundled rule library, copied out to be edited.

After ``pip install`` the library lives inside the package; this puts a copy
where a compliance officer can edit it and pass it back with ``--rules``.
Nothing is overwritten without ``--force``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from advisor.errors import InputError, Problem, did_you_mean
from advisor.resources import default_rules_dir
from advisor.rules.library import CONTROLS_FILE, TEST_PROFILE_FILE, ruleset_files


def export_rules(directory: Path, names: list[str], *, force: bool = False) -> list[Path]:
    """Copy the named bundled files (``gdpr`` or ``gdpr.yaml``; all when none
    are named) into ``directory``; return the files written."""
    source = default_rules_dir()
    rule_files = {p.name: p for p in ruleset_files(source)}
    support = {n: source / n for n in (CONTROLS_FILE, TEST_PROFILE_FILE)}
    available = {**rule_files, **support}
    problems: list[Problem] = []
    chosen: list[Path] = []
    if not names:
        chosen = list(rule_files.values()) + list(support.values())
    for name in names:
        file = name if name.endswith(".yaml") else f"{name}.yaml"
        if file in available:
            chosen.append(available[file])
        else:
            problems.append(Problem(name, None, None, "no such file in the bundled rule library",
                                    did_you_mean(file, available) or
                                    "see 'advisor rules list' for the file names"))
    if directory.exists() and not directory.is_dir():
        problems.append(Problem(str(directory), None, None, "exists and is not a folder"))
    elif not directory.parent.exists():
        problems.append(Problem(str(directory), None, None,
                                f"folder {directory.parent} does not exist"))
    elif not force:
        problems += [Problem(str(directory / p.name), None, None, "already exists",
                             "give --force to overwrite it")
                     for p in chosen if (directory / p.name).exists()]
    if problems:
        raise InputError(problems)
    directory.mkdir(exist_ok=True)
    written = []
    for p in chosen:
        try:
            shutil.copyfile(p, directory / p.name)
        except OSError as exc:
            raise InputError.single(str(directory / p.name),
                                    f"cannot write: {exc.strerror or exc}") from None
        written.append(directory / p.name)
    return written
