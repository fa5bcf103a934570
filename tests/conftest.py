"""Shared fixtures: the bundled workspace, example profiles, a CLI runner."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner

from advisor.workspace import Workspace, load_workspace

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
AS_OF = dt.date(2026, 11, 30)


@pytest.fixture(scope="session")
def workspace() -> Workspace:
    return load_workspace()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def example_paths() -> list[Path]:
    return sorted(EXAMPLES.glob("*.yaml"))
