"""What the cost engine reads from a profile and the catalog, resolved once.

The context converts money into the profile's currency with the catalog's
dated rates, records every catalog entry it uses (the assumption register of
the report), and turns a missing price into :class:`CostUnknown` naming the
entry to add. It also declares the uncertain inputs (:class:`Factor`) with the
ranges the Monte Carlo draws from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from advisor.countries import country_of
from advisor.costing.ledger import CostUnknown, dec
from advisor.errors import InputError
from advisor.profile import Profile
from advisor.catalog.costdata import ApiOffer, Catalog, CloudOffer, SourcedValue

DAYS_PER_YEAR = 365

#: EEA members, for "in region" when the deployment country is in the EEA. Read
#: from catalog/jurisdictions.yaml by the caller when available.
_EEA_FALLBACK = frozenset(
    "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE IS LI NO".split())
_EU = frozenset("AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE".split())


@dataclass(frozen=True)
class Factor:
    """An uncertain input: a triangular distribution (low, nominal, high).

    Ledger components that are proportional to it list its key in ``drivers``;
    the Monte Carlo multiplies them by draw / nominal.
    """

    key: str
    label: str
    nominal: float
    low: float
    high: float
    unit: str
    source: str
    as_of: str
    status: str

    @property
    def central(self) -> float:
        """The mean of the distribution: the value every ledger is built at.

        Why the mean: the ranking compares expected costs, and with inputs
        that enter the ledger multiplicatively and are drawn independently, the
        ledger at the mean inputs is the mean of the simulation (up to the
        convexity of compound growth). A one-sided range (0.5 to 1.5 FTE around
        0.5) therefore moves the central figure, as it should.
        """
        if self.high <= self.low:
            return self.nominal
        return (self.low + self.nominal + self.high) / 3.0

    def to_json(self) -> dict[str, Any]:
        return {"input": self.key, "label": self.label, "value": round(self.nominal, 6),
                "central": round(self.central, 6), "low": round(self.low, 6), "high": round(self.high, 6),
                "unit": self.unit, "source": self.source, "as_of": self.as_of, "status": self.status}


@dataclass
class Context:
    catalog: Catalog
    profile: Profile
    eea: frozenset[str] = _EEA_FALLBACK
    factors: dict[str, Factor] = field(default_factory=dict)
    cites: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    fx_used: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    #: evaluation date (YYYY-MM-DD): offers whose valid_until is earlier are never chosen
    as_of: str = "9999-12-31"
    _growth: Factor | None = None
    #: per option, the offers that realise it and meet its constraints (from the
    #: decision); an option absent here is priced from every matching offer
    allowed: dict[str, frozenset[str]] = field(default_factory=dict)
    _plans: dict[tuple[str, float, bool], dict[str, Any]] = field(default_factory=dict)

    # ------------------------------------------------------------ profile ----
    @property
    def currency(self) -> str:
        return self.profile.finance.currency

    @property
    def horizon(self) -> int:
        return self.profile.finance.horizon_years

    @property
    def rate(self) -> Decimal:
        return dec(self.profile.finance.discount_rate)

    @property
    def country(self) -> str:
        return self.profile.finance.deployment_country or self.profile.organisation.hq_country

    @property
    def growth(self) -> float:
        """Central growth per year (the mean of its range; the profile value unless clamped)."""
        return self.growth_factor().central

    def demand(self, year: int) -> float:
        return (1.0 + self.growth) ** year

    def peak_rps(self, year: int, share: float = 1.0) -> float:
        w = self.profile.workload
        return w.requests_per_day / 86400.0 * w.peak_factor * self.demand(year) * share

    def average_rps(self, year: int, share: float = 1.0) -> float:
        return self.profile.workload.requests_per_day / 86400.0 * self.demand(year) * share

    def requests(self, year: int, share: float = 1.0) -> float:
        return self.profile.workload.requests_per_day * DAYS_PER_YEAR * self.demand(year) * share

    def tokens_per_year(self, share: float = 1.0) -> list[Decimal]:
        w = self.profile.workload
        return [dec(self.requests(y, share) * (w.input_tokens + w.output_tokens)) for y in range(self.horizon)]

    def in_region(self, code: str) -> bool:
        home = country_of(self.country)
        if home in self.eea:
            return country_of(code) in self.eea
        return country_of(code) == home

    @property
    def residency_required(self) -> bool:
        return bool(self.profile.sovereignty.residency)

    @property
    def region_label(self) -> str:
        home = country_of(self.country)
        return "the EEA" if home in self.eea else home

    @property
    def api_residency(self) -> str | None:
        home = country_of(self.country)
        if home in self.eea:
            return "eu"
        return {"US": "us", "CN": "cn"}.get(home)

    # ------------------------------------------------------------- catalog ----
    def cite(self, kind: str, entry_id: str, record: Any) -> dict[str, str]:
        c = record.cite(entry_id, kind)
        self.cites[(kind, entry_id)] = c
        return c

    def opex(self, name: str) -> tuple[SourcedValue, dict[str, str]]:
        try:
            item = self.catalog.opex_item(name)
        except InputError as exc:
            raise CostUnknown(f"no '{name}' in catalog/opex.yaml", str(exc)) from None
        return item, self.cite("opex", name, item)

    def hours_per_year(self) -> tuple[Decimal, dict[str, str]]:
        """Hours a year: catalog/opex.yaml hours_per_month x 12 (730 x 12, as cloud bills count)."""
        hpm, c = self.opex_value("hours_per_month")
        return hpm * 12, c

    def opex_value(self, name: str) -> tuple[Decimal, dict[str, str]]:
        item, c = self.opex(name)
        return dec(item.value), c

    def fx(self, from_ccy: str) -> Decimal:
        """Units of the profile currency per unit of ``from_ccy`` (catalog/fx.yaml)."""
        if from_ccy == self.currency:
            return Decimal(1)
        try:
            rate = self.catalog.fx_rate(from_ccy, self.currency)
        except InputError as exc:
            raise CostUnknown(f"no exchange rate from {from_ccy} to {self.currency} in catalog/fx.yaml",
                              str(exc)) from None
        rates = self.catalog.fx.rates_per_eur
        for code in (from_ccy, self.currency):
            self.cites[("fx", code)] = rates[code].cite(code, "fx")
        self.fx_used[from_ccy] = {"from": from_ccy, "to": self.currency, "rate": round(rate, 6),
                                  "as_of": rates[from_ccy].as_of}
        return dec(round(rate, 6))

    def convert(self, amount: float | Decimal, ccy: str | None) -> Decimal:
        if not ccy:
            raise CostUnknown("a catalogued price has no currency")
        return dec(amount) * self.fx(ccy)

    def price_note(self, amount: float, ccy: str) -> str | None:
        if ccy == self.currency:
            return None
        info = self.fx_used.get(ccy)
        rate = info["rate"] if info else None
        return f"{ccy} {amount:,.4g} converted at {rate} {self.currency}/{ccy} ({info['as_of'] if info else ''})"

    def electricity(self) -> tuple[Decimal, dict[str, str], str]:
        """Price per kWh in the profile currency, its citation and the factor key.

        A subdivision without a price falls back to its country, an EU country
        without one to the EU27 average; each fallback is noted. Nothing found is
        an explicit unknown, never 0.
        """
        table = self.catalog.electricity
        code = self.country
        chain = [code]
        if country_of(code) != code:
            chain.append(country_of(code))
        if country_of(code) in _EU:
            chain.append("EU27")
        for key in chain:
            if key in table:
                entry = table[key]
                if key != code:
                    self.notes.append(f"No electricity price for {code}: the {entry.name} price is used "
                                      f"(catalog/electricity.yaml {key}).")
                c = self.cite("electricity", key, entry)
                fkey = f"electricity:{key}"
                if fkey not in self.factors:
                    spread, _ = self.opex_value("electricity_price_spread")
                    low = entry.low if entry.low is not None else entry.band_ie
                    high = entry.high if entry.high is not None else entry.incl_all_taxes
                    v = entry.price_per_kwh
                    low = low if low is not None and low <= v else v * (1 - float(spread))
                    high = high if high is not None and high >= v else v * (1 + float(spread))
                    self.factors[fkey] = Factor(fkey, f"Electricity price ({key})", v, low, high,
                                                f"{entry.currency}/kWh", entry.source, entry.as_of, entry.status)
                price = self.convert(self.factors[fkey].central, entry.currency)
                return price, c, fkey
        raise CostUnknown(f"no electricity price for {code} in catalog/electricity.yaml",
                          f"add prices.{code} (price_per_kwh, currency, source, as_of, status) to a --catalog copy")

    def loaded_salary(self) -> tuple[Decimal, list[dict[str, str]], str]:
        """Fully loaded yearly cost of one engineer in the deployment country."""
        opex = self.catalog.opex
        code = self.country
        chain = [code] + ([country_of(code)] if country_of(code) != code else [])
        if country_of(code) in _EU:
            chain.append("EU")  # the catalogued EU fallback, noted below
        salary_key = next((k for k in chain if k in opex.salaries), None)
        if salary_key is None:
            raise CostUnknown(f"no engineer salary for {code} in catalog/opex.yaml",
                              f"add salaries.{country_of(code)} (value, currency, source, as_of, status) "
                              "to a --catalog copy of opex.yaml")
        oncost_key = next((k for k in chain if k in opex.oncost_multipliers), None)
        if oncost_key is None:
            raise CostUnknown(f"no employer on-cost multiplier for {code} in catalog/opex.yaml",
                              f"add oncost_multipliers.{country_of(code)} to a --catalog copy of opex.yaml")
        salary = opex.salaries[salary_key]
        oncost = opex.oncost_multipliers[oncost_key]
        for key, what in ((salary_key, "engineer salary"), (oncost_key, "employer on-cost multiplier")):
            note = (f"No {what} for {code}: the EU fallback in catalog/opex.yaml is used "
                    f"({what} EU, an assumption).")
            if key == "EU" and note not in self.notes:
                self.notes.append(note)
        cites = [self.cite("salary", salary_key, salary), self.cite("oncost_multiplier", oncost_key, oncost)]
        fkey = f"oncost:{oncost_key}"
        self.factors.setdefault(fkey, Factor(
            fkey, f"Employer on-cost multiplier ({oncost_key})", oncost.value,
            oncost.low if oncost.low is not None else oncost.value,
            oncost.high if oncost.high is not None else oncost.value, "ratio", oncost.source, oncost.as_of,
            oncost.status))
        return self.convert(salary.value, salary.currency) * dec(self.factors[fkey].central), cites, fkey

    def uncertain(self, name: str, label: str) -> tuple[Decimal, dict[str, str], str]:
        """An opex item with a range, declared as an uncertain input.

        Returns its central value (the mean of its range, what the ledger is
        built at), its citation and the factor key components list as a driver.
        """
        item, c = self.opex(name)
        if name not in self.factors:
            self.factors[name] = Factor(name, label, item.value,
                                        item.low if item.low is not None else item.value,
                                        item.high if item.high is not None else item.value,
                                        item.unit or "", item.source, item.as_of, item.status)
        return dec(round(self.factors[name].central, 9)), c, name

    def central_note(self, key: str) -> str | None:
        """'mean of L-V-H' for a factor whose central value differs from its catalogued value."""
        f = self.factors[key]
        if f.high <= f.low or abs(f.central - f.nominal) < 1e-12:
            return None
        def num(x: float) -> str:
            return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.4g}"
        return f"{num(f.central)} = mean of the range {num(f.low)} / {num(f.nominal)} / {num(f.high)} ({f.label})"

    def hardware_price(self, server_id: str, price: SourcedValue) -> tuple[Decimal, str]:
        """Central server price in the profile currency, and its factor key."""
        key = f"hardware_price:{server_id}"
        if key not in self.factors:
            spread, _ = self.opex_value("hardware_price_spread")
            low = price.low if price.low is not None else price.value * (1 - float(spread))
            high = price.high if price.high is not None else price.value * (1 + float(spread))
            self.factors[key] = Factor(key, f"Server price ({server_id})", price.value, low, high,
                                       f"{price.currency} per server", price.source, price.as_of, price.status)
        return self.convert(round(self.factors[key].central, 2), price.currency), key

    def growth_factor(self) -> Factor:
        if self._growth is None:
            spread = self.catalog.opex.items.get("growth_uncertainty")
            s = spread.value if spread else 0.0
            g = self.profile.workload.growth_per_year
            self._growth = Factor("growth_per_year", "Workload growth per year", g, max(-0.9, g - s), g + s,
                                  "fraction",
                                  "profile workload.growth_per_year; range from catalog/opex.yaml growth_uncertainty",
                                  "profile", "assumption")
        return self._growth

    # ------------------------------------------------------------- offers ----
    def cloud_offers(self) -> dict[str, CloudOffer]:
        """Cloud GPU offers that may be chosen: no superseded or expired rows."""
        return self.catalog.current(self.catalog.cloud_offers, self.as_of)

    def api_offers(self) -> dict[str, ApiOffer]:
        """API offers that may be chosen: no superseded or expired rows."""
        return self.catalog.current(self.catalog.api_offers, self.as_of)

    # ------------------------------------------------------------- sizing ----
    def high_availability(self, air_gapped: bool = False) -> tuple[bool, str]:
        """Whether a self-hosted option gets a spare failure domain, and why (for the briefing).

        The profile decides when it says; otherwise DORA critical or important
        functions and air-gapped deployments (no cloud to fail over to) get one.
        """
        explicit = self.profile.workload.high_availability
        if explicit is not None:
            return explicit, ("spare server or instance: set by the profile (workload.high_availability)" if explicit
                              else "no spare: set by the profile (workload.high_availability: false)")
        if air_gapped:
            return True, ("spare server: default for air-gapped deployments, which cannot fail over to a cloud "
                          "(set workload.high_availability: false to override)")
        if "dora_financial_entity" in self.profile.organisation.flags and self.profile.ai.critical_or_important_function:
            return True, ("spare server or instance: default for a DORA critical or important function "
                          "(set workload.high_availability: false to override)")
        return False, "no spare: not requested (set workload.high_availability: true for one)"

    def capacity_error(self, gpu_id: str) -> tuple[Decimal, str]:
        """The sizing model's error for this GPU's vendor and the profile's model, as an uncertain input.

        catalog/sizing.yaml ``throughput_error`` gives measured / modelled
        throughput per "<vendor>-dense" and "<vendor>-moe" (P10, P50, P90 of the
        calibration residuals, docs/calibration.md). Capacity needed scales with
        its inverse, drawn as a triangular (1/P90, 1/P50, 1/P10). Returns the
        central capacity multiplier the plan is scaled by, and the factor key
        capacity-driven components list as a driver. A vendor without
        measurements takes the widest band of the same model kind (noted).
        """
        vendor = self.catalog.gpu(gpu_id).vendor
        arch = "moe" if self.catalog.model(self.profile.workload.model).moe is not None else "dense"
        table = self.catalog.throughput_error
        eid = f"{vendor}-{arch}"
        if eid not in table:
            same = [k for k in table if k.endswith(f"-{arch}")] or list(table)
            if not same:
                raise CostUnknown("no sizing error band in catalog/sizing.yaml throughput_error",
                                  f"add {eid} (rows, p10, p50, p90, source, as_of, status)")
            fallback = max(same, key=lambda k: table[k].p90 / table[k].p10)
            note = (f"No sizing error band for {vendor} GPUs with {arch} models: the widest band measured "
                    f"({fallback}) is used (catalog/sizing.yaml throughput_error).")
            if note not in self.notes:
                self.notes.append(note)
            eid = fallback
        e = table[eid]
        key = f"throughput_error:{eid}"
        if key not in self.factors:
            self.cites[("throughput_error", eid)] = e.cite(eid, "throughput_error")
            self.factors[key] = Factor(key, f"Sizing model error, {vendor} GPUs, {arch} model (capacity needed / "
                                            "capacity modelled = modelled / measured throughput)",
                                       1.0 / e.p50, 1.0 / e.p90, 1.0 / e.p10, "ratio", e.source, e.as_of, e.status)
        return dec(round(self.factors[key].central, 6)), key

    def plan(self, gpu_id: str, rps: float, ha: bool) -> dict[str, Any]:
        """Capacity plan for one GPU at a request rate (cached: years and options repeat)."""
        from advisor.sizing.plan import plan_capacity

        key = (gpu_id, round(rps, 9), ha)
        if key not in self._plans:
            w = self.profile.workload
            self._plans[key] = plan_capacity(
                self.catalog, w.model, gpu_id, peak_requests_per_s=rps,
                input_tokens=max(1, int(round(w.input_tokens))), output_tokens=max(1, int(round(w.output_tokens))),
                ttft_ms=w.latency.ttft_ms, tpot_ms=w.latency.tpot_ms, ha=ha,
                cached_input_share=w.cached_input_share)
        return self._plans[key]


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def vms_for(plan: dict[str, Any], gpus_per_vm: int) -> int | None:
    """Cloud instances (VMs) that hold the plan's model instances; None if one does not fit a VM."""
    gpi = plan["layout"]["gpus_per_instance"]
    if gpi > gpus_per_vm:
        return None
    return ceil_div(plan["instances"], gpus_per_vm // gpi)


def servers_for(plan: dict[str, Any], gpus_per_server: int) -> int:
    gpi = plan["layout"]["gpus_per_instance"]
    if gpi <= gpus_per_server:
        return ceil_div(plan["instances"], gpus_per_server // gpi)
    return plan["instances"] * math.ceil(gpi / gpus_per_server)


def spare_servers(plan: dict[str, Any], gpus_per_server: int) -> int:
    """Servers to add so that losing any one server leaves the planned capacity.

    A failure domain is a server: a spare model instance inside a server that
    fails with it is no spare. An instance spread over k servers needs k more.
    """
    return max(1, math.ceil(plan["layout"]["gpus_per_instance"] / gpus_per_server))
