"""Rank the usable options of a Decision by their central cost (the pure core of costing).

One number, one meaning: every ledger is built at the central inputs (the mean
of each uncertain input's range), its NPV is the figure that ranks, and the
same figure is shown in the tables, the recommendation, the tornado's base and
the charts, inside its own Monte Carlo P10-P90.

``rank_decision`` takes a Decision and returns a copy with ``rank``, ``tco``,
``recommendation`` and ``costing`` filled. Excluded options are neither costed
nor ranked; an option whose price is missing gets ``tco.status = unknown`` with
the reason and is not ranked, while the others still are.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from advisor.costing.context import Context
from advisor.costing.kinds import build_ledger
from advisor.costing.ledger import CostUnknown, Ledger, break_even_month, dec, money
from advisor.costing.montecarlo import percentiles, simulate, tornado
from advisor.money import locale_for, money as fmt_money
from advisor.decision import Decision, OptionResult, realise_offers
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




def _ledgers(ctx: Context, decision: Decision, options: OptionCatalog) -> tuple[
        dict[str, Ledger], dict[str, dict[str, Any]]]:
    ledgers: dict[str, Ledger] = {}
    unknown: dict[str, dict[str, Any]] = {}
    for res in decision.options:
        if res.status == "excluded":
            continue
        if res.offers == [] and res.offers_note:
            unknown[res.id] = {"status": "unknown", "reason": res.offers_note,
                               "hint": "add an offer to a --catalog copy of cloud_gpu_offers.yaml "
                                       "or api_offers.yaml, with its countries, legal exposure and "
                                       "accreditations"}
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
    for oid, offer in ctx.cloud_offers().items():
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
    hours, _ = ctx.hours_per_year()
    u = annual / (gpus * hours * rate)
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


def _months(month: int) -> str:
    years, months = divmod(month, 12)
    parts = ([f"{years} year{'s' if years != 1 else ''}"] if years else []) + (
        [f"{months} month{'s' if months != 1 else ''}"] if months else [])
    return " ".join(parts)


def break_even(first: str, first_curve: list[float], other: str, other_curve: list[float]) -> tuple[int | None, str]:
    """When the rank-1 option ``first`` becomes and stays cheaper than ``other``.

    Cumulative discounted cost month by month (the curve ends at the NPV). The
    month is the first from which ``first`` stays at or below ``other`` (0:
    from the start; None: the two end level within rounding). The sentence
    names both options, so it reads the same wherever it is shown.
    """
    month = break_even_month(first_curve, other_curve)
    if month is None:
        return None, (f"{first} and {other} end the horizon at the same discounted cost, within rounding")
    if month == 0:
        return 0, f"{first} costs less than {other} from the first month (cumulative discounted cost)"
    return month, (f"{other} costs less than {first} during the first {_months(month - 1)} (cumulative discounted "
                   f"cost, {first} buys more up front); from month {month} on, {first} costs less")


def rank_decision(decision: Decision, profile: Profile, catalog: Catalog, options: OptionCatalog, *,
                  jurisdictions: Jurisdictions | None = None, seed: int = DEFAULT_SEED,
                  draws: int = DEFAULT_DRAWS) -> Decision:
    """A copy of ``decision`` with the usable options costed and ranked by central NPV."""
    ctx = Context(catalog, profile, as_of=decision.evaluated_on.isoformat())
    if jurisdictions is not None and "EEA" in jurisdictions.groups:
        ctx.eea = jurisdictions.members("EEA")
    locale = locale_for(profile.organisation.hq_country)
    if jurisdictions is not None:
        # only the catalogued offers that realise an option and meet its constraints
        decision = realise_offers(decision, profile, catalog, options, jurisdictions)
        ctx.allowed = {o.id: frozenset(o.offers) for o in decision.options if o.offers is not None}
    ledgers, unknown = _ledgers(ctx, decision, options)
    rate = float(ctx.rate)
    growth = ctx.growth_factor()
    sim = simulate(ledgers, ctx.factors, growth, rate, draws=draws, seed=seed)
    npv = {oid: money(led.npv(ctx.rate)) for oid, led in ledgers.items()}
    position = [o.id for o in decision.options]
    order = sorted(ledgers, key=lambda oid: (npv[oid], position.index(oid)))
    rank_of = {oid: i + 1 for i, oid in enumerate(order)}
    names = {o.id: o.name for o in decision.options}
    curves = {oid: ledgers[oid].monthly_cumulative_pv(rate) for oid in order}

    tcos: dict[str, dict[str, Any]] = {}
    for oid in order:
        led = ledgers[oid]
        total = money(led.total)
        t10, t50, t90 = percentiles(sim.totals[oid], sim.central_totals[oid], led.total)
        n10, n50, n90 = percentiles(sim.npvs[oid], sim.central_npvs[oid], led.npv(ctx.rate))
        tco: dict[str, Any] = {
            "status": "estimated",
            "currency": ctx.currency,
            "horizon_years": led.horizon,
            "discount_rate": profile.finance.discount_rate,
            "npv": npv[oid],
            "npv_p10": n10, "npv_p50": n50, "npv_p90": n90,
            "total": total,
            "total_p10": t10, "total_p50": t50, "total_p90": t90,
            "npv_above_first": npv[oid] - npv[order[0]],
            "per_million_tokens": money(led.per_million_tokens(), Decimal("0.0001")),
            "probability_cheapest": round(sim.probability_cheapest.get(oid, 0.0), 4),
            "tokens": int(led.tokens),
            "yearly": [money(a) for a in led.yearly()],
            "components": [c.to_json(ctx.currency) for c in
                           sorted(led.components, key=lambda c: -abs(c.total))],
            "sizing": led.sizing,
            "notes": led.notes,
        }
        if len(order) > 1:
            first = order[0]
            other = order[1] if oid == first else oid
            month, text = break_even(names[first], curves[first], names[other], curves[other])
            tco["break_even"] = {"first": first, "against": other, "month": month, "text": text}
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
        ccy = ctx.currency
        why = (f"Lowest cost over {profile.finance.horizon_years} years among the {len(order)} costed usable "
               f"option{'s' if len(order) != 1 else ''}: NPV {fmt_money(t['npv'], ccy, locale)} (discounted at "
               f"{profile.finance.discount_rate:.1%}; P10–P90 {fmt_money(t['npv_p10'], ccy, locale)} to "
               f"{fmt_money(t['npv_p90'], ccy, locale)}), cheapest in {t['probability_cheapest']:.0%} of "
               f"{draws:,} simulations")
        runner = None
        if len(order) > 1:
            r = order[1]
            gap = tcos[r]["npv_above_first"]
            why += f"; the runner-up, {names[r]}, has an NPV {fmt_money(gap, ccy, locale)} higher"
            runner = {"option": r, "option_name": names[r], "npv": tcos[r]["npv"],
                      "npv_difference": gap, "probability_cheapest": tcos[r]["probability_cheapest"]}
        status = decision.option(best).status
        if status == "conditional":
            why += "; it is usable only with the controls listed for it"
        recommendation = {
            "option": best, "option_name": names[best], "status": status, "why": why + ".",
            "ranked_by": "npv",
            "currency": ccy, "horizon_years": ctx.horizon, "discount_rate": profile.finance.discount_rate,
            "tco": {k: t[k] for k in ("currency", "npv", "npv_p10", "npv_p90", "total", "total_p10", "total_p90",
                                      "per_million_tokens", "probability_cheapest")},
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
        "ranked_by": "npv",
        "central_estimate": "every ledger at the mean of each uncertain input's range (docs/costs.md)",
        "locale": locale,
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
