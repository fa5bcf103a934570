"""Cost ledgers, NPV, break-even, Monte Carlo and ranking (advisor/costing)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from advisor.costing import load_cost_catalog, rank_decision
from advisor.costing.context import Context
from advisor.costing.kinds import api_ledger, build_ledger, owned_ledger, rented_ledger
from advisor.costing.ledger import Component, CostUnknown, Ledger, break_even_month
from advisor.costing.montecarlo import simulate, tornado
from advisor.decision import Decision, OptionResult, ProfileRef, RulesetRef
from advisor.profile import profile_from_data
from advisor.yamlload import load_text

AS_OF = dt.date(2026, 11, 30)


def make_profile(**workload: object) -> object:
    base = {
        "schema_version": 1,
        "organisation": {"name": "Test", "hq_country": "FR", "sectors": ["banking"]},
        "data": {"categories": ["personal_basic"], "subject_jurisdictions": ["FR"], "classification_level": "internal"},
        "ai": {"use_cases": ["internal_productivity"]},
        "sovereignty": "residency_in_region",
        "workload": {"model": "llama-3.1-8b", "api_model": "gpt-4o", "requests_per_day": 1000,
                     "input_tokens": 1000, "output_tokens": 500, **workload},
        "finance": {"currency": "USD", "horizon_years": 2, "discount_rate": 0.1},
    }
    text = json.dumps(base)
    doc = load_text(text, "test.yaml")
    return profile_from_data(doc.data, doc)


@pytest.fixture(scope="module")
def catalog():  # type: ignore[no-untyped-def]
    return load_cost_catalog()


def option(workspace, oid):  # type: ignore[no-untyped-def]
    return workspace.options.get(oid)


# ------------------------------------------------------------ arithmetic ----

def test_component_amounts_are_decimal_products() -> None:
    c = Component("x", "unit", Decimal("2.5"), [Decimal(4), Decimal("1.2")], [])
    assert c.amounts() == [Decimal("10.0"), Decimal("3.00")]
    assert c.total == Decimal("13.00")
    assert all(isinstance(a, Decimal) for a in c.amounts())


def test_npv_timing_hand_checked() -> None:
    capex = Component("server", "server", Decimal(1000), [Decimal(1), Decimal(0)], [], timing="start")
    opex = Component("power", "kWh", Decimal(100), [Decimal(1), Decimal(1)], [])
    residual = Component("rv", "lot", Decimal(-200), [Decimal(0), Decimal(1)], [], timing="end")
    led = Ledger("x", "EUR", 2, [capex, opex, residual], [Decimal(1_000_000)] * 2)
    # 1000 at t=0; 100 at t=1 and t=2; -200 at t=2, rate 10 %
    expected = Decimal(1000) + Decimal(100) / Decimal("1.1") + Decimal(100) / Decimal("1.21") \
        - Decimal(200) / Decimal("1.21")
    assert abs(led.npv(Decimal("0.1")) - expected) < Decimal("1e-9")
    assert led.total == Decimal(1000)
    assert led.per_million_tokens() == Decimal(500)
    assert led.yearly() == [Decimal(1100), Decimal(-100)]


def test_break_even_month() -> None:
    owned = [100.0 + 10 * m for m in range(24)]     # CapEx then cheap running cost
    rented = [40.0 * (m + 1) for m in range(24)]     # no CapEx, dearer per month
    m = break_even_month(owned, rented)
    # owned <= rented from index 2 (120 <= 120) onwards
    assert m == 3
    assert break_even_month(rented, owned) is None or break_even_month(rented, owned) == 0
    assert break_even_month([1.0] * 12, [2.0] * 12) == 0
    assert break_even_month([3.0] * 12, [2.0] * 12) is None


# ------------------------------------------------------------------ API ----

def test_api_ledger_hand_checked(workspace, catalog) -> None:  # type: ignore[no-untyped-def]
    profile = make_profile()
    ctx = Context(catalog, profile)
    led = api_ledger(ctx, option(workspace, "enterprise_api"))
    offer = catalog.api_offer("openai-gpt-4o")
    # 1000 requests/day x 365 days x 1000 input tokens = 365 M input tokens per year
    inp = next(c for c in led.components if c.name.startswith("Input tokens"))
    out = next(c for c in led.components if c.name.startswith("Output tokens"))
    assert inp.quantities == [Decimal(365), Decimal(365)]
    assert out.quantities == [Decimal("182.5"), Decimal("182.5")]
    # the central estimate: list price x the mean API price level over the horizon (0.5 / 1 / 1.1)
    level = Decimal(str(round((0.5 + 1.0 + 1.1) / 3, 9)))
    assert ctx.factors["api_price_change"].central == pytest.approx(float(level))
    assert inp.unit_price == Decimal(str(offer.input)) * level
    assert led.total == (Decimal(365 * 2) * Decimal("2.5") + Decimal(365) * Decimal(10)) * level
    assert all(isinstance(a, Decimal) for c in led.components for a in c.amounts())


def test_regional_api_adds_residency_uplift(workspace, catalog) -> None:  # type: ignore[no-untyped-def]
    ctx = Context(catalog, make_profile())
    base = api_ledger(ctx, option(workspace, "enterprise_api")).total
    regional = api_ledger(ctx, option(workspace, "regional_api"))
    uplift = next(c for c in regional.components if "uplift" in c.name)
    assert uplift.unit_price == Decimal("0.1")
    assert regional.total == base * Decimal("1.1")


def test_growth_scales_tokens(workspace, catalog) -> None:  # type: ignore[no-untyped-def]
    ctx = Context(catalog, make_profile(growth_per_year=0.5))
    led = api_ledger(ctx, option(workspace, "enterprise_api"))
    y1, y2 = led.yearly()
    assert y2 == y1 * Decimal("1.5")


def test_cached_share_without_cached_price_is_unknown(workspace, catalog) -> None:  # type: ignore[no-untyped-def]
    ctx = Context(catalog, make_profile(api_model="mistral-large-2411", cached_input_share=0.5))
    with pytest.raises(CostUnknown, match="no cached-input price"):
        api_ledger(ctx, option(workspace, "enterprise_api"))


def test_unknown_api_product_is_unknown_not_zero(workspace, catalog) -> None:  # type: ignore[no-untyped-def]
    ctx = Context(catalog, make_profile(api_model="gpt-4o-turbo-nonexistent"))
    with pytest.raises(CostUnknown, match="unknown API product"):
        api_ledger(ctx, option(workspace, "enterprise_api"))


# ------------------------------------------------------- rented / owned ----

def test_rented_ledger_uses_730_hours_a_month(workspace, catalog) -> None:  # type: ignore[no-untyped-def]
    ctx = Context(catalog, make_profile())
    led = rented_ledger(ctx, option(workspace, "cloud_gpu"))
    gpu_rows = [c for c in led.components if "GPU instances" in c.name]
    assert gpu_rows
    offer = catalog.cloud_offer(led.sizing["offer"])
    assert offer.region_country and ctx.in_region(offer.region_country)  # residency asked for
    for c in gpu_rows:
        if "at peak" not in c.name:
            assert all(q % 8760 == 0 for q in c.quantities)
    assert any("staff" in c.name.lower() for c in led.components)


def test_sovereign_premium_is_labelled_assumption(workspace, catalog) -> None:  # type: ignore[no-untyped-def]
    ctx = Context(catalog, make_profile())
    led = rented_ledger(ctx, option(workspace, "sovereign_cloud"))
    premium = next(c for c in led.components if "premium" in c.name.lower())
    assert premium.status == "assumption"
    assert catalog.cloud_offer(led.sizing["offer"]).provider_country != "US"


def test_owned_ledger_components(workspace, catalog) -> None:  # type: ignore[no-untyped-def]
    ctx = Context(catalog, make_profile())
    led = owned_ledger(ctx, option(workspace, "on_premise"))
    names = " | ".join(c.name for c in led.components)
    for part in ("GPU servers", "Network", "Residual value", "Electricity", "Colocation", "Operations staff"):
        assert part in names
    residual = next(c for c in led.components if c.category == "residual")
    assert residual.total < 0
    servers = next(c for c in led.components if c.name.startswith("GPU servers"))
    server = catalog.servers[led.sizing["server"]]
    idle = next(c for c in led.components if c.name == "Electricity, idle power")
    load = next(c for c in led.components if c.name == "Electricity, serving load")
    # idle kWh = servers x kW x idle share x PUE x 730 h x 12, every input at its central value
    n = led.sizing["years"][0]["servers"]
    pue = Decimal(str(round((1.3 + 1.56 + 1.59) / 3, 9)))
    idle_share = Decimal(str(round((0.2 + 0.3 + 0.4) / 3, 9)))
    kw = Decimal(str(server.max_power_kw.value))
    assert idle.quantities[0] == Decimal(n) * kw * idle_share * pue * 8760
    # load kWh follow the sizing's mean utilisation, well below the full-load draw
    u = Decimal(str(led.sizing["years"][0]["mean_utilisation"]))
    full = Decimal(n) * kw * (Decimal(str(round((0.6 + 0.67 + 0.8) / 3, 9))) - idle_share) * pue * 8760
    assert 0 < u <= 1 and float(load.quantities[0]) == pytest.approx(float(full * u), rel=1e-3)
    # a GPU-only price gets a host server; NVIDIA AI Enterprise is opt-in
    if catalog.servers[led.sizing["server"]].includes_host != "yes":
        assert any(c.name.startswith("Host servers") for c in led.components)
    assert not any("NVIDIA AI Enterprise" in c.name for c in led.components)
    assert servers.timing == "start"


def test_air_gapped_is_sized_with_a_spare_and_costs_more(workspace, catalog) -> None:  # type: ignore[no-untyped-def]
    ctx = Context(catalog, make_profile())
    onprem = owned_ledger(ctx, option(workspace, "on_premise"))
    air = owned_ledger(ctx, option(workspace, "air_gapped"))
    assert air.sizing["high_availability"] is True and "air-gapped" in air.sizing["high_availability_basis"]
    assert onprem.sizing["high_availability"] is False
    assert any("air gap" in c.name for c in air.components)
    assert air.total > onprem.total


def test_high_availability_is_a_spare_server(workspace, catalog) -> None:  # type: ignore[no-untyped-def]
    """A spare failure domain: one more server than the load needs, never a spare inside a server;
    on by default for DORA critical functions, and the profile can turn it off."""
    plain = owned_ledger(Context(catalog, make_profile(high_availability=False)), option(workspace, "on_premise"))
    ha = owned_ledger(Context(catalog, make_profile(high_availability=True)), option(workspace, "on_premise"))
    assert ha.sizing["gpu"] == plain.sizing["gpu"] or ha.total > plain.total
    if ha.sizing["gpu"] == plain.sizing["gpu"]:
        assert [y["servers"] for y in ha.sizing["years"]] == [y["servers"] + 1 for y in plain.sizing["years"]]
    dora = make_profile()
    dora = dora.model_copy(update={
        "organisation": dora.organisation.model_copy(update={"flags": ["dora_financial_entity"]}),
        "ai": dora.ai.model_copy(update={"critical_or_important_function": True})})
    on, why = Context(catalog, dora).high_availability()
    assert on and "DORA" in why
    off = dora.model_copy(update={"workload": dora.workload.model_copy(update={"high_availability": False})})
    assert Context(catalog, off).high_availability() == (False, "no spare: set by the profile "
                                                                "(workload.high_availability: false)")
    rented = rented_ledger(Context(catalog, make_profile(high_availability=True)), option(workspace, "cloud_gpu"))
    bare = rented_ledger(Context(catalog, make_profile(high_availability=False)), option(workspace, "cloud_gpu"))
    if rented.sizing["offer"] == bare.sizing["offer"]:
        assert rented.sizing["years"][0]["baseline_instances"] == bare.sizing["years"][0]["baseline_instances"] + 1


def test_superseded_and_expired_offers_are_never_chosen(catalog) -> None:
    current = catalog.current(catalog.cloud_offers, "2026-11-30")
    assert "lambda-8x-h100-sxm-2024" not in current and "lambda-8x-h100-sxm-2026" in current
    assert "aws-p5-48xlarge-us-east-1" not in current and "aws-p5-48xlarge-us-east-1-2025-06" in current
    capacity_block = catalog.cloud_offers["aws-p5-48xlarge-capacity-block-us-east-1"]
    assert capacity_block.on_demand is None  # a short-term reservation is not a 24/7 price
    assert "aws-p5-48xlarge-capacity-block-us-east-1" not in current  # and it expired on 2025-01-01
    assert "aws-p5-48xlarge-capacity-block-us-east-1" in catalog.current(catalog.cloud_offers, "2024-12-31")


def test_throughput_error_is_an_uncertain_input_of_capacity(workspace, catalog) -> None:  # type: ignore[no-untyped-def]
    ctx = Context(catalog, make_profile())
    led = owned_ledger(ctx, option(workspace, "on_premise"))
    keys = [k for k in ctx.factors if k.startswith("throughput_error:")]
    assert keys
    servers = next(c for c in led.components if c.name.startswith("GPU servers"))
    assert any(k in servers.drivers for k in keys)
    f = ctx.factors[keys[0]]
    band = catalog.throughput_error[keys[0].split(":", 1)[1]]
    # capacity needed scales with modelled / measured throughput: the band inverted
    assert f.low == pytest.approx(1 / band.p90) and f.high == pytest.approx(1 / band.p10)
    assert led.sizing["sizing_error_multiplier"] == pytest.approx(f.central, rel=1e-5)


def test_missing_electricity_price_is_unknown(workspace, catalog) -> None:  # type: ignore[no-untyped-def]
    profile = make_profile()
    profile = profile.model_copy(update={"finance": profile.finance.model_copy(update={"deployment_country": "JP"})})
    ctx = Context(catalog, profile)
    with pytest.raises(CostUnknown) as exc:
        owned_ledger(ctx, option(workspace, "on_premise"))
    assert "electricity" in exc.value.reason and "JP" in exc.value.reason


def test_hybrid_split_is_overridable(workspace, catalog) -> None:  # type: ignore[no-untyped-def]
    low = build_ledger(Context(catalog, make_profile(sensitive_share=0.2)), option(workspace, "hybrid"))
    high = build_ledger(Context(catalog, make_profile(sensitive_share=0.8)), option(workspace, "hybrid"))
    assert low.sizing["sensitive_share"] == 0.2 and high.sizing["sensitive_share"] == 0.8
    assert any(c.name.startswith("On-premise tier") for c in low.components)
    assert any(c.name.startswith("Cloud tier") for c in low.components)
    assert low.tokens == high.tokens


# ----------------------------------------------------------- Monte Carlo ----

def _ledgers(workspace, catalog):  # type: ignore[no-untyped-def]
    ctx = Context(catalog, make_profile(growth_per_year=0.2))
    leds = {oid: build_ledger(ctx, option(workspace, oid)) for oid in ("enterprise_api", "cloud_gpu", "on_premise")}
    return ctx, leds


def test_monte_carlo_is_deterministic_and_ordered(workspace, catalog) -> None:  # type: ignore[no-untyped-def]
    import numpy as np

    ctx, leds = _ledgers(workspace, catalog)
    a = simulate(leds, ctx.factors, ctx.growth_factor(), 0.1, draws=2000, seed=7)
    b = simulate(leds, ctx.factors, ctx.growth_factor(), 0.1, draws=2000, seed=7)
    c = simulate(leds, ctx.factors, ctx.growth_factor(), 0.1, draws=2000, seed=8)
    for oid in leds:
        assert np.array_equal(a.npvs[oid], b.npvs[oid])
        p10, p50, p90 = np.percentile(a.totals[oid], [10, 50, 90])
        assert p10 <= p50 <= p90
    assert not np.array_equal(a.npvs["on_premise"], c.npvs["on_premise"])
    assert abs(sum(a.probability_cheapest.values()) - 1.0) < 1e-9


def test_monte_carlo_at_nominal_reproduces_the_ledger(workspace, catalog) -> None:  # type: ignore[no-untyped-def]
    import numpy as np

    from advisor.costing.montecarlo import _growth_matrix, evaluate_costs

    ctx, leds = _ledgers(workspace, catalog)
    g = ctx.growth_factor()
    for led in leds.values():
        keys = {k for c in led.components for k in c.drivers}
        total, npv = evaluate_costs(led, 0.1, {k: np.ones(1) for k in keys},
                                    _growth_matrix(g, np.array([g.nominal]), led.horizon))
        assert abs(total[0] - float(led.total)) < 0.01
        assert abs(npv[0] - float(led.npv(Decimal("0.1")))) < 0.01


def test_tornado_sorted_by_swing(workspace, catalog) -> None:  # type: ignore[no-untyped-def]
    ctx, leds = _ledgers(workspace, catalog)
    rows = tornado(leds["on_premise"], ctx.factors, ctx.growth_factor(), 0.1)
    swings = [r["swing"] for r in rows]
    assert rows and swings == sorted(swings, reverse=True)
    assert all(isinstance(r["low"], Decimal) for r in rows)


# --------------------------------------------------------------- ranking ----

def _decision(workspace, statuses):  # type: ignore[no-untyped-def]
    opts = [OptionResult(id=o.id, name=o.name, kind=o.kind, status=statuses.get(o.id, "excluded"),
                         reason="test", findings=[]) for o in workspace.options.options]
    return Decision(evaluated_on=AS_OF, profile=ProfileRef(name="t", sha256="0"),
                    ruleset=RulesetRef(sha256="0", rules=0, in_force=0, source="rules"), options=opts)


def test_ranking_skips_excluded_and_fills_fields(workspace, catalog) -> None:  # type: ignore[no-untyped-def]
    d = _decision(workspace, {"enterprise_api": "viable", "cloud_gpu": "conditional", "on_premise": "viable"})
    r = rank_decision(d, make_profile(), catalog, workspace.options, draws=1000, seed=1)
    ranked = sorted((o for o in r.options if o.rank), key=lambda o: o.rank or 0)
    assert [o.rank for o in ranked] == [1, 2, 3]
    for o in r.options:
        if o.status == "excluded":
            assert o.rank is None and o.tco is None
    for o in ranked:
        t = o.tco or {}
        for key in ("total", "currency", "npv", "per_million_tokens", "total_p10", "total_p50", "total_p90",
                    "npv_p10", "npv_p90", "components"):
            assert key in t
        assert isinstance(t["total"], Decimal) and t["total_p10"] <= t["total_p50"] <= t["total_p90"]
        assert t["npv_p10"] <= t["npv"] <= t["npv_p90"] and t["total_p10"] <= t["total"] <= t["total_p90"]
    npvs = [o.tco["npv"] for o in ranked]  # type: ignore[index]
    assert npvs == sorted(npvs)
    assert r.recommendation and r.recommendation["option"] == ranked[0].id
    assert r.recommendation["why"].endswith(".")
    again = rank_decision(d, make_profile(), catalog, workspace.options, draws=1000, seed=1)
    assert again.model_dump() == r.model_dump()


def test_unknown_option_is_reported_and_others_rank(workspace, catalog) -> None:  # type: ignore[no-untyped-def]
    profile = make_profile()
    profile = profile.model_copy(update={"finance": profile.finance.model_copy(update={"deployment_country": "JP"})})
    d = _decision(workspace, {"enterprise_api": "viable", "on_premise": "viable"})
    r = rank_decision(d, profile, catalog, workspace.options, draws=500)
    onprem = r.option("on_premise")
    assert onprem.rank is None and onprem.tco and onprem.tco["status"] == "unknown"
    assert "electricity" in onprem.tco["reason"]
    assert r.option("enterprise_api").rank == 1
    assert r.costing and r.costing["not_costed"][0]["option"] == "on_premise"


def test_json_money_is_string_not_float(workspace, catalog) -> None:  # type: ignore[no-untyped-def]
    d = _decision(workspace, {"enterprise_api": "viable"})
    r = rank_decision(d, make_profile(), catalog, workspace.options, draws=200)
    data = json.loads(r.model_dump_json())
    tco = next(o for o in data["options"] if o["id"] == "enterprise_api")["tco"]
    assert isinstance(tco["total"], str) and Decimal(tco["total"]) > 0


# -------------------------------------------------------------- examples ----

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.yaml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_example_has_cost_fields(runner, path: Path) -> None:  # type: ignore[no-untyped-def]
    from advisor.cli import main

    result = runner.invoke(main, ["evaluate", str(path), "--format", "json", "--as-of", "2026-11-30",
                                  "--engine", "reference"])
    assert result.exit_code in (0, 1), result.output
    data = json.loads(result.output)
    usable = [o for o in data["options"] if o["status"] != "excluded"]
    for o in data["options"]:
        if o["status"] == "excluded":
            assert o["rank"] is None and o["tco"] is None
    if not usable:
        assert data["recommendation"] is None
        return
    for o in usable:
        assert o["tco"] is not None
        if o["tco"]["status"] == "unknown":
            assert o["rank"] is None and o["tco"]["reason"]
            continue
        for key in ("total", "currency", "npv", "per_million_tokens", "total_p10", "total_p90", "npv_p10",
                    "npv_p90", "components"):
            assert key in o["tco"], key
        assert o["rank"] >= 1 and o["tco"]["currency"] == data["costing"]["currency"]
    if any(o["rank"] for o in usable):
        rec = data["recommendation"]
        assert rec["option"] in {o["id"] for o in usable} and rec["why"]


def test_government_cloud_is_priced_from_hyperscaler_offers() -> None:
    """Option price proxies (catalog/options.yaml) keep a marketplace GPU host
    from standing in for an accredited government region."""
    from advisor.costing import load_cost_catalog, rank_decision
    from advisor.decision import evaluate
    from advisor.profile import load_profile
    from advisor.workspace import load_workspace
    from tests.conftest import AS_OF, EXAMPLES

    ws = load_workspace()
    lp = load_profile(EXAMPLES / "defence-contractor-itar.yaml")
    d = evaluate(lp.profile, ws.ruleset, ws.options, ws.jurisdictions, on=AS_OF,
                 profile_sha256=lp.sha256, engine="reference")
    d = rank_decision(d, lp.profile, load_cost_catalog(ws.catalog_dir), ws.options,
                      jurisdictions=ws.jurisdictions)
    gov = d.option("government_cloud")
    assert gov.tco and gov.tco["sizing"]["provider"] in ws.options.get("government_cloud").price_proxies
