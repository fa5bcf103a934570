"""Shared fixtures: the bundled workspace, example profiles, a CLI runner."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from advisor.workspace import Workspace, load_workspace

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
AS_OF = dt.date(2026, 11, 30)

# The tests (and the advisor processes they start) use a cache folder of their
# own (advisor.cache), empty at the start of each session, never the user's.
if "ADVISOR_CACHE_DIR" not in os.environ:
    _CACHE = tempfile.mkdtemp(prefix="advisor-test-cache-")
    os.environ["ADVISOR_CACHE_DIR"] = _CACHE

    def pytest_unconfigure() -> None:
        shutil.rmtree(_CACHE, ignore_errors=True)


@pytest.fixture(scope="session")
def workspace() -> Workspace:
    return load_workspace()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def example_paths() -> list[Path]:
    return sorted(EXAMPLES.glob("*.yaml"))
