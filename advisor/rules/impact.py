"""Which decisions a change to the rule library changes (``advisor rules impact``).

Every profile is evaluated under the baseline library and under the edited
one, on the same date, with the same catalog; the two decisions are compared
with :mod:`advisor.compare`, and every change names the rules whose findings
moved. Costs are not recomputed: a rule edit changes statuses and findings,
and a status change is what can move the ranking (it is listed).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

from advisor.catalog.options import Jurisdictions, OptionCatalog
from advisor.compare import DecisionDiff, compare, option_lines
from advisor.decision import evaluate
from advisor.profile import LoadedProfile
from advisor.rules.library import RuleSet


@dataclass(frozen=True)
class LibraryChange:
    """Rules added, removed or edited between two libraries, by id."""

    added: list[str]
    removed: list[str]
    modified: list[str]
    tests_only: list[str]  # only their test cases changed: no decision can move

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.modified or self.tests_only)


def library_change(old: RuleSet, new: RuleSet) -> LibraryChange:
    before = {r.id: r.spec for r in old.rules}
    after = {r.id: r.spec for r in new.rules}
    modified, tests_only = [], []
    for rid in sorted(set(before) & set(after)):
        a, b = before[rid], after[rid]
        if a == b:
            continue
        if a.model_copy(update={"tests": []}) == b.model_copy(update={"tests": []}):
            tests_only.append(rid)
        else:
            modified.append(rid)
    return LibraryChange(added=sorted(set(after) - set(before)),
                         removed=sorted(set(before) - set(after)),
                         modified=modified, tests_only=tests_only)


@dataclass(frozen=True)
class ProfileImpact:
    source: str
    name: str
    diff: DecisionDiff


@dataclass
class Impact:
    baseline: str
    edited: str
    on: dt.date
    library: LibraryChange
    profiles: int
    changed: list[ProfileImpact] = field(default_factory=list)

    @property
    def rules(self) -> list[str]:
        return sorted({r for p in self.changed for r in p.diff.rules})


def rules_impact(profiles: list[LoadedProfile], baseline: RuleSet, edited: RuleSet,
                 options: OptionCatalog, jurisdictions: Jurisdictions, *, on: dt.date,
                 baseline_name: str, edited_name: str, engine: str = "durable") -> Impact:
    result = Impact(baseline_name, edited_name, on, library_change(baseline, edited),
                    len(profiles))
    for lp in profiles:
        decisions = [evaluate(lp.profile, rs, options, jurisdictions, on=on,
                              profile_sha256=lp.sha256, engine=engine, rules_display_dir=name)
                     .model_dump(mode="json")
                     for rs, name in ((baseline, baseline_name), (edited, edited_name))]
        diff = compare(decisions[0], decisions[1], old_source=baseline_name,
                       new_source=edited_name)
        if diff.changed:
            result.changed.append(ProfileImpact(lp.source, lp.profile.organisation.name, diff))
    return result


def _library_lines(c: LibraryChange, code: str = "") -> list[str]:
    q = code
    return [f"{label}: " + ", ".join(f"{q}{i}{q}" for i in ids)
            for label, ids in (("added", c.added), ("removed", c.removed),
                               ("modified", c.modified), ("test cases only", c.tests_only))
            if ids]


def render_text(impact: Impact) -> str:
    out = [f"rule library: {impact.baseline} -> {impact.edited}"]
    out += ["  " + line for line in _library_lines(impact.library)] or ["  no rule changed"]
    n = len(impact.changed)
    out.append(f"{impact.profiles} profile{'s' if impact.profiles != 1 else ''} evaluated "
               f"as of {impact.on}: {n} decision{'s' if n != 1 else ''} "
               f"change{'s' if n == 1 else ''}")
    for p in impact.changed:
        out.append("")
        out.append(f"{p.source} ({p.name})")
        for o in p.diff.options:
            out.append(f"  {o.id}:")
            out += option_lines(o, bullet="    ")
        for label, items in p.diff.lists(options=False):
            out.append(f"  {label}: {', '.join(items)}")
    return "\n".join(out) + "\n"


def render_markdown(impact: Impact) -> str:
    n = len(impact.changed)
    out = ["## Rule change impact", "",
           f"`{impact.baseline}` -> `{impact.edited}`, {impact.profiles} profiles evaluated as "
           f"of {impact.on}: **{n} decision{'s' if n != 1 else ''} "
           f"change{'s' if n == 1 else ''}**.", ""]
    out += [f"- Rules {line}" for line in _library_lines(impact.library, "`")] or ["- No rule changed."]
    if impact.changed:
        out += ["", "| Profile | Option | Status | Rules |", "|---|---|---|---|"]
        for p in impact.changed:
            for o in p.diff.options:
                status = f"{o.status.old} -> {o.status.new}" if o.status else "unchanged"
                rules = ", ".join(f"`{r}`" for r in o.rules)
                out.append(f"| {p.name} | `{o.id}` | {status} | {rules} |")
        for p in impact.changed:
            out += ["", f"### {p.name}", "", f"`{p.source}`", ""]
            for o in p.diff.options:
                out.append(f"- **{o.name or o.id}** (`{o.id}`)")
                out += option_lines(o, bullet="  - ", code="`")
    return "\n".join(out) + "\n"


def render_json(impact: Impact) -> str:
    data = {
        "baseline": impact.baseline, "rules": impact.edited, "as_of": impact.on.isoformat(),
        "library": {"added": impact.library.added, "removed": impact.library.removed,
                    "modified": impact.library.modified,
                    "tests_only": impact.library.tests_only},
        "profiles": impact.profiles, "rules_causing_changes": impact.rules,
        "changed": [{"profile": p.source, "name": p.name,
                     "diff": p.diff.model_dump(mode="json")} for p in impact.changed],
    }
    return json.dumps(data, indent=2) + "\n"
