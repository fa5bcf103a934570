"""Rule files: the format compliance officers read and edit, loaded and checked.

A rules folder holds:

* ``controls.yaml`` — every control a rule may require, described once;
* ``test-profile.yaml`` — the neutral profile that rule test cases modify;
* any other ``*.yaml`` — rule files, one per regime or topic.

Loading checks everything it can before anything is evaluated: unknown keys,
fields, operators, values, option ids and control ids, duplicate rule ids and
duplicate YAML keys are reported together, each as ``file:line:col``.
See docs/rules-format.md for the format.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator

from advisor.countries import check_code
from advisor.rules.conditions import ConditionParser, Leaf, Node
from advisor.errors import InputError, Problem, did_you_mean, one_of
from advisor.rules.fields import FieldRegistry
from advisor.catalog.options import OptionCatalog
from advisor.schemacheck import check_unique_ids, validate_document
from advisor.safeio import read_bounded
from advisor.yamlload import Document, load_file

Effect = Literal["exclude", "conditional", "warn"]
#: Severity order, most severe first.
EFFECTS: tuple[str, ...] = ("exclude", "conditional", "warn")

CONTROLS_FILE = "controls.yaml"
TEST_PROFILE_FILE = "test-profile.yaml"
RULE_ID_PATTERN = r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$"


class _Strict(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)


class Citation(_Strict):
    ref: str = Field(min_length=3, description="Article or section, e.g. 'GDPR Art. 28(3)'")
    url: Optional[str] = Field(
        default=None, pattern=r"^https?://\S+$",
        description="a URL of the official text, starting with https:// (omit only for a "
                    "source with no public text, such as the organisation's own policy)")

    @field_validator("url")
    @classmethod
    def _url(cls, v: Optional[str]) -> Optional[str]:
        """Checked by a parser, not only the pattern: reports link to it in
        HTML and Markdown, so it must be an http(s) URL with a host and
        nothing that ends a link early (quotes, angle brackets, unbalanced
        parentheses)."""
        from urllib.parse import urlsplit

        if v is None:
            return v
        try:
            parts = urlsplit(v)
        except ValueError as exc:
            raise ValueError(f"{v!r} is not a URL: {exc}") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{v!r} is not an http(s) URL with a host")
        bad = sorted(set(v) & set('"\'<>\\^`{|}'))
        if bad or v.count("(") != v.count(")"):
            shown = " ".join(bad) if bad else "unbalanced parentheses"
            raise ValueError(f"{v!r} has characters a URL must encode ({shown})")
        return v


class ConstrainSpec(_Strict):
    """Narrows the offers that may realise an option (resolved per profile).

    processing: 'residency' (the profile's sovereignty.residency), 'home', or
    country codes / groups; exposure: 'home' (operators under home law only);
    accreditation: 'required' (the profile's sovereignty.accreditations),
    'national' (the home authority's schemes), 'classification' (an authority
    that may accredit for the data's classification scheme) or scheme ids.
    """

    processing: Union[Literal["residency", "home"], list[str], None] = None
    exposure: Optional[Literal["home"]] = None
    accreditation: Union[Literal["required", "national", "classification"], list[str], None] = None



class EffectSpec(_Strict):
    effect: Effect
    constrain: Optional[ConstrainSpec] = None
    #: a phase of the rule: this entry applies only from / until these dates
    #: (a transition such as C5 Type 1, then Type 2); default: the rule's dates
    effective_from: Optional[dt.date] = None
    effective_until: Optional[dt.date] = None
    options: Union[Literal["all"], list[str], None] = Field(
        default=None, description="Option ids, or 'all'")
    where: Optional[Any] = None
    controls: list[str] = Field(default_factory=list)
    reason: Optional[str] = None


class RuleTestSpec(_Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$")
    profile: dict[str, Any] = Field(default_factory=dict)
    as_of: Optional[dt.date] = None
    expect: Union[Literal["none"], dict[str, Effect]]


class RuleSpec(_Strict):
    id: str = Field(pattern=RULE_ID_PATTERN,
                    description="an upper-case id with dashes, like GDPR-ART28-PROCESSOR")
    title: str = Field(min_length=5)
    regime: Optional[str] = None
    jurisdiction: Optional[str] = None
    citations: list[Citation] = Field(min_length=1)
    rationale: str = Field(min_length=20)
    effective_from: Optional[dt.date] = None
    effective_until: Optional[dt.date] = None
    note: Optional[str] = None
    when: Any
    effects: list[EffectSpec] = Field(min_length=1)
    controls: list[str] = Field(default_factory=list)
    tests: list[RuleTestSpec] = Field(default_factory=list)

    @field_validator("rationale", "title")
    @classmethod
    def _strip(cls, v: str) -> str:
        return " ".join(v.split())


class RuleFileSpec(_Strict):
    regime: str
    jurisdiction: Optional[str] = None
    coverage: list[str] = Field(
        default_factory=list,
        description="Jurisdictions (ISO codes or groups such as EEA) whose law this file assesses; "
                    "a profile touching a jurisdiction no file covers gets a coverage gap")
    description: Optional[str] = None
    rules: list[Any] = Field(min_length=1)


class ControlSpec(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    description: str
    evidence: str = Field(description="What shows an auditor the control is in place")


class ControlsFileSpec(_Strict):
    controls: list[ControlSpec] = Field(min_length=1)


@dataclass(frozen=True)
class Selector:
    """One entry of a rule's effects, compiled: which options, with what effect."""

    index: int
    effect: Effect
    match: Node  # a condition over option.* fields (option ids become option.id in [...])
    controls: tuple[str, ...]
    reason: Optional[str]
    constrain: Optional[ConstrainSpec] = None
    effective_from: Optional[dt.date] = None
    effective_until: Optional[dt.date] = None

    def in_force(self, on: dt.date) -> bool:
        return ((self.effective_from is None or self.effective_from <= on)
                and (self.effective_until is None or on < self.effective_until))


@dataclass(frozen=True)
class Rule:
    spec: RuleSpec
    regime: str
    jurisdiction: Optional[str]
    condition: Node
    selectors: tuple[Selector, ...]
    file: str
    line: int
    #: the file as findings cite it (rules/gdpr.yaml); empty: cite by ``file``
    shown_file: str = ""
    coverage: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def source(self) -> str:
        """Where the rule is written, as findings cite it: ``rules/gdpr.yaml:12``."""
        return f"{self.shown_file or self.file}:{self.line}"

    def in_force(self, on: dt.date) -> bool:
        s = self.spec
        return ((s.effective_from is None or s.effective_from <= on)
                and (s.effective_until is None or on < s.effective_until))

    def controls_for(self, selector: Selector) -> tuple[str, ...]:
        """Controls a finding lists: rule-level ones apply to conditional and warn
        findings; an exclusion lists only what its own entry names."""
        if selector.effect == "exclude":
            return selector.controls
        return tuple(dict.fromkeys(self.spec.controls + list(selector.controls)))


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]
    controls: dict[str, ControlSpec]
    test_profile: dict[str, Any]
    test_profile_doc: Document
    directory: str
    sha256: str
    files: tuple[str, ...] = field(default=())
    #: rules of the bundled library that an overlay replaced: id -> where it was
    overridden: dict[str, str] = field(default_factory=dict)
    #: jurisdictions the library assesses (union of the files' coverage)
    coverage: tuple[str, ...] = field(default=())

    def get(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(rule_id)

    def find(self, rule_id: str, where: str = "rules") -> Rule:
        """A rule by id, in any case (``gdpr-art28-processor`` finds
        GDPR-ART28-PROCESSOR); an unknown id is an input error with a hint."""
        wanted = rule_id.strip().upper()
        for r in self.rules:
            if r.id == wanted:
                return r
        ids = [r.id for r in self.rules]
        raise InputError.single(where, f"no rule with id '{rule_id}'",
                                hint=did_you_mean(wanted, ids) or "see 'advisor rules list'")


def load_controls(path: Path, raw: dict[str, bytes] | None = None) -> dict[str, ControlSpec]:
    doc = load_file(path, what="controls file")
    if raw is not None:
        raw[str(path)] = doc.raw
    spec = validate_document(ControlsFileSpec, doc)
    check_unique_ids(doc, "controls", [c.id for c in spec.controls], "control")
    return {c.id: c for c in spec.controls}


class _RuleFileLoader:
    def __init__(self, registry: FieldRegistry, options: OptionCatalog,
                 controls: dict[str, ControlSpec]) -> None:
        self.registry = registry
        self.option_ids = options.ids()
        self.controls = controls
        self.option_id_field = registry.lookup("option.id")
        self.coverage: set[str] = set()
        #: the bytes of every file loaded, by path (for the ruleset digest)
        self.raw: dict[str, bytes] = {}

    def load(self, path: Path, problems: list[Problem], shown: str = "") -> list[Rule]:
        try:
            doc = load_file(path, what="rule file")
            self.raw[str(path)] = doc.raw
            spec = validate_document(RuleFileSpec, doc)
        except InputError as exc:
            problems.extend(exc.problems)
            return []
        for j, code in enumerate(spec.coverage):
            try:
                self.coverage.add(check_code(code, allow_subdivision=False, allow_bloc=True))
            except ValueError as exc:
                problems.append(doc.problem(("coverage", j), str(exc),
                                            "coverage lists ISO country codes, EEA or EU"))
        rules = []
        for i, raw in enumerate(spec.rules):
            try:
                rule_spec = validate_document(RuleSpec, doc, raw, base=("rules", i))
            except InputError as exc:
                problems.extend(exc.problems)
                self._salvage(raw, doc, ("rules", i), problems)
                continue
            rule = self._compile(rule_spec, spec, doc, ("rules", i), problems)
            if rule is not None:
                rules.append(replace(rule, shown_file=shown) if shown else rule)
        return rules

    def _salvage(self, raw: Any, doc: Document, path: tuple[Any, ...],
                 problems: list[Problem]) -> None:
        """After a schema error, still check the parts that can be checked on their
        own (condition, controls), so one run reports every mistake."""
        if not isinstance(raw, dict):
            return
        if "when" in raw:
            parser = ConditionParser(self.registry, doc, forbidden_prefixes=("option.",))
            parser.parse(raw["when"], path + ("when",))
            problems.extend(parser.problems)
        controls = raw.get("controls")
        if isinstance(controls, list) and all(isinstance(c, str) for c in controls):
            self._check_controls(controls, doc, path + ("controls",), problems)

    def _check_controls(self, ids: list[str], doc: Document, path: tuple[Any, ...],
                        problems: list[Problem]) -> None:
        for j, cid in enumerate(ids):
            if cid not in self.controls:
                problems.append(doc.problem(path + (j,), f"unknown control id '{cid}'",
                                            did_you_mean(cid, self.controls) or
                                            f"add it to {CONTROLS_FILE}"))

    def _check_schemes(self, ids: list[str], doc: Document, path: tuple[Any, ...],
                       problems: list[Problem]) -> None:
        from advisor.profile.vocabulary import ACCREDITATION_SCHEMES

        for j, sid in enumerate(ids):
            if sid not in ACCREDITATION_SCHEMES:
                problems.append(doc.problem(path + (j,), f"unknown accreditation scheme '{sid}'",
                                            did_you_mean(sid, ACCREDITATION_SCHEMES)
                                            or one_of(list(ACCREDITATION_SCHEMES))))

    def _compile(self, spec: RuleSpec, file_spec: RuleFileSpec, doc: Document,
                 path: tuple[Any, ...], problems: list[Problem]) -> Rule | None:
        before = len(problems)
        parser = ConditionParser(self.registry, doc, forbidden_prefixes=("option.",))
        condition = parser.parse(spec.when, path + ("when",))
        problems.extend(parser.problems)
        self._check_controls(spec.controls, doc, path + ("controls",), problems)
        if (spec.effective_from and spec.effective_until
                and spec.effective_until <= spec.effective_from):
            problems.append(doc.problem(path + ("effective_until",),
                                        "effective_until must be after effective_from"))
        selectors = []
        for k, eff in enumerate(spec.effects):
            epath = path + ("effects", k)
            self._check_controls(eff.controls, doc, epath + ("controls",), problems)
            if (eff.options is None) == (eff.where is None):
                problems.append(doc.problem(epath, "an effect names either 'options' (a list "
                                                   "of option ids) or 'where' (a condition on "
                                                   "option attributes), not both or neither"))
                continue
            match: Node | None
            if eff.options == "all":
                assert self.option_id_field is not None
                match = Leaf(self.option_id_field, "in", tuple(self.option_ids), "in",
                             epath + ("options",))
            elif eff.options is not None:
                if not eff.options:
                    problems.append(doc.problem(epath + ("options",),
                                                "'options' needs at least one option id"))
                    continue
                bad = [o for o in eff.options if o not in self.option_ids]
                for o in bad:
                    j = eff.options.index(o)
                    problems.append(doc.problem(epath + ("options", j), f"unknown option id '{o}'",
                                                did_you_mean(o, self.option_ids) or
                                                one_of(self.option_ids)))
                if bad:
                    continue
                assert self.option_id_field is not None
                match = Leaf(self.option_id_field, "in", tuple(eff.options), "in",
                             epath + ("options",))
            else:
                wparser = ConditionParser(self.registry, doc, allowed_prefixes=("option.",))
                match = wparser.parse(eff.where, epath + ("where",))
                problems.extend(wparser.problems)
            if match is not None:
                if eff.constrain is not None and eff.effect == "exclude":
                    problems.append(doc.problem(epath + ("constrain",),
                                                "an exclusion cannot constrain offers",
                                                "use 'constrain' with a conditional or warn effect"))
                    continue
                if eff.constrain is not None and isinstance(eff.constrain.accreditation, list):
                    self._check_schemes(eff.constrain.accreditation, doc,
                                        epath + ("constrain", "accreditation"), problems)
                if eff.constrain is not None and isinstance(eff.constrain.processing, list):
                    for j, code in enumerate(eff.constrain.processing):
                        try:
                            check_code(code, allow_subdivision=False, allow_bloc=True)
                        except ValueError as exc:
                            problems.append(doc.problem(epath + ("constrain", "processing", j),
                                                        str(exc)))
                if (eff.effective_from and eff.effective_until
                        and eff.effective_until <= eff.effective_from):
                    problems.append(doc.problem(epath + ("effective_until",),
                                                "effective_until must be after effective_from"))
                    continue
                selectors.append(Selector(k, eff.effect, match, tuple(eff.controls), eff.reason,
                                          eff.constrain, eff.effective_from, eff.effective_until))
        for t, test in enumerate(spec.tests):
            if isinstance(test.expect, dict):
                for o in test.expect:
                    if o not in self.option_ids:
                        problems.append(doc.problem(path + ("tests", t, "expect", o),
                                                    f"unknown option id '{o}' in test expectation",
                                                    did_you_mean(o, self.option_ids), key=True))
        if len(problems) > before or condition is None:
            return None
        line = doc.where(path)[0] or 0
        return Rule(spec, spec.regime or file_spec.regime, spec.jurisdiction or
                    file_spec.jurisdiction, condition, tuple(selectors), doc.file, line,
                    coverage=tuple(file_spec.coverage))


def ruleset_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob("*.yaml")
                  if p.name not in (CONTROLS_FILE, TEST_PROFILE_FILE))


def _digest(files: list[tuple[str, Path]], raw: dict[str, bytes] | None = None) -> str:
    """sha256 over the files a ruleset was read from (names and bytes), so the
    provenance block identifies exactly the rules that produced a decision.
    ``raw`` holds the bytes loaded, by path: what is hashed is what was read
    (once; a pipe or FIFO cannot be read twice)."""
    h = hashlib.sha256()
    for name, p in files:
        data = (raw or {}).get(str(p))
        if data is None:
            data = read_bounded(p, what="rule file")
        h.update(name.encode() + b"\0" + data + b"\0")
    return h.hexdigest()


def ruleset_digest(directory: Path, raw: dict[str, bytes] | None = None) -> str:
    """The digest of a complete rules folder: every *.yaml in it."""
    return _digest([(p.name, p) for p in sorted(Path(directory).glob("*.yaml"))], raw)


def _check_folder(directory: Path) -> None:
    if not directory.exists():
        raise InputError.single(str(directory), "rules folder not found")
    if not directory.is_dir():
        raise InputError.single(str(directory), "expected a folder of rule files")


def load_ruleset(directory: Path, options: OptionCatalog, *, base: Path | None = None,
                 shown: str = "", base_shown: str = "rules") -> RuleSet:
    """Load and check a rules folder; raise InputError listing every problem.

    With ``base`` (the bundled library), ``directory`` is an overlay that need
    only hold what it changes: a rule file replaces the base file of the same
    name and adds any other; a rule whose id is already in the base replaces
    that rule (in its place); ``controls.yaml`` adds or replaces controls by
    id; ``test-profile.yaml`` replaces the base's. ``shown`` and ``base_shown``
    are the folder names findings cite (``rules/gdpr.yaml:12``).
    """
    directory = Path(directory)
    _check_folder(directory)
    problems: list[Problem] = []
    controls: dict[str, ControlSpec] = {}
    raw: dict[str, bytes] = {}  # the bytes of every file read, by path
    for folder in ([base] if base is not None else []) + [directory]:
        path = folder / CONTROLS_FILE
        if folder is base or base is None or path.exists():
            try:
                controls.update(load_controls(path, raw))
            except InputError as exc:
                problems.extend(exc.problems)
    own_test_profile = base is None or (directory / TEST_PROFILE_FILE).exists()
    test_path = (directory if own_test_profile else base) / TEST_PROFILE_FILE  # type: ignore[operator]
    test_doc = None
    try:
        test_doc = load_file(test_path, what="rule test profile")
        raw[str(test_path)] = test_doc.raw
    except InputError as exc:
        problems.extend(exc.problems)
    own_files = ruleset_files(directory)
    own_names = {p.name for p in own_files}
    base_files = [p for p in ruleset_files(base) if p.name not in own_names] if base else []
    if base is None and not own_files:
        problems.append(Problem(str(directory), None, None, "no rule files (*.yaml) found"))
    elif not any(directory.glob("*.yaml")):
        problems.append(Problem(str(directory), None, None, "no rule files (*.yaml) found",
                                "an overlay holds the rule files it adds or changes"))
    registry = FieldRegistry(tuple(options.ids()), tuple(sorted({o.kind for o in options.options})))
    loader = _RuleFileLoader(registry, options, controls)
    base_rules: list[Rule] = []
    for path in base_files:
        base_rules.extend(loader.load(path, problems, f"{base_shown}/{path.name}"))
    own_rules: list[Rule] = []
    for path in own_files:
        own_rules.extend(loader.load(path, problems, f"{shown}/{path.name}" if shown else ""))
    first_seen: dict[str, Rule] = {}
    for rule in own_rules:
        if rule.id in first_seen:
            prev = first_seen[rule.id]
            problems.append(Problem(rule.file, rule.line, None, f"duplicate rule id '{rule.id}'",
                                    f"first defined at {prev.file}:{prev.line}"))
        else:
            first_seen[rule.id] = rule
    if problems:
        raise InputError(problems)
    assert test_doc is not None
    # an overlay's rule takes the place of the base rule it replaces
    overridden = {r.id: r.source for r in base_rules if r.id in first_seen}
    rules = [first_seen[r.id] if r.id in first_seen else r for r in base_rules]
    rules += [r for r in own_rules if r.id not in overridden]
    from advisor.engine.durable import limit_problems  # the engine's limits, checked at load

    problems = limit_problems(rules, str(directory))
    if problems:
        raise InputError(problems)
    raw.update(loader.raw)
    if base is None:
        digest = ruleset_digest(directory, raw)
        label = str(directory)
    else:
        read = [(p.name, p) for p in base_files] + [(f"overlay/{p.name}", p) for p in own_files]
        read += [(f"{tag}{name}", folder / name)
                 for tag, folder in (("", base), ("overlay/", directory))
                 for name in (CONTROLS_FILE, TEST_PROFILE_FILE) if (folder / name).exists()]
        digest = _digest(sorted(read), raw)
        label = f"{base} + {directory}"
    return RuleSet(tuple(rules), controls, test_doc.data, test_doc, label, digest,
                   tuple(str(p) for p in base_files + own_files), overridden,
                   tuple(sorted(loader.coverage)))
