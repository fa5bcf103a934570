"""Ledger builders, one per option kind.

Each builder takes the resolved :class:`Context` and the option, and returns a
:class:`Ledger` or raises :class:`CostUnknown` naming what is missing. Where a
kind can be served by several catalogued offers or GPUs, every candidate is
costed and the one with the lowest NPV is kept (the others are listed in
``sizing.alternatives``), so the ranking compares each option at its best.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable

from advisor.costing.context import Context, servers_for, spare_servers, vms_for
from advisor.costing.ledger import Component, CostUnknown, Ledger, dec, money
from advisor.errors import InputError, did_you_mean
from advisor.catalog.options import Option
from advisor.catalog.costdata import ApiOffer, CloudOffer, ServerSpec

MILLION = Decimal(1_000_000)
_PREMIUM_ITEM = {
    "sovereign_cloud": ("sovereign_cloud_premium_pct", "Sovereign cloud premium"),
    "government_cloud": ("government_cloud_premium_pct", "Government cloud premium"),
}


def _zero(h: int) -> list[Decimal]:
    return [Decimal(0)] * h


# ------------------------------------------------------------------- API ----

def resolve_api_offer(ctx: Context) -> tuple[str, ApiOffer]:
    """The API product the profile names (workload.api_model), else one serving its open-weights model."""
    offers = ctx.api_offers()
    name = ctx.profile.workload.api_model
    if name:
        if name in offers:
            return name, offers[name]
        matches = [(i, o) for i, o in offers.items() if o.model == name]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            global_ = [m for m in matches if m[1].residency == "global"]
            if len(global_) == 1:
                return global_[0]
            raise CostUnknown(f"API model '{name}' is offered by several catalog entries",
                              "set workload.api_model to one of: " + ", ".join(i for i, _ in matches))
        hint = did_you_mean(name, list(offers) + [o.model for o in offers.values()])
        raise CostUnknown(f"unknown API product '{name}' (workload.api_model) in catalog/api_offers.yaml",
                          hint or "add an offer to a --catalog copy of api_offers.yaml")
    model = ctx.profile.workload.model
    matches = sorted(((i, o) for i, o in offers.items() if o.open_weights_model == model), key=lambda m: m[0])
    if matches:
        return matches[0]
    raise CostUnknown(f"no API product to price: the profile gives no workload.api_model and no catalogued "
                      f"API serves '{model}'", "set workload.api_model (catalog/api_offers.yaml)")


def api_components(ctx: Context, share: float, prefix: str = "", regional: bool = False) -> tuple[
        list[Component], dict[str, Any]]:
    """Token charges for ``share`` of the workload at the profile's API product."""
    oid, offer = resolve_api_offer(ctx)
    w = ctx.profile.workload
    h = ctx.horizon
    cite = ctx.cite("api_offer", oid, offer)
    cached_share = w.cached_input_share
    if cached_share is None:
        value, c = ctx.opex_value("api_cached_input_share")
        cached_share = float(value)
    level, _, api_f = ctx.uncertain("api_price_change", "API price level over the horizon")
    level_note = ctx.central_note(api_f)
    if cached_share > 0 and offer.cached_input is None:
        raise CostUnknown(f"API offer '{oid}' has no cached-input price, but {cached_share:.0%} of input "
                          "tokens are assumed cached", "add cached_input to the offer, or set "
                          "workload.cached_input_share: 0")
    m_in = [dec(ctx.requests(y, share) * w.input_tokens) / MILLION for y in range(h)]
    m_out = [dec(ctx.requests(y, share) * w.output_tokens) / MILLION for y in range(h)]
    cs = dec(cached_share)

    def token_price(list_price: float) -> tuple[Decimal, str | None]:
        """List price x the central price level, with a note saying so."""
        notes = [n for n in (ctx.price_note(list_price, offer.currency), level_note and
                             f"list price x {level_note}") if n]
        return ctx.convert(list_price, offer.currency) * level, "; ".join(notes) or None

    p_in, n_in = token_price(offer.input)
    comps = [
        Component(f"{prefix}Input tokens ({offer.model})", "million tokens", p_in,
                  [q * (1 - cs) for q in m_in], [cite], drivers=(api_f,), demand_scaled=True, note=n_in),
    ]
    if cs > 0:
        p_c, n_c = token_price(offer.cached_input or 0.0)
        comps.append(Component(f"{prefix}Cached input tokens ({offer.model})", "million tokens", p_c,
                               [q * cs for q in m_in], [cite], drivers=(api_f,), demand_scaled=True, note=n_c))
    p_out, n_out = token_price(offer.output)
    comps.append(Component(f"{prefix}Output tokens ({offer.model})", "million tokens", p_out, m_out, [cite],
                           drivers=(api_f,), demand_scaled=True, note=n_out))
    info: dict[str, Any] = {"api_offer": oid, "provider": offer.provider, "model": offer.model,
                            "residency": offer.residency, "cached_input_share": cached_share}
    want = ctx.api_residency
    if regional and offer.residency != want:
        if offer.regional_uplift is not None:
            # the provider's own published uplift: a price, not an uncertain input
            uplift, ucite = dec(offer.regional_uplift), cite
            drivers: tuple[str, ...] = (api_f,)
        else:
            uplift, ucite, fkey = ctx.uncertain("regional_api_uplift_pct", "Regional residency uplift on API prices")
            drivers = (api_f, fkey)
        spend = [sum((c.amounts()[y] for c in comps), Decimal(0)) for y in range(h)]
        comps.append(Component(f"{prefix}Regional residency uplift", f"fraction of token spend ({ctx.currency})",
                               uplift, spend, [ucite], drivers=drivers, demand_scaled=True))
        info["residency"] = f"{want or ctx.region_label} (uplift {uplift:.0%} on the {offer.residency} price)"
    return comps, info


def _check_api_offer_allowed(ctx: Context, option_id: str) -> None:
    allowed = ctx.allowed.get(option_id)
    if allowed is None:
        return
    oid, _ = resolve_api_offer(ctx)
    if oid not in allowed:
        raise CostUnknown(f"the API product to price ('{oid}') does not meet this option's constraints",
                          "set workload.api_model to an offer that does ("
                          + (", ".join(sorted(allowed)[:6]) or "none catalogued") + ")")


def api_ledger(ctx: Context, option: Option) -> Ledger:
    regional = option.attributes.processing_region == "in_region"
    _check_api_offer_allowed(ctx, option.id)
    comps, info = api_components(ctx, 1.0, regional=regional)
    notes = []
    if option.id == "consumer_api":
        notes.append("Consumer terms priced at the provider's API list price (no consumer price list catalogued).")
    return Ledger(option.id, ctx.currency, ctx.horizon, comps, ctx.tokens_per_year(), sizing=info, notes=notes)


# ---------------------------------------------------------------- rented ----

def rented_candidates(ctx: Context, option: Option) -> list[tuple[str, CloudOffer]]:
    """Catalogued offers an option of this kind could be: provider control and region must match."""
    attrs = option.attributes
    out = []
    allowed = ctx.allowed.get(option.id)
    for oid, offer in ctx.cloud_offers().items():
        if allowed is not None:
            # realisation and constraints were decided with the organisation's home
            if oid in allowed and (offer.on_demand or offer.reserved_1y or offer.reserved_3y):
                out.append((oid, offer))
            continue
        if attrs.us_controlled != (offer.provider_country == "US"):
            continue
        if option.price_proxies is not None and offer.provider not in option.price_proxies:
            continue
        if ctx.residency_required and attrs.processing_region == "in_region":
            if not offer.region_country or not ctx.in_region(offer.region_country):
                continue
        if offer.on_demand is None and offer.reserved_1y is None and offer.reserved_3y is None:
            continue
        out.append((oid, offer))
    return out


def _staff(ctx: Context, fte: Decimal, fte_factor: str, name: str, fte_cites: list[dict[str, str]],
           extra_drivers: tuple[str, ...] = ()) -> Component:
    salary, cites, okey = ctx.loaded_salary()
    return Component(name, "FTE-year", salary, [fte] * ctx.horizon, cites + fte_cites,
                     drivers=(okey, fte_factor) + extra_drivers)


def rented_offer_ledger(ctx: Context, option: Option, oid: str, offer: CloudOffer, share: float = 1.0,
                        prefix: str = "", staff: bool = True) -> Ledger:
    h = ctx.horizon
    ha, ha_why = ctx.high_availability()
    k, cap_f = ctx.capacity_error(offer.gpu)
    cite = ctx.cite("cloud_offer", oid, offer)
    peak_hours, phc, ph_f = ctx.uncertain("peak_hours_per_day", "Hours per day above the average load")
    level, _, cloud_f = ctx.uncertain("cloud_price_change", "Cloud GPU price level over the horizon")
    level_note = ctx.central_note(cloud_f)

    def hour_price(list_price: float) -> tuple[Decimal, str | None]:
        notes = [n for n in (ctx.price_note(list_price, offer.currency), level_note and
                             f"list price x {level_note}") if n]
        return ctx.convert(list_price, offer.currency) * level, "; ".join(notes) or None
    hours_per_year, _ = ctx.hours_per_year()
    burst_hours = peak_hours * 365
    term, reserved = None, None
    if offer.reserved_3y is not None and h >= 3:
        term, reserved = "3-year", offer.reserved_3y
    elif offer.reserved_1y is not None:
        term, reserved = "1-year", offer.reserved_1y
    od = offer.on_demand
    res_q, od_q, burst_q = _zero(h), _zero(h), _zero(h)
    years = []
    for y in range(h):
        # sized for the load x the sizing model's central error for this GPU
        peak = ctx.plan(offer.gpu, ctx.peak_rps(y, share) * float(k), False)
        base = ctx.plan(offer.gpu, ctx.average_rps(y, share) * float(k), False)
        if not peak["feasible"] or not base["feasible"]:
            raise CostUnknown(f"{offer.gpu} cannot serve the model within the latency targets")
        n_peak = vms_for(peak, offer.gpus)
        n_base = vms_for(base, offer.gpus)
        if n_peak is None or n_base is None:
            raise CostUnknown(f"one model instance needs {peak['layout']['gpus_per_instance']} GPUs; "
                              f"{offer.instance} has {offer.gpus}")
        if ha:  # a spare instance (VM), always on: the failure domain is the VM
            n_peak, n_base = n_peak + 1, n_base + 1
        n_base = min(n_base, n_peak)
        extra = n_peak - n_base
        plans: list[tuple[Decimal, str, tuple[Decimal, Decimal, Decimal]]] = []
        if reserved is not None:
            r = dec(reserved)
            plans.append((dec(n_peak * hours_per_year) * r, "all reserved", (dec(n_peak * hours_per_year), Decimal(0), Decimal(0))))
            if od is not None:
                cost = dec(n_base * hours_per_year) * r + dec(extra) * burst_hours * dec(od)
                plans.append((cost, "reserved baseline + on-demand peak",
                              (dec(n_base * hours_per_year), Decimal(0), dec(extra) * burst_hours)))
        if od is not None:
            cost = (dec(n_base * hours_per_year) + dec(extra) * burst_hours) * dec(od)
            plans.append((cost, "on-demand, scaled to the load",
                          (Decimal(0), dec(n_base * hours_per_year), dec(extra) * burst_hours)))
        _, label, (rq, oq, bq) = min(plans, key=lambda p: p[0])
        res_q[y], od_q[y], burst_q[y] = dec(rq), dec(oq), dec(bq)
        years.append({"year": y + 1, "peak_instances": n_peak, "baseline_instances": n_base, "plan": label,
                      "gpus_at_peak": n_peak * offer.gpus})
    comps: list[Component] = []
    what = f"{offer.instance}, {offer.gpus}x {offer.gpu}"
    if any(res_q):
        price, note = hour_price(reserved or 0.0)
        comps.append(Component(f"{prefix}Reserved GPU instances ({what}, {term})", "instance-hour", price, res_q,
                               [cite], drivers=(cloud_f, cap_f), demand_scaled=True, note=note))
    if any(od_q):
        price, note = hour_price(od or 0.0)
        comps.append(Component(f"{prefix}On-demand GPU instances ({what})", "instance-hour", price, od_q, [cite],
                               drivers=(cloud_f, cap_f), demand_scaled=True, note=note))
    if any(burst_q):
        price, note = hour_price(od or 0.0)
        comps.append(Component(f"{prefix}On-demand GPU instances at peak ({what})", "instance-hour", price, burst_q,
                               [cite, phc], drivers=(cloud_f, ph_f, cap_f), demand_scaled=True,
                               note="; ".join(n for n in (f"{peak_hours:.3g} peak hours a day", note) if n)))
    if option.kind in _PREMIUM_ITEM or option.id == "sovereign_branded_cloud":
        item = "sovereign_branded_premium_pct" if option.id == "sovereign_branded_cloud" else _PREMIUM_ITEM[option.kind][0]
        label = "Sovereign-branded premium" if option.id == "sovereign_branded_cloud" else _PREMIUM_ITEM[option.kind][1]
        pct, pc, pf = ctx.uncertain(item, label)
        spend = [sum((c.amounts()[y] for c in comps), Decimal(0)) for y in range(h)]
        comps.append(Component(f"{prefix}{label}", f"fraction of GPU spend ({ctx.currency})", pct, spend, [pc],
                               drivers=(cloud_f, pf, cap_f), demand_scaled=True,
                               note="no catalogued price list for this kind of offer: premium on the offer's price"))
    if staff:
        fte, fc, ff = ctx.uncertain("cloud_ops_fte", "Operations staff for rented GPUs")
        comps.append(_staff(ctx, fte, ff, f"{prefix}Operations staff", [fc]))
    first = ctx.plan(offer.gpu, ctx.peak_rps(0, share) * float(k), False)
    sizing = {"offer": oid, "provider": offer.provider, "instance": offer.instance, "region": offer.region,
              "countries": [offer.region_country] if offer.region_country else [],
              "gpu": offer.gpu, "gpus_per_instance_vm": offer.gpus, "precision": first["inputs"]["precision"],
              "layout": first["layout"], "high_availability": ha, "high_availability_basis": ha_why,
              "sizing_error_multiplier": float(k), "years": years}
    return Ledger(option.id, ctx.currency, h, comps, ctx.tokens_per_year(share), sizing=sizing,
                  notes=[_sizing_error_note(ctx, cap_f)])


def _sizing_error_note(ctx: Context, key: str) -> str:
    f = ctx.factors[key]
    return (f"Capacity sized for {f.central:.2f}x the modelled load: the mean of the sizing model's error band "
            f"for this GPU vendor and model kind ({f.low:.2f} to {f.high:.2f}, median {f.nominal:.2f}; "
            f"catalog/sizing.yaml throughput_error), drawn in the simulation.")


def _best(ctx: Context, builders: list[tuple[str, Callable[[], Ledger]]], what: str) -> Ledger:
    costed: list[tuple[Decimal, str, Ledger]] = []
    reasons: dict[str, list[str]] = {}
    hints: dict[str, str | None] = {}
    for label, build in builders:
        try:
            ledger = build()
        except CostUnknown as exc:
            reasons.setdefault(exc.reason, []).append(label)
            hints.setdefault(exc.reason, exc.hint)
            continue
        except InputError as exc:
            p = exc.problems[0] if exc.problems else None
            message = p.message if p else str(exc)
            reasons.setdefault(message, []).append(label)
            hints.setdefault(message, p.hint if p else None)
            continue
        costed.append((ledger.npv(ctx.rate), label, ledger))
    if not costed:
        parts = []
        for message, labels in list(reasons.items())[:3]:
            who = labels[0] if len(labels) == 1 else f"{len(labels)} candidates"
            parts.append(f"{message} ({who})")
        more = f"; {len(reasons) - 3} other reasons" if len(reasons) > 3 else ""
        first = next(iter(reasons), None)
        raise CostUnknown(f"no {what} could be costed: " + "; ".join(parts) + more if parts
                          else f"no {what} could be costed", hints.get(first) if first else None)
    costed.sort(key=lambda c: (c[0], c[1]))
    best = costed[0][2]
    best.sizing["alternatives"] = [{"candidate": label, "npv": money(npv)} for npv, label, _ in costed[1:6]]
    return best


def rented_ledger(ctx: Context, option: Option) -> Ledger:
    candidates = rented_candidates(ctx, option)
    if not candidates and option.id in ctx.allowed:
        raise CostUnknown("no catalogued GPU offer with an on-demand or committed price meets this "
                          "option's constraints", "add an offer to a --catalog copy of cloud_gpu_offers.yaml")
    if not candidates:
        who = "US-controlled" if option.attributes.us_controlled else "non-US"
        where = f" with a region in {ctx.region_label}" if ctx.residency_required else ""
        raise CostUnknown(f"no catalogued GPU offer from a {who} provider{where}",
                          "add an offer to a --catalog copy of cloud_gpu_offers.yaml")
    return _best(ctx, [(oid, lambda oid=oid, o=o: rented_offer_ledger(ctx, option, oid, o))  # type: ignore[misc]
                       for oid, o in candidates], "catalogued GPU offer")


# ----------------------------------------------------------------- owned ----

def owned_gpu_ledger(ctx: Context, option: Option, gpu_id: str, share: float = 1.0, prefix: str = "",
                     air_gapped: bool = False) -> Ledger:
    cat = ctx.catalog
    h = ctx.horizon
    ha, ha_why = ctx.high_availability(air_gapped)
    try:
        sid, server = cat.default_server(gpu_id)
    except InputError as exc:
        raise CostUnknown(exc.problems[0].message, exc.problems[0].hint) from None
    gpu = cat.gpu(gpu_id)
    k, cap_f = ctx.capacity_error(gpu_id)
    installed: list[int] = []
    busy: list[Decimal] = []
    years = []
    for y in range(h):
        # sized for the peak x the sizing model's central error for this GPU; the spare is a server
        plan = ctx.plan(gpu_id, ctx.peak_rps(y, share) * float(k), False)
        if not plan["feasible"]:
            raise CostUnknown(f"{gpu_id} cannot serve the model within the latency targets")
        need = servers_for(plan, server.gpus) + (spare_servers(plan, server.gpus) if ha else 0)
        installed.append(max(need, installed[-1] if installed else 0))
        # mean utilisation of what is installed: average load / capacity of the installed instances
        per_server = Decimal(server.gpus) / Decimal(plan["layout"]["gpus_per_instance"])
        capacity = dec(plan["requests_per_s_per_instance"]) * dec(installed[-1]) * per_server
        busy.append(min(Decimal(1), dec(ctx.average_rps(y, share) * float(k)) / capacity) if capacity else Decimal(1))
        years.append({"year": y + 1, "servers": installed[-1], "gpus": installed[-1] * server.gpus,
                      "peak_utilisation": plan["peak_utilisation"], "mean_utilisation": float(round(busy[-1], 8))})
    new = [installed[0]] + [installed[y] - installed[y - 1] for y in range(1, h)]
    pcite = ctx.cite("server", sid, server.price)
    kw_cite = ctx.cite("server_power", sid, server.max_power_kw)
    price, hw_f = ctx.hardware_price(sid, server.price)
    comps: list[Component] = []
    comps.append(Component(f"{prefix}GPU servers ({server.name})", "server", price, [dec(n) for n in new], [pcite],
                           timing="start", category="capex", drivers=(hw_f, cap_f), demand_scaled=True,
                           note=_join(ctx.central_note(hw_f),
                                      ctx.price_note(server.price.value, server.price.currency or ctx.currency))))
    unit_capex = price
    if server.includes_host != "yes":
        host_item, hc = ctx.opex("gpu_host_price")
        host, _, host_f = ctx.uncertain("gpu_host_price", "Host server for a GPU baseboard (CPUs, memory, NICs, chassis)")
        host_price = ctx.convert(host, host_item.currency)
        unit_capex = price + host_price
        why = ("the catalogued price is for the GPUs only" if server.includes_host == "no"
               else "the listing does not say whether the host is included, so one is added")
        comps.append(Component(f"{prefix}Host servers (CPUs, memory, NICs, chassis)", "server", host_price,
                               [dec(n) for n in new], [hc], timing="start", category="capex",
                               drivers=(host_f, cap_f), demand_scaled=True,
                               note=_join(why, ctx.central_note(host_f), ctx.price_note(float(host),
                                                                                     host_item.currency or "USD"))))
    net, nc, net_f = ctx.uncertain("network_capex_pct", "Network, racks and installation (% of servers)")
    comps.append(Component(f"{prefix}Network, racks and installation", f"fraction of server CapEx ({ctx.currency})",
                           net, [dec(n) * unit_capex for n in new], [nc], timing="start", category="capex",
                           drivers=(hw_f, net_f, cap_f), demand_scaled=True))
    # residual value: straight-line to the residual fraction over the economic life
    rv, rvc, rv_f = ctx.uncertain("residual_value_pct", "Residual value at end of life")
    life, lc = ctx.opex_value("economic_life_years")
    value_left = Decimal(0)
    for y, n in enumerate(new):
        age = dec(h - y)
        frac = max(rv, Decimal(1) - (Decimal(1) - rv) * age / life)
        value_left += dec(n) * unit_capex * frac
    rq = _zero(h)
    rq[-1] = Decimal(1)
    comps.append(Component(f"{prefix}Residual value of the servers at the end of the horizon", "lot", -value_left,
                           rq, [rvc, lc, pcite], timing="end", category="residual", drivers=(hw_f, rv_f, cap_f),
                           note=f"straight-line to {rv:.1%} over {life} years"))
    comps.extend(_electricity(ctx, server, kw_cite, installed, busy, cap_f, prefix))
    colo_item, cc = ctx.opex("colocation_per_kw_month")
    colo, _, colo_f = ctx.uncertain("colocation_per_kw_month", "Colocation or facility price per kW-month")
    kw = dec(server.max_power_kw.value)
    comps.append(Component(f"{prefix}Colocation or facility (provisioned kW)", "kW-month",
                           ctx.convert(colo, colo_item.currency), [dec(n) * kw * 12 for n in installed],
                           [cc, kw_cite], drivers=(colo_f, cap_f), demand_scaled=True,
                           note=_join(ctx.central_note(colo_f), ctx.price_note(float(colo), colo_item.currency or "USD"))))
    maint, mc, m_f = ctx.uncertain("maintenance_pct", "Maintenance and support (% of hardware per year)")
    base_after_warranty = [dec(installed[y - 1]) * unit_capex if y > 0 else Decimal(0) for y in range(h)]
    if any(base_after_warranty):
        comps.append(Component(f"{prefix}Maintenance and support (after the first year)",
                               f"fraction of hardware CapEx ({ctx.currency})", maint, base_after_warranty, [mc],
                               drivers=(hw_f, m_f, cap_f), demand_scaled=True))
    if gpu.vendor == "nvidia" and ctx.profile.finance.nvidia_ai_enterprise:
        lic_item, lcite = ctx.opex("nvaie_per_gpu_year")
        lic, _, lic_f = ctx.uncertain("nvaie_per_gpu_year", "NVIDIA AI Enterprise licence per GPU-year")
        comps.append(Component(f"{prefix}Software licences (NVIDIA AI Enterprise)", "GPU-year",
                               ctx.convert(lic, lic_item.currency), [dec(n * server.gpus) for n in installed],
                               [lcite], drivers=(lic_f, cap_f), demand_scaled=True,
                               note=_join("opted in (finance.nvidia_ai_enterprise)", ctx.central_note(lic_f),
                                          ctx.price_note(float(lic), lic_item.currency or "USD"))))
    staff = owned_staff(ctx, installed, prefix, cap_f)
    comps.extend(staff)
    if air_gapped:
        over, oc, a_f = ctx.uncertain("airgap_overhead_pct", "Air-gap overhead on staff (offline updates)")
        for c in staff:
            on = "per-server staff" if "per server" in c.name else "the minimum team"
            comps.append(Component(f"{prefix}Offline update process (air gap, on {on})",
                                   f"fraction of staff cost ({ctx.currency})", over, c.amounts(), [oc],
                                   drivers=c.drivers + (a_f,), demand_scaled=c.demand_scaled))
    first = ctx.plan(gpu_id, ctx.peak_rps(0, share) * float(k), False)
    sizing = {"gpu": gpu_id, "server": sid, "server_name": server.name, "gpus_per_server": server.gpus,
              "precision": first["inputs"]["precision"], "layout": first["layout"],
              "high_availability": ha, "high_availability_basis": ha_why,
              "sizing_error_multiplier": float(k), "years": years}
    notes = [_sizing_error_note(ctx, cap_f)]
    if ha:
        notes.append(f"High availability: {ha_why}; one spare server (more if a model instance spans servers) on "
                     "top of the capacity the peak needs.")
    return Ledger(option.id, ctx.currency, h, comps, ctx.tokens_per_year(share), sizing=sizing, notes=notes)


def _electricity(ctx: Context, server: ServerSpec, kw_cite: dict[str, str], installed: list[int],
                 busy: list[Decimal], cap_f: str, prefix: str) -> list[Component]:
    """Energy of the installed servers: idle power all the time, plus load power in proportion to use.

    kWh a year = servers x max kW x (idle share + (full-load share - idle share) x mean
    utilisation) x PUE x hours, the utilisation being the average load over the
    capacity installed (the sizing's, not an assumption). Two lines, so each part
    moves only with its own inputs in the simulation.
    """
    kwh_price, ec, e_f = ctx.electricity()
    pue, pc, pue_f = ctx.uncertain("pue", "Power usage effectiveness (PUE)")
    idle, ic, idle_f = ctx.uncertain("server_idle_power_pct", "Server power at idle (share of maximum)")
    load, lc, load_f = ctx.uncertain("server_load_power_pct", "Server power at full load (share of maximum)")
    hours, hc = ctx.hours_per_year()
    kw = dec(server.max_power_kw.value)
    idle_kwh = [dec(n) * kw * idle * pue * hours for n in installed]
    load_kwh = [dec(n) * kw * (load - idle) * u * pue * hours for n, u in zip(installed, busy)]
    mean_u = sum(busy, Decimal(0)) / len(busy)
    return [
        Component(f"{prefix}Electricity, idle power", "kWh", kwh_price, idle_kwh, [ec, kw_cite, pc, ic, hc],
                  drivers=(e_f, pue_f, idle_f, cap_f), demand_scaled=True,
                  note=f"{kw} kW per server x {idle:.3g} at idle x PUE {pue:.3g} x {hours} h"),
        Component(f"{prefix}Electricity, serving load", "kWh", kwh_price, load_kwh, [ec, kw_cite, pc, lc, hc],
                  drivers=(e_f, pue_f, load_f), demand_scaled=True,
                  note=(f"{kw} kW per server x ({load:.3g} at full load - {idle:.3g} at idle) x mean utilisation "
                        f"{mean_u:.0%} over the horizon x PUE {pue:.3g} x {hours} h")),
    ]


def owned_staff(ctx: Context, installed: list[int], prefix: str = "", cap_f: str | None = None) -> list[Component]:
    """Operations staff for owned servers: max(minimum team, FTE per server x servers) per year.

    Each year's FTE follow whichever term binds, and only that term's range
    moves it in the simulation: a per-server team does not grow because the
    minimum team's range is wide (the bug that inflated large deployments).
    Years of each kind are one ledger line each.
    """
    fmin, fmc, min_f = ctx.uncertain("staff_fte_min", "Minimum operations staff for owned hardware")
    fper, fpc, per_f = ctx.uncertain("staff_fte_per_server", "Operations staff per owned server")
    salary, scites, okey = ctx.loaded_salary()
    h = len(installed)
    minimum, scaled = _zero(h), _zero(h)
    for y, n in enumerate(installed):
        if fper * n > fmin:
            scaled[y] = fper * n
        else:
            minimum[y] = fmin
    out = []
    if any(minimum):
        out.append(Component(f"{prefix}Operations staff (minimum team)", "FTE-year", salary, minimum,
                             scites + [fmc], drivers=(okey, min_f),
                             note=f"{fmin:.3g} FTE whatever the number of servers"))
    if any(scaled):
        out.append(Component(f"{prefix}Operations staff (per server)", "FTE-year", salary, scaled,
                             scites + [fpc], drivers=(okey, per_f) + ((cap_f,) if cap_f else ()), demand_scaled=True,
                             note=f"{fper:.3g} FTE per server, above the minimum team of {fmin:.3g} FTE"))
    return out


def _join(*notes: str | None) -> str | None:
    return "; ".join(n for n in notes if n) or None


def owned_gpus(ctx: Context) -> list[str]:
    servers = ctx.catalog.servers
    return sorted({s.gpu for s in servers.values()})


def owned_ledger(ctx: Context, option: Option) -> Ledger:
    air = option.attributes.connectivity == "isolated"
    return _best(ctx, [(g, lambda g=g: owned_gpu_ledger(ctx, option, g, air_gapped=air))  # type: ignore[misc]
                       for g in owned_gpus(ctx)], "GPU with a catalogued server price")


# ---------------------------------------------------------------- hybrid ----

def hybrid_ledger(ctx: Context, option: Option) -> Ledger:
    """Sensitive share on own servers, the rest on the cheaper of the API and rented GPUs."""
    w = ctx.profile.workload
    if w.sensitive_share is not None:
        share = w.sensitive_share
        share_note = f"{share:.0%} of requests carry sensitive data classes (profile workload.sensitive_share)."
    else:
        value, c = ctx.opex_value("hybrid_sensitive_share")
        share = float(value)
        share_note = (f"{share:.0%} of requests assumed to carry sensitive data classes (catalog/opex.yaml "
                      "hybrid_sensitive_share, an assumption; set workload.sensitive_share).")
    if share <= 0 or share >= 1:
        raise CostUnknown("the hybrid option needs a sensitive share strictly between 0 and 1",
                          "set workload.sensitive_share")
    own = _best(ctx, [(g, lambda g=g: owned_gpu_ledger(ctx, option, g, share=share,  # type: ignore[misc]
                                                       prefix="On-premise tier: "))
                      for g in owned_gpus(ctx)], "GPU with a catalogued server price")
    rest = 1.0 - share
    tiers: list[tuple[str, Callable[[], Ledger]]] = []

    def api_tier() -> Ledger:
        # the non-sensitive share still goes to an offer that meets any residency requirement
        comps, info = api_components(ctx, rest, prefix="Cloud tier: ",
                                     regional=ctx.residency_required)
        return Ledger(option.id, ctx.currency, ctx.horizon, comps, ctx.tokens_per_year(rest), sizing=info)

    allowed = ctx.allowed.get(option.id)
    if allowed is None or resolve_api_offer(ctx)[0] in allowed:
        tiers.append(("API", api_tier))
    for oid, offer in ctx.cloud_offers().items():
        if allowed is not None and oid not in allowed:
            continue
        if ctx.residency_required and (not offer.region_country or not ctx.in_region(offer.region_country)):
            continue
        tiers.append((oid, lambda oid=oid, offer=offer: rented_offer_ledger(  # type: ignore[misc]
            ctx, option, oid, offer, share=rest, prefix="Cloud tier: ", staff=False)))
    cloud = _best(ctx, tiers, "cloud tier")
    comps = own.components + cloud.components
    tokens = ctx.tokens_per_year()
    sizing = {"sensitive_share": share, "on_premise_tier": own.sizing, "cloud_tier": cloud.sizing}
    return Ledger(option.id, ctx.currency, ctx.horizon, comps, tokens, sizing=sizing,
                  notes=[share_note, "The cloud tier is the cheaper of the API product and the catalogued GPU offers; "
                         "its operations are covered by the on-premise staff."])


BUILDERS: dict[str, Callable[[Context, Option], Ledger]] = {
    "api": api_ledger,
    "cloud_gpu": rented_ledger,
    "sovereign_cloud": rented_ledger,
    "government_cloud": rented_ledger,
    "on_premise": owned_ledger,
    "hybrid": hybrid_ledger,
}


def build_ledger(ctx: Context, option: Option) -> Ledger:
    """The option's ledger; an option kind without a builder is an explicit unknown."""
    builder = BUILDERS.get(option.kind)
    if builder is None:
        raise CostUnknown(f"no cost model for option kind '{option.kind}'")
    return builder(ctx, option)
