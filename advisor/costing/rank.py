"""Rank the usable options of a Decision by expected cost (the pure core of costing).

``rank_decision`` takes a Decision and returns a copy with ``rank``, ``tco``,
``recommendation`` and ``costing`` filled. Excluded options are neither costed
nor ranked; an option whose price is missing gets ``tco.status = unknown`` with
the reason and is not ranked, while the others still are.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from advisor.costing.context import HOURS_PER_YEAR, Context
from advisor.costing.kinds import build_ledger
from advisor.costing.ledger import CostUnknown, Ledger, break_even_month, dec, money
from advisor.costing.montecarlo import percentiles, simulate, tornado
from advisor.decision import Decision, OptionResult
from advisor.errors import InputError
from advisor.catalog.options import Jurisdictions, OptionCatalog
from advisor.profile import Profile
from advisor.catalog.costdata import Catalog

DEFAULT_DRAWS = 10_000
DEFAULT_SEED = 20261130


def _sources(ctx: Context, ledgers: dict[str, Ledger]) -> list[dict[str, str]]:
    """Catalog entries behind the ledgers kept (not every candidate tried), plus the FX rates."""
    seen: dict[tuple[str, str], dict[str, str]] = {}
    for led in ledgers.values():
        for c in led.components:
            for cite in c.sources:
                seen[(cite["kind"], cite["id"])] = cite
    for key, cite in ctx.cites.items():
        if key[0] == "fx":
            seen[key] = cite
    return sorted(seen.values(), key=lambda c: (c["kind"], c["id"]))


def fmt_money(value: Decimal, currency: str) -> str:
    return f"{currency} {money(value, Decimal(1)):,}"


def _ledgers(ctx: Context, decision: Decision, options: OptionCatalog) -> tuple[
        dict[str, Ledger], dict[str, dict[str, Any]]]:
    ledgers: dict[str, Ledger] = {}
    unknown: dict[str, dict[str, Any]] = {}
    for res in decision.options:
        if res.status == "excluded":
            continue
        try:
            ledgers[res.id] = build_ledger(ctx, options.get(res.id))
        except CostUnknown as exc:
            unknown[res.id] = {"status": "unknown", "reason": exc.reason, "hint": exc.hint}
        except InputError as exc:
            p = exc.problems[0] if exc.problems else None
            unknown[res.id] = {"status": "unknown", "reason": p.message if p else str(exc),
                               "hint": p.hint if p else None}
    return ledgers, unknown


def _owning_vs_renting(ctx: Context, ledger: Ledger) -> dict[str, Any] | None:
    """Utilisation at which owning this hardware costs the same as renting the same GPUs on demand."""
    gpu = ledger.sizing.get("gpu")
    years = ledger.sizing.get("years") or []
    if not gpu or not years or "server" not in ledger.sizing:
        return None
    rates = []
    for oid, offer in ctx.catalog.cloud_offers.items():
        if offer.gpu == gpu and offer.on_demand is not None:
            try:
                rates.append((ctx.convert(offer.on_demand, offer.currency) / offer.gpus, oid))
            except CostUnknown:
                continue
    if not rates:
        return {"value": None, "gpu": gpu, "note": f"no on-demand cloud price for {gpu} in the catalog"}
    rate, oid = min(rates)
    gpus = dec(sum(y["gpus"] for y in years)) / len(years)
    annual = ledger.total / ledger.horizon
    u = annual / (gpus * HOURS_PER_YEAR * rate)
    return {"value": float(round(u, 2)), "gpu": gpu, "against_offer": oid,
            "rate_per_gpu_hour": money(rate, Decimal("0.0001")), "currency": ctx.currency,
            "note": ("owning is cheaper than renting the same GPUs on demand when they would be busy more than "
                     "this fraction of the time (only if the rented side could scale to zero)"
                     if u <= 1 else "owning never beats renting this GPU on demand at this scale")}


#: utilisation points of the unit-cost curve
_UTILISATION_POINTS = (0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


def _utilisation_curve(ledger: Ledger, tco: dict[str, Any],
                       peak_factor: float) -> dict[str, Any] | None:
    """Cost per million tokens if the provisioned capacity were busy a given
    fraction of the time. Owned hardware costs the same whatever it serves,
    so its unit cost falls as 1/utilisation; an API bills per token, so its
    unit cost is flat. Rented capacity that scales with the load is left out
    (its utilisation is whatever the scaling achieves)."""
    per_m = float(tco["per_million_tokens"])
    if "api_offer" in ledger.sizing:
        return {"utilisation": list(_UTILISATION_POINTS),
                "per_million_tokens": [round(per_m, 4)] * len(_UTILISATION_POINTS),
                "basis": "pay per token: unit cost does not depend on utilisation"}
    years = ledger.sizing.get("years") or []
    peaks = [y.get("peak_utilisation") for y in years if y.get("peak_utilisation")]
    if "server" not in ledger.sizing or not peaks:
        return None
    # mean load = peak load / peak factor, so mean utilisation = peak utilisation / peak factor
    actual = sum(peaks) / len(peaks) / max(peak_factor, 1.0)
    return {"utilisation": list(_UTILISATION_POINTS),
            "per_million_tokens": [round(per_m * actual / u, 4) for u in _UTILISATION_POINTS],
            "actual_utilisation": round(actual, 4),
            "basis": "owned capacity: unit cost scales with 1 / mean utilisation "
                     "(energy held constant, a slight overstatement at low utilisation)"}


def _break_even_text(month: int | None, against: str, horizon: int) -> str:
    if month is None:
        return f"does not break even against {against} within {horizon} years"
    if month == 0:
        return f"cheaper than {against} from the first month"
    years, months = divmod(month, 12)
    when = (f"{years} year{'s' if years != 1 else ''} " if years else "") + (
        f"{months} month{'s' if months != 1 else ''}" if months else "")
    return f"breaks even against {against} after {when.strip()} (month {month})"


def rank_decision(decision: Decision, profile: Profile, catalog: Catalog, options: OptionCatalog, *,
                  jurisdictions: Jurisdictions | None = None, seed: int = DEFAULT_SEED,
                  draws: int = DEFAULT_DRAWS) -> Decision:
    """A copy of ``decision`` with the usable options costed and ranked by expected NPV."""
    ctx = Context(catalog, profile)
    if jurisdictions is not None and "EEA" in jurisdictions.groups:
        ctx.eea = jurisdictions.members("EEA")
    ledgers, unknown = _ledgers(ctx, decision, options)
    rate = float(ctx.rate)
    growth = ctx.growth_factor()
    sim = simulate(ledgers, ctx.factors, growth, rate, draws=draws, seed=seed)
    expected = {oid: float(sim.npvs[oid].mean()) for oid in ledgers}
    order = sorted(ledgers, key=lambda oid: (expected[oid], [o.id for o in decision.options].index(oid)))
    rank_of = {oid: i + 1 for i, oid in enumerate(order)}
    names = {o.id: o.name for o in decision.options}
    curves = {oid: ledgers[oid].monthly_cumulative_pv(rate) for oid in order}

    tcos: dict[str, dict[str, Any]] = {}
    for oid in order:
        led = ledgers[oid]
        p10, p50, p90 = percentiles(sim.totals[oid])
        n10, n50, n90 = percentiles(sim.npvs[oid])
        tco: dict[str, Any] = {
            "status": "estimated",
            "total": money(led.total),
            "currency": ctx.currency,
            "npv": money(led.npv(ctx.rate)),
            "per_million_tokens": money(led.per_million_tokens(), Decimal("0.0001")),
            "p10": p10, "p50": p50, "p90": p90,
            "npv_p10": n10, "npv_p50": n50, "npv_p90": n90,
            "expected_npv": Decimal(round(expected[oid])),
            "probability_cheapest": round(sim.probability_cheapest.get(oid, 0.0), 4),
            "horizon_years": led.horizon,
            "tokens": int(led.tokens),
            "yearly": [money(a) for a in led.yearly()],
            "components": [c.to_json(ctx.currency) for c in
                           sorted(led.components, key=lambda c: -abs(c.total))],
            "sizing": led.sizing,
            "notes": led.notes,
        }
        others = [o for o in order if o != oid]
        if others:
            alt = others[0]
            month = break_even_month(curves[oid], curves[alt])
            tco["break_even"] = {"against": alt, "month": month,
                                 "text": _break_even_text(month, names[alt], led.horizon)}
        if "server" in led.sizing:
            tco["owning_beats_renting_at_utilisation"] = _owning_vs_renting(ctx, led)
        curve = _utilisation_curve(led, tco, profile.workload.peak_factor)
        if curve:
            tco["utilisation_curve"] = curve
        tcos[oid] = tco

    new_options: list[OptionResult] = []
    for res in decision.options:
        if res.id in tcos:
            new_options.append(res.model_copy(update={"rank": rank_of[res.id], "tco": tcos[res.id]}))
        elif res.id in unknown:
            new_options.append(res.model_copy(update={"rank": None, "tco": unknown[res.id]}))
        else:
            new_options.append(res)

    recommendation = None
    if order:
        best = order[0]
        t = tcos[best]
        why = (f"Lowest expected cost over {profile.finance.horizon_years} years among the {len(order)} costed "
               f"usable option{'s' if len(order) != 1 else ''} (NPV {fmt_money(t['expected_npv'], ctx.currency)}, "
               f"cheapest in {t['probability_cheapest']:.0%} of {draws:,} simulations)")
        runner = None
        if len(order) > 1:
            r = order[1]
            gap = tcos[r]["expected_npv"] - t["expected_npv"]
            why += f"; the runner-up, {names[r]}, costs {fmt_money(gap, ctx.currency)} more"
            runner = {"option": r, "option_name": names[r], "expected_npv": tcos[r]["expected_npv"],
                      "npv_difference": gap, "probability_cheapest": tcos[r]["probability_cheapest"]}
        status = decision.option(best).status
        if status == "conditional":
            why += "; it is usable only with the controls listed for it"
        recommendation = {
            "option": best, "option_name": names[best], "status": status, "why": why + ".",
            "ranked_by": "expected_npv",
            "currency": ctx.currency, "horizon_years": ctx.horizon,
            "tco_total": t["total"], "tco_base": t["npv"], "p10": t["p10"], "p90": t["p90"],
            "tco": {k: t[k] for k in ("total", "currency", "npv", "expected_npv", "per_million_tokens",
                                      "p10", "p50", "p90", "probability_cheapest")},
            "runner_up": runner,
            "break_even": t.get("break_even"),
            "tornado": tornado(ledgers[best], ctx.factors, growth, rate),
        }

    used = sorted({k for led in ledgers.values() for c in led.components for k in c.drivers})
    costing = {
        "currency": ctx.currency,
        "horizon_years": ctx.horizon,
        "discount_rate": profile.finance.discount_rate,
        "deployment_country": ctx.country,
        "ranked_by": "expected_npv",
        "draws": draws,
        "seed": seed,
        "method": "docs/costs.md",
        "fx": list(ctx.fx_used.values()),
        "inputs": [ctx.factors[k].to_json() for k in used] + [growth.to_json()],
        "sources": _sources(ctx, ledgers),
        "notes": list(dict.fromkeys(ctx.notes)),
        "not_costed": [{"option": oid, "option_name": names[oid], **info} for oid, info in unknown.items()],
    }
    return decision.model_copy(update={"options": new_options, "recommendation": recommendation,
                                       "costing": costing})
