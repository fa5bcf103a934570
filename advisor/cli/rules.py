"""``advisor rules``: list, explain, test and document the rule library."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

from typing import TYPE_CHECKING

import click

from advisor.cli.common import (EXIT_NONE_USABLE, catalog_option, guarded, parse_date,
                                rules_option)
from advisor.errors import InputError

if TYPE_CHECKING:
    from advisor.workspace import RulesChoice
    from advisor.rules.library import Rule


def list_rules(rules_dir: "RulesChoice | None", catalog_dir: str | None, regime: str | None,
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
        shown = Path(r.shown_file or r.file)
        # files of a user's folder are marked with it; bundled ones are not
        where = "" if shown.parent.name == "rules" else f" [{shown.parent}]"
        by_file.setdefault(shown.stem + where, []).append(r)
    lines = []
    for stem in sorted(by_file):
        group = sorted(by_file[stem], key=lambda r: r.id)
        regimes = sorted(Counter(r.regime for r in group))
        lines.append(f"{stem} ({len(group)}): {'; '.join(regimes)}")
        for r in group:
            since = f"  [from {r.spec.effective_from}]" if r.spec.effective_from else ""
            replaces = (f"  [replaces {ws.ruleset.overridden[r.id]}]"
                        if r.id in ws.ruleset.overridden else "")
            lines.append(f"  {r.id:<40} {r.spec.title}{since}{replaces}")
    tests = sum(len(r.spec.tests) for r in rules)
    regime_count = len({r.regime for r in rules})
    def plural(n: int, word: str) -> str:
        return f"{n} {word}{'' if n == 1 else 's'}"

    lines.append(f"\n{plural(len(rules), 'rule')} in {plural(len(by_file), 'file')} "
                 f"({plural(regime_count, 'regime')}), {plural(tests, 'test case')}")
    return "\n".join(lines) + "\n"


def explain_rule(rule_id: str, rules_dir: "RulesChoice | None", catalog_dir: str | None) -> str:
    from advisor.workspace import load_workspace

    ws = load_workspace(rules_dir, catalog_dir)
    rule = ws.ruleset.find(rule_id, ws.rules_display)
    s = rule.spec
    out = [f"{s.id}: {s.title}", f"  defined at {rule.file}:{rule.line}",
           f"  regime: {rule.regime}" + (f" ({rule.jurisdiction})" if rule.jurisdiction else "")]
    if rule.id in ws.ruleset.overridden:
        out.append(f"  replaces the bundled rule at {ws.ruleset.overridden[rule.id]}")
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


def test_rules(rules_dir: "RulesChoice | None", catalog_dir: str | None, only: str | None,
               verbose: bool, junit: str | None) -> tuple[str, bool]:
    from advisor.rules.testing import coverage_gaps, run_all
    from advisor.workspace import load_workspace

    ws = load_workspace(rules_dir, catalog_dir)
    if only:
        only = ws.ruleset.find(only, ws.rules_display).id
    results = run_all(ws.ruleset, ws.options, ws.jurisdictions, only=only)
    lines = []
    for r in results:
        if not r.passed:
            lines.append(f"FAIL {r.case_id} ({r.location}): {r.message}")
        elif verbose:
            lines.append(f"ok   {r.case_id}")
    gaps = coverage_gaps(ws.ruleset, only)
    rules_by_id = {r.id: r for r in ws.ruleset.rules}
    lines += [f"GAP  {rules_by_id[rid].file}:{rules_by_id[rid].line}: {rid} {gap}"
              for rid, missing in gaps.items() for gap in missing]
    passed = sum(r.passed for r in results)
    failed = len(results) - passed
    tested = 1 if only else len(ws.ruleset.rules)
    lines.append(f"{passed} passed, {failed} failed, {len(gaps)} "
                 f"rule{'' if len(gaps) == 1 else 's'} without a firing and a silent case "
                 f"({tested} rule{'' if tested == 1 else 's'})")
    if junit:
        from advisor.report.output import write_output
        from advisor.rules.junit import junit_xml

        write_output(junit, junit_xml(ws.ruleset, results, gaps))
    return "\n".join(lines) + "\n", failed == 0 and not gaps


@click.group()
def rules() -> None:
    """List, explain, test, export and document the rule library."""


@rules.command("list", short_help="List the rules, grouped by rule file.")
@rules_option
@catalog_option
@click.option("--regime", default=None, help="Only rules whose regime contains this text.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Text for reading, JSON for scripts.")
@guarded
def rules_list(rules_dir: "RulesChoice | None", catalog_dir: str | None, regime: str | None,
               fmt: str) -> None:
    """List the rules, grouped by rule file (with the regimes each holds), with counts."""
    click.echo(list_rules(rules_dir, catalog_dir, regime, fmt), nl=False)


@rules.command("explain", short_help="Show one rule in full.")
@click.argument("rule_id")
@rules_option
@catalog_option
@guarded
def rules_explain(rule_id: str, rules_dir: "RulesChoice | None", catalog_dir: str | None) -> None:
    """Show one rule: where it lives, its condition, effects, controls and tests.

    RULE_ID may be written in any case (gdpr-art28-processor).
    """
    click.echo(explain_rule(rule_id, rules_dir, catalog_dir), nl=False)


@rules.command("why", short_help="Explain why a rule fires or not for a profile.")
@click.argument("rule_id")
@click.argument("profile", type=click.Path())
@rules_option
@catalog_option
@click.option("--as-of", "as_of", default=None, metavar="YYYY-MM-DD",
              help="Judge whether the rule is in force on this date (default: today).")
@guarded
def rules_why(rule_id: str, profile: str, rules_dir: "RulesChoice | None",
              catalog_dir: str | None, as_of: str | None) -> None:
    """Explain why RULE_ID fires, or not, for PROFILE.

    Shows the rule's condition with the profile's value beside each test, the
    tests that stopped it when it stays silent, and the effect it has on each
    option when it fires.
    """
    from advisor.profile import load_profile
    from advisor.rules.why import why
    from advisor.workspace import load_workspace

    on = parse_date(as_of)
    loaded = load_profile(profile)
    ws = load_workspace(rules_dir, catalog_dir)
    rule = ws.ruleset.find(rule_id, ws.rules_display)
    click.echo(why(rule, loaded.profile, ws.options, ws.jurisdictions, on).text, nl=False)


@rules.command("test", short_help="Run the rules' own test cases.")
@click.argument("directory", required=False, type=click.Path())
@rules_option
@catalog_option
@click.option("--rule", "only", default=None, help="Only this rule's cases (any case).")
@click.option("-v", "--verbose", is_flag=True, help="List passing cases too.")
@click.option("--junit", type=click.Path(dir_okay=False), default=None, metavar="PATH",
              help="Also write the results as JUnit XML, for CI servers.")
@guarded
def rules_test(directory: str | None, rules_dir: "RulesChoice | None", catalog_dir: str | None,
               only: str | None, verbose: bool, junit: str | None) -> None:
    """Run every rule's own test cases.

    DIRECTORY (like --rules) is laid over the bundled library; --rules-only
    tests a complete library instead. Exit 1 if a case fails or a rule lacks a
    case where it fires or one where it stays silent.
    """
    from advisor.workspace import RulesChoice

    if directory and rules_dir:
        raise click.UsageError("give the rules folder once: as DIRECTORY or with --rules")
    text, ok = test_rules(RulesChoice(directory) if directory else rules_dir, catalog_dir,
                          only, verbose, junit)
    click.echo(text, nl=False)
    if not ok:
        sys.exit(EXIT_NONE_USABLE)


@rules.command("export", short_help="Copy the bundled rules out, to edit them.")
@click.argument("directory", type=click.Path(file_okay=False))
@click.argument("files", nargs=-1)
@click.option("--force", is_flag=True, help="Overwrite files that are already there.")
@guarded
def rules_export(directory: str, files: tuple[str, ...], force: bool) -> None:
    """Copy the bundled rule library into DIRECTORY, to edit it.

    FILES (e.g. gdpr.yaml or gdpr) copies only those rule files: a folder given
    to --rules need hold only what it changes. Without FILES every rule file,
    controls.yaml and test-profile.yaml are copied.
    """
    from advisor.rules.export import export_rules

    written = export_rules(Path(directory), list(files), force=force)
    names = ", ".join(p.name for p in written) if len(written) <= 3 else f"{len(written)} files"
    click.echo(f"wrote {names} into {directory}; after editing: 'advisor rules test "
               f"{directory}', then 'advisor evaluate PROFILE --rules {directory}'", err=True)


@rules.command("docs", short_help="Print the Markdown reference of all rules.")
@rules_option
@catalog_option
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write the Markdown to this file (default: standard output). In a "
                   "checkout, 'advisor rules docs -o docs/rules.md' refreshes the reference.")
@guarded
def rules_docs(rules_dir: "RulesChoice | None", catalog_dir: str | None,
               output: str | None) -> None:
    """Print the Markdown reference of all rules, grouped by regime."""
    from advisor.rules.docs import write_rules_docs

    target = None if output in (None, "-") else output
    text = write_rules_docs(rules_dir, catalog_dir, target)
    if target is None:
        click.echo(text, nl=False)
    else:
        click.echo(f"wrote {output}", err=True)
