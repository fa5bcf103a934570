"""What changed between two decisions (``advisor diff``, ``advisor rules impact``).

Works on the published JSON form of a decision (``schema_version: 1``), so a
decision saved months ago by another advisor version still compares: only the
stable parts are read (option statuses and findings, ranks, the cost figure
that ranks options, the recommendation, controls, upcoming obligations).
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field

from advisor.errors import InputError, Problem

#: The cost figure compared per option: the first of these the decision has
#: (the one that ranks the options comes first).
COST_FIGURES = ("expected_npv", "npv", "total")
#: A cost change smaller than this (percent of the old figure) is not reported.
DEFAULT_THRESHOLD_PCT = 5.0


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Change(_Out):
    old: Optional[str]
    new: Optional[str]


class FindingRef(_Out):
    rule_id: str
    effect: str
    title: str = ""


class FindingChange(_Out):
    rule_id: str
    old: str
    new: str
    title: str = ""


class CostChange(_Out):
    figure: str = Field(description="The tco field compared, e.g. expected_npv")
    currency: Optional[str]
    old: Optional[str]
    new: Optional[str]
    change_pct: Optional[float] = Field(description="(new - old) / old, in percent")


class OptionDiff(_Out):
    id: str
    name: str = ""
    status: Optional[Change] = None
    rank: Optional[Change] = None
    findings_added: list[FindingRef] = Field(default_factory=list)
    findings_removed: list[FindingRef] = Field(default_factory=list)
    findings_changed: list[FindingChange] = Field(default_factory=list)
    cost: Optional[CostChange] = None

    @property
    def rules(self) -> list[str]:
        """The rules whose findings changed for this option: the cause."""
        ids = [f.rule_id for f in self.findings_added + self.findings_removed]
        ids += [f.rule_id for f in self.findings_changed]
        return sorted(set(ids))


class DecisionRef(_Out):
    source: str
    profile: str
    evaluated_on: Optional[str]
    ruleset_sha256: Optional[str]
    ruleset_source: Optional[str]


class DecisionDiff(_Out):
    old: DecisionRef
    new: DecisionRef
    threshold_pct: float
    recommendation: Optional[Change] = None
    options: list[OptionDiff] = Field(default_factory=list)
    options_added: list[str] = Field(default_factory=list)
    options_removed: list[str] = Field(default_factory=list)
    controls_added: list[str] = Field(default_factory=list)
    controls_removed: list[str] = Field(default_factory=list)
    upcoming_added: list[str] = Field(default_factory=list)
    upcoming_removed: list[str] = Field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.recommendation or self.options or self.options_added
                    or self.options_removed or self.controls_added or self.controls_removed
                    or self.upcoming_added or self.upcoming_removed)

    @property
    def rules(self) -> list[str]:
        return sorted({r for o in self.options for r in o.rules})

    def lists(self, options: bool = True) -> list[tuple[str, list[str]]]:
        """The changed lists of ids, labelled (empty ones left out)."""
        named = ([("options added", self.options_added), ("options removed", self.options_removed)]
                 if options else [])
        named += [("controls added", self.controls_added),
                  ("controls removed", self.controls_removed),
                  ("upcoming obligations added", self.upcoming_added),
                  ("upcoming obligations removed", self.upcoming_removed)]
        return [(label, items) for label, items in named if items]


# ------------------------------------------------------------------ loading ----

def load_decision(path: str | Path) -> dict[str, Any]:
    """Read a decision JSON file (``advisor evaluate --format json``)."""
    name = str(path)
    p = Path(path)
    if not p.is_file():
        raise InputError.single(name, "decision file not found" if not p.exists()
                                else "is a folder, expected a decision JSON file")
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise InputError.single(name, "not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise InputError.single(name, f"invalid JSON: {exc.msg}", exc.lineno, exc.colno,
                                hint="write decisions with 'advisor evaluate PROFILE "
                                     "--format json -o FILE'") from None
    check_decision(data, name)
    return data  # type: ignore[no-any-return]


def check_decision(data: Any, name: str) -> None:
    problems: list[Problem] = []
    if not isinstance(data, dict) or data.get("schema_version") != 1:
        raise InputError.single(name, "not a decision (expected a JSON object with "
                                      "schema_version 1)",
                                hint="produce one with 'advisor evaluate --format json'")
    options = data.get("options")
    if not isinstance(options, list):
        problems.append(Problem(name, None, None, "options: expected a list"))
    else:
        for i, o in enumerate(options):
            if not (isinstance(o, dict) and isinstance(o.get("id"), str)
                    and isinstance(o.get("status"), str) and isinstance(o.get("findings"), list)):
                problems.append(Problem(name, None, None,
                                        f"options[{i}]: expected id, status and findings"))
    if problems:
        raise InputError(problems)


# ---------------------------------------------------------------- comparing ----

def _findings(option: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["rule_id"]: f for f in option.get("findings", []) if isinstance(f, dict)}


def _with_obligations(decision: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Options by id, each with its full findings: its own plus the shared
    obligations it lists (a duty moving between the two is not a change)."""
    shared = {f["rule_id"]: f for f in decision.get("obligations") or [] if isinstance(f, dict)}
    out = {}
    for o in decision["options"]:
        extra = [shared[r] for r in o.get("shared") or [] if r in shared]
        out[o["id"]] = {**o, "findings": [*o.get("findings", []), *extra]} if extra else o
    return out


def cost_figure(tco: dict[str, Any]) -> tuple[str, Optional[Decimal], Optional[str]]:
    """(which figure, its value, its currency) of an option's ``tco``: the
    figure that ranks the options, or None when the option was not costed."""
    for figure in COST_FIGURES:
        if tco.get(figure) is not None:
            try:
                return figure, Decimal(str(tco[figure])), tco.get("currency")
            except InvalidOperation:
                break
    return COST_FIGURES[0], None, tco.get("currency")


def _cost_change(old: dict[str, Any], new: dict[str, Any],
                 threshold_pct: float) -> Optional[CostChange]:
    fig_old, a, cur_old = cost_figure(old.get("tco") or {})
    fig_new, b, cur_new = cost_figure(new.get("tco") or {})
    if a is None and b is None:
        return None
    currency = cur_new or cur_old
    if a is None or b is None or fig_old != fig_new or cur_old != cur_new:
        # costed on one side only, or not comparable: always worth showing
        return CostChange(figure=fig_new if b is not None else fig_old, currency=currency,
                          old=None if a is None else f"{a:.0f}",
                          new=None if b is None else f"{b:.0f}", change_pct=None)
    if a == b:
        return None
    pct = float((b - a) / a * 100) if a else None
    if pct is not None and abs(pct) < threshold_pct:
        return None
    return CostChange(figure=fig_new, currency=currency, old=f"{a:.0f}", new=f"{b:.0f}",
                      change_pct=None if pct is None else round(pct, 1))


def _option_diff(old: dict[str, Any], new: dict[str, Any],
                 threshold_pct: float) -> Optional[OptionDiff]:
    diff = OptionDiff(id=new["id"], name=new.get("name") or old.get("name") or "")
    if old["status"] != new["status"]:
        diff.status = Change(old=old["status"], new=new["status"])
    if old.get("rank") != new.get("rank"):
        diff.rank = Change(old=_text(old.get("rank")), new=_text(new.get("rank")))
    fo, fn = _findings(old), _findings(new)
    diff.findings_added = [FindingRef(rule_id=r, effect=fn[r]["effect"], title=fn[r].get("title", ""))
                           for r in fn if r not in fo]
    diff.findings_removed = [FindingRef(rule_id=r, effect=fo[r]["effect"], title=fo[r].get("title", ""))
                             for r in fo if r not in fn]
    diff.findings_changed = [FindingChange(rule_id=r, old=fo[r]["effect"], new=fn[r]["effect"],
                                           title=fn[r].get("title", ""))
                             for r in fn if r in fo and fo[r]["effect"] != fn[r]["effect"]]
    if "excluded" not in (old["status"], new["status"]):  # an excluded option is not costed
        diff.cost = _cost_change(old, new, threshold_pct)
    if (diff.status or diff.rank or diff.findings_added or diff.findings_removed
            or diff.findings_changed or diff.cost):
        return diff
    return None


def _text(value: Any) -> Optional[str]:
    return None if value is None else str(value)


def _ids(items: Any, key: str) -> list[str]:
    return [i[key] for i in items or [] if isinstance(i, dict) and key in i]


def _ref(data: dict[str, Any], source: str) -> DecisionRef:
    ruleset = data.get("ruleset") or {}
    return DecisionRef(source=source, profile=(data.get("profile") or {}).get("name", ""),
                       evaluated_on=_text(data.get("evaluated_on")),
                       ruleset_sha256=ruleset.get("sha256"), ruleset_source=ruleset.get("source"))


def compare(old: dict[str, Any], new: dict[str, Any], *, old_source: str = "old",
            new_source: str = "new",
            threshold_pct: float = DEFAULT_THRESHOLD_PCT) -> DecisionDiff:
    """The differences from ``old`` to ``new`` (two decisions in JSON form)."""
    result = DecisionDiff(old=_ref(old, old_source), new=_ref(new, new_source),
                          threshold_pct=threshold_pct)
    old_opts = _with_obligations(old)
    new_opts = _with_obligations(new)
    result.options_added = [i for i in new_opts if i not in old_opts]
    result.options_removed = [i for i in old_opts if i not in new_opts]
    for oid, option in new_opts.items():
        if oid in old_opts:
            d = _option_diff(old_opts[oid], option, threshold_pct)
            if d is not None:
                result.options.append(d)
    rec_old = (old.get("recommendation") or {}).get("option")
    rec_new = (new.get("recommendation") or {}).get("option")
    if rec_old != rec_new:
        result.recommendation = Change(old=rec_old, new=rec_new)
    co, cn = _ids(old.get("controls"), "id"), _ids(new.get("controls"), "id")
    result.controls_added = [c for c in cn if c not in co]
    result.controls_removed = [c for c in co if c not in cn]
    uo = _ids(old.get("upcoming_obligations"), "rule_id")
    un = _ids(new.get("upcoming_obligations"), "rule_id")
    result.upcoming_added = [u for u in un if u not in uo]
    result.upcoming_removed = [u for u in uo if u not in un]
    return result


# ---------------------------------------------------------------- rendering ----

def _money(value: Optional[str], currency: Optional[str]) -> str:
    if value is None:
        return "not costed"
    return f"{currency or ''} {int(Decimal(value)):,}".strip()


def option_lines(o: OptionDiff, bullet: str = "  ", code: str = "") -> list[str]:
    """One line per change of an option (shared by text and Markdown)."""
    q = code
    lines = []
    if o.status:
        lines.append(f"{bullet}status: {o.status.old} -> {o.status.new}")
    for f in o.findings_added:
        lines.append(f"{bullet}+ {q}{f.rule_id}{q} ({f.effect}): {f.title}")
    for f in o.findings_removed:
        lines.append(f"{bullet}- {q}{f.rule_id}{q} ({f.effect}): {f.title}")
    for fc in o.findings_changed:
        lines.append(f"{bullet}~ {q}{fc.rule_id}{q}: {fc.old} -> {fc.new}")
    if o.rank:
        lines.append(f"{bullet}rank: {o.rank.old or '-'} -> {o.rank.new or '-'}")
    if o.cost:
        c = o.cost
        pct = f" ({c.change_pct:+.1f} %)" if c.change_pct is not None else ""
        lines.append(f"{bullet}cost ({c.figure}): {_money(c.old, c.currency)} -> "
                     f"{_money(c.new, c.currency)}{pct}")
    return lines


def render_text(diff: DecisionDiff) -> str:
    out = [f"--- {diff.old.source} ({diff.old.profile}, evaluated {diff.old.evaluated_on})",
           f"+++ {diff.new.source} ({diff.new.profile}, evaluated {diff.new.evaluated_on})"]
    if diff.old.ruleset_sha256 != diff.new.ruleset_sha256:
        out.append(f"rules: {diff.old.ruleset_source} ({(diff.old.ruleset_sha256 or '')[:12]}) -> "
                   f"{diff.new.ruleset_source} ({(diff.new.ruleset_sha256 or '')[:12]})")
    if not diff.changed:
        out.append(f"no differences (costs compared at a {diff.threshold_pct:g} % threshold)")
        return "\n".join(out) + "\n"
    if diff.recommendation:
        out.append(f"recommendation: {diff.recommendation.old or 'none'} -> "
                   f"{diff.recommendation.new or 'none'}")
    for o in diff.options:
        out.append(f"{o.id}:")
        out += option_lines(o)
    for label, items in diff.lists():
        out.append(f"{label}: {', '.join(items)}")
    return "\n".join(out) + "\n"


def render_markdown(diff: DecisionDiff) -> str:
    out = [f"## {diff.new.profile or diff.new.source}: what changed", "",
           f"From `{diff.old.source}` (evaluated {diff.old.evaluated_on}) to "
           f"`{diff.new.source}` (evaluated {diff.new.evaluated_on}).", ""]
    if not diff.changed:
        out.append(f"No differences (costs compared at a {diff.threshold_pct:g} % threshold).")
        return "\n".join(out) + "\n"
    if diff.recommendation:
        out += [f"**Recommendation:** `{diff.recommendation.old or 'none'}` -> "
                f"`{diff.recommendation.new or 'none'}`", ""]
    for o in diff.options:
        out.append(f"- **{o.name or o.id}** (`{o.id}`)")
        out += option_lines(o, bullet="  - ", code="`")
    for label, items in diff.lists():
        out.append(f"- {label.capitalize()}: " + ", ".join(f"`{i}`" for i in items))
    return "\n".join(out) + "\n"
