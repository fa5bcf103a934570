"""Where the bundled rule library, templates and catalog live.

In the repository they are the top-level ``rules/``, ``templates/`` and
``catalog/`` folders; setup.cfg ships them inside the package as
``advisor._rules``, ``advisor._templates`` and ``advisor._catalog``, so an
installed advisor finds them without a checkout. When advisor is imported
from a source checkout (tests put the checkout first on sys.path), the
checkout's own folders are used, so a second checkout or worktree never reads
the data of whichever copy happens to be installed.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parent.parent


def _data_dir(package: str, folder: str) -> Path:
    if (_CHECKOUT / "setup.cfg").is_file() and (_CHECKOUT / folder).is_dir():
        return _CHECKOUT / folder
    return Path(str(resources.files(package)))


def default_rules_dir() -> Path:
    return _data_dir("advisor._rules", "rules")


def default_templates_dir() -> Path:
    return _data_dir("advisor._templates", "templates")


def default_catalog_dir() -> Path:
    return _data_dir("advisor._catalog", "catalog")


def catalog_file(catalog_dir: Path, name: str) -> Path:
    """A file of a user's catalog folder, or the bundled one when the folder
    does not have it: a --catalog folder need only hold what it overrides."""
    own = Path(catalog_dir) / name
    return own if own.exists() else default_catalog_dir() / name
