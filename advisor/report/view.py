"""The report's view model: everything a template shows, already computed.

Templates only format. Aggregations (which rules applied, to which options,
counts) happen here, once, from the Decision.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from advisor.decision import Decision, Finding, OptionResult

STATUS_LABEL = {"viable": "Viable", "conditional": "Conditional", "excluded": "Excluded"}
EFFECT_LABEL = {"exclude": "excludes", "conditional": "sets conditions", "warn": "warns"}


@dataclass
class AppliedRule:
    """A rule that fired, shown once, with its effect on each option."""

    finding: Finding
    effects: dict[str, str] = field(default_factory=dict)  # option id -> effect


@dataclass
class ReportView:
    decision: Decision
    title: str
    counts: dict[str, int]
    excluded: list[OptionResult]
    conditional: list[OptionResult]
    viable: list[OptionResult]
    applied: list[AppliedRule]
    warnings: list[tuple[OptionResult, Finding]]
    option_names: dict[str, str]
    extra: dict[str, Any] = field(default_factory=dict)


def _fmt_actual(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) if value else "(none)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "(not given)"
    return str(value)


def build_view(decision: Decision) -> ReportView:
    applied: dict[str, AppliedRule] = {}
    warnings = []
    for opt in decision.options:
        for f in opt.findings:
            item = applied.setdefault(f.rule_id, AppliedRule(f))
            item.effects[opt.id] = f.effect
            if f.effect == "warn":
                warnings.append((opt, f))
    by_status = {s: [o for o in decision.options if o.status == s]
                 for s in ("viable", "conditional", "excluded")}
    option_controls = {o.id: list(dict.fromkeys(c for f in o.findings if f.effect != "exclude"
                                                for c in f.controls))
                       for o in decision.options}
    return ReportView(
        decision=decision,
        title=f"LLM deployment advisory: {decision.profile.name}",
        counts={s: len(v) for s, v in by_status.items()},
        excluded=by_status["excluded"], conditional=by_status["conditional"],
        viable=by_status["viable"],
        applied=sorted(applied.values(), key=lambda a: (a.finding.regime, a.finding.rule_id)),
        warnings=warnings,
        option_names={o.id: o.name for o in decision.options},
        extra={"option_controls": option_controls},
    )


def template_filters() -> dict[str, Any]:
    return {
        "actual": _fmt_actual,
        "status_label": lambda s: STATUS_LABEL.get(s, s),
        "effect_label": lambda e: EFFECT_LABEL.get(e, e),
        "md_cell": lambda s: str(s).replace("|", "\\|").replace("\n", " "),
    }
