"""Throughput and latency of one model instance: a calibrated roofline.

Why a roofline with batch effects rather than a lookup of benchmark results:
the advisor must size models, GPUs and workloads that nobody benchmarked
together, so it models the physics and fits only a few efficiency factors
(docs/calibration.md). Per decode step of ``B`` sequences:

* memory time = weights read / (HBM bandwidth x ``mbu``) + KV read / (HBM bandwidth x
  ``mbu_kv``). Weights are streamed once per step in large GEMMs; the KV cache is read
  per sequence by the attention kernels, which reach a lower share of the bandwidth
  (Recasens et al.: large-batch decode stays memory-bound because of KV reads). Two
  factors because one would make a single stream as slow as a full batch (one-stream
  Llama-70B on an H200 is ~20 ms/token published; one factor fitted on full batches gave
  37 ms). For mixture-of-experts, the weights read grow with the batch: a layer touches
  ``1 - (1 - k/E)^B`` of its experts, so MoE decode at real batch sizes reads almost all
  experts (tools that charge only active parameters over-predict MoE throughput);
* compute time = (2 x active params + attention) FLOPs / (peak x ``mfu_decode``);
* plus tensor-parallel all-reduces and a fixed per-layer step overhead;
* for mixture-of-experts, a fixed cost per routed expert a GPU runs per layer
  (``moe_expert_us``): many small expert GEMMs do not reach the bandwidth of one large
  GEMM (tile padding, routing, permutation, per-expert scheduling), so a model with
  128-256 experts pays a cost the roofline misses while one with 8 barely does;
* with expert parallelism (``ep`` GPUs, attention data-parallel: SGLang
  ``--enable-dp-attention``, TensorRT-LLM attention DP, DeepSeek's own serving), each GPU
  runs attention for its own ``B / ep`` sequences with the dense weights whole, holds
  ``E / ep`` experts, and exchanges tokens with an all-to-all per MoE layer (dispatch in
  FP8, combine in BF16) over NVLink inside the scale-up domain and over the scale-out
  network beyond it, overlapped with compute (two-batch overlap).

The vendor's software matters as much as the silicon: one factor per GPU family and
software generation (``efficiency``, catalog/sizing.yaml ``stacks``) scales the achieved
bandwidth and compute, calibrated on MLPerf (docs/calibration.md).

Prefill of a request costs ``2 x active params x ISL`` plus causal attention FLOPs at
``mfu_prefill``; prompt tokens found in the prefix cache skip it. In an aggregated engine
prefill and decode share the GPUs, so the time per output token is the step time plus the
prefill work of the ``B / OSL`` requests that join per step. Speculative decoding verifies
``k`` drafted tokens per step: the step reads the weights and KV once but computes
``k + 1`` tokens and pays the draft, and yields ``(1 - a^(k+1)) / (1 - a)`` tokens on
average. Latency targets bound the batch: p99 TPOT via a calibrated tail factor, TTFT via
an M/D/1 queue on prefill.
"""

from __future__ import annotations

from typing import Any

import math
from dataclasses import dataclass, field

from advisor.catalog.costdata import Catalog, GpuSpec, ModelSpec
from advisor.sizing.cache import parameters
from advisor.sizing.memory import MemoryPlan, kv_bytes_per_sequence, memory_plan, weight_bytes

#: Compute precision used when a GPU lacks tensor cores for the weight format
#: (weight-only quantisation: dequantise, then multiply at the next format up).
_COMPUTE_FALLBACK: dict[str, tuple[str, ...]] = {
    "fp4": ("fp4", "fp8", "bf16"),
    "fp8": ("fp8", "bf16"),
    "int4": ("bf16",),
    "bf16": ("bf16",),
}

#: ln(100): the p99 of an exponential tail is ln(100) x its mean.
_P99_TAIL = math.log(100.0)

#: Bytes per hidden value moved by the expert-parallel all-to-all: FP8 dispatch + BF16 combine.
_A2A_BYTES = 3.0


@dataclass(frozen=True)
class Params:
    """The sizing parameters of catalog/sizing.yaml as plain floats (hot loop)."""

    mbu: float
    mbu_kv: float
    mfu_prefill: float
    mfu_decode: float
    step_overhead_us_per_layer: float
    tpot_p99_factor: float
    server_load_factor: float
    max_batch: float
    allreduce_latency_us: float
    link_efficiency: float
    moe_expert_us: float
    scaleout_bw_gbs: float
    seq_overhead_us: float
    moe_token_passes: float
    ep_max_batch_per_gpu: float

    @classmethod
    def from_catalog(cls, catalog: Catalog, **overrides: float) -> "Params":
        known = parameters(catalog)
        # a missing parameter is reported by catalog.parameter (file, did-you-mean), not a KeyError
        values = {name: known[name] if name in known else catalog.parameter(name) for name in cls.__dataclass_fields__}
        values.update(overrides)
        return cls(**values)


@dataclass(frozen=True)
class Speculation:
    """A speculative-decoding method as the instance runs it."""

    method: str
    draft_tokens: int
    acceptance: float  # probability that each drafted token is accepted
    draft_cost: float  # cost of drafting one token, as a share of one target decode step

    @property
    def tokens_per_step(self) -> float:
        """Mean tokens a verification step yields (accepted drafts plus the target's own)."""
        a, k = self.acceptance, self.draft_tokens
        return (1.0 - a ** (k + 1)) / (1.0 - a) if a < 1.0 else k + 1.0


def compute_precision(gpu: GpuSpec, precision: str) -> Any:
    """The tensor-core format a GPU multiplies ``precision`` weights in."""
    for candidate in _COMPUTE_FALLBACK[precision]:
        if candidate in gpu.tflops:
            return candidate
    return "bf16"


@dataclass(frozen=True)
class Instance:
    """One model replica on ``tp x pp`` GPUs, or on ``ep`` GPUs with experts spread and attention
    data-parallel, with everything the hot loop needs precomputed."""

    model: ModelSpec
    gpu: GpuSpec
    precision: str
    kv_precision: str
    tp: int
    pp: int
    memory: MemoryPlan
    dense_bytes: float
    expert_bytes: float
    bandwidth: float
    flops: float
    attention_flops: float
    params: Params
    ep: int = 1
    efficiency: float = 1.0
    speculation: Speculation | None = None
    _curves: dict[tuple[float, float, float], "Curve"] = field(default_factory=dict, compare=False, repr=False)

    @property
    def gpus(self) -> int:
        return self.ep if self.ep > 1 else self.tp * self.pp

    # ------------------------------------------------------------ pieces ----
    def expert_fraction(self, batch: float) -> float:
        """Share of routed experts one layer reads in a step of ``batch`` tokens (uniform routing)."""
        moe = self.model.moe
        if moe is None:
            return 0.0
        return 1.0 - (1.0 - moe.top_k / moe.experts) ** batch

    def mean_context(self, isl: float, osl: float) -> float:
        """Mean context of the sequences in flight: the prompt and half the output."""
        return isl + 0.5 * osl

    def kv_per_sequence(self, context: float) -> float:
        return kv_bytes_per_sequence(self.model, context, self.kv_precision, self.tp)

    def attention_flops_per_token(self, context: float) -> float:
        """FLOPs of attention for one new token attending to ``context`` tokens (all layers)."""
        m = self.model
        if m.attention == "mla":
            assert m.mla is not None
            # weight-absorbed MLA: scores over the latent+rope, values over the latent
            qk, v = m.mla.kv_lora_rank + m.mla.qk_rope_head_dim, m.mla.kv_lora_rank
        else:
            qk = v = m.head_dim
        full = m.layers - m.sliding_window_layers
        window = min(context, float(m.sliding_window)) if m.sliding_window else 0.0
        eff = full * context + m.sliding_window_layers * window
        return 2.0 * m.attention_heads * (qk + v) * eff

    def a2a_link(self) -> float:
        """Bytes/s one GPU moves in the expert-parallel all-to-all: NVLink inside the scale-up
        domain (at ``link_efficiency``), the scale-out network beyond it (``scaleout_bw_gbs`` is
        already an achieved figure: DeepEP measures 39-58 GB/s per 400 Gb/s NIC)."""
        p = self.params
        if self.ep <= self.gpu.scaleup_domain:
            return self.gpu.scaleup_bw_gbs * 1e9 * p.link_efficiency
        return p.scaleout_bw_gbs * 1e9

    def a2a_bytes_per_token(self, prefill: bool = False) -> float:
        """Bytes one token sends and receives over the all-to-alls of one step (all MoE layers).

        Decode kernels send one copy per routed expert (DeepEP low-latency kernels); prefill
        kernels across nodes send one copy per remote node and forward over NVLink inside it
        (DeepEP normal kernels), ``nodes (1 - (1 - 1/nodes)^k)`` distinct nodes under uniform routing.
        """
        moe = self.model.moe
        if self.ep <= 1 or moe is None:
            return 0.0
        per_copy = moe.moe_layers * self.model.hidden_size * _A2A_BYTES
        nodes = -(-self.ep // self.gpu.scaleup_domain)
        if prefill and nodes > 1:
            remote = nodes * (1.0 - (1.0 - 1.0 / nodes) ** moe.top_k) * (nodes - 1) / nodes
            return per_copy * remote
        return per_copy * moe.top_k * (self.ep - 1) / self.ep

    def route_bytes_per_token(self) -> float:
        """HBM bytes the routing kernels move per token per step (all MoE layers): its hidden state,
        once per routed expert, read or written ``moe_token_passes`` times by the gather, permute,
        un-permute and weighted-sum kernels around the expert GEMMs (BF16 activations)."""
        moe = self.model.moe
        if moe is None:
            return 0.0
        return moe.moe_layers * moe.top_k * self.model.hidden_size * 2.0 * self.params.moe_token_passes

    def prefill_time(self, isl: float, cached_share: float = 0.0) -> float:
        """Seconds of instance time to prefill one request of ``isl`` tokens (``cached_share`` of
        them found in the prefix cache)."""
        m = self.model
        new = isl * (1.0 - cached_share)
        causal_attention = self.attention_flops_per_token(isl / 2.0) * new
        seconds_at_peak = 2.0 * m.active_params_b * 1e9 * new / self.flops + causal_attention / self.attention_flops
        t_comp = seconds_at_peak / self.gpus / (self.params.mfu_prefill * self.efficiency)
        # a short prompt is bound by reading the weights once
        experts = self.expert_bytes * self.expert_fraction(max(new, 1.0))
        weights = self.dense_bytes + experts / self.ep if self.ep > 1 else (self.dense_bytes + experts) / self.gpus
        t_mem = weights / (self.bandwidth * self.params.mbu * self.efficiency)
        t_a2a = new * self.a2a_bytes_per_token(prefill=True) / self.gpus / self.a2a_link() if self.ep > 1 else 0.0
        # tensor parallel: every GPU routes every token; expert parallel: each its own share
        t_route = new * self.route_bytes_per_token() / (self.ep if self.ep > 1 else 1) / (
            self.bandwidth * self.params.mbu * self.efficiency)
        return max(t_comp, t_mem, t_a2a) + t_route

    def curve(self, isl: float, osl: float, cached_share: float = 0.0) -> "Curve":
        """The batch-to-latency curve of this instance for one token shape (cached)."""
        key = (isl, osl, cached_share)
        c = self._curves.get(key)
        if c is None:
            if len(self._curves) > 64:
                self._curves.clear()
            c = self._curves[key] = Curve(self, isl, osl, cached_share)
        return c

    def tpot(self, batch: float, isl: float, osl: float) -> float:
        """Mean time per output token with ``batch`` sequences, prefill interleaved."""
        return self.curve(isl, osl).tpot(batch)

    def throughput(self, batch: float, isl: float, osl: float) -> float:
        """Output tokens/s of the instance at a steady batch of ``batch`` sequences."""
        return self.curve(isl, osl).throughput(batch)

    def ttft_p99(self, batch: float, isl: float, osl: float) -> float:
        """p99 time to first token: the prefill, one decode step, and M/D/1 queueing on prefill."""
        return self.curve(isl, osl).ttft_p99(batch)

    # ---------------------------------------------------------- capacity ----
    def max_batch_memory(self, isl: float, osl: float) -> int:
        """Most sequences the KV budget holds at their mean context (paged KV); with attention
        data-parallel each GPU schedules its own batch, at most ``ep_max_batch_per_gpu`` (the
        expert-parallel all-to-all buffers are sized per rank)."""
        if not self.memory.fits:
            return 0
        budget = self.memory.kv_budget * self.gpus
        per_seq = self.kv_per_sequence(self.mean_context(isl, osl))
        p = self.params
        cap = min(p.max_batch, p.ep_max_batch_per_gpu) * self.ep if self.ep > 1 else p.max_batch
        return int(min(budget // per_seq, cap))


@dataclass(frozen=True)
class Operating:
    """An operating point of one instance."""

    batch: int
    throughput: float  # output tokens/s
    tpot: float  # mean seconds per output token
    ttft_p99: float
    prefill: float
    limited_by: str


def make_instance(model: ModelSpec, gpu: GpuSpec, precision: str, kv_precision: str, tp: int, pp: int,
                  catalog: Catalog, params: Params, ep: int = 1, efficiency: float = 1.0,
                  speculation: Speculation | None = None) -> Instance:
    dense, experts = weight_bytes(model, precision, catalog)
    return Instance(
        model=model, gpu=gpu, precision=precision, kv_precision=kv_precision, tp=tp, pp=pp,
        memory=memory_plan(model, gpu, precision, tp, pp, catalog, ep=ep),
        dense_bytes=dense, expert_bytes=experts,
        bandwidth=gpu.mem_bw_tbs * 1e12,
        flops=gpu.tflops[compute_precision(gpu, precision)] * 1e12,
        attention_flops=gpu.tflops[compute_precision(gpu, kv_precision)] * 1e12,
        params=params, ep=ep, efficiency=efficiency, speculation=speculation,
    )


class Curve:
    """Time per output token of one instance as a function of the batch, for one token shape.

    Everything that does not depend on the batch (context, KV bytes per sequence, attention
    FLOPs per token, the prefill of one request) is computed once here, so evaluating a batch
    is a dozen float operations: the operating-point search and the capacity plan call it a
    few dozen times per layout instead of re-deriving the model each time.

    Per pipeline stage and micro-batch ``m`` (``g`` tokens per sequence per step, more than
    one under speculative decoding):
    ``(max(mem0 + memx f(g m) + mem1 m, comp1 m, ovl1 m) + fix0 + fix1 m + moe0 f(g m)) x draft``,
    with ``f(t) = 1 - keep^t`` the share of routed experts ``t`` tokens touch (0 for dense
    models); a token then costs ``step / tokens_per_step`` plus its share of prefill.
    """

    __slots__ = ("pp", "mem0", "memx", "mem1", "comp1", "ovl1", "fix0", "fix1", "moe0", "keep", "pp_latency",
                 "prefill", "prefill_per_output", "ttft_mem1", "ttft_comp1", "dense", "g", "draft", "per_step")

    def __init__(self, inst: "Instance", isl: float, osl: float, cached_share: float = 0.0) -> None:
        p = inst.params
        n = inst.gpus
        bw = inst.bandwidth * p.mbu * inst.efficiency
        bw_kv = inst.bandwidth * p.mbu_kv * inst.efficiency
        mfu = p.mfu_decode * inst.efficiency
        spec = inst.speculation
        g = float(spec.draft_tokens + 1) if spec else 1.0
        self.g = g
        self.draft = 1.0 + spec.draft_tokens * spec.draft_cost if spec else 1.0
        self.per_step = spec.tokens_per_step if spec else 1.0
        self.pp = inst.pp
        m = inst.model
        moe = m.moe
        self.keep = 1.0 - moe.top_k / moe.experts if moe is not None else 1.0
        self.dense = moe is None
        ep = inst.ep
        if ep > 1:
            # attention data-parallel: each GPU reads the dense weights whole and 1/ep of the experts
            self.mem0 = inst.dense_bytes / bw
            self.memx = inst.expert_bytes / ep / bw
        else:
            self.mem0 = inst.dense_bytes / n / bw
            self.memx = inst.expert_bytes / n / bw if moe is not None else 0.0
        context = inst.mean_context(isl, osl)
        gemm = 2.0 * m.active_params_b * 1e9 / inst.flops
        self.mem1 = inst.kv_per_sequence(context) / n / bw_kv
        self.comp1 = g * (gemm + inst.attention_flops_per_token(context) / inst.attention_flops) / n / mfu
        self.ttft_mem1 = inst.kv_per_sequence(isl) / n / bw_kv
        self.ttft_comp1 = g * (gemm + inst.attention_flops_per_token(isl) / inst.attention_flops) / n / mfu
        layers = m.layers / inst.pp
        self.fix0 = layers * p.step_overhead_us_per_layer * 1e-6
        # per-sequence work that neither bytes nor FLOPs capture (attention launch and page walks,
        # sampling, scheduling); a GPU pays it for every sequence whose attention it runs
        self.fix1 = (layers * p.seq_overhead_us * 1e-6 + g * inst.route_bytes_per_token() / inst.pp / bw) / (
            ep if ep > 1 else 1)
        self.ovl1 = 0.0
        if inst.tp > 1:
            link = inst.gpu.scaleup_bw_gbs * 1e9 * p.link_efficiency
            self.fix0 += 2.0 * layers * p.allreduce_latency_us * 1e-6
            self.fix1 += g * 2.0 * layers * 2.0 * (inst.tp - 1) / inst.tp * m.hidden_size * 2.0 / link
        if ep > 1 and moe is not None:
            # two all-to-alls per MoE layer, overlapped with compute (two-batch overlap)
            self.fix0 += 2.0 * moe.moe_layers * p.allreduce_latency_us * 1e-6
            self.ovl1 = g * inst.a2a_bytes_per_token() / n / inst.a2a_link()
        self.moe0 = 0.0
        if moe is not None and p.moe_expert_us != 0.0:
            spread = min(ep if ep > 1 else inst.tp, moe.experts)
            self.moe0 = moe.moe_layers / inst.pp * moe.experts / spread * p.moe_expert_us * 1e-6
        self.pp_latency = (inst.pp - 1) * p.allreduce_latency_us * 1e-6
        self.prefill = inst.prefill_time(isl, cached_share)
        self.prefill_per_output = self.prefill / osl

    def _stage(self, micro: float, mem1: float, comp1: float) -> float:
        if self.dense:
            mem = self.mem0 + mem1 * micro
            f = 0.0
        else:
            f = 1.0 - self.keep ** (micro * self.g)
            mem = self.mem0 + self.memx * f + mem1 * micro
        comp = comp1 * micro
        if comp > mem:
            mem = comp
        ovl = self.ovl1 * micro
        if ovl > mem:
            mem = ovl
        return (mem + self.fix0 + self.fix1 * micro + self.moe0 * f) * self.draft

    def step(self, batch: float) -> float:
        """Seconds per decode step of ``batch`` sequences at the mean context (no prefill)."""
        return self.pp * self._stage(batch / self.pp, self.mem1, self.comp1) + self.pp_latency

    def tpot(self, batch: float) -> float:
        """Mean seconds per output token with ``batch`` sequences, prefill interleaved."""
        return self.step(batch) / self.per_step + batch * self.prefill_per_output

    def throughput(self, batch: float) -> float:
        return batch / self.tpot(batch)

    def ttft_p99(self, batch: float) -> float:
        """p99 time to first token: the prefill, one decode step at the prompt's length, M/D/1 queueing."""
        t_p = self.prefill
        rho = min(batch / self.tpot(batch) * self.prefill_per_output, 0.999)
        wait_mean = rho * t_p / (2.0 * (1.0 - rho))
        first_step = self.pp * self._stage(batch / self.pp, self.ttft_mem1, self.ttft_comp1) + self.pp_latency
        return t_p + first_step + _P99_TAIL * wait_mean

    def max_batch_for_tpot(self, limit: float, upper: int) -> int:
        """Largest batch in [0, upper] whose mean TPOT is at most ``limit`` (0 if none)."""
        if self.tpot(1) > limit:
            return 0
        if self.tpot(upper) <= limit:
            return upper
        if self.dense:
            # every piece is linear in the batch: tpot <= limit is one bound per piece
            pp, d, s = self.pp, self.draft, self.per_step
            k0 = (pp * self.fix0 * d + self.pp_latency) / s
            k1 = self.fix1 * d / s + self.prefill_per_output
            bounds = [(limit - pp * self.mem0 * d / s - k0) / (self.mem1 * d / s + k1),
                      (limit - k0) / (self.comp1 * d / s + k1)]
            b = int(min(bounds) + 1e-9)
            b = max(1, min(b, upper))
            while b < upper and self.tpot(b + 1) <= limit:  # float edge
                b += 1
            while b > 1 and self.tpot(b) > limit:
                b -= 1
            return b
        return _bisect(self.tpot, limit, 1, upper)

    def max_batch_for_ttft(self, limit: float, upper: int) -> int:
        """Largest batch in [0, upper] whose p99 TTFT is at most ``limit`` (TTFT rises with the batch)."""
        if self.ttft_p99(1) > limit:
            return 0
        if self.ttft_p99(upper) <= limit:
            return upper
        return _bisect(self.ttft_p99, limit, 1, upper)


def _bisect(fn: Any, limit: float, lo: int, hi: int) -> int:
    """Largest integer b in [lo, hi) with fn(b) <= limit, given fn(lo) <= limit < fn(hi), fn increasing."""
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if fn(mid) <= limit:
            lo = mid
        else:
            hi = mid
    return lo


def best_operating_point(inst: Instance, isl: float, osl: float, ttft_s: float | None = None,
                         tpot_s: float | None = None, load_factor: float = 1.0,
                         cached_share: float = 0.0) -> Operating | None:
    """Largest-throughput batch that fits memory and meets the p99 latency targets.

    Throughput ``B / TPOT(B)`` rises with the batch in this model (every cost is linear or
    concave in B, with a positive intercept), while TPOT and TTFT rise with it too; so the
    answer is the largest batch that satisfies every bound: in closed form for the TPOT
    bound of a dense model (each roofline piece is linear in B), by bisection otherwise.
    Returns None when even one sequence misses a target or does not fit.
    """
    b_mem = inst.max_batch_memory(isl, osl)
    if b_mem < 1:
        return None
    p = inst.params
    curve = inst.curve(isl, osl, cached_share)
    batch, limit = b_mem, "memory" if b_mem < p.max_batch else "max_batch"
    if tpot_s is not None:
        b = curve.max_batch_for_tpot(tpot_s / p.tpot_p99_factor, batch)
        if b < batch:
            batch, limit = b, "tpot"
    if ttft_s is not None and batch >= 1:
        b = curve.max_batch_for_ttft(ttft_s, batch)
        if b < batch:
            batch, limit = b, "ttft"
    if batch < 1:
        return None
    tpot = curve.tpot(batch)
    return Operating(batch=batch, throughput=batch / tpot * load_factor, tpot=tpot,
                     ttft_p99=curve.ttft_p99(batch), prefill=curve.prefill, limited_by=limit)
