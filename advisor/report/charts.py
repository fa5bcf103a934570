"""Charts for the briefing, drawn with matplotlib.

matplotlib is imported only when a chart is drawn (``--format json`` never
pays for it). Every function takes plain data and returns SVG text (for HTML
and PDF) or PNG bytes (beside a Markdown file). Output is deterministic: no
dates in the metadata and a fixed hash salt for SVG ids. Colours come from the
Okabe-Ito palette, which stays distinguishable for colour-blind readers.
"""

from __future__ import annotations

import io
from typing import Any, Mapping, Sequence

#: Okabe-Ito colour-blind-safe palette
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
           "#000000", "#999999", "#882255"]
#: PNG charts (beside the Markdown, and in the PDF) print sharp at their size
PNG_DPI = 200
STATUS_COLOURS = {"viable": "#009E73", "conditional": "#E69F00", "excluded": "#D55E00"}


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    matplotlib.rcParams.update({
        "svg.hashsalt": "advisor", "svg.fonttype": "none", "font.size": 9,
        "font.family": "DejaVu Sans", "axes.spines.top": False, "axes.spines.right": False,
        "axes.titlesize": 10, "axes.titleweight": "bold", "figure.dpi": 100,
    })
    return plt


def _export(fig: Any, fmt: str) -> str | bytes:
    plt = _plt()
    buf = io.BytesIO()
    if fmt == "svg":
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
        plt.close(fig)
        text = buf.getvalue().decode("utf-8")
        return text[text.index("<svg"):]  # drop the XML prolog and DOCTYPE for inline use
    fig.savefig(buf, format="png", bbox_inches="tight", dpi=PNG_DPI,
                metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def tradeoff_heatmap(options: Sequence[str], dimensions: Sequence[str],
                     scores: Sequence[Sequence[float]], fmt: str = "svg") -> str | bytes:
    """Options (rows) x trade-off dimensions (columns), scores 1-5."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.2, 0.42 * len(options) + 1.2))
    ax.imshow(scores, cmap="cividis", vmin=0.5, vmax=5.5, aspect="auto")
    ax.set_xticks(range(len(dimensions)), labels=dimensions, rotation=25, ha="right")
    ax.set_yticks(range(len(options)), labels=options)
    for i, row in enumerate(scores):
        for j, v in enumerate(row):
            ax.text(j, i, f"{v:g}", ha="center", va="center",
                    color="white" if v < 3 else "black", fontsize=8)
    ax.set_title("Trade-offs by option (1 = weak, 5 = strong)")
    ax.spines[:].set_visible(False)
    return _export(fig, fmt)


def obligations_timeline(start: str, end: str, items: Sequence[tuple[str, str]],
                         fmt: str = "svg") -> str | bytes:
    """Upcoming obligations on a time axis: (ISO date, label) pairs."""
    import datetime as dt

    plt = _plt()
    from matplotlib import dates as mdates

    d0, d1 = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    fig, ax = plt.subplots(figsize=(7.2, 0.5 * len(items) + 1.0))
    for i, (when, label) in enumerate(items):
        d = dt.date.fromisoformat(when)
        ax.plot([d], [i], marker="D", color=PALETTE[i % len(PALETTE)], markersize=7)
        ax.annotate(f"{when}  {label}", (mdates.date2num(d), i), xytext=(8, -3),
                    textcoords="offset points", fontsize=8)
    ax.axvline(mdates.date2num(d0), color="#999999", linestyle="--", linewidth=1)
    ax.set_xlim(mdates.date2num(d0) - 30, mdates.date2num(d1) + 30)
    ax.set_ylim(-0.8, len(items) - 0.2)
    ax.invert_yaxis()
    ax.set_yticks([])
    ax.spines["left"].set_visible(False)
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m"))
    ax.set_xlabel("Date (evaluation date dashed; axis ends at the planning horizon)")
    ax.set_title("Upcoming obligations")
    return _export(fig, fmt)


def cumulative_cost(series: Mapping[str, Sequence[float]], currency: str,
                    fmt: str = "svg", locale: str = "en") -> str | bytes:
    """Cumulative cost by year for each ranked option (undiscounted, like the Total column)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.2, 3.6))
    for i, (name, values) in enumerate(series.items()):
        years = list(range(0, len(values) + 1))
        cum = [0.0]
        for v in values:
            cum.append(cum[-1] + float(v))
        ax.plot(years, cum, marker="o", color=PALETTE[i % len(PALETTE)], label=name)
    ax.set_xlabel("Year")
    ax.set_xticks(range(0, max(len(v) for v in series.values()) + 1))
    ax.set_ylabel(f"Cumulative cost, undiscounted ({currency})")
    ax.yaxis.set_major_formatter(_money_formatter(locale))
    ax.set_title("Cumulative cost over the horizon (undiscounted)")
    ax.legend(fontsize=7, frameon=False)
    ax.grid(axis="y", alpha=0.3)
    return _export(fig, fmt)


def stacked_components(options: Sequence[str], components: Mapping[str, Sequence[float]],
                       currency: str, fmt: str = "svg", locale: str = "en") -> str | bytes:
    """Cost components stacked per option (horizontal bars)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.2, 0.45 * len(options) + 1.6))
    left = [0.0] * len(options)
    for i, (name, values) in enumerate(components.items()):
        vals = [float(v) for v in values]
        ax.barh(options, vals, left=left, color=PALETTE[i % len(PALETTE)], label=name)
        left = [a + b for a, b in zip(left, vals)]
    ax.invert_yaxis()
    ax.set_xlabel(f"Total cost over the horizon, undiscounted ({currency})")
    ax.xaxis.set_major_formatter(_money_formatter(locale))
    ax.set_title("What the cost is made of")
    ax.legend(fontsize=7, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.18),
              ncol=3)
    return _export(fig, fmt)


def ranges(options: Sequence[str], p10: Sequence[float], central: Sequence[float],
           p90: Sequence[float], currency: str, fmt: str = "svg", locale: str = "en") -> str | bytes:
    """NPV P10-P90 range and the central NPV per option (the figures of the cost table)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.2, 0.45 * len(options) + 1.2))
    for i, name in enumerate(options):
        ax.plot([float(p10[i]), float(p90[i])], [i, i], color=PALETTE[0], linewidth=6,
                alpha=0.45, solid_capstyle="butt")
        ax.plot([float(central[i])], [i], marker="|", color="black", markersize=14)
    ax.set_yticks(range(len(options)), labels=options)
    ax.invert_yaxis()
    ax.set_xlabel(f"NPV, discounted ({currency}); bar = P10 to P90, tick = central estimate")
    ax.xaxis.set_major_formatter(_money_formatter(locale))
    ax.set_title("How sure we are: cost ranges")
    return _export(fig, fmt)


def tornado(labels: Sequence[str], low: Sequence[float], high: Sequence[float], base: float,
            currency: str, fmt: str = "svg", locale: str = "en") -> str | bytes:
    """Change in the recommended option's NPV when each input moves low/high (base: the central NPV)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.2, 0.45 * len(labels) + 1.2))
    for i, _ in enumerate(labels):
        lo, hi = float(low[i]) - base, float(high[i]) - base
        ax.barh(i, lo, left=base, color=PALETTE[0])
        ax.barh(i, hi, left=base, color=PALETTE[1])
    ax.axvline(base, color="black", linewidth=1)
    ax.set_yticks(range(len(labels)), labels=labels)
    ax.invert_yaxis()
    ax.set_xlabel(f"NPV of the recommended option, discounted ({currency}); line = central NPV; "
                  "blue = input low, orange = input high")
    ax.xaxis.set_major_formatter(_money_formatter(locale))
    ax.set_title("What moves the answer (tornado)")
    return _export(fig, fmt)


def unit_cost_vs_utilisation(curves: dict[str, tuple[Sequence[float], Sequence[float]]],
                             currency: str, fmt: str = "svg") -> str | bytes:
    """Cost per million tokens against utilisation, one curve per option."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.2, 3.6))
    for i, (name, (xs, ys)) in enumerate(curves.items()):
        ax.plot([100 * float(x) for x in xs], [float(y) for y in ys],
                color=PALETTE[i % len(PALETTE)], label=name)
    ax.set_xlabel("Utilisation of provisioned capacity (%)")
    ax.set_ylabel(f"Cost per million tokens ({currency})")
    ax.set_yscale("log")
    ax.set_title("Unit cost against utilisation")
    ax.legend(fontsize=7, frameon=False)
    ax.grid(alpha=0.3)
    return _export(fig, fmt)


def _money_formatter(locale: str = "en") -> Any:
    from matplotlib.ticker import FuncFormatter

    from advisor.money import compact

    def fmt(x: float, _pos: int) -> str:
        return compact(x, locale)
    return FuncFormatter(fmt)
