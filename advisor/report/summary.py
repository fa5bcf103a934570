"""The short terminal summary of a decision (``advisor evaluate`` on a terminal).

A briefing is hundreds of lines of Markdown; on a terminal the reader wants
the statuses, the recommendation, why options fell out, the first controls
and where the full briefing is. Built from the same briefing model as every
other format (headline, exclusion reasons, key controls), drawn with rich:
coloured on a terminal, plain text when piped or written to a file.
"""

from __future__ import annotations

import io
import textwrap
from typing import IO, Any, Optional

from advisor.compare import cost_figure
from advisor.decision import Decision

_STATUS_STYLE = {"viable": "bold green", "conditional": "bold yellow", "excluded": "bold red"}
_MAX_REASONS = 5


def render_summary(decision: Decision, file: IO[str], *, neutral: bool = False,
                   full_briefing: Optional[str] = None, color: Optional[bool] = None,
                   width: Optional[int] = None) -> None:
    """Write the summary to ``file``. ``full_briefing``: where the complete
    briefing went, or how to get it. ``color``: None = when ``file`` is a terminal."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from advisor.report.briefing import build_briefing

    b = build_briefing(decision, tradeoffs=None, neutral=neutral, page_size="A4", charts=False)
    if color is None:
        color = hasattr(file, "isatty") and file.isatty()
    # plain text is drawn into a buffer first, to drop the table's trailing blanks
    plain = None if color else io.StringIO()
    console = Console(file=file if plain is None else plain, highlight=False, soft_wrap=False,
                      width=width, force_terminal=color, no_color=not color)
    console.print(Text(b.view.title, style="bold"))
    rs = decision.ruleset
    facts = [f"evaluated {decision.evaluated_on}", f"{rs.in_force} rules in force of {rs.rules}"]
    costing = decision.costing or {}
    if costing.get("currency"):
        facts.append(f"costs in {costing['currency']} over {costing.get('horizon_years')} years")
    console.print(" · ".join(facts), style="dim")
    console.print()

    costed = any(o.tco for o in decision.options)
    rows = []
    for o in decision.options:
        row = [o.id, o.status]
        if costed and not neutral:
            row.append(str(o.rank) if o.rank else "")
        if costed:
            _, value, currency = cost_figure(o.tco or {})
            row.append(f"{currency or ''} {value:,.0f}".strip() if value is not None else "")
        rows.append(row)
    headers = ["Option", "Status"] + (["Rank"] if costed and not neutral else []) + \
        (["Cost (NPV)"] if costed else [])
    table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold")
    widths = [max(len(header), *(len(r[i]) for r in rows)) for i, header in enumerate(headers)]
    for i, header in enumerate(headers):
        table.add_column(header, no_wrap=True, justify="right" if i > 1 else "left",
                         min_width=widths[i])
    # the short columns keep their width; the option's long name gives way
    room = console.width - sum(widths) - 2 * len(widths)
    table.add_column("", no_wrap=True, overflow="ellipsis", style="dim", max_width=max(room, 8))
    for o, row in zip(decision.options, rows):
        cells: list[Any] = list(row)
        cells[1] = Text(o.status, style=_STATUS_STYLE.get(o.status, ""))
        table.add_row(*cells, o.name)
    console.print(table)

    def item(text: str, style: str = "") -> None:
        # wrapped lines stay indented under their item
        console.print(Text(textwrap.fill(text, width=max(console.width, 40), initial_indent="  ",
                                         subsequent_indent="  ", break_on_hyphens=False,
                                         break_long_words=False), style=style))

    console.print()
    console.print(Text(b.headline, style="bold"))
    if b.why:
        item(b.why)
    reasons: dict[tuple[str, str], list[str]] = {}
    for option, finding in b.excluded_reasons:
        reasons.setdefault((finding.rule_id, finding.title), []).append(option.id)
    if reasons:
        console.print()
        console.print("Excluded:", style="bold red")
        for (rule_id, title), ids in list(reasons.items())[:_MAX_REASONS]:
            item(f"{', '.join(ids)}: {title} ({rule_id})")
        if len(reasons) > _MAX_REASONS:
            item(f"... and {len(reasons) - _MAX_REASONS} more reasons in the briefing")
    if b.key_controls:
        console.print()
        total = len(decision.controls)
        console.print(f"Controls to put in place ({len(b.key_controls)} of {total} shown):",
                      style="bold yellow")
        for c in b.key_controls:
            item(f"- {c.title} ({c.id})" + (" [in place]" if c.in_place else ""),
                 style="green" if c.in_place else "")
    ev = decision.evidence
    if ev is not None:
        console.print()
        console.print(f"Evidence ({ev.source}): {len(ev.controls_in_place)} controls in place, "
                      f"{len(ev.waived)} findings waived", style="bold")
        for w in ev.expired_waivers:
            item(f"expired on {w.expired_on}, no longer applied: waiver of {w.rule_id} "
                 f"({w.reference})", style="bold red")
        for entry in ev.unused:
            item(f"matched nothing: {entry}", style="yellow")
    if decision.upcoming_obligations:
        console.print()
        console.print("Coming into force within the horizon:", style="bold")
        for u in decision.upcoming_obligations[:_MAX_REASONS]:
            item(f"{u.effective_from}: {u.title} ({u.rule_id})")
    if full_briefing:
        console.print()
        item(full_briefing, style="dim")
    if plain is not None:
        file.write("".join(line.rstrip() + "\n" for line in plain.getvalue().splitlines()))
