"""Monte Carlo over the uncertain inputs of every ledger, vectorised with numpy.

Every ledger is built at the central inputs (the mean of each input's range,
:attr:`Factor.central`). Each component's amount is proportional to its
drivers, so a draw of the inputs rescales components rather than rebuilding
ledgers: cost(draw) = sum over components of amount x prod(draw_f / central_f),
with demand-scaled components also following the drawn growth,
((1 + g') / (1 + g))^year. The central estimate is therefore the ledger itself,
and the simulation says how far around it the cost may land.
Whole servers and instances are therefore scaled continuously in the draws;
the deterministic ledger keeps whole units.

All options share one draw of each input (common random numbers), so "the
probability that an option is the cheapest" compares like with like. numpy is
imported here only, when costing runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from advisor.costing.context import Factor
from advisor.costing.ledger import Ledger


@dataclass
class Simulation:
    draws: int
    seed: int
    totals: dict[str, Any]   # option id -> ndarray of totals
    npvs: dict[str, Any]     # option id -> ndarray of NPVs
    probability_cheapest: dict[str, float]
    central_totals: dict[str, float]  # option id -> total at the central inputs, same arithmetic
    central_npvs: dict[str, float]


def _matrices(ledger: Ledger, rate: float) -> tuple[Any, Any, list[tuple[str, ...]], list[bool]]:
    import numpy as np

    h = ledger.horizon
    base = np.array([[float(a) for a in c.amounts()] for c in ledger.components]).reshape(-1, h)
    disc = np.array([[1.0 / (1.0 + rate) ** t for t in c.discount_times(h)] for c in ledger.components]).reshape(-1, h)
    return base, base * disc, [c.drivers for c in ledger.components], [c.demand_scaled for c in ledger.components]


def _triangular(u: Any, f: Factor) -> Any:
    """Inverse CDF of the triangular distribution (low, nominal, high) at uniforms ``u``."""
    import numpy as np

    a, c, b = f.low, f.nominal, f.high
    if b <= a:
        return np.full_like(u, c)
    fc = (c - a) / (b - a)
    lower = a + np.sqrt(u * (b - a) * (c - a))
    upper = b - np.sqrt((1.0 - u) * (b - a) * (b - c))
    return np.where(u < fc, lower, upper)


def evaluate_costs(ledger: Ledger, rate: float, ratios: dict[str, Any], growth_matrix: Any) -> tuple[Any, Any]:
    """Totals and NPVs of one ledger for arrays of input ratios (draw / nominal)."""
    import numpy as np

    base, base_pv, drivers, scaled = _matrices(ledger, rate)
    n = growth_matrix.shape[0]
    total = np.zeros(n)
    npv = np.zeros(n)
    gm = growth_matrix[:, : ledger.horizon]
    for i in range(base.shape[0]):
        mult = np.ones(n)
        for key in drivers[i]:
            mult = mult * ratios[key]
        if scaled[i]:
            total += mult * (gm @ base[i])
            npv += mult * (gm @ base_pv[i])
        else:
            total += mult * base[i].sum()
            npv += mult * base_pv[i].sum()
    return total, npv


def _growth_matrix(growth: Factor, g: Any, years: int) -> Any:
    import numpy as np

    y = np.arange(years, dtype=float)
    return ((1.0 + g[:, None]) / (1.0 + growth.central)) ** y[None, :]


def simulate(ledgers: dict[str, Ledger], factors: dict[str, Factor], growth: Factor, rate: float, *,
             draws: int = 10_000, seed: int = 0) -> Simulation:
    import numpy as np

    rng = np.random.default_rng(seed)
    keys = sorted({k for led in ledgers.values() for c in led.components for k in c.drivers})
    u = rng.random((draws, len(keys) + 1))
    ratios = {}
    for j, key in enumerate(keys):
        f = factors[key]
        ratios[key] = _triangular(u[:, j], f) / f.central if f.central else np.ones(draws)
    g = _triangular(u[:, -1], growth)
    years = max((led.horizon for led in ledgers.values()), default=1)
    gm = _growth_matrix(growth, g, years)
    ones = {k: np.ones(1) for k in keys}
    flat = np.ones((1, years))
    totals, npvs, c_totals, c_npvs = {}, {}, {}, {}
    for oid, led in ledgers.items():
        totals[oid], npvs[oid] = evaluate_costs(led, rate, ratios, gm)
        t, n = evaluate_costs(led, rate, ones, flat)
        c_totals[oid], c_npvs[oid] = float(t[0]), float(n[0])
    prob: dict[str, float] = {}
    if npvs:
        ids = list(npvs)
        stack = np.vstack([npvs[i] for i in ids])
        winners = np.argmin(stack, axis=0)
        counts = np.bincount(winners, minlength=len(ids))
        prob = {i: float(counts[k]) / draws for k, i in enumerate(ids)}
    return Simulation(draws, seed, totals, npvs, prob, c_totals, c_npvs)


def percentiles(values: Any, central_float: float, central: Decimal) -> tuple[Decimal, Decimal, Decimal]:
    """P10, P50, P90 of ``values``, placed around the Decimal ``central`` estimate.

    Each percentile is reported as ``central + (percentile - central_float)``
    where ``central_float`` is the central estimate in the simulation's own
    float arithmetic, so that float noise can never put the central figure
    outside its range: an input without a range gives P10 = P50 = P90 = the
    central estimate exactly, and rounding to cents keeps the order.
    """
    import numpy as np

    from advisor.costing.ledger import money

    out = []
    for p in np.percentile(values, [10, 50, 90]):
        out.append(money(central + Decimal(repr(float(p) - central_float))))
    return out[0], out[1], out[2]


def tornado(ledger: Ledger, factors: dict[str, Factor], growth: Factor, rate: float,
            limit: int = 8) -> list[dict[str, Any]]:
    """NPV of ``ledger`` with each input at its low and its high end, the others central.

    ``low`` / ``high`` are the NPVs at the input's low and high ends, ``base`` the
    central NPV (every input at its central value: the NPV shown everywhere
    else); ``input_low`` / ``input_high`` are the input's range. Sorted by swing,
    largest first; inputs that do not move this ledger are left out.
    """
    import numpy as np

    from advisor.costing.ledger import dec, money

    central = ledger.npv(dec(rate))
    keys = sorted({k for c in ledger.components for k in c.drivers})
    rows: list[dict[str, Any]] = []
    one = np.ones(2)
    flat = _growth_matrix(growth, np.array([growth.central] * 2), ledger.horizon)
    base = float(evaluate_costs(ledger, rate, {k: one for k in keys}, flat)[1][0])
    for key in keys + ["growth_per_year"]:
        if key == "growth_per_year":
            f = growth
            ratios = {k: one for k in keys}
            gm = _growth_matrix(growth, np.array([f.low, f.high]), ledger.horizon)
        else:
            f = factors[key]
            if f.high <= f.low or not f.central:
                continue
            ratios = {k: one for k in keys}
            ratios[key] = np.array([f.low, f.high]) / f.central
            gm = flat
        _, npv = evaluate_costs(ledger, rate, ratios, gm)
        lo, hi = float(npv[0]), float(npv[1])
        if abs(hi - lo) < 0.5:
            continue
        rows.append({"input": f.key, "label": f.label, "unit": f.unit, "status": f.status,
                     "value": round(f.nominal, 6), "central": round(f.central, 6), "input_low": round(f.low, 6),
                     "input_high": round(f.high, 6),
                     "low": money(central + Decimal(repr(lo - base))), "high": money(central + Decimal(repr(hi - base))),
                     "base": money(central), "swing": money(Decimal(repr(abs(hi - lo))))})
    rows.sort(key=lambda r: (-r["swing"], r["input"]))
    return rows[:limit]
