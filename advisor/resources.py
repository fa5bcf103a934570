"""Where the bundled rule library, templates and catalog live.

In the repository they are the top-level ``rules/``, ``templates/`` and
``catalog/`` folders; setup.cfg ships them inside the package as
``advisor._rules``, ``advisor._templates`` and ``advisor._catalog``, so an
installed advisor finds them without a checkout. When advisor is imported
straight from a source checkout (tests put the checkout first on sys.path),
those subpackages do not exist and the top-level folders are used instead.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parent.parent


def _data_dir(package: str, folder: str) -> Path:
    try:
        return Path(str(resources.files(package)))
    except ModuleNotFoundError:
        return _CHECKOUT / folder


def default_rules_dir() -> Path:
    return _data_dir("advisor._rules", "rules")


def default_templates_dir() -> Path:
    return _data_dir("advisor._templates", "templates")


def default_catalog_dir() -> Path:
    return _data_dir("advisor._catalog", "catalog")
