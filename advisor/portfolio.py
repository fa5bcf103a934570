"""Many profiles in one run: one decision (JSON) per profile and a summary.

The rule library, the catalogs and the compiled rules are loaded once (from
advisor's cache, see :mod:`advisor.cache`) and shared: on POSIX the worker
processes are forked from the process that loaded them; elsewhere each worker
loads them from the cache folder. Each worker evaluates, costs and writes its
profiles' decisions itself and returns one small summary row per profile, so
nothing large crosses between processes.

A profile that cannot be evaluated (bad input, exit 2; an internal failure,
exit 3) is reported and the others go on; the run's exit code is the worst of
the profiles' (0 every profile has a usable option, 1 some has none, 2 some
profile is bad input, 3 some evaluation failed).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

from advisor.errors import AdvisorError

EXIT_OK, EXIT_NONE_USABLE, EXIT_BAD_INPUT, EXIT_INTERNAL = 0, 1, 2, 3
DECISIONS = "decisions"
SUMMARY_COLUMNS = ("profile", "decision", "exit", "organisation", "recommended",
                   "recommended_status", "npv", "currency", "viable", "conditional",
                   "excluded", "error")


@dataclass
class Settings:
    """What every profile of the run shares."""

    out_dir: Path
    on: dt.date
    rules_dir: Any = None  # a RulesChoice, a folder, or None for the bundled library
    catalog_dir: Optional[str] = None
    seed: Optional[int] = None


@dataclass
class Outcome:
    """One profile's result: its summary row, exit code and error text."""

    profile: str
    decision: str  # file name under decisions/ ("" when none was written)
    exit_code: int
    row: dict[str, Any] = field(default_factory=dict)
    statuses: dict[str, str] = field(default_factory=dict)  # option id -> status
    error: str = ""


# --- per process ------------------------------------------------------------

_state: dict[str, Any] = {}


def _load(settings: Settings) -> None:
    """Load the shared library and catalogs into this process (from the cache)."""
    from advisor.costing import load_cost_catalog
    from advisor.workspace import load_workspace

    _state["settings"] = settings
    _state["ws"] = load_workspace(settings.rules_dir, settings.catalog_dir)
    _state["costs"] = load_cost_catalog(settings.catalog_dir)


def _one(task: tuple[str, str]) -> Outcome:
    """Evaluate, cost and write one profile; never raises."""
    path, name = task
    try:
        return _evaluate(path, name)
    except AdvisorError as exc:
        return Outcome(path, "", exc.exit_code, error=str(exc))
    except Exception as exc:  # noqa: BLE001 - one profile's failure is reported, not fatal
        return Outcome(path, "", EXIT_INTERNAL,
                       error=f"{path}: internal error: {type(exc).__name__}: {exc} "
                             "(this is a bug in advisor; please report it)")


def _evaluate(path: str, name: str) -> Outcome:
    from advisor.costing import rank_decision
    from advisor.decision import evaluate
    from advisor.profile import load_profile
    from advisor.report.output import _atomic_write
    from advisor.report.render import render_json

    settings: Settings = _state["settings"]
    ws, costs = _state["ws"], _state["costs"]
    loaded = load_profile(path, catalog=costs)
    decision = evaluate(loaded.profile, ws.ruleset, ws.options, ws.jurisdictions, on=settings.on,
                        profile_sha256=loaded.sha256, rules_display_dir=ws.rules_display)
    if decision.any_usable:
        extra = {} if settings.seed is None else {"seed": settings.seed}
        decision = rank_decision(decision, loaded.profile, costs, ws.options,
                                 jurisdictions=ws.jurisdictions, **extra)
    _atomic_write(settings.out_dir / DECISIONS / name, render_json(decision).encode("utf-8"))
    rec = decision.recommendation or {}
    statuses: dict[str, str] = {o.id: o.status for o in decision.options}
    counts = {s: sum(1 for v in statuses.values() if v == s)
              for s in ("viable", "conditional", "excluded")}
    tco = rec.get("tco") or {}
    row = {"organisation": decision.profile.name, "recommended": rec.get("option", ""),
           "recommended_status": rec.get("status", ""),
           "npv": str(tco.get("npv", "")), "currency": rec.get("currency", ""),
           **counts}
    code = EXIT_OK if decision.any_usable else EXIT_NONE_USABLE
    return Outcome(path, name, code, row, statuses)


# --- the run ----------------------------------------------------------------

def decision_names(paths: Iterable[Path]) -> list[str]:
    """A distinct ``NAME.json`` per profile (its file name; -2, -3 ... on clashes)."""
    names: list[str] = []
    taken: set[str] = set()
    for p in paths:
        stem, n = p.stem, 1
        name = f"{stem}.json"
        while name.lower() in taken:
            n += 1
            name = f"{stem}-{n}.json"
        taken.add(name.lower())
        names.append(name)
    return names


def _context(jobs: int) -> Any:
    import multiprocessing

    if "fork" in multiprocessing.get_all_start_methods() and os.name == "posix":
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def run(paths: list[Path], settings: Settings, *, jobs: int = 0,
        progress: Optional[Callable[[int, int], None]] = None) -> list[Outcome]:
    """Evaluate every profile, write its decision and return the outcomes in order.

    ``jobs``: worker processes (0: one per core, at most one per profile;
    1: all in this process)."""
    settings.out_dir.mkdir(exist_ok=True)
    (settings.out_dir / DECISIONS).mkdir(exist_ok=True)
    tasks = list(zip(map(str, paths), decision_names(paths)))
    jobs = jobs or (os.cpu_count() or 1)
    jobs = max(1, min(jobs, len(tasks)))
    _load(settings)  # in this process: loads (or fills) the cache once, and reports bad input
    outcomes: list[Outcome] = []
    if jobs == 1:
        for task in tasks:
            outcomes.append(_one(task))
            if progress:
                progress(len(outcomes), len(tasks))
        return outcomes
    ctx = _context(jobs)
    chunk = max(1, min(16, len(tasks) // (jobs * 4)))
    # forked workers inherit the loaded library; spawned ones load it from the cache
    initializer = None if ctx.get_start_method() == "fork" else _load
    initargs = () if initializer is None else (settings,)
    with ctx.Pool(jobs, initializer=initializer, initargs=initargs) as pool:
        for outcome in pool.imap(_one, tasks, chunksize=chunk):
            outcomes.append(outcome)
            if progress:
                progress(len(outcomes), len(tasks))
    return outcomes


def worst(outcomes: list[Outcome]) -> int:
    return max((o.exit_code for o in outcomes), default=EXIT_OK)


# --- the summary ------------------------------------------------------------

def summary_rows(outcomes: list[Outcome]) -> tuple[list[str], list[dict[str, Any]]]:
    """Columns and rows of the summary: the fixed columns, then one per option."""
    option_ids: list[str] = []
    for o in outcomes:
        for oid in o.statuses:
            if oid not in option_ids:
                option_ids.append(oid)
    rows = []
    for o in outcomes:
        row: dict[str, Any] = {c: "" for c in SUMMARY_COLUMNS}
        row.update(o.row)
        row.update({"profile": o.profile, "decision": f"{DECISIONS}/{o.decision}" if o.decision
                    else "", "exit": o.exit_code, "error": o.error.replace("\n", "; ")})
        row.update({oid: o.statuses.get(oid, "") for oid in option_ids})
        rows.append(row)
    return list(SUMMARY_COLUMNS) + option_ids, rows


def render_csv(outcomes: list[Outcome]) -> str:
    columns, rows = summary_rows(outcomes)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def render_json(outcomes: list[Outcome], on: dt.date) -> str:
    columns, rows = summary_rows(outcomes)
    counts = {label: sum(1 for o in outcomes if o.exit_code == code) for code, label in
              ((0, "usable"), (1, "none_usable"), (2, "bad_input"), (3, "failed"))}
    return json.dumps({"evaluated_on": on.isoformat(), "profiles": len(outcomes),
                       "exit_code": worst(outcomes), "counts": counts, "columns": columns,
                       "rows": rows}, indent=2, ensure_ascii=False) + "\n"


def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def render_markdown(outcomes: list[Outcome], on: dt.date) -> str:
    columns, rows = summary_rows(outcomes)
    shown = [c for c in columns if c not in ("decision", "error")]
    lines = [f"# Portfolio: {len(outcomes)} profiles, evaluated on {on.isoformat()}", "",
             "| " + " | ".join(shown) + " |", "|" + "---|" * len(shown)]
    for row in rows:
        lines.append("| " + " | ".join(_cell(row[c]) for c in shown) + " |")
    failed = [r for r in rows if r["error"]]
    if failed:
        lines += ["", "## Profiles not evaluated", ""]
        lines += [f"- `{_cell(r['profile'])}` (exit {r['exit']}): {_cell(r['error'])}"
                  for r in failed]
    return "\n".join(lines) + "\n"


def write_summary(outcomes: list[Outcome], settings: Settings) -> list[Path]:
    from advisor.report.output import _atomic_write

    written = []
    for name, text in (("summary.csv", render_csv(outcomes)),
                       ("summary.md", render_markdown(outcomes, settings.on)),
                       ("summary.json", render_json(outcomes, settings.on))):
        target = settings.out_dir / name
        _atomic_write(target, text.encode("utf-8"))
        written.append(target)
    return written
