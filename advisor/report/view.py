"""The report's view model: everything a template shows, already computed.

Templates only format. Aggregations (which rules applied, to which options,
counts) happen here, once, from the Decision.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from advisor import money as fmt
from markupsafe import Markup

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


def offers_text(option: OptionResult) -> str:
    """Where an option may run, in one line: its catalogued offers or why none."""
    if option.offers is None:
        return "operated by the organisation itself"
    if not option.offers:
        return option.offers_note or "no catalogued offer"
    shown = ", ".join(option.offers[:4])
    more = f" and {len(option.offers) - 4} more" if len(option.offers) > 4 else ""
    return f"{len(option.offers)} offer{'s' if len(option.offers) != 1 else ''}: {shown}{more}"


def md_cite(citation: Any) -> Markup:
    """A Markdown link to a citation: the reference escaped (it may come from
    others), the URL as checked when the rule file loaded (http(s), nothing
    that ends a link)."""
    from advisor.markdown import escape

    ref = escape(str(citation.ref))
    return Markup(f"[{ref}]({citation.url})" if citation.url else ref)


def html_cite(citation: Any) -> Markup:
    if citation.url:
        return Markup('<a href="{}">{}</a>').format(citation.url, citation.ref)
    return Markup("{}").format(citation.ref)


def build_view(decision: Decision) -> ReportView:
    applied: dict[str, AppliedRule] = {}
    warnings = []
    waived = []
    for opt in decision.options:
        # every finding that applies, the shared obligations included
        for f in decision.findings_of(opt.id):
            item = applied.setdefault(f.rule_id, AppliedRule(f))
            item.effects[opt.id] = f.effect
            if f.waived is not None:
                waived.append((opt, f))
            elif f.effect == "warn" and f.rule_id not in opt.shared:
                warnings.append((opt, f))
    by_status = {s: [o for o in decision.options if o.status == s]
                 for s in ("viable", "conditional", "excluded")}
    option_controls = {o.id: list(dict.fromkeys(c for f in o.findings
                                                if f.effect != "exclude" and f.waived is None
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
        extra={"option_controls": option_controls, "costs": build_cost_view(decision),
               "waived": waived},
    )


# ------------------------------------------------------------------ costs ----

def _sizing_text(sizing: dict[str, Any]) -> str:
    """One line saying what capacity a ledger was built on."""
    if "on_premise_tier" in sizing:
        return (f"{sizing['sensitive_share']:.0%} of requests on own servers ("
                f"{_sizing_text(sizing['on_premise_tier'])}); the rest on the cloud tier ("
                f"{_sizing_text(sizing['cloud_tier'])})")
    if "api_offer" in sizing:
        return f"API product {sizing['model']} ({sizing['provider']}, `{sizing['api_offer']}`), residency {sizing['residency']}"
    layout = sizing.get("layout") or {}
    par = f"{sizing.get('precision')}, tensor parallel {layout.get('tensor_parallel')}"
    if layout.get("pipeline_parallel", 1) > 1:
        par += f" x pipeline {layout['pipeline_parallel']}"
    years = sizing.get("years") or []
    ha = ", N+1 spare" if sizing.get("high_availability") else ""
    if "server" in sizing:
        counts = ", ".join(str(y["servers"]) for y in years)
        return (f"{sizing['server_name']} (`{sizing['server']}`, {sizing['gpus_per_server']}x {sizing['gpu']}), "
                f"{par}{ha}; servers installed by year: {counts}")
    counts = ", ".join(str(y["peak_instances"]) for y in years)
    plans = sorted({y["plan"] for y in years})
    region = f", {sizing['region']}" if sizing.get("region") else ""
    return (f"{sizing['provider']} {sizing['instance']}{region} (`{sizing['offer']}`, {sizing['gpus_per_instance_vm']}x "
            f"{sizing['gpu']} per instance), {par}{ha}; instances at peak by year: {counts} ({'; '.join(plans)})")


def _input_value(row: dict[str, Any]) -> str:
    low, high, value = row["low"], row["high"], row["value"]
    if low == high == value:
        return f"{value:g}"
    central = row.get("central", value)
    return f"{_num(central)} (mean of {_num(low)} / {_num(value)} / {_num(high)})"


def _num(x: float) -> str:
    """An input value: whole and grouped when large, four significant digits otherwise."""
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.4g}"


def build_cost_view(decision: Decision) -> dict[str, Any] | None:
    """The cost section: ranked options, the recommended ledger, sizing, inputs and sources.

    None when nothing was costed (no usable option, or costing was not run).
    """
    costing = decision.costing
    if not costing:
        return None
    ranked = sorted((o for o in decision.options if o.rank is not None and o.tco), key=lambda o: o.rank or 0)
    currency = costing["currency"]
    loc = costing.get("locale") or fmt.DEFAULT_LOCALE

    def m(value: Any, places: int = 0) -> str:
        return fmt.amount(value, loc, places)

    rows = []
    for o in ranked:
        t = o.tco or {}
        rows.append({
            "rank": o.rank, "id": o.id, "name": o.name, "status": o.status,
            "npv": m(t["npv"]), "npv_range": f"{m(t['npv_p10'])} – {m(t['npv_p90'])}",
            "total": m(t["total"]), "total_range": f"{m(t['total_p10'])} – {m(t['total_p90'])}",
            "gap": m(t["npv_above_first"]) if o.rank != 1 else "–",
            "per_million": m(t["per_million_tokens"], 2),
            "probability": f"{t['probability_cheapest']:.0%}",
            "sizing": _sizing_text(t.get("sizing") or {}),
            "break_even": (t.get("break_even") or {}).get("text"),
            "notes": t.get("notes") or [],
        })
    rec = decision.recommendation or {}
    best = next((o for o in ranked if o.id == rec.get("option")), ranked[0] if ranked else None)
    components = []
    owning = None
    if best is not None and best.tco:
        for c in best.tco["components"][:8]:
            components.append({"name": c["name"], "quantity": fmt.quantity(c["quantity"], loc), "unit": c["unit"],
                               "unit_price": fmt.price(c["unit_price"], loc), "total": m(c["total"]),
                               "status": c["status"], "note": c.get("note")})
        util = best.tco.get("owning_beats_renting_at_utilisation")
        if util and util.get("value") is not None:
            owning = (f"Owning these {util['gpu']} GPUs beats renting them on demand (`{util['against_offer']}`, "
                      f"{fmt.money(util['rate_per_gpu_hour'], currency, loc, 2)} per GPU-hour) above "
                      f"{util['value']:.0%} utilisation; {util['note']}.")
    tornado = [{"label": r["label"], "range": f"{r['input_low']:g} to {r['input_high']:g}",
                "central": f"{r.get('central', r['value']):g}",
                "low": m(r["low"]), "high": m(r["high"]), "swing": m(r["swing"])}
               for r in rec.get("tornado") or []]
    inputs = [{"label": r["label"], "value": _input_value(r), "unit": r["unit"], "status": r["status"],
               "source": r["source"], "as_of": r["as_of"]} for r in costing.get("inputs", [])]
    sources = [{"kind": c["kind"], "id": c["id"], "status": c["status"], "as_of": c["as_of"], "source": c["source"]}
               for c in costing.get("sources", [])]
    fx = [f"{f['from']} to {f['to']} at {f['rate']} (rate of {f['as_of']})" for f in costing.get("fx", [])]
    return {
        "currency": currency, "horizon": costing["horizon_years"], "discount_rate": f"{costing['discount_rate']:.1%}",
        "draws": f"{costing['draws']:,}", "seed": costing["seed"], "rows": rows, "locale": loc,
        "recommended": best.name if best is not None else None, "components": components,
        "break_even": (rec.get("break_even") or {}).get("text"), "owning": owning, "tornado": tornado,
        "inputs": inputs, "sources": sources, "fx": fx, "notes": costing.get("notes") or [],
        "not_costed": costing.get("not_costed") or [],
    }


def template_filters() -> dict[str, Any]:
    return {
        "actual": _fmt_actual,
        "status_label": lambda s: STATUS_LABEL.get(s, s),
        "effect_label": lambda e: EFFECT_LABEL.get(e, e),
        "md_cell": _md_cell,
        "offers_text": offers_text,
        "md_cite": md_cite,
        "html_cite": html_cite,
    }


def _md_cell(value: Any) -> Any:
    """Text for a Markdown table cell: escaped, pipes escaped, on one line;
    marked safe so the Markdown environment does not escape it twice."""
    from markupsafe import Markup

    from advisor.markdown import escape

    return Markup(escape(str(value)).replace("|", "\\|").replace("\n", " "))


def md_finalize(value: Any) -> Any:
    """What every ``{{ ... }}`` of a Markdown template writes: text from the
    decision escaped (:func:`advisor.markdown.escape`); numbers, and text a
    filter already escaped (``md_cell``, ``safe``), unchanged."""
    from markupsafe import Markup

    from advisor.markdown import escape

    if isinstance(value, str) and not isinstance(value, Markup):
        return escape(value)
    return value
