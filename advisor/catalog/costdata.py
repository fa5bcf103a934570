"""The sizing and cost catalog: validated models of the YAML files in ``catalog/``.

Why a catalog at all: prices and specs change every quarter and are contested,
so they are data with provenance, not constants in code. Every entry carries
``source``, ``as_of`` and ``status`` so a report can list where each number came
from, and a user can override any file by putting their own copy in a
``--catalog`` directory (file by file; absent files fall back to the bundled
ones).

Why so strict: a catalog typo must never turn into a silently different
number. Unknown keys are rejected (``extra='forbid'``), cross references
(a server's GPU, an offer's GPU) are checked, and every problem is reported
with ``file:line:col`` and a did-you-mean hint via :mod:`advisor.yamlload`.
Looking up an id that is not there raises :class:`InputError`, never returns 0.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, Mapping, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from advisor.errors import InputError, Problem, did_you_mean, one_of
from advisor.yamlload import Document, load_file

#: verified: primary source read; secondary: third-party transcription;
#: assumption: no source, must be overridable; calibrated: fitted by advisor to
#: published measurements (docs/calibration.md).
Status = Literal["verified", "secondary", "assumption", "calibrated"]

#: Dates as the sources give them: a year, a month, a day, a half-year (Eurostat
#: "2024-S2"), a quarter, or the honest "unknown".
_AS_OF = re.compile(r"^(unknown|\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?|-S[12]|-Q[1-4])?)$")

_ID = re.compile(r"^[a-z0-9][a-z0-9.\-]*$")

WeightPrecision = Literal["bf16", "fp8", "fp4", "int4"]
PRECISIONS: tuple[str, ...] = ("bf16", "fp8", "fp4", "int4")
KvPrecision = Literal["bf16", "fp8"]


#: Every catalog number is 0 or lies within these magnitudes: generous for any
#: price, rate or spec (the catalog spans 0.0028 to about 400,000), small
#: enough that every cost computed from them stays finite and exact in Decimal.
MIN_MAGNITUDE, MAX_MAGNITUDE = 1e-6, 1e9


def _in_range(value: Any) -> None:
    if isinstance(value, dict):
        for v in value.values():
            _in_range(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _in_range(v)
    elif isinstance(value, (int, float)) and not isinstance(value, bool) and value != 0 \
            and not MIN_MAGNITUDE <= abs(value) <= MAX_MAGNITUDE:
        raise ValueError(f"{value:g} is out of range: catalog numbers are 0 or between "
                         f"{MIN_MAGNITUDE:g} and {MAX_MAGNITUDE:,.0f} in magnitude")


class _Strict(BaseModel):
    # no infinite or NaN numbers: every price and spec is a finite figure
    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True,
                              str_strip_whitespace=True, allow_inf_nan=False)

    @field_validator("*")
    @classmethod
    def _magnitude(cls, value: Any) -> Any:
        _in_range(value)
        return value


class Provenance(_Strict):
    """Where a number came from. Mixed rows lower single fields via field_status.

    ``valid_until`` (the last day a price holds, e.g. a promotion or a price list
    replaced on a known date) and ``supersedes`` (ids of older rows of the same
    file this row replaces) keep stale rows in the file for the record while
    making sure they are never chosen (:meth:`Catalog.current`).
    """

    source: str = Field(min_length=3)
    as_of: str
    status: Status
    notes: str | None = None
    field_status: dict[str, Status] = Field(default_factory=dict)
    valid_until: str | None = None
    supersedes: list[str] = Field(default_factory=list)

    @field_validator("as_of", mode="before")
    @classmethod
    def _as_of(cls, value: Any) -> str:
        text = str(value)
        if not _AS_OF.match(text):
            raise ValueError(
                f"as_of '{text}' is not a date like 2025-03-17, 2025-03, 2025, 2024-S2, 2024-Q3 or 'unknown'")
        return text

    @field_validator("valid_until", mode="before")
    @classmethod
    def _valid_until(cls, value: Any) -> str | None:
        if value is None:
            return None
        text = str(value)
        if not re.match(r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$", text):
            raise ValueError(f"valid_until '{text}' is not a date like 2025-06-30")
        return text

    @model_validator(mode="after")
    def _field_status_names(self) -> "Provenance":
        names = set(type(self).model_fields)
        for name in self.field_status:
            if name not in names:
                hint = did_you_mean(name, names)
                raise ValueError(f"field_status names unknown field '{name}'" + (f" ({hint})" if hint else ""))
        return self

    def status_of(self, field_name: str) -> Status:
        """Status of one field: its own override, else the entry's."""
        return self.field_status.get(field_name, self.status)

    def cite(self, entry_id: str, kind: str) -> dict[str, str]:
        """The provenance record a report lists for this entry."""
        return {"kind": kind, "id": entry_id, "source": self.source, "as_of": self.as_of, "status": self.status}


class SourcedValue(Provenance):
    """One number with its unit, optional currency, optional range for Monte Carlo."""

    value: float
    unit: str | None = None
    currency: str | None = None
    low: float | None = None
    high: float | None = None

    @model_validator(mode="after")
    def _range(self) -> "SourcedValue":
        if self.low is not None and self.low > self.value:
            raise ValueError(f"low ({self.low}) is above value ({self.value})")
        if self.high is not None and self.high < self.value:
            raise ValueError(f"high ({self.high}) is below value ({self.value})")
        return self


# ---------------------------------------------------------------- models ----

class MoE(_Strict):
    """Mixture-of-experts shape; expert parameters are derived, not typed in twice."""

    experts: int = Field(gt=1)
    top_k: int = Field(ge=1)
    shared_experts: int = Field(default=0, ge=0)
    expert_ffn: int = Field(gt=0)
    moe_layers: int = Field(gt=0)

    @model_validator(mode="after")
    def _k(self) -> "MoE":
        if self.top_k > self.experts:
            raise ValueError(f"top_k ({self.top_k}) exceeds experts ({self.experts})")
        return self


class MLA(_Strict):
    """Multi-head latent attention: the KV cache holds one latent per layer per token."""

    kv_lora_rank: int = Field(gt=0)
    qk_rope_head_dim: int = Field(ge=0)


class ModelSpec(Provenance):
    name: str
    layers: int = Field(gt=0)
    hidden_size: int = Field(gt=0)
    attention_heads: int = Field(gt=0)
    kv_heads: int = Field(gt=0)
    head_dim: int = Field(gt=0)
    ffn_intermediate: int = Field(gt=0)
    vocab: int = Field(gt=0)
    max_context: int = Field(gt=0)
    total_params_b: float = Field(gt=0)
    active_params_b: float = Field(gt=0)
    attention: Literal["gqa", "mla"] = "gqa"
    mla: MLA | None = None
    moe: MoE | None = None
    sliding_window: int | None = Field(default=None, gt=0)
    sliding_window_layers: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _consistent(self) -> "ModelSpec":
        if self.attention == "mla" and self.mla is None:
            raise ValueError("attention: mla needs an `mla` block (kv_lora_rank, qk_rope_head_dim)")
        if self.attention == "gqa" and self.mla is not None:
            raise ValueError("an `mla` block needs attention: mla")
        if self.kv_heads > self.attention_heads:
            raise ValueError(f"kv_heads ({self.kv_heads}) exceeds attention_heads ({self.attention_heads})")
        if self.active_params_b > self.total_params_b * 1.0001:
            raise ValueError("active_params_b exceeds total_params_b")
        if self.sliding_window_layers > self.layers:
            raise ValueError("sliding_window_layers exceeds layers")
        if self.sliding_window_layers and self.sliding_window is None:
            raise ValueError("sliding_window_layers needs sliding_window")
        if self.moe is not None:
            if self.moe.moe_layers > self.layers:
                raise ValueError("moe.moe_layers exceeds layers")
            if self.expert_params_b >= self.total_params_b:
                raise ValueError(
                    f"the moe block implies {self.expert_params_b:.1f}B expert parameters, "
                    f"not below total_params_b {self.total_params_b}")
        elif abs(self.active_params_b - self.total_params_b) > 1e-6:
            raise ValueError("a dense model (no moe block) must have active_params_b == total_params_b")
        return self

    @property
    def expert_params_b(self) -> float:
        """Routed-expert parameters (gated MLP: 3 matrices of hidden x expert_ffn)."""
        if self.moe is None:
            return 0.0
        m = self.moe
        return m.moe_layers * m.experts * 3 * self.hidden_size * m.expert_ffn / 1e9

    @property
    def dense_params_b(self) -> float:
        """Parameters every token reads: attention, embeddings, shared experts, dense layers."""
        return self.total_params_b - self.expert_params_b


class GpuSpec(Provenance):
    name: str
    vendor: Literal["nvidia", "amd", "intel"]
    memory_gib: float = Field(gt=0)
    memory_type: str
    mem_bw_tbs: float = Field(gt=0)
    tflops: dict[Literal["bf16", "fp8", "fp4", "int8", "int4"], float]
    tdp_w: float = Field(gt=0)
    interconnect: str
    scaleup_bw_gbs: float = Field(gt=0)
    scaleup_domain: int = Field(ge=1)
    gpus_per_server: int = Field(ge=1)

    @field_validator("tflops")
    @classmethod
    def _tflops(cls, value: dict[str, float]) -> dict[str, float]:
        if "bf16" not in value:
            raise ValueError("tflops needs at least bf16")
        for k, v in value.items():
            if v <= 0:
                raise ValueError(f"tflops.{k} must be positive")
        return value


class ServerSpec(_Strict):
    name: str
    gpu: str
    gpus: int = Field(ge=1)
    default_for: bool = False
    price: SourcedValue
    #: whether ``price`` buys a complete server (CPUs, memory, NICs, chassis): "no" and
    #: "unknown" (the listing does not say) add opex.yaml gpu_host_price to the ledger
    includes_host: Literal["yes", "no", "unknown"] = "unknown"
    max_power_kw: SourcedValue
    notes: str | None = None

    @field_validator("price")
    @classmethod
    def _currency(cls, value: SourcedValue) -> SourcedValue:
        if not value.currency:
            raise ValueError("price needs a currency")
        return value


class CloudOffer(Provenance):
    provider: str
    provider_country: str = Field(min_length=2, max_length=2)
    instance: str
    gpu: str
    gpus: int = Field(ge=1)
    region: str | None = None
    region_country: str | None = None
    currency: str = Field(min_length=3, max_length=3)
    on_demand: float | None = Field(default=None, gt=0)
    reserved_1y: float | None = Field(default=None, gt=0)
    reserved_3y: float | None = Field(default=None, gt=0)
    spot: float | None = Field(default=None, gt=0)
    #: states whose law can compel the operator (default: provider_country)
    legal_exposure: list[str] | None = None
    #: accreditation schemes that cover this offer (catalog/jurisdictions.yaml schemes)
    accreditations: list[str] = Field(default_factory=list)
    #: short-term reservation (AWS Capacity Blocks): recorded, never used for 24/7 service
    capacity_block: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _some_price(self) -> "CloudOffer":
        if not any((self.on_demand, self.reserved_1y, self.reserved_3y, self.spot, self.capacity_block)):
            raise ValueError("an offer needs at least one price (on_demand, reserved_1y, reserved_3y, spot or "
                             "capacity_block)")
        return self


class ApiOffer(Provenance):
    provider: str
    provider_country: str = Field(min_length=2, max_length=2)
    model: str
    open_weights_model: str | None = None
    currency: str = Field(min_length=3, max_length=3)
    input: float = Field(ge=0)
    cached_input: float | None = Field(default=None, ge=0)
    output: float = Field(ge=0)
    residency: Literal["global", "eu", "us", "cn"]
    regional_uplift: float | None = Field(default=None, ge=0)
    #: where prompts are processed (default from residency: eu = the EEA, us, cn; global = anywhere)
    processing_countries: list[str] | None = None
    #: states whose law can compel the operator (default: provider_country)
    legal_exposure: list[str] | None = None
    accreditations: list[str] = Field(default_factory=list)


class ElectricityPrice(Provenance):
    name: str
    price_per_kwh: float = Field(gt=0)
    currency: str = Field(min_length=3, max_length=3)
    basis: str
    excl_all_taxes: float | None = None
    incl_all_taxes: float | None = None
    band_ie: float | None = None
    band_ig: float | None = None
    period: str
    low: float | None = None
    high: float | None = None


# ------------------------------------------------------------ file models ----

class _ModelsFile(_Strict):
    models: dict[str, ModelSpec]


class _GpusFile(_Strict):
    gpus: dict[str, GpuSpec]


class _ServersFile(_Strict):
    servers: dict[str, ServerSpec]


class _CloudFile(_Strict):
    offers: dict[str, CloudOffer]


class _ApiFile(_Strict):
    offers: dict[str, ApiOffer]


class _ElectricityFile(_Strict):
    prices: dict[str, ElectricityPrice]


class _OpexFile(_Strict):
    items: dict[str, SourcedValue]
    salaries: dict[str, SourcedValue] = Field(default_factory=dict)
    oncost_multipliers: dict[str, SourcedValue] = Field(default_factory=dict)


class _FxFile(_Strict):
    base: Literal["EUR"]
    rates_per_eur: dict[str, SourcedValue]

    @field_validator("rates_per_eur")
    @classmethod
    def _positive(cls, rates: dict[str, SourcedValue]) -> dict[str, SourcedValue]:
        for code, rate in rates.items():
            if rate.value <= 0:
                raise ValueError(f"the rate of {code} must be positive, not {rate.value}")
        return rates


#: Parameters the sizing model reads; a catalog override must keep them all.
SIZING_PARAMETERS: tuple[str, ...] = (
    "gpu_memory_utilization", "runtime_reserve_gib", "nccl_reserve_gib", "max_num_tokens",
    "activation_coeff", "max_batch", "allreduce_latency_us", "link_efficiency",
    "quant_scale_overhead_fp4", "quant_scale_overhead_int4", "target_utilisation",
    "mbu", "mbu_kv", "mfu_prefill", "mfu_decode", "step_overhead_us_per_layer", "tpot_p99_factor",
    "server_load_factor", "moe_expert_us", "scaleout_bw_gbs", "seq_overhead_us",
    "moe_token_passes", "ep_max_batch_per_gpu",
)


class StackEfficiency(SourcedValue):
    """How well one GPU family runs on its vendor's current serving software, as a factor on the
    calibrated bandwidth and compute efficiencies (1.0 = the global values); fitted on MLPerf
    (docs/calibration.md)."""

    gpus: list[str] = Field(min_length=1)
    software: str = Field(min_length=3)
    #: further factor for mixture-of-experts models (grouped-GEMM, routing and all-to-all kernels
    #: mature at a different pace from dense ones)
    moe: float = Field(default=1.0, gt=0)

    @model_validator(mode="after")
    def _positive(self) -> "StackEfficiency":
        if self.value <= 0:  # it divides the modelled step times
            raise ValueError(f"value must be positive, not {self.value}")
        return self


class PrecisionChoice(Provenance):
    """A weight format the sizing optimiser may choose with precision 'auto', and its quality cost."""

    auto: bool
    quality: str = Field(min_length=3)
    #: models published in this format by their authors (no quality cost for them)
    native_for: list[str] = Field(default_factory=list)


class SpeculativeMethod(Provenance):
    """A speculative-decoding method the optimiser may switch on, with its published acceptance."""

    acceptance: float = Field(gt=0, lt=1)
    draft_tokens: list[int] = Field(min_length=1)
    draft_cost: float = Field(ge=0, lt=1)
    #: models it is published for; None: any model (a draft head has to be trained or downloaded)
    models: list[str] | None = None
    speedup: str = Field(min_length=3)


class ThroughputError(Provenance):
    """Spread of measured / modelled throughput for one vendor and model kind (docs/calibration.md):
    the cost engine's Monte Carlo multiplies the sized throughput by a draw from it."""

    rows: int = Field(ge=1)
    p10: float = Field(gt=0)
    p50: float = Field(gt=0)
    p90: float = Field(gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> "ThroughputError":
        if not self.p10 <= self.p50 <= self.p90:
            raise ValueError(f"p10 <= p50 <= p90 expected, got {self.p10}, {self.p50}, {self.p90}")
        return self


class _SizingFile(_Strict):
    parameters: dict[str, SourcedValue]
    stacks: dict[str, StackEfficiency] = Field(default_factory=dict)
    #: keyed "<vendor>-dense" / "<vendor>-moe"
    throughput_error: dict[str, ThroughputError] = Field(default_factory=dict)
    precisions: dict[WeightPrecision, PrecisionChoice] = Field(default_factory=dict)
    speculative: dict[str, SpeculativeMethod] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _complete(self) -> "_SizingFile":
        missing = [p for p in SIZING_PARAMETERS if p not in self.parameters]
        if missing:
            raise ValueError("missing sizing parameter(s): " + ", ".join(missing))
        return self


# ---------------------------------------------------------------- loading ----

FILES: dict[str, tuple[str, type[_Strict]]] = {
    "models": ("models.yaml", _ModelsFile),
    "gpus": ("gpus.yaml", _GpusFile),
    "servers": ("servers.yaml", _ServersFile),
    "cloud_gpu_offers": ("cloud_gpu_offers.yaml", _CloudFile),
    "api_offers": ("api_offers.yaml", _ApiFile),
    "electricity": ("electricity.yaml", _ElectricityFile),
    "opex": ("opex.yaml", _OpexFile),
    "fx": ("fx.yaml", _FxFile),
    "sizing": ("sizing.yaml", _SizingFile),
}

_F = TypeVar("_F", bound=_Strict)
_P = TypeVar("_P", bound=Provenance)


def _pydantic_problems(doc: Document, exc: ValidationError, model: type[BaseModel]) -> list[Problem]:
    """Turn pydantic errors into file:line:col problems with did-you-mean hints."""
    problems = []
    for err in exc.errors(include_url=False):
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        # pydantic appends the literal/union branch name to loc for some errors; drop
        # parts that are not in the document so the position stays useful.
        path: tuple[str | int, ...] = tuple(loc)
        message = err["msg"]
        hint = None
        if err["type"] == "extra_forbidden":
            key = path[-1]
            allowed = _allowed_keys(model, path[:-1])
            hint = did_you_mean(str(key), allowed) or (one_of(sorted(allowed)) if allowed else None)
            problems.append(doc.problem(path, f"unknown key '{key}'", hint, key=True))
            continue
        if err["type"] == "missing":
            message = f"missing required key '{path[-1]}'"
            path = path[:-1]
        elif err["type"] == "literal_error":
            value = err.get("input")
            expected = err.get("ctx", {}).get("expected", "")
            message = f"'{value}' is not allowed here"
            options = re.findall(r"'([^']+)'", str(expected))
            hint = did_you_mean(str(value), options) or (one_of(options) if options else None)
        elif message.startswith("Value error, "):
            message = message[len("Value error, "):]
        where = ".".join(str(p) for p in path)
        problems.append(doc.problem(path, f"{where}: {message}" if where else message, hint))
    return problems


def _allowed_keys(model: type[BaseModel], path: tuple[Any, ...]) -> list[str]:
    """Field names accepted at ``path`` inside ``model`` (for did-you-mean hints)."""
    current: Any = model
    for part in path:
        if isinstance(current, type) and issubclass(current, BaseModel):
            info = current.model_fields.get(str(part))
            if info is None:
                return []
            current = info.annotation
        else:
            args = getattr(current, "__args__", ())
            # dict[str, X] -> X (the id level); Optional[X] -> X
            candidates = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
            if not candidates:
                return []
            current = candidates[-1]
            if isinstance(part, str) and part in current.model_fields:
                current = current.model_fields[part].annotation
    while not (isinstance(current, type) and issubclass(current, BaseModel)):
        args = getattr(current, "__args__", ())
        candidates = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
        if not candidates:
            return []
        current = candidates[-1]
    return list(current.model_fields)


def _parse(path: Path, model: type[_F], what: str) -> tuple[_F, Document]:
    doc = load_file(path, what=what)
    if not isinstance(doc.data, dict):
        raise InputError.single(str(path), f"{what} must be a YAML mapping", line=1)
    try:
        return model.model_validate(doc.data), doc
    except ValidationError as exc:
        raise InputError(_pydantic_problems(doc, exc, model)) from None


def _check_ids(doc: Document, top: str, ids: Mapping[str, Any]) -> list[Problem]:
    bad = []
    for key in ids:
        if not _ID.match(str(key)):
            bad.append(doc.problem((top, key), f"id '{key}' must be lower-case letters, digits, '.' and '-'",
                                   key=True))
    return bad


@dataclass
class Catalog:
    """All catalog sections, loaded lazily file by file.

    Lazy because ``advisor size`` needs four of the nine files and CLI start-up
    time matters; :meth:`validate_all` loads everything (for `advisor catalog
    check` and the tests).
    """

    directory: Path | None = None
    default_directory: Path | None = None
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)
    _docs: dict[str, Document] = field(default_factory=dict, repr=False)

    # --------------------------------------------------------- file access ----
    def path_of(self, section: str) -> Path:
        """The file a section is read from: the user's copy if present, else the bundled one."""
        name = FILES[section][0]
        if self.directory is not None and (self.directory / name).is_file():
            return self.directory / name
        base = self.default_directory
        if base is None:
            from advisor.resources import default_catalog_dir
            base = default_catalog_dir()
        return base / name

    def _section(self, section: str) -> Any:
        if section not in self._cache:
            name, model = FILES[section]
            path = self.path_of(section)
            parsed, doc = _parse(path, model, what=f"catalog file {name}")
            self._docs[section] = doc
            problems = []
            top = next(iter(model.model_fields))
            if isinstance(getattr(parsed, top), dict) and section not in ("fx", "electricity", "opex", "sizing"):
                problems += _check_ids(doc, top, getattr(parsed, top))
            if problems:
                raise InputError(problems)
            self._cache[section] = parsed
            self._cross_check(section)
        return self._cache[section]

    def _cross_check(self, section: str) -> None:
        """References into other files (a server's GPU, an offer's GPU or model)."""
        doc = self._docs[section]
        problems: list[Problem] = []
        if section == "servers":
            gpus = self.gpus
            for sid, srv in self._cache[section].servers.items():
                if srv.gpu not in gpus:
                    problems.append(doc.problem(("servers", sid, "gpu"), f"unknown GPU '{srv.gpu}'",
                                                did_you_mean(srv.gpu, gpus)))
        elif section == "cloud_gpu_offers":
            gpus = self.gpus
            for oid, offer in self._cache[section].offers.items():
                if offer.gpu not in gpus:
                    problems.append(doc.problem(("offers", oid, "gpu"), f"unknown GPU '{offer.gpu}'",
                                                did_you_mean(offer.gpu, gpus)))
        elif section == "api_offers":
            models = self.models
            for oid, offer in self._cache[section].offers.items():
                if offer.open_weights_model and offer.open_weights_model not in models:
                    problems.append(doc.problem(("offers", oid, "open_weights_model"),
                                                f"unknown model '{offer.open_weights_model}'",
                                                did_you_mean(offer.open_weights_model, models)))
        elif section == "sizing":
            problems += self._check_sizing(doc, self._cache[section])
        if section in ("cloud_gpu_offers", "api_offers"):
            offers = self._cache[section].offers
            for oid, offer in offers.items():
                for old in offer.supersedes:
                    if old not in offers:
                        problems.append(doc.problem(("offers", oid, "supersedes"),
                                                    f"supersedes unknown offer '{old}'", did_you_mean(old, offers)))
        if section == "fx":
            for code in self._cache[section].rates_per_eur:
                if not re.match(r"^[A-Z]{3}$", code):
                    problems.append(doc.problem(("rates_per_eur", code), f"'{code}' is not an ISO 4217 code",
                                                key=True))
        if problems:
            del self._cache[section]
            raise InputError(problems)

    def _check_sizing(self, doc: Document, sizing: "_SizingFile") -> list[Problem]:
        """Stacks name known GPUs, each GPU at most once; precision and speculation notes name known models."""
        problems: list[Problem] = []
        gpus, models = self.gpus, self.models
        owner: dict[str, str] = {}
        for sid, stack in sizing.stacks.items():
            for i, gid in enumerate(stack.gpus):
                if gid not in gpus:
                    problems.append(doc.problem(("stacks", sid, "gpus", i), f"unknown GPU '{gid}'",
                                                did_you_mean(gid, gpus)))
                elif gid in owner:
                    problems.append(doc.problem(("stacks", sid, "gpus", i),
                                                f"GPU '{gid}' is already in stack '{owner[gid]}'"))
                owner.setdefault(gid, sid)
        named: list[tuple[tuple[str, str, str, int], str]] = [
            (("precisions", str(k), "native_for", i), m) for k, c in sizing.precisions.items()
            for i, m in enumerate(c.native_for)]
        named += [(("speculative", k, "models", i), m) for k, c in sizing.speculative.items()
                  for i, m in enumerate(c.models or [])]
        for path, mid in named:
            if mid not in models:
                problems.append(doc.problem(path, f"unknown model '{mid}'", did_you_mean(mid, models)))
        return problems

    def validate_all(self) -> None:
        """Load and cross-check every file, collecting problems across files."""
        problems: list[Problem] = []
        for section in FILES:
            try:
                self._section(section)
            except InputError as exc:
                problems.extend(exc.problems)
        if problems:
            raise InputError(problems)

    # ------------------------------------------------------------ sections ----
    @property
    def models(self) -> dict[str, ModelSpec]:
        return self._section("models").models  # type: ignore[no-any-return]

    @property
    def gpus(self) -> dict[str, GpuSpec]:
        return self._section("gpus").gpus  # type: ignore[no-any-return]

    @property
    def servers(self) -> dict[str, ServerSpec]:
        return self._section("servers").servers  # type: ignore[no-any-return]

    @property
    def cloud_offers(self) -> dict[str, CloudOffer]:
        return self._section("cloud_gpu_offers").offers  # type: ignore[no-any-return]

    @property
    def api_offers(self) -> dict[str, ApiOffer]:
        return self._section("api_offers").offers  # type: ignore[no-any-return]

    def current(self, table: Mapping[str, _P], on: str) -> dict[str, _P]:
        """The rows of an offers table that may be chosen on date ``on`` (YYYY-MM-DD).

        A row named in another row's ``supersedes``, or whose ``valid_until`` is
        before ``on``, is left out: a stale price never wins.
        """
        superseded = {old for row in table.values() for old in row.supersedes}
        return {k: v for k, v in table.items()
                if k not in superseded and (v.valid_until is None or v.valid_until >= on)}

    @property
    def electricity(self) -> dict[str, ElectricityPrice]:
        return self._section("electricity").prices  # type: ignore[no-any-return]

    @property
    def opex(self) -> _OpexFile:
        return self._section("opex")  # type: ignore[no-any-return]

    @property
    def fx(self) -> _FxFile:
        return self._section("fx")  # type: ignore[no-any-return]

    @property
    def sizing(self) -> dict[str, SourcedValue]:
        return self._section("sizing").parameters  # type: ignore[no-any-return]

    @property
    def stacks(self) -> dict[str, StackEfficiency]:
        return self._section("sizing").stacks  # type: ignore[no-any-return]

    @property
    def throughput_error(self) -> dict[str, ThroughputError]:
        """Measured / modelled throughput spread per "<vendor>-dense" and "<vendor>-moe"."""
        return self._section("sizing").throughput_error  # type: ignore[no-any-return]

    @property
    def precision_choices(self) -> dict[str, PrecisionChoice]:
        return self._section("sizing").precisions  # type: ignore[no-any-return]

    @property
    def speculative_methods(self) -> dict[str, SpeculativeMethod]:
        return self._section("sizing").speculative  # type: ignore[no-any-return]

    # ------------------------------------------------------------- lookups ----
    def _lookup(self, table: Mapping[str, Any], key: str, what: str, section: str) -> Any:
        if key in table:
            return table[key]
        hint = did_you_mean(key, table) or one_of(sorted(table))
        raise InputError.single(str(self.path_of(section)), f"unknown {what} '{key}'", hint=hint)

    def model(self, model_id: str) -> ModelSpec:
        return self._lookup(self.models, model_id, "model", "models")  # type: ignore[no-any-return]

    def gpu(self, gpu_id: str) -> GpuSpec:
        return self._lookup(self.gpus, gpu_id, "GPU", "gpus")  # type: ignore[no-any-return]

    def server(self, server_id: str) -> ServerSpec:
        return self._lookup(self.servers, server_id, "server", "servers")  # type: ignore[no-any-return]

    def default_server(self, gpu_id: str) -> tuple[str, ServerSpec]:
        """The server SKU used to price a GPU; an explicit error when none is catalogued."""
        self.gpu(gpu_id)
        matches = [(sid, s) for sid, s in self.servers.items() if s.gpu == gpu_id]
        if not matches:
            raise InputError.single(
                str(self.path_of("servers")), f"no server with a price for GPU '{gpu_id}'",
                hint="add a server entry (price, max_power_kw with source/as_of/status) in a --catalog copy")
        preferred = [m for m in matches if m[1].default_for]
        return (preferred or matches)[0]

    def cloud_offer(self, offer_id: str) -> CloudOffer:
        return self._lookup(self.cloud_offers, offer_id, "cloud GPU offer", "cloud_gpu_offers")  # type: ignore[no-any-return]

    def api_offer(self, name: str) -> ApiOffer:
        """An API offer by id, or by the provider's model name if exactly one offer uses it."""
        offers = self.api_offers
        if name in offers:
            return offers[name]
        by_model = [o for o in offers.values() if o.model == name]
        if len(by_model) == 1:
            return by_model[0]
        hint = did_you_mean(name, list(offers) + [o.model for o in offers.values()])
        if len(by_model) > 1:
            ids = [i for i, o in offers.items() if o.model == name]
            raise InputError.single(str(self.path_of("api_offers")),
                                    f"API model '{name}' is offered by several entries", hint="use one of: " + ", ".join(ids))
        raise InputError.single(str(self.path_of("api_offers")), f"unknown API offer '{name}'", hint=hint)

    def electricity_price(self, code: str) -> ElectricityPrice:
        """Price for an ISO code; a US state falls back to nothing (explicit error), not to a guess."""
        return self._lookup(self.electricity, code, "electricity price for", "electricity")  # type: ignore[no-any-return]

    def parameter(self, name: str) -> float:
        """A sizing parameter value (see catalog/sizing.yaml)."""
        return self._lookup(self.sizing, name, "sizing parameter", "sizing").value  # type: ignore[no-any-return]

    def opex_item(self, name: str) -> SourcedValue:
        return self._lookup(self.opex.items, name, "opex item", "opex")  # type: ignore[no-any-return]

    def fx_rate(self, from_ccy: str, to_ccy: str) -> float:
        """Units of ``to_ccy`` per unit of ``from_ccy`` (cross rate through EUR)."""
        rates = self.fx.rates_per_eur
        src = self._lookup(rates, from_ccy, "currency", "fx")
        dst = self._lookup(rates, to_ccy, "currency", "fx")
        return dst.value / src.value  # type: ignore[no-any-return]


@lru_cache(maxsize=8)
def _cached(directory: str | None) -> Catalog:
    return Catalog(directory=Path(directory) if directory else None)


def load_catalog(directory: str | Path | None = None) -> Catalog:
    """The catalog, with files from ``directory`` overriding the bundled ones.

    Cached per directory: the files are read once per process, which keeps
    ``advisor evaluate`` (sizing every option) well under a second.
    """
    if directory is not None:
        d = Path(directory)
        if not d.is_dir():
            raise InputError.single(str(d), "catalog directory not found")
        return _cached(str(d.resolve()))
    return _cached(None)


def cite_all(items: list[tuple[str, str, Provenance]]) -> list[dict[str, str]]:
    """Provenance records for a report, in the order used."""
    return [p.cite(entry_id, kind) for kind, entry_id, p in items]


__all__ = [
    "ApiOffer", "Catalog", "CloudOffer", "ElectricityPrice", "GpuSpec", "ModelSpec", "MoE", "MLA",
    "PRECISIONS", "PrecisionChoice", "Provenance", "SIZING_PARAMETERS", "ServerSpec", "SourcedValue",
    "SpeculativeMethod", "StackEfficiency", "Status", "ThroughputError", "load_catalog",
    "cite_all",
]

