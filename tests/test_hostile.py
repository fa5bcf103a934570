"""Hostile input, hostile templates, precious files (issue 10).

Each case an attacker or a careless user tried: nothing leaks, nothing is
overwritten, every bad input is exit 2 with a file:line message and no
traceback. docs/security.md states the guarantees these tests hold.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from advisor.cli import main
from advisor.resources import default_rules_dir, default_templates_dir
from tests.conftest import EXAMPLES

CLINIC = EXAMPLES / "clinique-fr.yaml"
AS_OF = ["--as-of", "2026-11-30"]


def run(runner, *args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    result = runner.invoke(main, [str(a) for a in args], input=input)
    assert "Traceback" not in (result.output + result.stderr)
    assert result.exit_code != 3, result.stderr
    return result


def bad(runner, *args: str, input: str | None = None) -> str:  # type: ignore[no-untyped-def]
    """Run a command that must fail with exit 2; return its stderr."""
    result = run(runner, *args, input=input)
    assert result.exit_code == 2, (result.exit_code, result.output, result.stderr)
    assert result.stderr.startswith("error: "), result.stderr
    return str(result.stderr)


def profile(tmp_path: Path, old: str = "", new: str = "", name: str = "p.yaml") -> Path:
    text = CLINIC.read_text(encoding="utf-8")
    if old:
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def fake_charts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Charts take seconds to draw and are tested elsewhere (test_reports)."""
    from advisor.report import briefing, chartworker

    def charts(jobs: list) -> dict:  # type: ignore[type-arg]
        return {name: b"\x89PNG\r\n\x1a\n" if "png" in args else "<svg/>"
                for name, _, args in jobs}

    class Worker:
        def __init__(self) -> None:
            self.draw = charts

        def prefetch(self, jobs: object) -> None:
            pass

        def close(self) -> None:
            pass

    class Pdf:  # lays out in-process, through render.render_pdf (which tests replace)
        def __init__(self, css: object) -> None:
            pass

        def submit(self, html: str, evaluated_on: object) -> None:
            pass

        def result(self, html: str, evaluated_on: object) -> bytes:
            import types

            from advisor.report import render

            return render.render_pdf(html, types.SimpleNamespace(evaluated_on=evaluated_on))  # type: ignore[arg-type]

        def close(self) -> None:
            pass

    monkeypatch.setattr(briefing, "run_chart_jobs", charts)
    monkeypatch.setattr(chartworker, "ChartWorker", Worker)
    if hasattr(chartworker, "PdfWorker"):
        monkeypatch.setattr(chartworker, "PdfWorker", Pdf)


def fake_pdf(monkeypatch: pytest.MonkeyPatch) -> None:
    """PDF layout takes seconds and is tested elsewhere; these tests are about files."""
    from advisor.report import render

    fake_charts(monkeypatch)
    monkeypatch.setattr(render, "render_pdf", lambda *a, **k: b"%PDF-1.7 test\n")


# ------------------------------------------------------------- templates ----

@pytest.fixture
def templates(tmp_path: Path) -> Path:
    folder = tmp_path / "tpl"
    shutil.copytree(default_templates_dir(), folder, ignore=shutil.ignore_patterns("__*"))
    return folder


def with_line(folder: Path, name: str, line: str, after: str | None = None) -> None:
    path = folder / name
    text = path.read_text(encoding="utf-8")
    text = text.replace(after, after + line, 1) if after else line + "\n" + text
    path.write_text(text, encoding="utf-8")


def test_template_cannot_include_a_file_through_a_symlink(runner, templates: Path,  # type: ignore[no-untyped-def]
                                                         tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-42")
    (templates / "passwd.txt").symlink_to(secret)
    with_line(templates, "report.md.j2", '{% include "passwd.txt" %}')
    err = bad(runner, "evaluate", CLINIC, "--templates", templates, *AS_OF)
    assert "passwd.txt: is a symbolic link" in err and "TOP-SECRET" not in err


def test_template_cannot_leave_its_folder(runner, templates: Path) -> None:  # type: ignore[no-untyped-def]
    with_line(templates, "report.md.j2", '{% include "../../../../../etc/hostname" %}')
    err = bad(runner, "evaluate", CLINIC, "--templates", templates, *AS_OF)
    assert "not in the template folder" in err
    linked = templates.parent / "linked"
    linked.mkdir()
    (templates / "sub").symlink_to(linked)
    (linked / "x.txt").write_text("outside")
    with_line(templates, "report.md.j2", '{% include "sub/x.txt" %}')
    assert "is a symbolic link" in bad(runner, "evaluate", CLINIC, "--templates", templates, *AS_OF)


@pytest.mark.parametrize("markup", [
    '<link rel="attachment" href="file:///etc/passwd">',
    '<img src="http://127.0.0.1:9/leak.png?org=x">',
    '<link rel="stylesheet" href="http://127.0.0.1:9/s.css">',
    '<embed src="file:///etc/hostname">',
    '<div style="background: url(http://127.0.0.1:9/bg.png)">x</div>',
    '<style>@import "file:///etc/hostname";</style>',
])
def test_pdf_fetches_nothing(markup: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import datetime as dt
    import types
    import urllib.request

    from advisor.errors import InputError
    from advisor.report.render import render_pdf

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("advisor tried to fetch a URL")

    monkeypatch.setattr(urllib.request.OpenerDirector, "open", no_network)
    decision = types.SimpleNamespace(evaluated_on=dt.date(2026, 11, 30))
    html = f"<html><head></head><body><p>x</p>{markup}</body></html>"
    with pytest.raises(InputError, match="fetches nothing") as exc:
        render_pdf(html, decision)  # type: ignore[arg-type]
    assert "report.html.j2" in str(exc.value)
    inline = ('<img src="data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAf'
              'FcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==">')
    assert render_pdf(f"<html><body>{inline}</body></html>", decision)[:4] == b"%PDF"  # type: ignore[arg-type]


def test_user_template_pdf_names_the_template_and_writes_nothing(runner, templates: Path,  # type: ignore[no-untyped-def]
                                                                 tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    fake_charts(monkeypatch)
    (templates / "report.html.j2").write_text(
        '<html><head></head><body>{{ b.view.title }}'
        '<link rel="attachment" href="file:///etc/passwd"></body></html>')
    out = tmp_path / "r.pdf"
    err = bad(runner, "evaluate", CLINIC, "--templates", templates, "--format", "pdf",
              "-o", out, *AS_OF)
    assert "report.html.j2: the report refers to file:///etc/passwd" in err
    assert not out.exists()


def test_html_report_loads_nothing(tmp_path: Path) -> None:
    from advisor.report.sandbox import add_csp

    for html in ("<!DOCTYPE html><html><head><title>t</title></head><body></body></html>",
                 "<!doctype html><p>no head</p>", "<p>bare</p>"):
        out = add_csp(html)
        assert 'http-equiv="Content-Security-Policy"' in out and "default-src 'none'" in out
        assert out.lower().index("content-security-policy") < out.index("<p>") \
            if "<p>" in out else True
    bundled = (default_templates_dir() / "report.html.j2").read_text()
    assert "<script" not in bundled and "http://" not in bundled.replace("http://www.w3.org", "")


def test_template_cannot_change_the_decision(runner, templates: Path, tmp_path: Path,  # type: ignore[no-untyped-def]
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    fake_pdf(monkeypatch)
    attempts = [
        '{% set _ = v.decision.recommendation.update({"option": "consumer_api"}) %}',
        '{% set _ = v.decision.options.append(v.decision.options[0]) %}',
        '{% set _ = v.decision.options[0].findings.clear() %}',
    ]
    for attempt in attempts:
        with_line(templates, "report.md.j2", attempt)
        assert "refused by the sandbox" in bad(runner, "evaluate", CLINIC, "--templates",
                                               templates, *AS_OF)
        shutil.copy(default_templates_dir() / "report.md.j2", templates / "report.md.j2")
    # --format all: the HTML template runs right after the JSON is rendered
    with_line(templates, "report.html.j2",
              '{% set _ = b.view.decision.recommendation.update({"option": "consumer_api"}) %}')
    err = bad(runner, "evaluate", CLINIC, "--templates", templates, "--format", "all",
              "-o", tmp_path / "out", *AS_OF)
    assert "refused by the sandbox" in err and not (tmp_path / "out").exists()


def test_decision_json_is_written_from_the_decision_not_the_templates_copy(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from advisor.report import render

    class Spy:
        seen: list[object] = []

    real = render.build_view

    def spying(decision):  # type: ignore[no-untyped-def]
        Spy.seen.append(decision)
        return real(decision)

    monkeypatch.setattr(render, "build_view", spying)
    from advisor.decision import evaluate
    from advisor.profile import load_profile
    from advisor.workspace import load_workspace
    import datetime as dt

    ws = load_workspace()
    d = evaluate(load_profile(CLINIC).profile, ws.ruleset, ws.options, ws.jurisdictions,
                 on=dt.date(2026, 11, 30), profile_sha256="0" * 64)
    render.render_markdown(d)
    assert Spy.seen and Spy.seen[0] is not d and Spy.seen[0] == d


@pytest.mark.parametrize("expression, message", [
    ("{{ 'x' * 3000000000 }}", "repeating"),
    ("{{ 2 ** (2 ** 34) }}", "too large"),
    ("{{ 'x' | center(3000000000) }}", "filter 'center'"),
    ("{{ '%3000000000s' % 'x' }}", "format width"),
    ("{{ 'x'.ljust(3000000000) }}", "str.ljust"),
    ("{{ '{:>3000000000}'.format('x') }}", "format width"),
    ("{{ range(10 ** 9) | list }}", "range of"),
    ("{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", "recurses"),
    ("{% include 'report.md.j2' %}", "recurses"),
    ("{{ lipsum(100000000) }}", "lipsum"),
    ("{{ 1 / 0 }}", "ZeroDivisionError"),
])
def test_template_cannot_exhaust_the_machine(runner, templates: Path, expression: str,  # type: ignore[no-untyped-def]
                                             message: str) -> None:
    with_line(templates, "report.md.j2", expression)
    started = time.monotonic()
    err = bad(runner, "evaluate", CLINIC, "--templates", templates, *AS_OF)
    assert "report.md.j2" in err and message in err, err
    assert time.monotonic() - started < 15


def test_template_time_budget(runner, templates: Path,  # type: ignore[no-untyped-def]
                              monkeypatch: pytest.MonkeyPatch) -> None:
    from advisor.report import sandbox

    monkeypatch.setattr(sandbox, "TIME_BUDGET_S", 0.5)
    with_line(templates, "report.md.j2",
              "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}")
    started = time.monotonic()
    err = bad(runner, "evaluate", CLINIC, "--templates", templates, *AS_OF)
    assert "report.md.j2: took longer than 0.5 s" in err
    assert time.monotonic() - started < 10


def test_template_memory_budget(runner, templates: Path,  # type: ignore[no-untyped-def]
                                monkeypatch: pytest.MonkeyPatch) -> None:
    from advisor.report import sandbox

    if not Path("/proc/self/statm").exists():
        pytest.skip("the memory budget is enforced on Linux")
    monkeypatch.setattr(sandbox, "MEMORY_BUDGET_BYTES", 64 << 20)
    # doubling by concatenation: no single operation is over the limits
    with_line(templates, "report.md.j2", "{% set ns = namespace(s='x') %}"
              "{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}")
    err = bad(runner, "evaluate", CLINIC, "--templates", templates, *AS_OF)
    assert "report.md.j2: needs more than 64 MiB" in err


# --------------------------------------------------------------- outputs ----

def test_output_never_replaces_the_profile(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    p = profile(tmp_path)
    before = p.read_bytes()
    err = bad(runner, "evaluate", p, "-o", p, *AS_OF)
    assert "is an input of this run" in err and p.read_bytes() == before
    hard = tmp_path / "hard.yaml"
    os.link(p, hard)
    assert "is an input" in bad(runner, "evaluate", p, "-o", hard, *AS_OF)


def test_output_never_replaces_a_file_read_in_the_run(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rules = tmp_path / "rules"
    shutil.copytree(default_rules_dir(), rules, ignore=shutil.ignore_patterns("__*"))
    target = rules / "gdpr.yaml"
    before = target.read_bytes()
    err = bad(runner, "evaluate", CLINIC, "--rules", rules, "-o", target, *AS_OF)
    assert "is an input of this run" in err and target.read_bytes() == before


def test_output_refuses_devices_fifos_and_symlinks(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    err = bad(runner, "evaluate", CLINIC, "-o", "/dev/null", *AS_OF)
    assert "is a device" in err and "--force" in err
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert "is a FIFO" in bad(runner, "evaluate", CLINIC, "-o", fifo, *AS_OF)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    link = tmp_path / "out"
    link.symlink_to("/proc/self/fd/1")
    assert "is a symbolic link" in bad(runner, "evaluate", CLINIC, "-o", link, *AS_OF)
    assert link.is_symlink()
    # --force writes into the device, and through a link to the file it names
    assert run(runner, "evaluate", CLINIC, "-o", "/dev/null", "--force", *AS_OF).exit_code == 0
    real = tmp_path / "real.md"
    real.write_text("old")
    link2 = tmp_path / "link.md"
    link2.symlink_to(real)
    assert run(runner, "evaluate", CLINIC, "-o", link2, "--force", *AS_OF).exit_code == 0
    assert link2.is_symlink() and real.read_text().startswith("# LLM deployment advisory")


def test_full_disk_and_fifo_without_reader_are_exit_2(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full")
    assert "No space left" in bad(runner, "evaluate", CLINIC, "-o", "/dev/full", "--force", *AS_OF)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert "no process reads" in bad(runner, "evaluate", CLINIC, "-o", fifo, "--force", *AS_OF)


def test_output_problems_are_found_before_rendering(runner, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from advisor.profile import schema

    def not_reached(*args: object) -> None:
        raise AssertionError("the profile was loaded before the output was checked")

    monkeypatch.setattr(schema, "load_file", not_reached)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "charts").write_text("a file where the charts folder goes")
    assert "charts folder" in bad(runner, "evaluate", CLINIC, "--format", "all", "-o",
                                  tmp_path / "out")
    assert "does not exist" in bad(runner, "evaluate", CLINIC, "-o", tmp_path / "no" / "r.md")


def test_format_all_is_atomic_and_removes_stale_charts(runner, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    fake_pdf(monkeypatch)
    out = tmp_path / "out"
    out.mkdir()
    (out / "decision.json").mkdir()
    err = bad(runner, "evaluate", CLINIC, "--format", "all", "-o", out, *AS_OF)
    assert "decision.json: is a folder" in err
    assert sorted(p.name for p in out.iterdir()) == ["decision.json"]  # nothing written
    (out / "decision.json").rmdir()
    (out / "charts").mkdir()
    (out / "charts" / "stale.png").write_bytes(b"old")
    (out / "notes.txt").write_text("mine")
    assert run(runner, "evaluate", CLINIC, "--format", "all", "-o", out, *AS_OF).exit_code == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["charts", "decision.json", "notes.txt", "report.html", "report.md",
                     "report.pdf"]
    charts = sorted(p.name for p in (out / "charts").iterdir())
    assert "stale.png" not in charts and charts
    assert (out / "notes.txt").read_text() == "mine"
    (out / "charts" / "mine.txt").write_text("x")
    assert "not a chart advisor wrote" in bad(runner, "evaluate", CLINIC, "--format", "all",
                                              "-o", out, *AS_OF)


def test_failed_or_interrupted_format_all_leaves_the_old_set(runner, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from advisor.report import render

    out = tmp_path / "out"
    out.mkdir()
    (out / "report.md").write_text("old report")

    def interrupted(*args: object, **kwargs: object) -> bytes:
        raise KeyboardInterrupt

    fake_pdf(monkeypatch)
    monkeypatch.setattr(render, "render_pdf", interrupted)
    result = run(runner, "evaluate", CLINIC, "--format", "all", "-o", out, *AS_OF)
    assert result.exit_code == 130 and "interrupted" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["report.md"]
    assert (out / "report.md").read_text() == "old report"

    from advisor import safeio

    calls = []
    real_rename = os.rename

    def failing_rename(src: object, dst: object) -> None:
        calls.append(dst)
        if len(calls) == 3:  # in the middle of moving the new set in
            raise OSError(28, "No space left on device")
        real_rename(src, dst)  # type: ignore[arg-type]

    monkeypatch.undo()
    fake_pdf(monkeypatch)
    monkeypatch.setattr(safeio.os, "rename", failing_rename)
    err = bad(runner, "evaluate", CLINIC, "--format", "all", "-o", out, "--format", "all", *AS_OF)
    assert "No space left" in err
    assert sorted(p.name for p in out.iterdir()) == ["report.md"]
    assert (out / "report.md").read_text() == "old report"


def test_ctrl_c_exits_130_and_leaves_nothing_half_written(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "advisor", "evaluate", str(CLINIC),
                             "--format", "all", "-o", str(out), *AS_OF],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode in (0, 130), err
    if proc.returncode == 130:
        assert b"interrupted" in err and b"Traceback" not in err
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left in ([], ["out"])  # no temporary folder left behind
    if out.exists():
        assert {"decision.json", "report.md", "report.html", "report.pdf"} <= \
            {p.name for p in out.iterdir()}


def test_dash_o_folder_writes_the_usual_name(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "existing").mkdir()
    assert run(runner, "evaluate", CLINIC, "-o", tmp_path / "existing", *AS_OF).exit_code == 0
    assert (tmp_path / "existing" / "report.md").exists()
    assert run(runner, "evaluate", CLINIC, "--format", "json", "-o",
               f"{tmp_path / 'new'}/", *AS_OF).exit_code == 0
    assert json.loads((tmp_path / "new" / "decision.json").read_text())["schema_version"] == 1


# ---------------------------------------------------------------- inputs ----

def test_devices_are_refused_and_fifos_must_end(runner, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from advisor import safeio

    assert "is a device" in bad(runner, "evaluate", "/dev/zero")
    monkeypatch.setattr(safeio, "PIPE_TIMEOUT_S", 0.3)
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    started = time.monotonic()
    assert "did not end within 0.3 s" in bad(runner, "evaluate", fifo)
    assert time.monotonic() - started < 5
    rules = tmp_path / "rules"
    shutil.copytree(default_rules_dir(), rules, ignore=shutil.ignore_patterns("__*"))
    (rules / "zz.yaml").symlink_to("/dev/zero")
    assert "zz.yaml: rule file is a device" in bad(runner, "evaluate", CLINIC, "--rules", rules)


def test_size_limit_holds_for_files_without_a_size(runner, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from advisor import safeio

    monkeypatch.setattr(safeio, "MAX_BYTES", 1000)
    r, w = os.pipe()

    def feed() -> None:
        try:
            os.write(w, b"a: " + b"x" * 5000 + b"\n")
        finally:
            os.close(w)

    threading.Thread(target=feed).start()
    try:
        assert "larger than the 1,000-byte limit" in bad(runner, "evaluate", f"/dev/fd/{r}")
    finally:
        os.close(r)


def test_a_pipe_is_read_once_and_hashed_as_read(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import hashlib

    data = CLINIC.read_bytes()
    r, w = os.pipe()

    def feed() -> None:
        os.write(w, data)
        os.close(w)

    threading.Thread(target=feed).start()
    try:
        result = run(runner, "evaluate", f"/dev/fd/{r}", "--format", "json", *AS_OF)
    finally:
        os.close(r)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.output)["profile"]["sha256"] == hashlib.sha256(data).hexdigest()
    result = run(runner, "evaluate", "-", "--format", "json", *AS_OF, input=data.decode())
    assert json.loads(result.output)["profile"]["sha256"] == hashlib.sha256(data).hexdigest()


# ------------------------------------------------ bad input is exit 2, not 3 ----

@pytest.mark.parametrize("old, new, message", [
    ("requests_per_day: 20000", "requests_per_day: 1e25", "less than or equal to"),
    ("requests_per_day: 20000", "requests_per_day: .inf", "not a finite number"),
    ("requests_per_day: 20000", "requests_per_day: .nan", "not a finite number"),
    ("requests_per_day: 20000", "requests_per_day: " + "9" * 5000, "out of range"),
    ("subject_volumes: {FR: 250000}", "subject_volumes: {FR: 9223372036854775808}", "out of range"),
    ("risk_appetite: low", "risk_appetite: low\nx: " + "[" * 500 + "]" * 500, "levels deep"),
    ("risk_appetite: low", "risk_appetite: low\nx: " + "[" * 200000 + "]" * 200000, "levels deep"),
    ("risk_appetite: low", "risk_appetite: low\nfoo(bar: 1", "unknown key 'foo(bar'"),
    ("risk_appetite: low", "risk_appetite: low\nfunction-after[x]: 1", "unknown key"),
    ("growth_per_year: 0.3", "growth_per_year: 0.00005", None),
])
def test_profile_cases_that_were_exit_3(runner, tmp_path: Path, old: str, new: str,  # type: ignore[no-untyped-def]
                                        message: str | None) -> None:
    p = profile(tmp_path, old, new)
    if message is None:
        assert run(runner, "evaluate", p, "--format", "json", *AS_OF).exit_code == 0
        return
    err = bad(runner, "evaluate", p, "--format", "json", *AS_OF)
    assert message in err and err.startswith(f"error: {p}:"), err


def test_many_subject_countries_fit_the_engine(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import pycountry

    codes = sorted(c.alpha_2 for c in pycountry.countries)
    volumes = "{" + ", ".join(f"{c}: 10" for c in codes) + "}"
    p = profile(tmp_path, "subject_volumes: {FR: 250000}", f"subject_volumes: {volumes}")
    for engine in ("durable", "reference"):
        assert run(runner, "evaluate", p, "--format", "json", "--engine", engine,
                   *AS_OF).exit_code == 0


def test_command_line_values_that_were_exit_3(runner) -> None:  # type: ignore[no-untyped-def]
    assert "outside the dates" in bad(runner, "evaluate", CLINIC, "--as-of", "9999-12-31")
    result = run(runner, "evaluate", CLINIC, "--seed", "-1")
    assert result.exit_code == 2 and "--seed" in result.stderr


def test_tiny_rule_thresholds_reach_the_engine(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rules = tmp_path / "rules"
    shutil.copytree(default_rules_dir(), rules, ignore=shutil.ignore_patterns("__*"))
    gdpr = rules / "gdpr.yaml"
    gdpr.write_text(gdpr.read_text().replace("data.subject_volumes.EEA: {gte: 100000}",
                                             "data.subject_volumes.EEA: {gte: 0.00005}"))
    assert run(runner, "validate", rules).exit_code == 0
    outputs = {}
    for engine in ("durable", "reference"):
        result = run(runner, "evaluate", CLINIC, "--rules", rules, "--format", "json",
                     "--engine", engine, *AS_OF)
        assert result.exit_code == 0
        outputs[engine] = [o["status"] for o in json.loads(result.output)["options"]]
    assert outputs["durable"] == outputs["reference"]


def test_rule_library_reading_too_many_properties_is_refused_at_load(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import pycountry

    rules = tmp_path / "rules"
    shutil.copytree(default_rules_dir(), rules, ignore=shutil.ignore_patterns("__*"))
    codes = sorted(c.alpha_2 for c in pycountry.countries)[:260]
    leaves = "\n".join(f"        - data.subject_volumes.{c}: {{gt: 1}}" for c in codes)
    (rules / "zz-many.yaml").write_text(f"""regime: Test
rules:
  - id: TEST-MANY-FIELDS
    title: Reads too many fields
    citations: [{{ref: "Test art. 1", url: "https://example.org/x"}}]
    rationale: A rule that reads more fields than the engine accepts in one fact.
    when:
      any:
{leaves}
    effects:
      - {{effect: warn, options: all}}
""")
    err = bad(runner, "validate", rules)
    assert "the rule engine accepts at most 255" in err


# ------------------------------------------------------ nonsense rejected ----

@pytest.mark.parametrize("old, new, message", [
    ("requests_per_day: 20000", "requests_per_day: 1:20:00", "valid number (got '1:20:00')"),
    ("requests_per_day: 20000", "requests_per_day: 0x4E20", "valid number (got '0x4E20')"),
    ("requests_per_day: 20000", "requests_per_day: 0o47040", "valid number"),
    ("requests_per_day: 20000", "requests_per_day: 020000", "valid number"),
    ("requests_per_day: 20000", 'requests_per_day: "20000"', "valid number"),
    ("schema_version: 1", "schema_version: true", "unsupported schema_version"),
    ("is_us_person: false", 'is_us_person: "no"', "valid boolean"),
    ("is_us_person: false", "is_us_person: no", "valid boolean"),
    ("hq_country: FR", 'hq_country: "ß"', "not an ISO 3166 code"),
    ("hq_country: FR", 'hq_country: "ıt"', "not an ISO 3166 code"),
    ("hq_country: FR", "hq_country: fr", "did you mean 'FR'?"),
    ("hq_country: FR", "hq_country: UK", "'GB'"),
    ("hq_country: FR", "hq_country: EU", "group of countries"),
    ("finance:", "finance: !!omap", "YAML tag"),
    ("latency: {ttft_ms: 1000, tpot_ms: 50}", "latency: !custom {ttft_ms: 1000, tpot_ms: 50}",
     "YAML tag '!custom'"),
    ("name: Clinique Exemple", 'name: "Clinique \\e[2J\\e[31mEvil"', "control character U+001B"),
    ("name: Clinique Exemple", 'name: "Clinique \\u202eelpmaxE"', "control character U+202E"),
    ("subject_volumes: {FR: 250000}", "subject_volumes: {FR: 9007199254740993}", "out of range"),
])
def test_nonsense_is_refused(runner, tmp_path: Path, old: str, new: str, message: str) -> None:  # type: ignore[no-untyped-def]
    p = profile(tmp_path, old, new)
    err = bad(runner, "evaluate", p, "--format", "json", *AS_OF)
    assert message in err, err
    assert "\x1b" not in err and "\u202e" not in err


def test_control_characters_in_file_names_are_escaped(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    name = tmp_path / "evil\x1b[31m\u202e.yaml"
    err = bad(runner, "evaluate", name)
    assert "\x1b" not in err and "\u202e" not in err and "\\x1b[31m\\u202e" in err


def test_negative_fx_rate_is_refused(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from advisor.resources import default_catalog_dir

    catalog = tmp_path / "catalog"
    catalog.mkdir()
    fx = (default_catalog_dir() / "fx.yaml").read_text()
    assert "USD: {value: 1." in fx
    (catalog / "fx.yaml").write_text(fx.replace("USD: {value: 1.", "USD: {value: -1."))
    p = profile(tmp_path, "currency: EUR", "currency: USD")
    err = bad(runner, "evaluate", p, "--catalog", catalog, "--format", "json", *AS_OF)
    assert "fx.yaml:" in err and "positive" in err


# -------------------------------------------------------------- markdown ----

def test_markdown_escapes_text_from_inputs(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    evil = "<script>alert(1)</script> [click](javascript:alert(1)) <https://x.org>"
    p = profile(tmp_path, "name: Clinique Exemple", f"name: '{evil}'")
    result = run(runner, "evaluate", p, *AS_OF)
    assert result.exit_code == 0
    import re

    assert not re.search(r"(?<!\\)<script>|(?<!\\)\]\(javascript:", result.output)
    assert "\\<script\\>alert(1)\\</script\\> \\[click\\](javascript:alert(1))" in result.output
    html = run(runner, "evaluate", p, "--format", "html", *AS_OF).output
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_rule_text_is_escaped_and_citation_urls_are_parsed(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import re

    rules = tmp_path / "rules"
    shutil.copytree(default_rules_dir(), rules, ignore=shutil.ignore_patterns("__*"))
    gdpr = rules / "gdpr.yaml"
    text = gdpr.read_text()
    first_title = text.split("title: ", 1)[1].split("\n", 1)[0]
    gdpr.write_text(text.replace(f"title: {first_title}",
                                 'title: "Title <img src=x onerror=alert(1)> [x](javascript:y)"', 1))
    docs = run(runner, "rules", "docs", "--rules-only", rules).output
    assert "\\<img src=x onerror=alert(1)\\> \\[x\\](javascript:y)" in docs
    assert not re.search(r"(?<!\\)<img", docs)
    for url in ['https://e.org/a")x', "javascript:alert(1)", "https://e.org/a)b", "https:///x"]:
        url_line = text.split("url: ", 1)[1].split("\n", 1)[0].rstrip("}")
        gdpr.write_text(text.replace(url_line, f"'{url}'", 1))
        err = bad(runner, "validate", rules)
        line = text[:text.index(url_line)].count("\n") + 1
        assert f"gdpr.yaml:{line}:" in err and any(
            why in err for why in ("not an http(s) URL", "must encode", "expected form")), err


def test_rules_docs_never_overwrites_a_rule_file(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rules = tmp_path / "rules"
    shutil.copytree(default_rules_dir(), rules, ignore=shutil.ignore_patterns("__*"))
    before = (rules / "gdpr.yaml").read_bytes()
    err = bad(runner, "rules", "docs", "--rules-only", rules, "-o", rules / "gdpr.yaml")
    assert "is an input of this run" in err and (rules / "gdpr.yaml").read_bytes() == before


def test_terminal_output_escapes_control_characters(tmp_path: Path) -> None:
    import pty

    evil = tmp_path / "x\x1b]0;owned\x07\u202e.yaml"
    shutil.copy(CLINIC, evil)
    master, slave = pty.openpty()
    try:
        proc = subprocess.run([sys.executable, "-m", "advisor", "validate", str(evil)],
                              stdout=slave, stderr=subprocess.PIPE, timeout=120)
        os.close(slave)
        out = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    finally:
        os.close(master)
    assert proc.returncode == 0, proc.stderr
    text = out.decode()
    assert "ok: " in text and "\x1b" not in text and "\u202e" not in text
    assert "\\x1b]0;owned\\x07\\u202e.yaml" in text
