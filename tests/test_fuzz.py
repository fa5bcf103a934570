"""Fuzzers: mutated profiles, rule files, catalog files and templates.

Every case must end as a result or as bad input (exit 2, an InputError with
a location); an exit 3 (EvaluationError) or any other exception fails the
test with the case that caused it. The seed is fixed, so a failure repeats.
The default run is a few hundred cases in chunks of a few seconds each; set
ADVISOR_FUZZ_CASES=N to run N cases of each fuzzer (ADVISOR_FUZZ_SEED to
explore other seeds).

Cases are run in-process through the same functions the CLI calls, with
fewer Monte Carlo draws (the draws do not change what can fail).
"""

from __future__ import annotations

import copy
import datetime as dt
import os
import random
import shutil
import traceback
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

from advisor.errors import InputError
from advisor.resources import default_catalog_dir, default_rules_dir, default_templates_dir
from tests.conftest import EXAMPLES

SEED = int(os.environ.get("ADVISOR_FUZZ_SEED", "20261130"))
CASES = int(os.environ.get("ADVISOR_FUZZ_CASES", "0"))
AS_OF = dt.date(2026, 11, 30)
DRAWS = 200

# ------------------------------------------------------------- mutation ----

HOSTILE: list[Any] = [
    0, -1, 1, 3, 2 ** 31, 2 ** 53 - 1, 2 ** 53, 2 ** 63, -(2 ** 63), 10 ** 25, 10 ** 400,
    1e-5, 5e-05, 1e-300, 1e300, -0.0, 0.5, 1.5, 99.99, float("inf"), float("-inf"), float("nan"),
    "", " ", "x" * 300, "0x10", "1:20:00", "010", "1_000", "1e3", "no", "yes", "on", "null",
    "NO", "ß", "ıt", "EU", "EEA", "UK", "fr", "FR", "US-CA", "XX", "\x1b[31mred", "a\u202eb",
    "a(b", "{{ 7*7 }}", "<script>alert(1)</script>", "javascript:alert(1)",
    'https://e.org/a")x', "2025-13-45", "9999-12-31", "2026-11-30", True, False, None, [],
    {}, [[]], {"a": {"b": {}}}, ["FR", "DE"], [1, 2], {"FR": 10},
]
ODD_KEYS = ["a(b", "x[0]", "function-after[x]", "", " ", "0", "ß", "\u202ekey", "<<", "a.b",
            "workload", "schema_version", "ttft", "k" * 200]
TEXT_SNIPPETS = ["&a ", "*a", "!!python/object:os.system ", "<<: {}", "? [x]\n: 1", "\t",
                 "\x00", "\u2028", "---\nx: 1\n", "%YAML 1.1\n", "!!binary aGk=", "[", "{",
                 "'", '"', ": ", "- ", "#", "@", "`", "!!set {a: null}"]


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            found += paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            found += paths(v, prefix + (i,))
    return found


def get(node: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        node = node[p]
    return node


def numbers(node: Any) -> list[tuple[Any, ...]]:
    return [p for p in paths(node)
            if isinstance(get(node, p), (int, float)) and not isinstance(get(node, p), bool)]


def number_like(rng: random.Random, value: float) -> Any:
    """A number where arithmetic breaks: zero, tiny, huge, negative, not finite,
    or the same magnitude nudged (often still valid, so the costing runs)."""
    return rng.choice([
        0, 0.0, -value, 1e-9, 1e-300, 1e12, 1e300, 2 ** 53, float("nan"), float("inf"),
        value * 10 ** rng.choice([-12, -6, -3, 3, 6, 12, 25]),
        value * rng.uniform(0.01, 100), value * rng.uniform(0.5, 2), value + 1,
        type(value)(value * rng.choice([0.1, 10])) if value else 1,
    ])


def mutate(rng: random.Random, data: Any, focus: tuple[Any, ...] = (),
           numeric: float = 0.5) -> Any:
    """One random mutation of parsed YAML (inside ``focus`` when given);
    ``numeric`` is the share of mutations that change a number."""
    data = copy.deepcopy(data)
    inside = [p for p in paths(data) if p[:len(focus)] == focus and len(p) > len(focus)] \
        or paths(data)[1:]
    path = rng.choice(inside)
    parent, key = get(data, path[:-1]), path[-1]
    nums = [p for p in numbers(data) if p[:len(focus)] == focus]
    if rng.random() < numeric and nums:  # numbers: where the arithmetic breaks
        path = rng.choice(nums)
        parent, key = get(data, path[:-1]), path[-1]
        parent[key] = number_like(rng, parent[key])
        return data
    kind = 0.35 + rng.random() * 0.65
    if kind < 0.65:
        parent[key] = rng.choice(HOSTILE)
    elif kind < 0.75:
        parent[key] = copy.deepcopy(get(data, rng.choice(paths(data))))  # type confusion
    elif kind < 0.85 and isinstance(parent, dict):
        del parent[key]
    elif kind < 0.92 and isinstance(parent, dict):
        parent[rng.choice(ODD_KEYS)] = rng.choice(HOSTILE)
    else:
        parent[key] = [parent[key]] * rng.randint(0, 3)
    return data


def render_yaml(rng: random.Random, data: Any) -> str:
    """YAML text of ``data``, sometimes damaged at the text level."""
    try:
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=10_000)
    except yaml.YAMLError:
        text = repr(data)
    if rng.random() < 0.15:
        lines = text.splitlines(keepends=True)
        at = rng.randrange(len(lines) + 1)
        lines.insert(at, rng.choice(TEXT_SNIPPETS) + (lines[at] if at < len(lines) else ""))
        if at < len(lines) - 1:
            del lines[at + 1]
        text = "".join(lines)
    if rng.random() < 0.03:
        text = text[:rng.randrange(len(text) + 1)]
    return text


def cases(default: int) -> list[int]:
    """Chunk numbers: each chunk runs CHUNK cases."""
    total = CASES or default
    return list(range((total + CHUNK - 1) // CHUNK))


CHUNK = 20


def run_chunk(name: str, chunk: int, make: Callable[[random.Random], Any],
              check: Callable[[Any], str], counts: dict[str, int] | None = None) -> None:
    rng = random.Random(f"{SEED}:{name}:{chunk}")
    total = CASES or None
    for i in range(CHUNK):
        if total is not None and chunk * CHUNK + i >= total:
            break
        case = make(rng)
        try:
            outcome = check(case)
        except Exception as exc:  # noqa: BLE001 - the point: nothing else may escape
            detail = "".join(traceback.format_exception(exc))[-3000:]
            shown = repr(case)
            pytest.fail(f"{name} case {chunk}.{i} would be exit 3:\n{detail}\n--- case ---\n"
                        f"{shown[:3000]}")
        if counts is not None:
            counts[outcome] = counts.get(outcome, 0) + 1


class Mutant(str):
    """Mutated YAML text that remembers what it was made from (for the report)."""

    original: str = ""

    @classmethod
    def of(cls, original: Any, text: str) -> "Mutant":
        made = cls(text)
        made.original = yaml.safe_dump(original, sort_keys=False, allow_unicode=True,
                                       width=10_000)
        return made

    def __repr__(self) -> str:
        import difflib

        diff = difflib.unified_diff(self.original.splitlines(True), self.splitlines(True), n=2)
        return "".join(diff) or str.__repr__(self)


# ------------------------------------------------------------- profiles ----

def _base(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


PROFILES = sorted(EXAMPLES.glob("*.yaml"))


@pytest.fixture(scope="module")
def world():  # type: ignore[no-untyped-def]
    from advisor.costing import load_cost_catalog
    from advisor.workspace import load_workspace

    return load_workspace(), load_cost_catalog(None)


def evaluate_text(text: str, folder: Path, world: Any, *, engine: str = "durable",
                  catalog: Any = None, workspace: Any = None) -> str:
    """The CLI's evaluate path, in-process: 'ok' or 'exit 2'. Other exceptions
    (exit 3 in the CLI) propagate."""
    from advisor.costing import rank_decision
    from advisor.decision import evaluate
    from advisor.profile import load_profile
    from advisor.report.render import render_json, render_markdown

    ws = workspace or world[0]
    path = folder / "p.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        loaded = load_profile(path)
        decision = evaluate(loaded.profile, ws.ruleset, ws.options, ws.jurisdictions, on=AS_OF,
                            profile_sha256=loaded.sha256, engine=engine)
        if decision.any_usable:
            decision = rank_decision(decision, loaded.profile, catalog or world[1], ws.options,
                                     jurisdictions=ws.jurisdictions, draws=DRAWS)
        render_json(decision)
        render_markdown(decision)
    except InputError as exc:
        assert exc.problems and all(p.file for p in exc.problems)
        return "exit 2"
    return "ok"


@pytest.mark.parametrize("chunk", cases(120))
def test_fuzz_profiles(chunk: int, world: Any, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    def make(rng: random.Random) -> str:
        data = original = _base(rng.choice(PROFILES))
        for _ in range(rng.choice([1, 1, 1, 2])):
            data = mutate(rng, data)
        return Mutant.of(original, render_yaml(rng, data))

    run_chunk("profile", chunk, make, lambda text: evaluate_text(text, tmp_path, world))


#: every numeric profile field at the ends of its documented range, costed
EXTREMES = [
    ("requests_per_day: 20000", "requests_per_day: 1"),
    ("requests_per_day: 20000", "requests_per_day: 10000000000"),
    ("input_tokens: 1500", "input_tokens: 1"),
    ("input_tokens: 1500", "input_tokens: 10000000"),
    ("output_tokens: 400", "output_tokens: 1"),
    ("output_tokens: 400", "output_tokens: 1000000"),
    ("peak_factor: 3", "peak_factor: 100"),
    ("latency: {ttft_ms: 1000, tpot_ms: 50}", "latency: {ttft_ms: 1, tpot_ms: 1}"),
    ("latency: {ttft_ms: 1000, tpot_ms: 50}", "latency: {ttft_ms: 600000, tpot_ms: 600000}"),
    ("growth_per_year: 0.3", "growth_per_year: -0.9"),
    ("growth_per_year: 0.3", "growth_per_year: 10"),
    ("growth_per_year: 0.3", "growth_per_year: 0.00001"),
    ("horizon_years: 4", "horizon_years: 10"),
    ("discount_rate: 0.08", "discount_rate: 0"),
    ("discount_rate: 0.08", "discount_rate: 1"),
    ("subject_volumes: {FR: 250000}", "subject_volumes: {FR: 10000000000, EEA: 0}"),
]


@pytest.mark.parametrize("old, new", EXTREMES)
def test_profile_extremes_are_costed_or_refused(old: str, new: str, world: Any,  # type: ignore[no-untyped-def]
                                                tmp_path: Path) -> None:
    text = (EXAMPLES / "clinique-fr.yaml").read_text(encoding="utf-8")
    assert old in text
    for engine in ("durable", "reference"):
        assert evaluate_text(text.replace(old, new), tmp_path, world, engine=engine) == "ok"


# ----------------------------------------------------------------- rules ----

RULE_FILES = sorted(p for p in default_rules_dir().glob("*.yaml")
                    if p.name not in ("controls.yaml", "test-profile.yaml"))


@pytest.mark.parametrize("chunk", cases(60))
def test_fuzz_rule_files(chunk: int, world: Any, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A mutated rule file loads or is refused; when it loads, durable-rules and
    the reference evaluator agree on every example profile."""
    from advisor.decision import fire, reference_fired
    from advisor.engine.facts import build_facts
    from advisor.profile import load_profile
    from advisor.rules.library import load_ruleset

    ws = world[0]
    folder = tmp_path / "rules"
    folder.mkdir()
    for name in ("controls.yaml", "test-profile.yaml"):
        shutil.copy(default_rules_dir() / name, folder / name)
    profiles = [load_profile(p).profile for p in PROFILES[:2]]

    def make(rng: random.Random) -> tuple[str, str]:
        source = rng.choice(RULE_FILES)
        data = original = _base(source)
        rule = ("rules", rng.randrange(len(data["rules"])))
        focus = rule + (rng.choice(["when", "effects", "when", "tests"]),)
        if focus[-1] not in get(data, rule):
            focus = rule
        for _ in range(rng.choice([1, 1, 2])):
            data = mutate(rng, data, focus)
        return source.name, Mutant.of(original, render_yaml(rng, data))

    def check(case: tuple[str, str]) -> str:
        name, text = case
        for old in folder.glob("*.yaml"):
            if old.name not in ("controls.yaml", "test-profile.yaml"):
                old.unlink()
        (folder / name).write_text(text, encoding="utf-8")
        try:
            ruleset = load_ruleset(folder, ws.options)
        except InputError as exc:
            assert exc.problems
            return "exit 2"
        for profile in profiles:
            facts = build_facts(profile, list(ws.options.options), ws.jurisdictions)
            assert fire(ruleset, facts, "durable") == reference_fired(ruleset, facts)
        return "ok"

    run_chunk("rule file", chunk, make, check)


# --------------------------------------------------------------- catalog ----

CATALOG_FILES = ["options.yaml", "jurisdictions.yaml", "tradeoffs.yaml", "models.yaml",
                 "gpus.yaml", "servers.yaml", "cloud_gpu_offers.yaml", "api_offers.yaml",
                 "electricity.yaml", "opex.yaml", "fx.yaml", "sizing.yaml"]


@pytest.mark.parametrize("chunk", cases(40))
def test_fuzz_catalog_files(chunk: int, world: Any, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A mutated catalog file is refused when validated or loaded, or the
    evaluation and costing of an example profile succeed with it."""
    from advisor.catalog.costdata import Catalog
    from advisor.catalog.options import load_jurisdictions, load_options
    from advisor.report.briefing import load_tradeoffs
    from advisor.rules.library import load_ruleset
    from advisor.workspace import Workspace

    text = (EXAMPLES / "clinique-fr.yaml").read_text(encoding="utf-8")
    counter = iter(range(10 ** 6))

    def make(rng: random.Random) -> tuple[str, str]:
        name = rng.choice(CATALOG_FILES)
        data = original = _base(default_catalog_dir() / name)
        for _ in range(rng.choice([1, 1, 2])):
            data = mutate(rng, data, numeric=0.8)
        return name, Mutant.of(original, render_yaml(rng, data))

    def check(case: tuple[str, str]) -> str:
        name, content = case
        folder = tmp_path / f"catalog{next(counter)}"
        folder.mkdir()
        (folder / name).write_text(content, encoding="utf-8")
        try:
            options = load_options(folder)
            jurisdictions = load_jurisdictions(folder)
            load_tradeoffs(folder)
            catalog = Catalog(directory=folder)
            catalog.validate_all()
            ws = world[0]
            if name == "options.yaml":
                ws = Workspace(options, jurisdictions, load_ruleset(default_rules_dir(), options),
                               "rules", folder, default_templates_dir())
            elif name == "jurisdictions.yaml":
                ws = Workspace(options, jurisdictions, ws.ruleset, "rules", folder,
                               default_templates_dir())
        except InputError as exc:
            assert exc.problems
            return "exit 2"
        return evaluate_text(text, folder, world, catalog=catalog, workspace=ws)

    run_chunk("catalog file", chunk, make, check)


# ------------------------------------------------------------- templates ----

EXPRESSIONS = [
    "v.title", "v.decision.options[0].name", "v.counts", "v.decision.costing",
    "'x' * 10", "'x' * 100000000", "2 ** 10", "2 ** 100000", "10 ** 10 ** 10", "1 / 0", "1 // 0",
    "'%s' % 'x'", "'%99999999s' % 'x'", "'%*s' % (5, 'x')", "'{:>99999999}'.format('x')",
    "range(10) | list", "range(10 ** 9)", "lipsum(5)", "v.decision.__class__", "v.__dict__",
    "v.decision.model_dump()", "v.decision.options.pop()", "v.extra.update({})",
    "v.decision.recommendation.clear()", "self", "cycler(1, 2).next()", "namespace(a=1).a",
    "'x' | center(99999999)", "'x\\n' * 100 | indent(99999999)", "'abc' | replace('a', 'b' * 10)",
    "'a' * 1000 | replace('a', 'b' * 10000)", "v.decision.options | map(attribute='id') | join(',')",
    "[1, 2] + [3]", "'a' ~ 'b'", "undefined_name", "v.nope", "v.decision.options[99]",
    "'x'.ljust(99999999)", "'x'.zfill(5)", "dict(a=1)", "v.decision.evaluated_on.year + 1",
    "(v.decision.options | length) ** 50", "'%d' % 1e308", "1e308 * 10", "-(2 ** 63)",
    "'x' | truncate(99999999)", "v.decision.options | batch(99999999) | list",
    "'abc' | format(1)", "'%s %s' | format(1)", "v.decision | tojson",
]
STATEMENTS = [
    "{{ %s }}", "{%% set x = %s %%}", "{%% for i in %s %%}{{ i }}{%% endfor %%}",
    "{%% if %s %%}yes{%% endif %%}", "{{ (%s) | string | length }}",
]
RAW = [
    "{% include 'report.md.j2' %}", "{% include '../x' %}", "{% include '/etc/hostname' %}",
    "{% extends 'report.md.j2' %}", "{% import 'nope.j2' as n %}",
    "{% macro m(n) %}{{ m(n) }}{% endmacro %}{{ m(1) }}", "{% for x in y recursive %}{% endfor %}",
    "{{", "{% for %}", "{% raw %}", "{% set ns = namespace(s='x') %}"
    "{% for i in range(30) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
    "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
]


@pytest.mark.parametrize("chunk", cases(100))
def test_fuzz_templates(chunk: int, world: Any, tmp_path: Path,  # type: ignore[no-untyped-def]
                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A user template renders, or is exit 2 naming it; never exit 3."""
    from advisor.decision import evaluate
    from advisor.profile import load_profile
    from advisor.report import render, sandbox

    monkeypatch.setattr(sandbox, "TIME_BUDGET_S", 0.5)
    monkeypatch.setattr(sandbox, "MEMORY_BUDGET_BYTES", 256 << 20)
    ws = world[0]
    loaded = load_profile(EXAMPLES / "clinique-fr.yaml")
    decision = evaluate(loaded.profile, ws.ruleset, ws.options, ws.jurisdictions, on=AS_OF,
                        profile_sha256=loaded.sha256)
    folder = tmp_path / "tpl"
    shutil.copytree(default_templates_dir(), folder, ignore=shutil.ignore_patterns("__*"))
    original = (folder / "report.md.j2").read_text(encoding="utf-8")

    def make(rng: random.Random) -> str:
        parts = []
        for _ in range(rng.randint(1, 3)):
            if rng.random() < 0.2:
                parts.append(rng.choice(RAW))
            else:
                expr = rng.choice(EXPRESSIONS)
                if rng.random() < 0.3:
                    expr = f"{expr} {rng.choice(['+', '*', '~', '%', '**', '//'])} " \
                           f"{rng.choice(EXPRESSIONS)}"
                parts.append(rng.choice(STATEMENTS) % expr)
        return "\n".join(parts)

    def check(snippet: str) -> str:
        (folder / "report.md.j2").write_text(snippet + "\n" + original, encoding="utf-8")
        before = decision.model_dump_json()
        try:
            render.render_markdown(decision, folder)
        except InputError as exc:
            assert "report.md.j2" in str(exc) or "tpl" in str(exc), str(exc)
            return "exit 2"
        finally:
            assert decision.model_dump_json() == before, "a template changed the decision"
        return "ok"

    run_chunk("template", chunk, make, check)
