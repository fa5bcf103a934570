"""Rewrite a schema-version-1 profile as version 2, keeping its comments.

Version 2 changes one field: ``sovereignty`` becomes a mapping relative to the
organisation's home. The rewrite is textual (two lines change), so a compliance
officer's comments and layout survive; the result is validated before it is
returned.
"""

from __future__ import annotations

import re
from typing import Any

from advisor.errors import InputError
from advisor.profile import vocabulary as V
from advisor.profile.schema import legacy_sovereignty, profile_from_data
from advisor.yamlload import Document, load_text

_VERSION = re.compile(r"^schema_version:\s*1\s*(#.*)?$", re.M)
_SOVEREIGNTY = re.compile(r"^sovereignty:[ \t]*([A-Za-z_]+)[ \t]*(#.*)?$", re.M)


def _flow(mapping: dict[str, Any]) -> str:
    parts = []
    for key in ("residency", "immunity_from_foreign_law", "accreditations"):
        if key not in mapping:
            continue
        value = mapping[key]
        if isinstance(value, list):
            parts.append(f"{key}: [{', '.join(value)}]")
        else:
            parts.append(f"{key}: {'true' if value else 'false'}")
    return "{" + ", ".join(parts) + "}"


def migrate_text(text: str, source: str = "profile") -> tuple[str, list[str]]:
    """The version-2 text of a version-1 profile and what changed, in words.

    Raises InputError when the file is not a valid version-1 profile or already
    version 2 (nothing to do is not an error: the text comes back unchanged)."""
    doc = load_text(text, source)
    data = doc.data
    if not isinstance(data, dict):
        raise InputError([doc.problem((), "expected a profile mapping at the top level")])
    profile_from_data(data, doc)  # a valid profile of either version, or InputError
    if data.get("schema_version") == 2:
        return text, []
    if not _VERSION.search(text):
        raise InputError([doc.problem(("schema_version",),
                                      "cannot find the line 'schema_version: 1' to rewrite",
                                      "write it at the start of a line, without indentation")])
    changes = ["schema_version: 1 -> 2"]
    out = _VERSION.sub(lambda m: "schema_version: 2" + (f"  {m.group(1)}" if m.group(1) else ""),
                       text, count=1)
    sov = data.get("sovereignty", "none")
    org = data.get("organisation") or {}
    mapping = legacy_sovereignty(sov, org.get("hq_country")) if isinstance(sov, str) else None
    if mapping is not None:
        mapping.pop("legacy", None)
        new = _flow(mapping)
        m = _SOVEREIGNTY.search(out)
        if m is None and "sovereignty" in data:
            raise InputError([doc.problem(("sovereignty",),
                                          "cannot find the line 'sovereignty: VALUE' to rewrite",
                                          "write it on one line at the start of a line")])
        if m is not None:
            comment = f"  # was: {sov}"
            out = out[:m.start()] + f"sovereignty: {new}{comment}" + out[m.end():]
        changes.append(f"sovereignty: {sov} -> {new}")
    check = load_text(out, source)
    profile_from_data(check.data, Document(f"{source} (migrated)", check.data))
    return out, changes


__all__ = ["migrate_text", "V"]
