"""Turn pydantic validation errors into Problems that point at the YAML.

Shared by every loader (profiles, rules, options, catalog): a pydantic error
location is a path into the parsed YAML, and the :class:`Document` knows the
line and column of each path.
"""

from __future__ import annotations

import typing
from typing import Any, Literal, TypeVar

import pydantic
from pydantic import BaseModel

from advisor.errors import InputError, Problem, did_you_mean, one_of, shorten
from advisor.yamlload import Document, PathKey

M = TypeVar("M", bound=BaseModel)


def _unwrap_literal_values(annotation: Any) -> tuple[str, ...] | None:
    """The allowed values of a Literal inside list/Optional/dict annotations."""
    if typing.get_origin(annotation) is Literal:
        return tuple(str(a) for a in typing.get_args(annotation))
    for arg in typing.get_args(annotation):
        found = _unwrap_literal_values(arg)
        if found:
            return found
    return None


def _model_for(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_for(arg)
        if found:
            return found
    return None


def model_at(model: type[BaseModel], loc: PathKey) -> type[BaseModel] | None:
    """The nested model whose fields are the keys at ``loc``."""
    current: type[BaseModel] | None = model
    for part in loc:
        if isinstance(part, int) or current is None:
            continue
        fld = current.model_fields.get(str(part))
        current = _model_for(fld.annotation) if fld else None
    return current


def field_info_at(model: type[BaseModel], loc: PathKey) -> tuple[type[BaseModel] | None, Any]:
    """Walk ``loc`` through nested models; return (containing model, annotation)."""
    current: type[BaseModel] | None = model
    annotation: Any = None
    container: type[BaseModel] | None = model
    for part in loc:
        if isinstance(part, int) or current is None:
            continue
        fld = current.model_fields.get(str(part))
        if fld is None:
            return (current, None)
        container = current
        annotation = fld.annotation
        current = _model_for(annotation)
    return (container, annotation)


_NO_DATA = object()


def _clean_loc(loc: tuple[Any, ...], data: Any = _NO_DATA) -> PathKey:
    """The path into the document of a pydantic error location. pydantic adds
    pseudo-steps for unions and validators ('function-after[...]', 'list[...]');
    a step is kept when it is a key or index of the data, so a user's key
    that looks like a pseudo-step (``foo(bar``) is not dropped."""
    out: list[Any] = []
    current = data
    for part in loc:
        if isinstance(current, dict) and part in current:
            out.append(part)
            current = current[part]
        elif isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current):
            out.append(part)
            current = current[part]
        elif isinstance(part, int) or not any(c in str(part) for c in "[]()"):
            out.append(part)  # a missing key, or past the data
            current = _NO_DATA
    return tuple(out)


def problems_from_validation(exc: pydantic.ValidationError, doc: Document,
                             model: type[BaseModel], base: PathKey = (),
                             data: Any = _NO_DATA) -> list[Problem]:
    problems: list[Problem] = []
    for err in exc.errors(include_url=False):
        loc = base + _clean_loc(tuple(err["loc"]), data)
        dotted = shorten(".".join(str(p) for p in loc if not isinstance(p, int)), 80) or "(top level)"
        kind = err["type"]
        value = err.get("input")
        if kind == "extra_forbidden" and loc:
            parent_model = model_at(model, loc[len(base):-1])
            names = list(parent_model.model_fields) if parent_model else []
            problems.append(doc.problem(loc, f"unknown key '{shorten(loc[-1])}'",
                                        did_you_mean(str(loc[-1]), names) or
                                        (one_of(names) if names else None), key=True))
        elif kind == "missing" and loc:
            problems.append(doc.problem(loc[:-1], f"missing required key '{dotted}'"))
        elif kind == "literal_error":
            _, annotation = field_info_at(model, loc[len(base):])
            allowed = _unwrap_literal_values(annotation) or ()
            hint = did_you_mean(str(value), allowed) or (one_of(allowed) if allowed else None)
            problems.append(doc.problem(loc, f"{dotted}: unknown value '{shorten(value)}'", hint))
        elif kind == "string_pattern_mismatch":
            parent = model_at(model, loc[len(base):-1])
            fld = parent.model_fields.get(str(loc[-1])) if parent else None
            expected = (fld.description if fld and fld.description else
                        f"matching {err.get('ctx', {}).get('pattern')}")
            problems.append(doc.problem(loc, f"{dotted}: {shorten(repr(value))} is not in the expected form",
                                        f"expected {expected}"))
        elif kind in ("value_error", "assertion_error"):
            msg = str(err["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
            problems.append(doc.problem(loc, f"{dotted}: {msg}"))
        else:
            problems.append(doc.problem(loc, f"{dotted}: {err['msg'].lower()}"
                                             + (f" (got {value!r})" if _short(value) else "")))
    return problems


def _short(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool)) and len(repr(value)) <= 60


def validate_document(model: type[M], doc: Document, data: Any = None,
                      base: PathKey = ()) -> M:
    """Validate ``data`` (default: the whole document) against ``model``."""
    data = doc.data if data is None else data
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        raise InputError(problems_from_validation(exc, doc, model, base, data)) from None


def check_unique_ids(doc: Document, section: str, ids: list[str], what: str) -> None:
    """Every id of a list appears once; a repeat is reported at its line."""
    seen: set[str] = set()
    problems = []
    for i, item_id in enumerate(ids):
        if item_id in seen:
            problems.append(doc.problem((section, i, "id"), f"duplicate {what} id '{item_id}'"))
        seen.add(item_id)
    if problems:
        raise InputError(problems)
