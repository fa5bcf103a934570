"""Cost ledgers: named components with unit, quantity, unit price and source.

Why a ledger and not a number: a TCO a finance officer can check line by line
(the Infracost model), where every unit price names the catalog entry it came
from, and a missing price stops the option instead of becoming 0.

Money is :class:`~decimal.Decimal` throughout the ledger; floats only appear
in the Monte Carlo (:mod:`advisor.costing.montecarlo`), and what it reports is
rounded back to Decimal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, Literal

CENT = Decimal("0.01")
UNIT = Decimal("1")
Timing = Literal["start", "spread", "end"]
_STATUS_ORDER = ("verified", "calibrated", "secondary", "assumption")


class CostUnknown(Exception):
    """An option cannot be costed: a needed price or spec is missing.

    Raised instead of pricing anything at 0; the option is reported as
    ``tco.status = unknown`` with this reason, and the others still rank.
    """

    def __init__(self, reason: str, hint: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.hint = hint


def dec(value: float | int | str | Decimal) -> Decimal:
    """A Decimal from a catalog number without binary noise (0.1 -> Decimal('0.1'))."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


def money(value: Decimal, step: Decimal = CENT) -> Decimal:
    return value.quantize(step, rounding=ROUND_HALF_EVEN)


def worst_status(cites: list[dict[str, str]]) -> str:
    statuses = [c.get("status", "assumption") for c in cites] or ["assumption"]
    return max(statuses, key=lambda s: _STATUS_ORDER.index(s) if s in _STATUS_ORDER else len(_STATUS_ORDER))


@dataclass
class Component:
    """One line of a ledger; ``quantities`` has one entry per year of the horizon.

    ``timing`` says when the money moves, for NPV and break-even: ``start`` at
    the start of the year (purchases), ``spread`` evenly through the year
    (running costs, discounted at the end of the year), ``end`` at the end of
    the horizon (residual value, a negative amount).

    ``drivers`` name the uncertain inputs (:class:`advisor.costing.factors.Factor`)
    the amount is proportional to; ``demand_scaled`` says it also follows the
    workload's growth. The Monte Carlo reads only these two fields.
    """

    name: str
    unit: str
    unit_price: Decimal
    quantities: list[Decimal]
    sources: list[dict[str, str]]
    timing: Timing = "spread"
    category: str = "opex"
    drivers: tuple[str, ...] = ()
    demand_scaled: bool = False
    note: str | None = None

    def amounts(self) -> list[Decimal]:
        return [q * self.unit_price for q in self.quantities]

    @property
    def total(self) -> Decimal:
        return sum(self.amounts(), Decimal(0))

    @property
    def status(self) -> str:
        return worst_status(self.sources)

    def discount_times(self, horizon: int) -> list[int]:
        """Years from today at which each year's amount is paid."""
        if self.timing == "start":
            return list(range(horizon))
        if self.timing == "end":
            return [horizon] * horizon
        return [y + 1 for y in range(horizon)]

    def to_json(self, currency: str) -> dict[str, Any]:
        amounts = self.amounts()
        out: dict[str, Any] = {
            "name": self.name,
            "category": self.category,
            "unit": self.unit,
            "quantity": _quantity(sum(self.quantities, Decimal(0))),
            "unit_price": money(self.unit_price, Decimal("0.0001")).normalize() if abs(self.unit_price) < 1
            else money(self.unit_price),
            "currency": currency,
            "total": money(sum(amounts, Decimal(0))),
            "yearly_quantity": [_quantity(q) for q in self.quantities],
            "yearly_amount": [money(a) for a in amounts],
            "status": self.status,
            "sources": self.sources,
        }
        if self.note:
            out["note"] = self.note
        return out


def _quantity(q: Decimal) -> Decimal:
    if q == q.to_integral_value():
        return q.quantize(UNIT)
    return q.quantize(Decimal("0.001"), rounding=ROUND_HALF_EVEN).normalize()


@dataclass
class Ledger:
    """An option's cost over the horizon."""

    option_id: str
    currency: str
    horizon: int
    components: list[Component]
    tokens_per_year: list[Decimal]
    sizing: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def yearly(self) -> list[Decimal]:
        out = [Decimal(0)] * self.horizon
        for c in self.components:
            for y, a in enumerate(c.amounts()):
                out[y] += a
        return out

    @property
    def total(self) -> Decimal:
        return sum((c.total for c in self.components), Decimal(0))

    def npv(self, rate: Decimal) -> Decimal:
        """Present value of all payments (costs positive, residual value negative)."""
        value = Decimal(0)
        base = Decimal(1) + rate
        for c in self.components:
            for a, t in zip(c.amounts(), c.discount_times(self.horizon)):
                value += a / base ** t
        return value

    @property
    def tokens(self) -> Decimal:
        return sum(self.tokens_per_year, Decimal(0))

    def per_million_tokens(self) -> Decimal:
        return self.total / (self.tokens / Decimal(1_000_000))

    def monthly_cumulative_pv(self, rate: float) -> list[float]:
        """Cumulative present value by month (for break-even; floats are fine for a comparison).

        Same discounting as :meth:`npv`, so the last month equals the NPV.
        """
        months = 12 * self.horizon
        flows = [0.0] * months
        for c in self.components:
            for y, a in enumerate(c.amounts()):
                amount = float(a)
                if not amount:
                    continue
                if c.timing == "start":
                    flows[12 * y] += amount / (1 + rate) ** y
                elif c.timing == "end":
                    flows[months - 1] += amount / (1 + rate) ** self.horizon
                else:
                    # spread over the year's months, each discounted as in npv() (end of
                    # the year), so the curve ends exactly at the NPV the tables show
                    for m in range(12 * y, 12 * y + 12):
                        flows[m] += amount / 12 / (1 + rate) ** (y + 1)
        out, running = [], 0.0
        for f in flows:
            running += f
            out.append(running)
        return out


def break_even_month(own: list[float], other: list[float]) -> int | None:
    """First month (1-based) from which ``own`` stays at or below ``other`` to the horizon.

    0 means cheaper from the first month; None means not within the horizon.
    """
    month = None
    for m in range(len(own) - 1, -1, -1):
        if own[m] <= other[m] + 1e-6:
            month = m
        else:
            break
    if month is None:
        return None
    return 0 if month == 0 else month + 1
