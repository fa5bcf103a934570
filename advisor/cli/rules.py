"""``advisor rules``: list, explain, test and document the rule library."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

from typing import TYPE_CHECKING

import click

from advisor.cli.common import EXIT_NONE_USABLE, catalog_option, guarded, rules_option
from advisor.errors import InputError, did_you_mean

if TYPE_CHECKING:
    from advisor.rules.library import Rule


def list_rules(rules_dir: str | None, catalog_dir: str | None, regime: str | None,
               fmt: str) -> str:
    from advisor.workspace import load_workspace

    ws = load_workspace(rules_dir, catalog_dir)
    rules = [r for r in ws.ruleset.rules
             if regime is None or regime.lower() in r.regime.lower()]
    if fmt == "json":
        return json.dumps([{
            "id": r.id, "title": r.spec.title, "regime": r.regime,
            "jurisdiction": r.jurisdiction,
            "effective_from": r.spec.effective_from.isoformat() if r.spec.effective_from else None,
            "effective_until": r.spec.effective_until.isoformat() if r.spec.effective_until else None,
            "source": f"{r.file}:{r.line}", "tests": len(r.spec.tests),
        } for r in rules], indent=2) + "\n"
    # grouped the way the library is filed: one heading per rule file, naming
    # the regimes it holds (50 regimes would make 50 one-line headings)
    by_file: dict[str, list[Rule]] = {}
    for r in rules:
        by_file.setdefault(Path(r.file).stem, []).append(r)
    lines = []
    for stem in sorted(by_file):
        group = sorted(by_file[stem], key=lambda r: r.id)
        regimes = sorted(Counter(r.regime for r in group))
        lines.append(f"{stem} ({len(group)}): {'; '.join(regimes)}")
        for r in group:
            since = f"  [from {r.spec.effective_from}]" if r.spec.effective_from else ""
            lines.append(f"  {r.id:<40} {r.spec.title}{since}")
    tests = sum(len(r.spec.tests) for r in rules)
    regime_count = len({r.regime for r in rules})
    def plural(n: int, word: str) -> str:
        return f"{n} {word}{'' if n == 1 else 's'}"

    lines.append(f"\n{plural(len(rules), 'rule')} in {plural(len(by_file), 'file')} "
                 f"({plural(regime_count, 'regime')}), {plural(tests, 'test case')}")
    return "\n".join(lines) + "\n"


def explain_rule(rule_id: str, rules_dir: str | None, catalog_dir: str | None) -> str:
    from advisor.workspace import load_workspace

    ws = load_workspace(rules_dir, catalog_dir)
    try:
        rule = ws.ruleset.get(rule_id)
    except KeyError:
        hint = did_you_mean(rule_id, [r.id for r in ws.ruleset.rules])
        raise InputError.single("rules", f"no rule with id '{rule_id}'",
                                hint=hint or "see 'advisor rules list'") from None
    s = rule.spec
    out = [f"{s.id}: {s.title}", f"  defined at {rule.file}:{rule.line}",
           f"  regime: {rule.regime}" + (f" ({rule.jurisdiction})" if rule.jurisdiction else "")]
    if s.effective_from or s.effective_until:
        out.append(f"  in force: {s.effective_from or 'always'} to {s.effective_until or 'open'}")
    out.append("\nRationale:\n  " + s.rationale)
    if s.note:
        out.append("\nNote:\n  " + " ".join(s.note.split()))
    out.append("\nCitations:")
    out += [f"  - {c.ref}\n    {c.url}" for c in s.citations]
    out.append("\nApplies when:")
    import yaml

    out.append(_indent(yaml.safe_dump(s.when, sort_keys=False, allow_unicode=True), 2))
    out.append("Effects (first matching entry wins for each option):")
    for e in s.effects:
        target = ("options " + (", ".join(e.options) if isinstance(e.options, list) else "all")
                  if e.options is not None else
                  "where " + yaml.safe_dump(e.where, default_flow_style=True).strip())
        out.append(f"  - {e.effect}: {target}")
        if e.reason:
            out.append(f"      reason: {e.reason}")
        if e.controls:
            out.append(f"      controls: {', '.join(e.controls)}")
    out.append("\nControls:")
    for cid in s.controls:
        c = ws.ruleset.controls[cid]
        out.append(f"  - {cid}: {c.title}\n      evidence: {c.evidence}")
    if not s.controls:
        out.append("  (none)")
    out.append("\nTest cases:")
    for t in s.tests:
        expect = t.expect if t.expect == "none" else ", ".join(f"{k}={v}" for k, v in t.expect.items())
        when = f" as of {t.as_of}" if t.as_of else ""
        out.append(f"  - {t.name}{when}: expect {expect}")
    return "\n".join(out) + "\n"


def _indent(text: str, n: int) -> str:
    return "\n".join(" " * n + line for line in text.rstrip().splitlines()) + "\n"


def test_rules(directory: str | None, catalog_dir: str | None, only: str | None,
               verbose: bool) -> tuple[str, bool]:
    from advisor.rules.testing import coverage_problems, run_all

    from advisor.workspace import load_workspace

    ws = load_workspace(directory, catalog_dir)
    if only and only not in {r.id for r in ws.ruleset.rules}:
        raise InputError.single(ws.rules_display, f"no rule with id '{only}'",
                                hint=did_you_mean(only, [r.id for r in ws.ruleset.rules]))
    results = run_all(ws.ruleset, ws.options, ws.jurisdictions, only=only)
    lines = []
    for r in results:
        if not r.passed:
            lines.append(f"FAIL {r.case_id} ({r.location}): {r.message}")
        elif verbose:
            lines.append(f"ok   {r.case_id}")
    gaps = [] if only else coverage_problems(ws.ruleset)
    lines += [f"GAP  {g}" for g in gaps]
    passed = sum(r.passed for r in results)
    failed = len(results) - passed
    lines.append(f"{passed} passed, {failed} failed ({len(ws.ruleset.rules)} rules)")
    return "\n".join(lines) + "\n", failed == 0 and not gaps


@click.group()
def rules() -> None:
    """List, explain and test the rule library."""


@rules.command("list")
@rules_option
@catalog_option
@click.option("--regime", default=None, help="Only rules whose regime contains this text.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@guarded
def rules_list(rules_dir: str | None, catalog_dir: str | None, regime: str | None,
               fmt: str) -> None:
    """List the rules, grouped by regime, with counts."""
    click.echo(list_rules(rules_dir, catalog_dir, regime, fmt), nl=False)


@rules.command("explain")
@click.argument("rule_id")
@rules_option
@catalog_option
@guarded
def rules_explain(rule_id: str, rules_dir: str | None, catalog_dir: str | None) -> None:
    """Show one rule: where it lives, its condition, effects, controls and tests."""
    click.echo(explain_rule(rule_id, rules_dir, catalog_dir), nl=False)


@rules.command("test")
@click.argument("directory", required=False, type=click.Path())
@catalog_option
@click.option("--rule", "only", default=None, help="Only this rule's cases.")
@click.option("-v", "--verbose", is_flag=True, help="List passing cases too.")
@guarded
def rules_test(directory: str | None, catalog_dir: str | None, only: str | None,
               verbose: bool) -> None:
    """Run every rule's own test cases (exit 1 if any fails)."""
    text, ok = test_rules(directory, catalog_dir, only, verbose)
    click.echo(text, nl=False)
    if not ok:
        sys.exit(EXIT_NONE_USABLE)


@rules.command("docs")
@rules_option
@catalog_option
@click.option("-o", "--output", type=click.Path(), default="docs/rules.md", show_default=True,
              help="Where to write the Markdown reference ('-' for standard output).")
@guarded
def rules_docs(rules_dir: str | None, catalog_dir: str | None, output: str) -> None:
    """Write the Markdown reference of all rules, grouped by regime."""
    from advisor.rules.docs import write_rules_docs

    text = write_rules_docs(rules_dir, catalog_dir, None if output == "-" else output)
    if output == "-":
        click.echo(text, nl=False)
    else:
        click.echo(f"wrote {output}", err=True)
