"""Throughput and latency of one model instance: a calibrated roofline.

Why a roofline with batch effects rather than a lookup of benchmark results:
the advisor must size models, GPUs and workloads that nobody benchmarked
together, so it models the physics and fits only a few global efficiency
factors (docs/calibration.md). Per decode step of ``B`` sequences:

* memory time = (weights read + KV read) / (HBM bandwidth x ``mbu``). Weights
  are read once per step; KV is read per sequence (Recasens et al.: large-batch
  decode stays memory-bound because of KV reads). For mixture-of-experts, the
  weights read grow with the batch: a layer touches ``1 - (1 - k/E)^B`` of its
  experts, so MoE decode at real batch sizes reads almost all experts (tools
  that charge only active parameters over-predict MoE throughput);
* compute time = (2 x active params + attention) FLOPs / (peak x ``mfu_decode``);
* plus tensor-parallel all-reduces and a fixed per-layer step overhead;
* for mixture-of-experts, a fixed cost per routed expert a GPU runs per layer
  (``moe_expert_us``; experts spread over the tensor-parallel group, as in expert
  parallelism). Many small expert GEMMs do not reach the bandwidth of one large
  GEMM (tile padding, routing, permutation, per-expert scheduling), so a model
  with 128-256 experts pays a cost the roofline misses while one with 8 barely
  does. Fitted on the MoE rows with the dense parameters held fixed.

Prefill of a request costs ``2 x active params x ISL`` plus causal attention
FLOPs at ``mfu_prefill``. In an aggregated engine prefill and decode share the
GPUs, so the time per output token is the step time plus the prefill work of the
``B / OSL`` requests that join per step. Latency targets bound the batch: p99
TPOT via a calibrated tail factor, TTFT via an M/D/1 queue on prefill.
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


@dataclass(frozen=True)
class Params:
    """The sizing parameters of catalog/sizing.yaml as plain floats (hot loop)."""

    mbu: float
    mfu_prefill: float
    mfu_decode: float
    step_overhead_us_per_layer: float
    tpot_p99_factor: float
    server_load_factor: float
    max_batch: float
    allreduce_latency_us: float
    link_efficiency: float
    moe_expert_us: float

    @classmethod
    def from_catalog(cls, catalog: Catalog, **overrides: float) -> "Params":
        known = parameters(catalog)
        # a missing parameter is reported by catalog.parameter (file, did-you-mean), not a KeyError
        values = {name: known[name] if name in known else catalog.parameter(name) for name in cls.__dataclass_fields__}
        values.update(overrides)
        return cls(**values)


def compute_precision(gpu: GpuSpec, precision: str) -> Any:
    """The tensor-core format a GPU multiplies ``precision`` weights in."""
    for candidate in _COMPUTE_FALLBACK[precision]:
        if candidate in gpu.tflops:
            return candidate
    return "bf16"


@dataclass(frozen=True)
class Instance:
    """One model replica on ``tp x pp`` GPUs, with everything the hot loop needs precomputed."""

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
    _curves: dict[tuple[float, float], "Curve"] = field(default_factory=dict, compare=False, repr=False)

    @property
    def gpus(self) -> int:
        return self.tp * self.pp

    # ------------------------------------------------------------ pieces ----
    def expert_fraction(self, batch: float) -> float:
        """Share of routed experts one layer reads in a step of ``batch`` tokens (uniform routing)."""
        moe = self.model.moe
        if moe is None:
            return 0.0
        return 1.0 - (1.0 - moe.top_k / moe.experts) ** batch

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

    def prefill_time(self, isl: float) -> float:
        """Seconds of instance time to prefill one request of ``isl`` tokens."""
        m = self.model
        causal_attention = self.attention_flops_per_token(isl / 2.0) * isl
        seconds_at_peak = 2.0 * m.active_params_b * 1e9 * isl / self.flops + causal_attention / self.attention_flops
        t_comp = seconds_at_peak / self.gpus / self.params.mfu_prefill
        # a short prompt is bound by reading the weights once
        t_mem = (self.dense_bytes + self.expert_bytes * self.expert_fraction(isl)) / self.gpus / (
            self.bandwidth * self.params.mbu)
        return max(t_comp, t_mem)

    def curve(self, isl: float, osl: float) -> "Curve":
        """The batch-to-latency curve of this instance for one token shape (cached)."""
        key = (isl, osl)
        c = self._curves.get(key)
        if c is None:
            if len(self._curves) > 64:
                self._curves.clear()
            c = self._curves[key] = Curve(self, isl, osl)
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
        """Most sequences the KV budget holds at their mean context (paged KV)."""
        if not self.memory.fits:
            return 0
        budget = self.memory.kv_budget * self.gpus
        per_seq = self.kv_per_sequence(isl + osl / 2.0)
        return int(min(budget // per_seq, self.params.max_batch))


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
                  catalog: Catalog, params: Params) -> Instance:
    dense, experts = weight_bytes(model, precision, catalog)
    return Instance(
        model=model, gpu=gpu, precision=precision, kv_precision=kv_precision, tp=tp, pp=pp,
        memory=memory_plan(model, gpu, precision, tp, pp, catalog),
        dense_bytes=dense, expert_bytes=experts,
        bandwidth=gpu.mem_bw_tbs * 1e12,
        flops=gpu.tflops[compute_precision(gpu, precision)] * 1e12,
        attention_flops=gpu.tflops[compute_precision(gpu, kv_precision)] * 1e12,
        params=params,
    )


class Curve:
    """Time per output token of one instance as a function of the batch, for one token shape.

    Everything that does not depend on the batch (context, KV bytes per sequence, attention
    FLOPs per token, the prefill of one request) is computed once here, so evaluating a batch
    is a dozen float operations: the operating-point search and the capacity plan call it a
    few dozen times per layout instead of re-deriving the model each time.

    Per pipeline stage and micro-batch ``m``:
    ``max(mem0 + memx f(m) + mem1 m, comp1 m) + fix0 + fix1 m + moe0 f(m)``, with
    ``f(m) = 1 - keep^m`` the share of routed experts a step touches (0 for dense models).
    """

    __slots__ = ("pp", "mem0", "memx", "mem1", "comp1", "fix0", "fix1", "moe0", "keep", "pp_latency",
                 "prefill", "prefill_per_output", "ttft_mem1", "ttft_comp1", "dense")

    def __init__(self, inst: "Instance", isl: float, osl: float) -> None:
        p = inst.params
        n = inst.gpus
        bw = inst.bandwidth * p.mbu
        self.pp = inst.pp
        m = inst.model
        moe = m.moe
        self.keep = 1.0 - moe.top_k / moe.experts if moe is not None else 1.0
        self.dense = moe is None
        self.mem0 = inst.dense_bytes / n / bw
        self.memx = inst.expert_bytes / n / bw if moe is not None else 0.0
        context = isl + osl / 2.0
        gemm = 2.0 * m.active_params_b * 1e9 / inst.flops
        self.mem1 = inst.kv_per_sequence(context) / n / bw
        self.comp1 = (gemm + inst.attention_flops_per_token(context) / inst.attention_flops) / n / p.mfu_decode
        self.ttft_mem1 = inst.kv_per_sequence(isl) / n / bw
        self.ttft_comp1 = (gemm + inst.attention_flops_per_token(isl) / inst.attention_flops) / n / p.mfu_decode
        layers = m.layers / inst.pp
        self.fix0 = layers * p.step_overhead_us_per_layer * 1e-6
        self.fix1 = 0.0
        if inst.tp > 1:
            link = inst.gpu.scaleup_bw_gbs * 1e9 * p.link_efficiency
            self.fix0 += 2.0 * layers * p.allreduce_latency_us * 1e-6
            self.fix1 = 2.0 * layers * 2.0 * (inst.tp - 1) / inst.tp * m.hidden_size * 2.0 / link
        self.moe0 = 0.0
        if moe is not None and p.moe_expert_us != 0.0:
            self.moe0 = moe.moe_layers / inst.pp * moe.experts / min(inst.tp, moe.experts) * p.moe_expert_us * 1e-6
        self.pp_latency = (inst.pp - 1) * p.allreduce_latency_us * 1e-6
        self.prefill = inst.prefill_time(isl)
        self.prefill_per_output = self.prefill / osl

    def _stage(self, micro: float, mem1: float, comp1: float) -> float:
        if self.dense:
            mem = self.mem0 + mem1 * micro
            f = 0.0
        else:
            f = 1.0 - self.keep ** micro
            mem = self.mem0 + self.memx * f + mem1 * micro
        comp = comp1 * micro
        return (mem if mem > comp else comp) + self.fix0 + self.fix1 * micro + self.moe0 * f

    def step(self, batch: float) -> float:
        """Seconds per decode step of ``batch`` sequences at the mean context (no prefill)."""
        return self.pp * self._stage(batch / self.pp, self.mem1, self.comp1) + self.pp_latency

    def tpot(self, batch: float) -> float:
        """Mean seconds per output token with ``batch`` sequences, prefill interleaved."""
        return self.step(batch) + batch * self.prefill_per_output

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
            pp = self.pp
            k0 = pp * self.fix0 + self.pp_latency
            k1 = self.fix1 + self.prefill_per_output
            b_mem = (limit - pp * self.mem0 - k0) / (self.mem1 + k1)
            b_comp = (limit - k0) / (self.comp1 + k1)
            b = int(min(b_mem, b_comp) + 1e-9)
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
                         tpot_s: float | None = None, load_factor: float = 1.0) -> Operating | None:
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
    curve = inst.curve(isl, osl)
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
