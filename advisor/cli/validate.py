"""``advisor validate``: check any mix of profiles, rule files, rule folders and
catalog files or folders, collecting every problem rather than stopping at
the first.

What a file is comes from its name and content: ``schema_version`` makes a
profile, ``rules`` a rule file, ``controls`` a controls file, ``waivers`` or
``controls_in_place`` an evidence file; the catalog's
file names (options.yaml, opex.yaml, ...) make catalog files. A folder with a
``controls.yaml`` or only rule files is a rules folder (checked as an overlay
on the bundled library, or on --rules-only); a folder with ``options.yaml`` or
other catalog files is a catalog; any other folder is checked file by file.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import click

from advisor.cli.common import catalog_option, guarded, rules_option
from advisor.errors import InputError, Problem
from advisor.yamlload import load_file

if TYPE_CHECKING:
    from advisor.workspace import RulesChoice

#: catalog files checked by the option/jurisdiction/trade-off loaders
_OPTION_FILES = ("options.yaml", "jurisdictions.yaml", "tradeoffs.yaml")
#: catalog files checked by the sizing and cost catalog
_SIZING_FILES = ("models.yaml", "gpus.yaml", "servers.yaml", "cloud_gpu_offers.yaml",
                 "api_offers.yaml", "electricity.yaml", "opex.yaml", "fx.yaml", "sizing.yaml")


def _is_catalog_dir(path: Path) -> bool:
    return any((path / n).exists() for n in _OPTION_FILES + _SIZING_FILES)


def _is_rule_file(path: Path) -> bool:
    try:
        data = load_file(path, what="file").data
    except InputError:
        return False
    return isinstance(data, dict) and "rules" in data and "schema_version" not in data


def file_kind(path: Path) -> str:
    if path.is_dir():
        if (path / "controls.yaml").exists() or (path / "test-profile.yaml").exists():
            return "rules folder"
        if _is_catalog_dir(path):
            return "catalog folder"
        inside = sorted(path.glob("*.yaml"))
        # a folder of rule files only is an overlay: checked as one library
        return "rules folder" if inside and all(_is_rule_file(p) for p in inside) else "folder"
    if path.name in _OPTION_FILES + _SIZING_FILES:
        return "catalog file"
    data = load_file(path, what="file").data
    if isinstance(data, dict) and "schema_version" in data:
        return "profile"
    if isinstance(data, dict) and "rules" in data:
        return "rule file"
    if isinstance(data, dict) and "controls" in data:
        return "controls file"
    if isinstance(data, dict) and ("controls_in_place" in data or "waivers" in data):
        return "evidence file"
    return "unknown"


def _check_catalog(folder: Path) -> None:
    """Load every catalog file of ``folder`` (bundled files fill the gaps)."""
    from advisor.catalog.options import load_jurisdictions, load_options
    from advisor.report.briefing import load_tradeoffs
    from advisor.catalog.costdata import load_catalog

    problems: list[Problem] = []
    loaders: list[Callable[[], Any]] = [
        lambda: load_options(folder), lambda: load_jurisdictions(folder),
        lambda: load_tradeoffs(folder), lambda: load_catalog(folder).validate_all()]
    for load in loaders:
        try:
            load()
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)


def _in_scratch(path: Path, target_name: str, support: list[Path],
                check: Callable[[Path], object]) -> None:
    """Check one file in a scratch folder beside the files it needs, reporting
    problems against the original path."""
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        for s in support:
            if s.exists():
                shutil.copy(s, scratch / s.name)
        shutil.copy(path, scratch / target_name)
        try:
            check(scratch)
        except InputError as exc:
            raise InputError([Problem(str(path) if Path(p.file).parent == scratch else p.file,
                                      p.line, p.column, p.message, p.hint)
                              for p in exc.problems]) from None


def _check_one(path: Path, kind: str, rules_dir: "RulesChoice | None",
               catalog_dir: str | None) -> None:
    from advisor.catalog.options import load_options
    from advisor.profile import load_profile
    from advisor.resources import default_catalog_dir, default_rules_dir
    from advisor.rules.library import CONTROLS_FILE, TEST_PROFILE_FILE, load_controls, load_ruleset

    catalog = Path(catalog_dir) if catalog_dir else default_catalog_dir()
    # the library a rules folder or rule file is laid over: --rules-only, else the bundled one
    base = Path(rules_dir.path) if rules_dir and rules_dir.only else default_rules_dir()
    if kind == "profile":
        from advisor.catalog.costdata import load_catalog

        load_profile(path, catalog=load_catalog(catalog_dir))
    elif kind == "rules folder":
        load_ruleset(path, load_options(catalog), base=base)
    elif kind == "catalog folder":
        _check_catalog(path)
    elif kind == "catalog file":
        _in_scratch(path, path.name, [], _check_catalog)
    elif kind == "controls file":
        load_controls(path)
    elif kind == "evidence file":
        # checked against the rule library it will be used with (--rules, or the bundled one)
        from advisor.evidence import load_evidence
        from advisor.workspace import load_workspace

        ws = load_workspace(rules_dir, catalog_dir)
        load_evidence(path, ws.ruleset, ws.options)
    elif kind == "rule file":
        # a rule file is checked as an overlay of one file, with the controls
        # and test profile of its own folder (or of a --rules overlay) if any
        own = [path.parent / CONTROLS_FILE, path.parent / TEST_PROFILE_FILE]
        if rules_dir and not rules_dir.only and not own[0].exists():
            own = [Path(rules_dir.path) / CONTROLS_FILE, Path(rules_dir.path) / TEST_PROFILE_FILE]
        _in_scratch(path, path.name, [p for p in own if p != path],
                    lambda d: load_ruleset(d, load_options(catalog), base=base))
    else:
        raise InputError.single(str(path), "not a profile, rule file, controls file, evidence "
                                           "file or catalog file",
                                hint="a profile starts with 'schema_version: 1', a rule file "
                                     "has 'rules:'")


def validate_paths(paths: list[str], rules_dir: "RulesChoice | None",
                   catalog_dir: str | None) -> tuple[list[Problem], list[str]]:
    problems: list[Problem] = []
    checked: list[str] = []
    queue = [Path(p) for p in paths]
    while queue:
        path = queue.pop(0)
        try:
            kind = file_kind(path) if path.exists() else "profile"
            if kind == "folder":
                inside = sorted(path.glob("*.yaml")) + sorted(path.glob("*.yml"))
                if not inside:
                    raise InputError.single(str(path), "folder holds no YAML files")
                queue = inside + queue
                continue
            _check_one(path, kind, rules_dir, catalog_dir)
            checked.append(f"ok: {path} ({kind})")
        except InputError as exc:
            problems.extend(exc.problems)
    return problems, checked


@click.command(short_help="Check profiles, rule files and catalogs.")
@click.argument("files", nargs=-1, required=True, type=click.Path())
@rules_option
@catalog_option
@guarded
def validate(files: tuple[str, ...], rules_dir: "RulesChoice | None",
             catalog_dir: str | None) -> None:
    """Check profiles, rule files or rule folders; report every error."""
    problems, checked = validate_paths(list(files), rules_dir, catalog_dir)
    for line in checked:
        click.echo(line)
    if problems:
        raise InputError(problems)
