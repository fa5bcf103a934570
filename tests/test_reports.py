"""HTML, PDF, charts, JSON Schema, escaping, determinism of the briefing."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from advisor.cli import main
from advisor.decision import Decision, evaluate
from advisor.profile import Profile, load_profile
from advisor.report import render
from tests.conftest import AS_OF, EXAMPLES

CLINIC = EXAMPLES / "clinique-fr.yaml"


def decide(ws, path: Path = CLINIC) -> Decision:  # type: ignore[no-untyped-def]
    lp = load_profile(path)
    return evaluate(lp.profile, ws.ruleset, ws.options, ws.jurisdictions, on=AS_OF,
                    profile_sha256=lp.sha256)


@pytest.fixture(scope="module")
def clinic_html(workspace) -> str:  # type: ignore[no-untyped-def]
    return render.render_html(decide(workspace), None, workspace.catalog_dir)


def test_html_is_self_contained(clinic_html: str) -> None:
    assert clinic_html.startswith("<!DOCTYPE html>")
    assert "<style>" in clinic_html and "<svg" in clinic_html
    assert "<script" not in clinic_html
    assert not re.search(r'<(link|img|script)[^>]+(href|src)="https?://', clinic_html)


def test_html_has_every_section_in_order(clinic_html: str) -> None:
    ids = ["summary", "matrix", "tradeoffs", "options", "rules", "provenance"]
    positions = [clinic_html.index(f'id="{i}"') for i in ids]
    assert positions == sorted(positions)
    assert 'href="https://www.legifrance.gouv.fr/' in clinic_html  # citations are links
    assert "not legal advice" in clinic_html


def test_profile_text_is_escaped(workspace, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    evil = tmp_path / "evil.yaml"
    evil.write_text(CLINIC.read_text().replace("name: Clinique Exemple",
                                               'name: "<script>alert(1)</script>"'))
    html = render.render_html(decide(workspace, evil), None, workspace.catalog_dir)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_user_templates_run_in_a_sandbox(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "report.md.j2").write_text("{{ v.__class__.__mro__[1].__subclasses__() }}\n")
    r = runner.invoke(main, ["evaluate", str(CLINIC), "--templates", str(tmp_path)])
    assert r.exit_code == 2 and "sandbox" in r.stderr


def test_html_and_json_are_deterministic(workspace) -> None:  # type: ignore[no-untyped-def]
    a, b = decide(workspace), decide(workspace)
    assert render.render_html(a, None, workspace.catalog_dir) == \
        render.render_html(b, None, workspace.catalog_dir)
    assert render.render_json(a) == render.render_json(b)
    assert render.render_markdown(a) == render.render_markdown(b)


def test_pdf_content_pages_and_determinism(workspace, clinic_html: str) -> None:  # type: ignore[no-untyped-def]
    from pypdf import PdfReader

    d = decide(workspace)
    pdf = render.render_pdf(clinic_html, d)
    assert pdf == render.render_pdf(clinic_html, d)
    reader = PdfReader(io.BytesIO(pdf))
    assert 4 <= len(reader.pages) <= 40
    first = reader.pages[0].extract_text()
    assert "Clinique Exemple" in first and "Page 1 of" in first
    text = "\n".join(p.extract_text() for p in reader.pages)
    for needle in ("Decision matrix", "Option by option", "HDS-FR-CERTIFIED-HOST", "Provenance"):
        assert needle in text
    second = reader.pages[1].extract_text()
    assert "Clinique Exemple" in second  # running header from page 2 on
    width = float(reader.pages[0].mediabox.width)
    assert abs(width - 595) < 2  # A4 for a French organisation


def test_letter_paper_for_us_organisation(workspace) -> None:  # type: ignore[no-untyped-def]
    from pypdf import PdfReader

    from advisor.report.output import default_page_size

    path = EXAMPLES / "us-hospital-hipaa.yaml"
    assert default_page_size(load_profile(path).profile.organisation.hq_country) == "letter"
    d = decide(workspace, path)
    pdf = render.render_pdf(render.render_html(d, None, workspace.catalog_dir, page_size="letter"), d)
    assert abs(float(PdfReader(io.BytesIO(pdf)).pages[0].mediabox.width) - 612) < 2


def test_tradeoff_chart_shows_every_option(workspace) -> None:  # type: ignore[no-untyped-def]
    from advisor.report.briefing import build_briefing, load_tradeoffs

    d = decide(workspace)
    b = build_briefing(d, tradeoffs=load_tradeoffs(workspace.catalog_dir), neutral=False,
                       page_size="A4")
    svg = b.charts["tradeoffs"]
    for o in d.options:
        assert o.id in svg


def test_format_all_writes_every_file(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "briefing"
    r = runner.invoke(main, ["evaluate", str(CLINIC), "--format", "all", "-o", str(out),
                             "--as-of", "2026-11-30"])
    assert r.exit_code == 0, r.stderr
    names = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert {"report.md", "report.html", "report.pdf", "decision.json"} <= set(names)
    pngs = [n for n in names if n.endswith(".png")]
    assert pngs and all(f"({n})" in (out / "report.md").read_text() for n in pngs)
    assert (out / "report.pdf").read_bytes().startswith(b"%PDF")
    r = runner.invoke(main, ["evaluate", str(CLINIC), "--format", "all"])
    assert r.exit_code == 2 and "-o DIR" in r.stderr


def test_neutral_names_no_winner(runner) -> None:  # type: ignore[no-untyped-def]
    r = runner.invoke(main, ["evaluate", str(CLINIC), "--format", "html", "--neutral"])
    assert r.exit_code == 0
    assert "Recommended:" not in r.output and "without naming a winner" in r.output


def test_json_output_validates_against_published_schema(runner, workspace) -> None:  # type: ignore[no-untyped-def]
    r = runner.invoke(main, ["schema", "decision"])
    schema = json.loads(r.output)
    for path in sorted(EXAMPLES.glob("*.yaml")):
        out = runner.invoke(main, ["evaluate", str(path), "--format", "json"])
        jsonschema.validate(json.loads(out.output), schema)


def test_example_profiles_validate_against_profile_schema(runner) -> None:  # type: ignore[no-untyped-def]
    schema = json.loads(runner.invoke(main, ["schema", "profile"]).output)
    for path in sorted(EXAMPLES.glob("*.yaml")):
        jsonschema.validate(yaml.safe_load(path.read_text()), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"schema_version": 1, "organisation": {"nme": "x"}}, schema)
    assert Profile.model_json_schema()["additionalProperties"] is False


def test_cost_charts_show_every_ranked_option(workspace) -> None:  # type: ignore[no-untyped-def]
    from advisor.costing import load_cost_catalog, rank_decision
    from advisor.report.briefing import cost_charts

    lp = load_profile(CLINIC)
    d = rank_decision(decide(workspace), lp.profile, load_cost_catalog(workspace.catalog_dir),
                      workspace.options, jurisdictions=workspace.jurisdictions)
    ranked = [o.id for o in d.options if o.rank is not None]
    assert len(ranked) >= 3
    charts = cost_charts(d, "svg")
    assert {"cumulative", "components", "ranges", "tornado", "utilisation"} <= set(charts)
    for name in ("cumulative", "components", "ranges"):
        for option_id in ranked:
            assert option_id in charts[name], (name, option_id)
    owned = [o for o in d.options if o.rank is not None and "server" in o.tco["sizing"]]
    curve = owned[0].tco["utilisation_curve"]
    costs = [float(c) for c in curve["per_million_tokens"]]
    assert costs == sorted(costs, reverse=True)  # unit cost falls as utilisation rises


@pytest.mark.parametrize("name", sorted(p.stem for p in EXAMPLES.glob("*.yaml")))
def test_every_example_renders_to_html(runner, name: str) -> None:  # type: ignore[no-untyped-def]
    r = runner.invoke(main, ["evaluate", str(EXAMPLES / f"{name}.yaml"), "--format", "html",
                             "--as-of", "2026-11-30"])
    assert r.exit_code in (0, 1), r.stderr
    assert r.output.startswith("<!DOCTYPE html>") and 'id="provenance"' in r.output
    if name == "startup-public-data":  # self-hosting cannot be costed in SG: say so
        assert "Not costed:" in r.output and "no engineer salary for SG" in r.output


def test_chart_worker_draws_the_same_charts_and_falls_back(workspace) -> None:  # type: ignore[no-untyped-def]
    from advisor.report.briefing import run_chart_jobs
    from advisor.report.chartworker import ChartWorker

    jobs = [("tl", "obligations_timeline", ("2026-11-30", "2029-11-30",
                                            [("2027-12-02", "AIA-HIGH-RISK-DEPLOYER")], "svg"))]
    with ChartWorker() as worker:
        worker.prefetch(jobs)
        assert worker.draw(jobs) == run_chart_jobs(jobs)
        bad = [("x", "no_such_chart", ())]
        with pytest.raises(AttributeError):  # the worker reports, the in-process retry raises
            worker.draw(bad)
        assert worker.draw(jobs) == run_chart_jobs(jobs)  # still works, in-process


def test_pdf_worker_writes_the_in_process_pdf(clinic_html: str) -> None:
    """The PDF laid out by the warmed-up worker is byte for byte the one laid
    out in this process (and a second request is served too)."""
    from advisor.report.chartworker import PdfWorker
    from advisor.resources import default_templates_dir

    html = clinic_html.replace("<h1>", "<h1>Worker ", 1)
    expected = render.pdf_from_html(html, AS_OF)
    with PdfWorker(default_templates_dir() / "report.css") as worker:
        assert worker.alive
        assert worker.result(html, AS_OF) == expected
        assert worker.result(html, AS_OF) == expected


@pytest.mark.parametrize("value", [0.5, 1e-05, 2.5e-07, 9e-05, 0.0001, 1e16, -3e20, 123456.789,
                                   float("inf")])
def test_json_is_what_pythons_json_module_writes(workspace, value: float) -> None:  # type: ignore[no-untyped-def]
    """render_json uses a faster encoder; its bytes are json.dumps's, for every
    float form (1e-05 is where the two encoders differ) and any text."""
    d = decide(workspace).model_copy(update={"costing": {
        "x": value, "list": [value, 1, "é \u2028 \x1f \" \\ 中"], "nested": {"y": [value]}}})
    expected = json.dumps(d.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"
    assert render.render_json(d) == expected
