"""The terminal: a short summary on a TTY, Markdown when piped, help texts, Pango."""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import pty
import select
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest

from advisor.cli import main
from tests.conftest import EXAMPLES, ROOT

CLINIC = str(EXAMPLES / "clinique-fr.yaml")
AS_OF = ["--as-of", "2026-11-30"]


def _in_terminal(args: list[str], cwd: Path, timeout: float = 120) -> tuple[int, str]:
    """Run advisor with its standard output and error on a pseudo-terminal."""
    leader, follower = pty.openpty()
    env = {**os.environ, "COLUMNS": "100", "LINES": "50", "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen([sys.executable, "-m", "advisor", *args], cwd=cwd, stdin=follower,
                            stdout=follower, stderr=follower, env=env, close_fds=True)
    os.close(follower)
    chunks = []
    try:
        while True:
            ready, _, _ = select.select([leader], [], [], timeout)
            if not ready:
                raise AssertionError("advisor did not finish in time")
            try:
                data = os.read(leader, 65536)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(leader)
        code = proc.wait(timeout=timeout)
    return code, b"".join(chunks).decode("utf-8", "replace")


def test_summary_on_a_terminal_and_markdown_when_piped(tmp_path: Path) -> None:
    code, out = _in_terminal(["evaluate", CLINIC, *AS_OF], ROOT)
    assert code == 0, out
    assert "\x1b[" in out  # coloured
    plain = click.unstyle(out)
    assert "LLM deployment advisory: Clinique Exemple" in plain
    assert "Recommended: LLM API with contractual regional residency." in plain
    assert "government_cloud: French health data collected in care must be hosted" in plain
    assert "Full briefing: advisor evaluate" in plain
    assert len(plain.splitlines()) < 60  # not the 400-line briefing
    assert "## Controls to put in place" not in plain
    piped = subprocess.run([sys.executable, "-m", "advisor", "evaluate", CLINIC, *AS_OF],
                           cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert piped.returncode == 0
    assert piped.stdout.startswith("# LLM deployment advisory") and "\x1b[" not in piped.stdout


def test_with_output_file_the_terminal_gets_the_summary(tmp_path: Path) -> None:
    out = tmp_path / "report.md"
    code, text = _in_terminal(["evaluate", CLINIC, *AS_OF, "-o", str(out)], ROOT)
    assert code == 0, text
    assert out.read_text().startswith("# LLM deployment advisory")
    assert f"Full briefing (markdown): {out}" in click.unstyle(text).replace("\r\n", "\n") \
        .replace("\n  ", " ")


def test_summary_format_is_plain_text_when_not_a_terminal(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    r = runner.invoke(main, ["evaluate", CLINIC, "--format", "summary", *AS_OF])
    assert r.exit_code == 0 and "\x1b[" not in r.output
    lines = r.output.splitlines()
    assert lines[0] == "LLM deployment advisory: Clinique Exemple"
    row = next(line for line in lines if line.startswith("regional_api "))
    assert row.split()[:4] == ["regional_api", "conditional", "1", "EUR"]
    assert "Excluded:" in lines and all(line == line.rstrip() for line in lines)
    r = runner.invoke(main, ["evaluate", str(EXAMPLES / "hr-emotion-prohibited.yaml"),
                             "--format", "summary", *AS_OF])
    assert r.exit_code == 1
    assert "No deployment option is usable for this profile." in r.output
    assert "AIA-PROHIBITED-EMOTION-RECOGNITION" in r.output.replace("\n  ", " ")
    target = tmp_path / "summary.txt"
    r = runner.invoke(main, ["evaluate", CLINIC, "--format", "summary", "-o", str(target), *AS_OF])
    assert r.exit_code == 0 and r.output == ""
    assert target.read_text().startswith("LLM deployment advisory: Clinique Exemple\n")


class _NoPango(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Makes 'import weasyprint' fail as it does without the Pango library."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name == "weasyprint":
            return importlib.machinery.ModuleSpec(name, self)
        return None

    def create_module(self, spec: Any) -> None:
        return None

    def exec_module(self, module: Any) -> None:
        raise OSError("cannot load library 'libgobject-2.0-0': error 0x7e")


def test_missing_pango_is_a_usage_error_with_the_install_line(runner, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [m for m in sys.modules if m == "weasyprint" or m.startswith("weasyprint.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(sys, "meta_path", [_NoPango(), *sys.meta_path])
    for fmt in ("pdf", "all"):
        r = runner.invoke(main, ["evaluate", CLINIC, "--format", fmt, "-o",
                                 str(tmp_path / f"out-{fmt}"), *AS_OF])
        assert r.exit_code == 2, (fmt, r.output, r.stderr)
        assert "needs the Pango library" in r.stderr
        assert "sudo apt install libpango-1.0-0" in r.stderr and "brew install pango" in r.stderr
        assert "mingw-w64-x86_64-pango" in r.stderr
        assert "internal error" not in r.stderr
    assert not list(tmp_path.iterdir())


def _commands(group: click.Group, prefix: str = "advisor") -> list[tuple[str, click.Command]]:
    out: list[tuple[str, click.Command]] = []
    for name, cmd in sorted(group.commands.items()):
        out.append((f"{prefix} {name}", cmd))
        if isinstance(cmd, click.Group):
            out += _commands(cmd, f"{prefix} {name}")
    return out


def test_every_command_has_complete_help(runner) -> None:  # type: ignore[no-untyped-def]
    for args in ([], ["rules"]):
        listing = runner.invoke(main, [*args, "--help"]).output.split("Commands:")[1]
        assert "..." not in listing, listing  # no summary cut mid-sentence
    for name, cmd in _commands(main):
        assert cmd.help and cmd.help.strip().endswith((".", ")")), name
        for param in cmd.params:
            if isinstance(param, click.Option) and not param.hidden and "--help" not in param.opts:
                assert param.help and param.help.rstrip().endswith((".", ")")), (name, param.opts)
    r = runner.invoke(main, ["rules", "list", "--help"])
    assert "grouped by regime" not in r.output
    r = runner.invoke(main, ["size", "--help"])
    assert "p99" in r.output and "p95" not in r.output
