"""The briefing's view model for HTML and PDF: the executive summary, the
decision matrix, per-option detail, trade-offs, charts and the registers.

Everything here is computed once from the Decision (and the trade-offs
catalog); the templates only lay it out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal, Optional

from pydantic import BaseModel, ConfigDict

from advisor import money as fmt
from advisor.decision import Decision, Finding, OptionResult
from advisor.report.view import ReportView, build_view
from advisor.resources import catalog_file
from advisor.schemacheck import validate_document
from advisor.yamlload import load_file


class TradeoffOption(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)
    scores: dict[str, int]
    constraints: str
    opportunities: str


class Tradeoffs(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)
    as_of: str
    source: str
    status: Literal["verified", "secondary", "assumption"]
    dimensions: dict[str, str]
    options: dict[str, TradeoffOption]


def load_tradeoffs(catalog_dir: Path) -> Optional[Tradeoffs]:
    path = catalog_file(catalog_dir, "tradeoffs.yaml")
    if not path.exists():
        return None
    return validate_document(Tradeoffs, load_file(path, what="trade-offs catalog"))


@dataclass
class MatrixRow:
    option: OptionResult
    deciding: Optional[Finding]
    counts: dict[str, int]


@dataclass
class ControlItem:
    id: str
    title: str
    evidence: str
    rules: list[str]
    in_place: Any = None  # InPlaceOut when the evidence file records it


@dataclass
class OptionDetail:
    option: OptionResult
    blocking: list[Finding]
    conditions: list[Finding]
    warnings: list[Finding]
    controls: list[ControlItem]
    tradeoff: Optional[TradeoffOption]


@dataclass
class Briefing:
    view: ReportView
    neutral: bool
    page_size: str
    headline: str
    why: str
    excluded_reasons: list[tuple[OptionResult, Finding]]
    key_controls: list[ControlItem]
    would_change: list[str]
    matrix: list[MatrixRow]
    details: list[OptionDetail]
    tradeoffs: Optional[Tradeoffs]
    tradeoff_rows: list[tuple[str, list[int]]]
    charts: dict[str, str] = field(default_factory=dict)
    assumptions: list[dict[str, Any]] = field(default_factory=list)
    generated: str = ""
    cost_focus: Optional[OptionResult] = None
    sizing_rows: list[dict[str, str]] = field(default_factory=list)


def _controls_of(option: OptionResult, decision: Decision) -> list[ControlItem]:
    by_id = {c.id: c for c in decision.controls}
    rules_of: dict[str, list[str]] = {}
    for f in decision.findings_of(option.id):
        if f.effect == "exclude" or f.waived is not None:
            continue
        for cid in f.controls:
            rules_of.setdefault(cid, []).append(f.rule_id)
    items = []
    for cid, rules in rules_of.items():
        c = by_id.get(cid)
        if c is not None:
            items.append(ControlItem(cid, c.title, c.evidence, sorted(set(rules)), c.in_place))
    return items


def _headline(decision: Decision, neutral: bool) -> tuple[str, str]:
    rec = decision.recommendation
    usable = [o for o in decision.options if o.status != "excluded"]
    if not usable:
        return ("No deployment option is usable for this profile.",
                "Every option is excluded by at least one rule; the reasons are below.")
    if rec and not neutral:
        name = rec.get("option_name") or rec.get("option")
        return (f"Recommended: {name}.", str(rec.get("why", "")))
    viable = [o.name for o in usable if o.status == "viable"]
    conditional = [o.name for o in usable if o.status == "conditional"]
    parts = []
    if viable:
        parts.append(f"{len(viable)} option{'s' if len(viable) > 1 else ''} viable as is")
    if conditional:
        parts.append(f"{len(conditional)} viable with conditions")
    text = "; ".join(parts) + "."
    why = ("This briefing compares the options without naming a winner."
           if neutral else "Costs were not evaluated, so no option is recommended.")
    return (text[0].upper() + text[1:], why)


def _would_change(decision: Decision) -> list[str]:
    out = []
    rec = decision.recommendation or {}
    for item in rec.get("would_change", []) or []:
        out.append(str(item))
    currency = rec.get("currency", "")
    loc = (decision.costing or {}).get("locale") or fmt.DEFAULT_LOCALE
    for t in (rec.get("tornado") or [])[:2]:
        out.append(f"{t.get('label', t.get('input'))}: from {t.get('input_low')} to "
                   f"{t.get('input_high')} moves the recommended option's NPV (discounted) between "
                   f"{fmt.money(t.get('low'), currency, loc)} and {fmt.money(t.get('high'), currency, loc)} "
                   "(tornado table).")
    runner = rec.get("runner_up") or {}
    if runner.get("option_name"):
        out.append(f"The runner-up, {runner['option_name']}, would take over if the gap of "
                   f"{fmt.money(runner.get('npv_difference'), currency, loc)} (NPV, the cost table's "
                   f"\"above rank 1\" column) closed; it is cheapest in "
                   f"{100 * float(runner.get('probability_cheapest') or 0):.0f}% of the simulations.")
    for u in decision.upcoming_obligations:
        affected = sorted(o for o, e in u.effects.items() if e in ("exclude", "conditional"))
        if affected:
            out.append(f"From {u.effective_from}, {u.rule_id} ({u.title}) applies to "
                       f"{len(affected)} option{'s' if len(affected) > 1 else ''}.")
    conds = [o for o in decision.options if o.status == "conditional"]
    if conds:
        top = max(conds, key=lambda o: sum(1 for f in o.findings if f.effect == "conditional"))
        out.append(f"If the controls required of {top.name} cannot be met, it drops out "
                   "of the comparison.")
    return out


def build_briefing(decision: Decision, *, tradeoffs: Optional[Tradeoffs], neutral: bool,
                   page_size: str, charts: bool = True, chart_format: str = "svg",
                   drawer: Optional[Callable[[list[ChartJob]], dict[str, Any]]] = None
                   ) -> Briefing:
    view = build_view(decision)
    headline, why = _headline(decision, neutral)
    excluded = [(o, next(f for f in o.findings if f.effect == "exclude"))
                for o in decision.options if o.status == "excluded"]
    all_controls = {c.id: c for c in decision.controls}
    rec_id = (decision.recommendation or {}).get("option")
    if rec_id and not neutral:
        # the recommended option's controls, from its most specific findings down
        ordered = [cid for f in decision.findings_of(rec_id)
                   if f.effect != "exclude" and f.waived is None for cid in f.controls]
        chosen = [all_controls[c] for c in dict.fromkeys(ordered) if c in all_controls]
    else:
        chosen = sorted(all_controls.values(), key=lambda c: (-len(c.options), c.id))
    key = [ControlItem(c.id, c.title, c.evidence, c.rules, c.in_place) for c in chosen[:6]]
    matrix = []
    for o in decision.options:
        every = decision.findings_of(o.id)
        counts = {e: sum(1 for f in every if f.effect == e and f.waived is None)
                  for e in ("exclude", "conditional", "warn")}
        matrix.append(MatrixRow(o, o.findings[0] if o.findings else (every[0] if every else None),
                                counts))
    details = [OptionDetail(
        o,
        [f for f in o.findings if f.effect == "exclude" and f.waived is None],
        [f for f in o.findings if f.effect == "conditional" and f.waived is None],
        [f for f in o.findings if f.effect == "warn" and f.waived is None],
        _controls_of(o, decision),
        tradeoffs.options.get(o.id) if tradeoffs else None) for o in decision.options]
    rows = []
    if tradeoffs:
        dims = list(tradeoffs.dimensions)
        for o in decision.options:
            t = tradeoffs.options.get(o.id)
            if t is not None:
                rows.append((o.id, [t.scores.get(d, 0) for d in dims]))
    b = Briefing(view, neutral, page_size, headline, why, excluded, key,
                 _would_change(decision), matrix, details, tradeoffs, rows,
                 generated=decision.evaluated_on.isoformat())
    b.assumptions = assumptions_register(decision)
    ranked = sorted((o for o in decision.options if o.rank is not None and o.tco),
                    key=lambda o: o.rank or 0)
    rec_id = (decision.recommendation or {}).get("option")
    b.cost_focus = next((o for o in ranked if o.id == rec_id), ranked[0] if ranked else None)
    b.sizing_rows = [sizing_row(o) for o in ranked]
    if charts:
        b.charts = draw_charts(decision, b, chart_format, drawer)
    return b


#: A chart to draw: (name, function of advisor.report.charts, arguments). Plain
#: data only, so a job can be drawn in another process (see chartworker).
ChartJob = tuple[str, str, tuple[Any, ...]]


def run_chart_jobs(jobs: list[ChartJob]) -> dict[str, Any]:
    from advisor.report import charts

    return {name: getattr(charts, fn)(*args) for name, fn, args in jobs}


def chart_jobs(decision: Decision, b: Briefing, fmt: str) -> list[ChartJob]:
    """Every chart the data supports."""
    jobs: list[ChartJob] = []
    if b.tradeoffs and b.tradeoff_rows:
        jobs.append(("tradeoffs", "tradeoff_heatmap", (
            [r[0] for r in b.tradeoff_rows], [k.replace("_", " ") for k in b.tradeoffs.dimensions],
            [r[1] for r in b.tradeoff_rows], fmt)))
    if decision.upcoming_obligations:
        horizon = decision.recommendation or {}
        end = horizon.get("horizon_end") or _horizon_end(decision)
        jobs.append(("timeline", "obligations_timeline", (
            decision.evaluated_on.isoformat(), end,
            [(u.effective_from.isoformat(), u.rule_id) for u in decision.upcoming_obligations], fmt)))
    return jobs + cost_chart_jobs(decision, fmt)


def draw_charts(decision: Decision, b: Briefing, fmt: str,
                drawer: Optional[Callable[[list[ChartJob]], dict[str, Any]]] = None
                ) -> dict[str, Any]:
    """Every chart the data supports, by name (SVG text or PNG bytes)."""
    return (drawer or run_chart_jobs)(chart_jobs(decision, b, fmt))


def _horizon_end(decision: Decision) -> str:
    last = max(u.effective_from for u in decision.upcoming_obligations)
    return max(last, decision.evaluated_on + dt.timedelta(days=365)).isoformat()


def cost_charts(decision: Decision, fmt: str) -> dict[str, Any]:
    """Cost charts, drawn when the decision carries TCO figures."""
    return run_chart_jobs(cost_chart_jobs(decision, fmt))


def cost_chart_jobs(decision: Decision, fmt_: str) -> list[ChartJob]:
    ranked = sorted((o for o in decision.options if o.rank is not None and o.tco),
                    key=lambda o: o.rank or 0)
    if not ranked:
        return []
    jobs: list[ChartJob] = []
    tcos = [o.tco or {} for o in ranked]
    currency = str(tcos[0].get("currency", ""))
    loc = str((decision.costing or {}).get("locale") or fmt.DEFAULT_LOCALE)
    yearly = {o.id: [float(y) for y in t.get("yearly", [])] for o, t in zip(ranked, tcos)
              if t.get("yearly")}
    if yearly:
        jobs.append(("cumulative", "cumulative_cost", (yearly, currency, fmt_, loc)))
    comps = component_groups(ranked)
    if comps:
        jobs.append(("components", "stacked_components", ([o.id for o in ranked], comps, currency,
                                                           fmt_, loc)))
    if all(t.get(k) is not None for t in tcos for k in ("npv_p10", "npv", "npv_p90")):
        jobs.append(("ranges", "ranges", ([o.id for o in ranked],
                                          [float(t["npv_p10"]) for t in tcos],
                                          [float(t["npv"]) for t in tcos],
                                          [float(t["npv_p90"]) for t in tcos], currency, fmt_, loc)))
    rec = decision.recommendation or {}
    tornado = rec.get("tornado")
    if tornado:
        jobs.append(("tornado", "tornado", ([t.get("label", t["input"]) for t in tornado],
                                            [float(t["low"]) for t in tornado],
                                            [float(t["high"]) for t in tornado],
                                            float((rec.get("tco") or {}).get("npv", tornado[0].get("base", 0))),
                                            currency, fmt_, loc)))
    curves = {o.id: (t["utilisation_curve"]["utilisation"], t["utilisation_curve"]["per_million_tokens"])
              for o, t in zip(ranked, tcos) if t.get("utilisation_curve")}
    if curves:
        jobs.append(("utilisation", "unit_cost_vs_utilisation", (curves, currency, fmt_)))
    return jobs


def _component_label(name: str) -> str:
    """Group like components across options: drop tier prefixes and the
    parenthesised detail ('GPU servers (AMD ...)' -> 'GPU servers')."""
    for prefix in ("On-premise tier: ", "Cloud tier: "):
        name = name.removeprefix(prefix)
    return name.split(" (")[0].strip()


def component_groups(ranked: list[OptionResult], keep: int = 7) -> dict[str, list[float]]:
    """Totals per component group and option, the largest groups kept and the
    rest summed as 'Other' (a legend of 30 entries helps nobody)."""
    groups: dict[str, list[float]] = {}
    for i, o in enumerate(ranked):
        for c in (o.tco or {}).get("components", []):
            label = _component_label(str(c.get("name", "")))
            groups.setdefault(label, [0.0] * len(ranked))
            groups[label][i] += float(c.get("total", 0) or 0)
    order = sorted(groups, key=lambda g: -sum(abs(v) for v in groups[g]))
    out = {g: groups[g] for g in order[:keep]}
    rest = order[keep:]
    if rest:
        out["Other"] = [sum(groups[g][i] for g in rest) for i in range(len(ranked))]
    return out


def assumptions_register(decision: Decision) -> list[dict[str, Any]]:
    """Every catalog value the cost figures used, once, weakest status first."""
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    for o in decision.options:
        for c in (o.tco or {}).get("components", []):
            for src in c.get("sources", []) or []:
                key = (str(src.get("kind")), str(src.get("id")))
                seen.setdefault(key, {"kind": src.get("kind"), "id": src.get("id"),
                                      "source": src.get("source"), "as_of": src.get("as_of"),
                                      "status": src.get("status"), "options": []})
                if o.id not in seen[key]["options"]:
                    seen[key]["options"].append(o.id)
    for t in (decision.recommendation or {}).get("tornado", []) or []:
        key = ("model input", str(t.get("input")))
        seen.setdefault(key, {"kind": "model input", "id": t.get("input"),
                              "source": f"{t.get('label')} = {t.get('value')} "
                                        f"(range {t.get('input_low')} to {t.get('input_high')})",
                              "as_of": "", "status": t.get("status"), "options": []})
    rank = {"assumption": 0, "secondary": 1, "calibrated": 2, "verified": 3}
    return sorted(seen.values(), key=lambda a: (rank.get(str(a["status"]), 9), str(a["kind"]),
                                                str(a["id"])))


def _layout(z: dict[str, Any]) -> str:
    lay = z.get("layout") or {}
    parts = [str(z.get("precision", "")).upper()]
    if lay:
        parts.append(f"TP{lay.get('tensor_parallel', 1)}"
                     + (f" x PP{lay['pipeline_parallel']}" if lay.get("pipeline_parallel", 1) > 1
                        else ""))
    if z.get("high_availability"):
        parts.append("N+1")
    return ", ".join(p for p in parts if p)


def _owned(z: dict[str, Any]) -> tuple[str, str]:
    years = z.get("years") or []
    last = years[-1] if years else {}
    hardware = (f"{z.get('server_name', z.get('server', ''))}: {last.get('servers', '?')} "
                f"server(s), {last.get('gpus', '?')} x {z.get('gpu', '')}")
    utils = [y.get("peak_utilisation") for y in years if y.get("peak_utilisation") is not None]
    capacity = (f"peak utilisation {100 * utils[0]:.0f}% in year 1, {100 * utils[-1]:.0f}% "
                f"in year {len(utils)}" if utils else "")
    return hardware, capacity


def _rented(z: dict[str, Any]) -> tuple[str, str]:
    hardware = (f"{z.get('provider', '')} {z.get('instance', '')} "
                f"({z.get('gpus_per_instance_vm', '?')} x {z.get('gpu', '')}), {z.get('region', '')}")
    years = z.get("years") or []
    capacity = "; ".join(f"year {y.get('year')}: {y.get('peak_instances')} instance(s), "
                         f"{y.get('plan', '')}" for y in years[:1] + years[-1:]) if years else ""
    return hardware, capacity


def _api(z: dict[str, Any]) -> tuple[str, str]:
    return (f"{z.get('provider', '')} {z.get('model', '')} API ({z.get('residency', '')})",
            "pay per token, no capacity to provision")


def sizing_row(option: OptionResult) -> dict[str, str]:
    """One line of the sizing table, whatever the option kind."""
    z = (option.tco or {}).get("sizing") or {}
    if "on_premise_tier" in z:
        hw1, cap1 = _owned(z["on_premise_tier"])
        tier = z.get("cloud_tier") or {}
        hw2 = (_api(tier) if "api_offer" in tier else _rented(tier))[0]
        share = z.get("sensitive_share")
        return {"option": option.name,
                "hardware": f"Owned tier: {hw1}. Cloud tier: {hw2}",
                "layout": _layout(z["on_premise_tier"]),
                "capacity": (f"{100 * float(share):.0f}% of requests on the owned tier; "
                             if share is not None else "") + cap1}
    if "api_offer" in z:
        hw, cap = _api(z)
        return {"option": option.name, "hardware": hw, "layout": "–", "capacity": cap}
    if "instance" in z:
        hw, cap = _rented(z)
    else:
        hw, cap = _owned(z)
    return {"option": option.name, "hardware": hw, "layout": _layout(z), "capacity": cap}
