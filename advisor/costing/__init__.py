"""Cost ledgers, uncertainty and ranking of the usable deployment options.

Pure functions over a loaded :class:`~advisor.sizing.catalog.Catalog` and a
profile: no file access, no clock. See docs/costs.md for the method.
"""

from __future__ import annotations

from advisor.costing.ledger import Component, CostUnknown, Ledger
from advisor.costing.rank import DEFAULT_DRAWS, DEFAULT_SEED, rank_decision

__all__ = ["Component", "CostUnknown", "DEFAULT_DRAWS", "DEFAULT_SEED", "Ledger", "load_cost_catalog",
           "rank_decision"]


def load_cost_catalog(directory: str | None = None):  # type: ignore[no-untyped-def]
    """The catalog with every section the cost engine reads loaded (the I/O edge).

    Loading up front keeps :func:`rank_decision` free of file access and reports
    every catalog problem at once.
    """
    from advisor.cache import cached, yaml_files
    from advisor.catalog.costdata import Catalog, load_catalog
    from advisor.resources import default_catalog_dir

    catalog = load_catalog(directory)  # checks the folder; reads nothing yet

    def build() -> Catalog:
        catalog.validate_all()
        return catalog

    # loaded once per content of the folders (advisor.cache)
    return cached("cost-catalog", yaml_files(catalog.directory, default_catalog_dir()), build,
                  extra=str(catalog.directory))
