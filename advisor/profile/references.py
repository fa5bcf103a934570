"""A profile's references into the catalog: the model, the API product, the currency.

The profile schema alone cannot know which models or API products exist: that
is catalog data, and a ``--catalog`` folder may add to it. Checked here, both
by ``advisor validate`` and ``advisor evaluate``, so a misspelt model is a bad
input (exit 2, with a did-you-mean) rather than a silent "not costed" on every
option of the briefing.

The check reads the raw document, not the validated profile, so it reports
alongside the schema's own problems (one round of fixes, not two).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterable

from advisor.errors import Problem, did_you_mean, one_of
from advisor.yamlload import Document

if TYPE_CHECKING:
    from advisor.catalog.costdata import Catalog


def _text_at(data: Any, *path: str) -> str | None:
    for part in path:
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data if isinstance(data, str) and data else None


def _hint(value: str, known: Iterable[str], catalog_file: str) -> str:
    names = sorted(set(known))
    return (did_you_mean(value, names) or one_of(names, limit=8)) + \
        f" catalog/{catalog_file} lists them; a --catalog folder can add one"


def reference_problems(doc: Document, catalog: "Catalog") -> list[Problem]:
    """Every catalog reference of the profile document that the catalog lacks."""
    data = doc.data
    problems: list[Problem] = []

    def check(path: tuple[str, ...], known: Callable[[], Iterable[str]], what: str,
              catalog_file: str) -> None:
        value = _text_at(data, *path)
        if value is None:
            return
        names = list(known())
        if value in names:
            return
        problems.append(doc.problem(path, f"{'.'.join(path)}: unknown {what} '{value}'",
                                    _hint(value, names, catalog_file)))

    check(("workload", "model"), lambda: catalog.models, "model", "models.yaml")
    offers = catalog.api_offers
    # an API product is named by its offer id or by the provider's model name
    check(("workload", "api_model"),
          lambda: list(offers) + [o.model for o in offers.values()],
          "API model", "api_offers.yaml")
    check(("finance", "currency"), lambda: catalog.fx.rates_per_eur, "currency", "fx.yaml")
    return problems
