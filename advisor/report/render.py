"""Rendering a Decision: JSON (the published contract) and Markdown (Jinja2).

Bundled templates come from ``templates/``; an organisation's own templates
(``--templates DIR``) run in Jinja's sandbox, since a template folder is input
advisor did not write.
"""

from __future__ import annotations

import json
from pathlib import Path

from advisor.decision import Decision
from advisor.errors import InputError
from advisor.report.view import build_view, template_filters
from advisor.resources import default_templates_dir


def render_json(decision: Decision) -> str:
    data = decision.model_dump(mode="json")
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _environment(templates_dir: Path, *, autoescape: bool):  # type: ignore[no-untyped-def]
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

    loader = jinja2.FileSystemLoader(str(templates_dir))
    user_supplied = templates_dir.resolve() != default_templates_dir().resolve()
    cls = SandboxedEnvironment if user_supplied else jinja2.Environment
    env = cls(loader=loader, autoescape=autoescape, undefined=jinja2.StrictUndefined,
              trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters.update(template_filters())
    return env


def render_markdown(decision: Decision, templates_dir: Path | None = None) -> str:
    import jinja2

    directory = templates_dir or default_templates_dir()
    env = _environment(directory, autoescape=False)
    try:
        template = env.get_template("report.md.j2")
        return template.render(v=build_view(decision))
    except jinja2.TemplateNotFound as exc:
        raise InputError.single(str(directory), f"template '{exc.name}' not found") from None
    except jinja2.TemplateSyntaxError as exc:
        raise InputError.single(exc.filename or str(directory), f"template error: {exc.message}",
                                line=exc.lineno) from None
    except jinja2.UndefinedError as exc:
        raise InputError.single(str(directory), f"template uses an unknown value: {exc}") from None
