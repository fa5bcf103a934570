"""Where the bundled rule library, templates and catalog live.

In the repository they are the top-level ``rules/``, ``templates/`` and
``catalog/`` folders; setup.cfg ships them inside the package as
``advisor._rules``, ``advisor._templates`` and ``advisor._catalog``, so the
same lookup works for an installed wheel and for an editable checkout.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def _package_dir(package: str) -> Path:
    return Path(str(resources.files(package)))


def default_rules_dir() -> Path:
    return _package_dir("advisor._rules")


def default_templates_dir() -> Path:
    return _package_dir("advisor._templates")


def default_catalog_dir() -> Path:
    return _package_dir("advisor._catalog")
