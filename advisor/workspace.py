"""Loading everything an evaluation needs from disk (the I/O edge).

The CLI asks for a :class:`Workspace`; the core functions receive its models.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Union

from advisor.cache import cached, yaml_files
from advisor.catalog.options import Jurisdictions, OptionCatalog, load_jurisdictions, load_options
from advisor.engine.durable import CompiledRuleset, compile_ruleset, remember_compiled
from advisor.resources import default_catalog_dir, default_rules_dir, default_templates_dir
from advisor.rules.library import RuleSet, load_ruleset


@dataclass(frozen=True)
class RulesChoice:
    """A user's rules folder: an overlay on the bundled library (``--rules``),
    or the whole library (``--rules-only``)."""

    path: str
    only: bool = False


RulesArg = Union[str, Path, RulesChoice, None]


@dataclass(frozen=True)
class Workspace:
    options: OptionCatalog
    jurisdictions: Jurisdictions
    ruleset: RuleSet
    rules_display: str
    catalog_dir: Path
    templates_dir: Path


def load_rules(rules: RulesArg, options: OptionCatalog) -> tuple[RuleSet, str]:
    """The ruleset and how findings name its source. A plain path is an
    overlay, like ``--rules``."""
    if rules is None:
        return load_ruleset(default_rules_dir(), options, shown="rules"), "rules"
    choice = rules if isinstance(rules, RulesChoice) else RulesChoice(str(rules))
    shown = choice.path.rstrip("/\\") or choice.path
    if choice.only:
        return load_ruleset(Path(choice.path), options, shown=shown), shown
    return (load_ruleset(Path(choice.path), options, base=default_rules_dir(), shown=shown),
            f"rules + {shown}")


def load_workspace(rules_dir: RulesArg = None,
                   catalog_dir: str | Path | None = None,
                   templates_dir: str | Path | None = None) -> Workspace:
    catalog = Path(catalog_dir) if catalog_dir else default_catalog_dir()

    def build() -> tuple[OptionCatalog, Jurisdictions, RuleSet, str, CompiledRuleset]:
        options = load_options(catalog)
        ruleset, display = load_rules(rules_dir, options)
        # the rules compiled for the engine are kept with them
        return options, load_jurisdictions(catalog), ruleset, display, compile_ruleset(ruleset)

    # loaded once per content (advisor.cache): every YAML file of the rules
    # folders and of the catalog folders (each overlays the bundled one) is an input
    user_rules = None
    if rules_dir is not None:
        user_rules = Path(rules_dir.path if isinstance(rules_dir, RulesChoice) else rules_dir)
    options, jurisdictions, ruleset, display, compiled = cached(
        "workspace", yaml_files(user_rules, default_rules_dir(), catalog, default_catalog_dir()),
        build, extra=f"{rules_dir!r}\0{catalog}")
    remember_compiled(ruleset, compiled)
    return Workspace(options, jurisdictions, ruleset, display, catalog,
                     Path(templates_dir) if templates_dir else default_templates_dir())
