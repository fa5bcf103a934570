"""Loading everything an evaluation needs from disk (the I/O edge).

The CLI asks for a :class:`Workspace`; the core functions receive its models.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from advisor.catalog.options import Jurisdictions, OptionCatalog, load_jurisdictions, load_options
from advisor.resources import default_catalog_dir, default_rules_dir, default_templates_dir
from advisor.rules.library import RuleSet, load_ruleset


@dataclass(frozen=True)
class Workspace:
    options: OptionCatalog
    jurisdictions: Jurisdictions
    ruleset: RuleSet
    rules_display: str
    catalog_dir: Path
    templates_dir: Path


def load_workspace(rules_dir: str | Path | None = None,
                   catalog_dir: str | Path | None = None,
                   templates_dir: str | Path | None = None) -> Workspace:
    catalog = Path(catalog_dir) if catalog_dir else default_catalog_dir()
    rules = Path(rules_dir) if rules_dir else default_rules_dir()
    options = load_options(catalog)
    jurisdictions = load_jurisdictions(catalog)
    ruleset = load_ruleset(rules, options)
    return Workspace(options, jurisdictions, ruleset,
                     "rules" if rules_dir is None else str(rules_dir), catalog,
                     Path(templates_dir) if templates_dir else default_templates_dir())
