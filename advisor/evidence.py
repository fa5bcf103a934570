"""Controls already in place and waivers (``advisor evaluate --evidence FILE``).

An organisation that has done its DPIA should not see it unchecked in every
briefing, forever; one that has accepted a risk should be able to say so,
with who decided and until when. The evidence file records both::

    controls_in_place:
      - control: dpia
        evidence: DPIA-2025-014, signed by the DPO
        owner: Data protection officer
        date: 2025-03-14
        reference: GRC-118          # optional
    waivers:
      - rule: NIS2-SUPPLY-CHAIN
        options: [regional_api]     # or: all
        justification: Supplier assessed in the 2025 vendor review.
        approver: CISO
        expires: 2026-06-30
        reference: RISK-42
        accept_exclusion: false     # must be true to waive an exclusion

A waived finding stays in the decision, marked (never hidden), and no longer
counts towards the option's status; an expired waiver does not apply and is
listed; a waiver of an exclusion without ``accept_exclusion: true`` is an
input error. Loading checks every id against the rule library.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field

from advisor.catalog.options import OptionCatalog
from advisor.decision import (Decision, EvidenceOut, ExpiredWaiver, InPlaceOut,
                              WaiverOut, consolidate_controls, option_status,
                              share_obligations)
from advisor.errors import InputError, Problem, did_you_mean, one_of
from advisor.rules.library import EFFECTS
from advisor.rules.library import RuleSet
from advisor.schemacheck import validate_document
from advisor.yamlload import Document, load_file


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ControlInPlace(_Strict):
    control: str = Field(description="Control id from controls.yaml")
    evidence: str = Field(min_length=3, description="What shows an auditor it is in place")
    owner: str = Field(min_length=2)
    date: dt.date = Field(description="When it was put in place or last reviewed")
    reference: Optional[str] = None


class Waiver(_Strict):
    rule: str = Field(description="Rule id (any case)")
    options: Union[Literal["all"], list[str]] = Field(description="Option ids, or 'all'")
    justification: str = Field(min_length=10)
    approver: str = Field(min_length=2)
    expires: dt.date
    reference: str = Field(min_length=1, description="Risk register or ticket reference")
    accept_exclusion: bool = Field(
        default=False, description="Required to waive a finding that excludes an option")


class EvidenceFile(_Strict):
    controls_in_place: list[ControlInPlace] = Field(default_factory=list)
    waivers: list[Waiver] = Field(default_factory=list)


@dataclass(frozen=True)
class Evidence:
    spec: EvidenceFile
    doc: Document
    sha256: str

    def where(self, *path: Union[str, int]) -> str:
        line, _ = self.doc.where(path)
        return f"{self.doc.file}:{line}" if line else self.doc.file


def load_evidence(path: Union[str, Path], ruleset: RuleSet, options: OptionCatalog) -> Evidence:
    """Read and check an evidence file: every control, rule and option id must
    exist (with a did-you-mean), every problem reported at once."""
    doc = load_file(path, what="evidence file")
    spec = validate_document(EvidenceFile, doc)
    problems: list[Problem] = []
    for i, c in enumerate(spec.controls_in_place):
        if c.control not in ruleset.controls:
            problems.append(doc.problem(("controls_in_place", i, "control"),
                                        f"unknown control id '{c.control}'",
                                        did_you_mean(c.control, ruleset.controls)
                                        or "see controls.yaml of the rule library"))
    rule_ids = {r.id for r in ruleset.rules}
    option_ids = options.ids()
    for i, w in enumerate(spec.waivers):
        if w.rule.upper() not in rule_ids:
            problems.append(doc.problem(("waivers", i, "rule"), f"unknown rule id '{w.rule}'",
                                        did_you_mean(w.rule.upper(), rule_ids)
                                        or "see 'advisor rules list'"))
        if isinstance(w.options, list):
            if not w.options:
                problems.append(doc.problem(("waivers", i, "options"),
                                            "'options' needs at least one option id, or 'all'"))
            for j, o in enumerate(w.options):
                if o not in option_ids:
                    problems.append(doc.problem(("waivers", i, "options", j),
                                                f"unknown option id '{o}'",
                                                did_you_mean(o, option_ids) or one_of(option_ids)))
    if problems:
        raise InputError(problems)
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    return Evidence(spec, doc, digest)


def apply_evidence(decision: Decision, evidence: Evidence, ruleset: RuleSet) -> Decision:
    """The decision with the waivers applied (statuses recomputed from the
    findings that still count) and the controls in place marked."""
    on = decision.evaluated_on
    problems: list[Problem] = []
    expired: list[ExpiredWaiver] = []
    unused: list[str] = []
    waived: list[str] = []
    marks: dict[tuple[str, str], WaiverOut] = {}  # (rule id, option id) -> waiver
    # every finding of each option, its own and the shared obligations: a waiver
    # may lift a shared duty for some options only
    full = {o.id: sorted(decision.findings_of(o.id), key=lambda f: EFFECTS.index(f.effect))
            for o in decision.options}
    for i, w in enumerate(evidence.spec.waivers):
        rule_id = w.rule.upper()
        named = ["all"] if w.options == "all" else list(w.options)
        targets = [o.id for o in decision.options] if w.options == "all" else named
        hits = {o.id: f for o in decision.options if o.id in targets
                for f in full[o.id] if f.rule_id == rule_id}
        source = evidence.where("waivers", i)
        if w.expires < on:
            expired.append(ExpiredWaiver(rule_id=rule_id, options=named, expired_on=w.expires,
                                         reference=w.reference, source=source))
            continue
        if not hits:
            unused.append(f"waiver of {rule_id} ({source}): the rule has no finding on "
                          f"{', '.join(named)} in this decision")
            continue
        for option_id, finding in hits.items():
            if finding.effect == "exclude" and not w.accept_exclusion:
                problems.append(evidence.doc.problem(
                    ("waivers", i), f"the waiver of {rule_id} would lift an exclusion of "
                                    f"{option_id}", "an exclusion is waived only with "
                                                    "'accept_exclusion: true'"))
                continue
            marks[(rule_id, option_id)] = WaiverOut(
                justification=w.justification, approver=w.approver, expires=w.expires,
                reference=w.reference, accept_exclusion=w.accept_exclusion, source=source)
            waived.append(f"{rule_id} on {option_id}")
    if problems:
        raise InputError(problems)

    options = []
    for o in decision.options:
        findings = [f.model_copy(update={"waived": marks.get((f.rule_id, o.id))})
                    for f in full[o.id]]
        # the findings that count first (in their order), the waived ones after
        findings = ([f for f in findings if f.waived is None]
                    + [f for f in findings if f.waived is not None])
        status, reason = option_status(findings)
        options.append(o.model_copy(update={"findings": findings, "status": status,
                                            "reason": reason, "shared": []}))
    options, obligations = share_obligations(options)
    controls = consolidate_controls(options, ruleset, obligations)
    in_place: list[str] = []
    by_control = {c.control: (i, c) for i, c in enumerate(evidence.spec.controls_in_place)}
    marked = []
    for c in controls:
        if c.id in by_control:
            i, entry = by_control[c.id]
            c = c.model_copy(update={"in_place": InPlaceOut(
                evidence=entry.evidence, owner=entry.owner, date=entry.date,
                reference=entry.reference, source=evidence.where("controls_in_place", i))})
            in_place.append(c.id)
        marked.append(c)
    unused += [f"control {cid} ({evidence.where('controls_in_place', i)}): no usable option "
               f"needs it in this decision"
               for cid, (i, _) in by_control.items() if cid not in in_place]
    return decision.model_copy(update={
        "options": options, "obligations": obligations, "controls": marked,
        "evidence": EvidenceOut(source=evidence.doc.file, sha256=evidence.sha256,
                                controls_in_place=in_place, waived=waived,
                                expired_waivers=expired, unused=unused)})
