"""A per-catalog memo for the sizing model.

Sizing is a pure function of the catalog and its arguments, and the cost engine asks the
same questions for every option, year and Monte Carlo bound of a profile (and a portfolio
asks them again for every profile). Answers are kept on the catalog object they were
computed from, so they live exactly as long as it does, and the memo is dropped wholesale
past ``LIMIT`` entries so a long-running process stays bounded.
"""

from __future__ import annotations

from typing import Any

from advisor.catalog.costdata import Catalog

#: Entries a catalog's sizing memo may hold before it is dropped.
LIMIT = 4096


def memo(catalog: Catalog) -> dict[Any, Any]:
    """The catalog's sizing memo (created on first use)."""
    store: dict[Any, Any] | None = vars(catalog).get("_sizing_memo")
    if store is None or len(store) > LIMIT:
        store = vars(catalog)["_sizing_memo"] = {}
    return store


def parameters(catalog: Catalog) -> dict[str, float]:
    """Every sizing parameter of catalog/sizing.yaml as a plain float (read once per catalog)."""
    store = memo(catalog)
    values: dict[str, float] | None = store.get("parameters")
    if values is None:
        values = store["parameters"] = {name: item.value for name, item in catalog.sizing.items()}
    return values


def clear(catalog: Catalog) -> None:
    """Forget everything memoised for ``catalog`` (benchmarks measure the cold path with it)."""
    vars(catalog).pop("_sizing_memo", None)
