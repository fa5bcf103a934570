"""Rendering a Decision: JSON (the published contract), Markdown and HTML
(Jinja2 templates) and PDF (WeasyPrint, from the same HTML).

Bundled templates come from ``templates/``; an organisation's own templates
(``--templates DIR``) run in a limited, immutable sandbox
(:mod:`advisor.report.sandbox`), since a template folder is input advisor did
not write. Templates see a copy of the decision, never the one the JSON is
written from. HTML autoescapes every value, so text from a profile can never
become markup; it carries a Content-Security-Policy that loads nothing, and
the PDF step fetches nothing but ``data:`` URIs.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any, Optional

from advisor.decision import Decision
from advisor.errors import InputError, Problem, shorten
from advisor.report.view import build_view, md_finalize, template_filters
from advisor.resources import default_templates_dir


def _exponent_float(value: Any) -> bool:
    """Whether ``value`` holds a float Python writes in exponent form (1e-05,
    1e+16), the one place pydantic-core's JSON differs from Python's."""
    t = type(value)
    if t is dict:
        return any(map(_exponent_float, value.values()))
    if t is list:
        return any(map(_exponent_float, value))
    return t is float and "e" in repr(value)


def render_json(decision: Decision) -> str:
    """The decision as indented JSON (``json.dumps(indent=2, ensure_ascii=False)``).

    Python's encoder runs in pure Python when it indents; pydantic-core's
    encoder writes the same bytes several times faster, except for floats in
    exponent form, for which Python's own encoder is used."""
    import pydantic_core

    data = decision.model_dump(mode="json")
    if _exponent_float(data):
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    return pydantic_core.to_json(data, indent=2, inf_nan_mode="constants").decode("utf-8") + "\n"


def _money_filter(locale: str) -> Any:
    """The templates' ``money`` filter: amounts in the organisation's conventions (advisor.money)."""
    from decimal import Decimal, InvalidOperation

    from advisor.money import amount

    def money(value: Any, places: int = 0) -> str:
        if value is None or value == "":
            return "–"
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            return str(value)
        return amount(number, locale, places)
    return money


def _locale(decision: Decision) -> str:
    from advisor.money import DEFAULT_LOCALE

    return str((decision.costing or {}).get("locale") or DEFAULT_LOCALE)


def user_supplied(templates_dir: Optional[Path]) -> bool:
    """Whether templates come from a folder advisor did not ship."""
    return templates_dir is not None and \
        Path(templates_dir).resolve() != default_templates_dir().resolve()


def _environment(templates_dir: Path, *, autoescape: bool, locale: str = "en"):  # type: ignore[no-untyped-def]
    import jinja2

    from advisor.report.sandbox import FolderLoader, LimitedSandbox

    options: dict[str, Any] = dict(autoescape=autoescape, undefined=jinja2.StrictUndefined,
                                   trim_blocks=True, lstrip_blocks=True,
                                   keep_trailing_newline=True)
    if not autoescape:  # Markdown: text from the inputs cannot become HTML or links
        options["finalize"] = md_finalize
    env: Any
    if user_supplied(templates_dir):
        env = LimitedSandbox(loader=FolderLoader(templates_dir), **options)
    else:
        env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates_dir)), **options)
    env.filters.update(template_filters())
    env.filters["money"] = _money_filter(locale)
    if user_supplied(templates_dir):
        env.wrap_filters()
    return env


def _render(templates_dir: Path, name: str, autoescape: bool, locale: str = "en", **context: Any) -> str:
    import jinja2

    from advisor.report.sandbox import render_limited

    env = _environment(templates_dir, autoescape=autoescape, locale=locale)
    try:
        template = env.get_template(name)
        if user_supplied(templates_dir):
            return render_limited(template, str(templates_dir / name), context)
        return template.render(**context)  # type: ignore[no-any-return]
    except jinja2.TemplateNotFound as exc:
        raise InputError.single(str(templates_dir), f"template '{exc.name}' not found") from None
    except jinja2.TemplateSyntaxError as exc:
        raise InputError.single(exc.filename or str(templates_dir),
                                f"template error: {exc.message}", line=exc.lineno) from None
    except jinja2.UndefinedError as exc:
        raise InputError.single(str(templates_dir / name),
                                f"template uses an unknown value: {exc}") from None
    except jinja2.exceptions.SecurityError as exc:
        raise InputError.single(str(templates_dir / name),
                                f"template refused by the sandbox: {exc}") from None


def _copy(decision: Decision) -> Decision:
    """What templates see: a deep copy, so nothing a template does can reach
    the Decision the JSON output is written from."""
    return decision.model_copy(deep=True)


def render_markdown(decision: Decision, templates_dir: Optional[Path] = None, *,
                    neutral: bool = False, images: Optional[dict[str, str]] = None) -> str:
    view = build_view(_copy(decision))
    view.extra["neutral"] = neutral
    view.extra["images"] = images or {}
    return _render(templates_dir or default_templates_dir(), "report.md.j2", False, _locale(decision), v=view)


def _briefing(decision: Decision, catalog_dir: Path, *, neutral: bool, page_size: str,
              chart_format: str, drawer: Any = None):  # type: ignore[no-untyped-def]
    from advisor.report.briefing import build_briefing, load_tradeoffs

    return build_briefing(_copy(decision), tradeoffs=load_tradeoffs(catalog_dir), neutral=neutral,
                          page_size=page_size, chart_format=chart_format, drawer=drawer)


def render_markdown_with_charts(decision: Decision, templates_dir: Path, catalog_dir: Path, *,
                                neutral: bool, drawer: Any = None
                                ) -> tuple[str, dict[str, bytes]]:
    """Markdown plus PNG charts to write beside it (charts/NAME.png)."""
    b = _briefing(decision, catalog_dir, neutral=neutral, page_size="A4", chart_format="png",
                  drawer=drawer)
    images = {f"{name}.png": data for name, data in b.charts.items()}
    md = render_markdown(decision, templates_dir, neutral=neutral,
                         images={name: f"charts/{name}.png" for name in b.charts})
    return md, images


def chart_jobs_for(decision: Decision, catalog_dir: Path, *, neutral: bool,
                   fmt: str = "svg") -> list[Any]:
    """The chart jobs a rendering will draw, to start them early in a worker
    (svg for HTML and PDF, png beside the Markdown)."""
    from advisor.report.briefing import build_briefing, chart_jobs, load_tradeoffs

    briefing = build_briefing(decision, tradeoffs=load_tradeoffs(catalog_dir), neutral=neutral,
                              page_size="A4", charts=False)
    return chart_jobs(decision, briefing, fmt)


def render_html(decision: Decision, templates_dir: Optional[Path], catalog_dir: Path, *,
                page_size: str = "a4", neutral: bool = False, drawer: Any = None,
                chart_format: str = "svg") -> str:
    """The HTML briefing; ``drawer`` draws the charts (default: in-process).

    Charts are inline SVG, or with ``chart_format="png"`` PNG images (data
    URIs): the HTML a PDF is made from, since WeasyPrint lays out and draws a
    PNG several times faster than the same chart as SVG (and a 200 dpi image
    prints sharp at the chart's size)."""
    import base64

    from advisor.report.output import PAGE_SIZES

    b = _briefing(decision, catalog_dir, neutral=neutral,
                  page_size=PAGE_SIZES.get(page_size, page_size), chart_format=chart_format,
                  drawer=drawer)
    if chart_format == "png":
        b.charts = {name: f'<img src="data:image/png;base64,{base64.b64encode(png).decode()}" '
                          f'alt="{name} chart">' for name, png in b.charts.items()}
    from advisor.report.sandbox import add_csp

    directory = templates_dir or default_templates_dir()
    return add_csp(_render(directory, "report.html.j2", True, _locale(decision), b=b))


#: How to install Pango, the system library WeasyPrint lays text out with.
PANGO_INSTALL = ("install Pango: on Debian/Ubuntu 'sudo apt install libpango-1.0-0 "
                 "libpangoft2-1.0-0', on macOS 'brew install pango', on Windows install MSYS2 "
                 "and run 'pacman -S mingw-w64-x86_64-pango'")


def load_weasyprint() -> Any:
    """The weasyprint module; without it or without the Pango library it needs,
    a usage error (exit 2) that says what to install, not a crash."""
    try:
        import weasyprint
    except OSError as exc:  # the package is there, the system library is not
        raise InputError.single("--format pdf", f"PDF output needs the Pango library, which "
                                f"could not be loaded ({exc})", hint=PANGO_INSTALL) from None
    except ImportError as exc:
        raise InputError.single("--format pdf", f"PDF output needs WeasyPrint ({exc})",
                                hint="pip install weasyprint; then " + PANGO_INSTALL) from None
    return weasyprint


class FetchRefused(InputError):
    """The HTML refers to something other than a ``data:`` URI (advisor fetches nothing)."""

    urls: list[str]


def fetch_refused(urls: list[str], templates_dir: Optional[Path] = None) -> FetchRefused:
    """The error for refused URLs, naming the HTML template that wrote them."""
    where = str((templates_dir or default_templates_dir()) / "report.html.j2")
    shown = ", ".join(shorten(u, 80) for u in dict.fromkeys(urls))
    exc = FetchRefused([Problem(where, None, None, f"the report refers to {shown}; advisor "
                                                   "fetches nothing (no files, no network)",
                                "embed images and styles as data: URIs")])
    exc.urls = list(urls)
    return exc


def render_pdf(html: str, decision: Decision, *, templates_dir: Optional[Path] = None) -> bytes:
    """PDF from the HTML with WeasyPrint (see :func:`pdf_from_html`)."""
    try:
        return pdf_from_html(html, decision.evaluated_on)
    except FetchRefused as exc:
        raise fetch_refused(exc.urls, templates_dir) from None


def pdf_from_html(html: str, evaluated_on: dt.date) -> bytes:
    """PDF from the HTML with WeasyPrint; its dates come from the evaluation date
    (the HTML's dcterms meta), so the same inputs give the same document.
    Nothing is fetched: the report embeds everything it shows; a reference to
    anything but a ``data:`` URI is refused (exit 2, naming the template)."""
    weasyprint = load_weasyprint()
    import calendar
    import os

    # Fonts embedded in the PDF are subset by fontTools, which stamps them with
    # the current time unless SOURCE_DATE_EPOCH is set: pin it to the evaluation
    # date so the same inputs give byte-identical PDFs.
    epoch = calendar.timegm(evaluated_on.timetuple())
    previous = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = str(epoch)
    try:
        # full_fonts: embedding whole fonts skips fontTools subsetting, which
        # took about a second and hardly shrank the file (charts keep text)
        from advisor.report.sandbox import url_fetcher

        refused: list[str] = []
        pdf = weasyprint.HTML(string=html, base_url=None,
                              url_fetcher=url_fetcher(refused)).write_pdf(full_fonts=True)
        if refused:
            raise fetch_refused(refused)
        return pdf  # type: ignore[no-any-return]
    finally:
        if previous is None:
            del os.environ["SOURCE_DATE_EPOCH"]
        else:
            os.environ["SOURCE_DATE_EPOCH"] = previous
