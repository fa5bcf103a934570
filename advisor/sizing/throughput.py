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
from dataclasses import dataclass

from advisor.catalog.costdata import Catalog, GpuSpec, ModelSpec
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
        values = {name: catalog.parameter(name) for name in cls.__dataclass_fields__}
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

    def decode_stage_time(self, batch: float, context: float) -> float:
        """Seconds for one pipeline stage to advance ``batch`` sequences by one token."""
        p = self.params
        n = self.gpus
        weights_read = self.dense_bytes + self.expert_bytes * self.expert_fraction(batch)
        kv_read = batch * self.kv_per_sequence(context)
        t_mem = (weights_read + kv_read) / n / (self.bandwidth * p.mbu)
        # GEMMs run at the weight format's rate; attention runs at the KV-cache format's rate
        gemm = batch * 2.0 * self.model.active_params_b * 1e9 / self.flops
        attention = batch * self.attention_flops_per_token(context) / self.attention_flops
        t_comp = (gemm + attention) / n / p.mfu_decode
        layers = self.model.layers / self.pp
        t_comm = 0.0
        if self.tp > 1:
            message = batch * self.model.hidden_size * 2.0  # bf16 activations
            link = self.gpu.scaleup_bw_gbs * 1e9 * p.link_efficiency
            per_allreduce = p.allreduce_latency_us * 1e-6 + 2.0 * (self.tp - 1) / self.tp * message / link
            t_comm = 2.0 * layers * per_allreduce
        t_fixed = layers * p.step_overhead_us_per_layer * 1e-6
        return max(t_mem, t_comp) + t_comm + t_fixed + self.moe_step_time(batch)

    def moe_step_time(self, batch: float) -> float:
        """Fixed cost of the expert GEMMs one GPU runs per step (experts spread over the TP group)."""
        moe = self.model.moe
        if moe is None or self.params.moe_expert_us == 0.0:
            return 0.0
        touched = moe.experts * self.expert_fraction(batch) / min(self.tp, moe.experts)
        return moe.moe_layers / self.pp * touched * self.params.moe_expert_us * 1e-6

    def step_time(self, batch: float, context: float) -> float:
        """Time per output token of one sequence in a full batch of ``batch`` (no prefill)."""
        micro = batch / self.pp
        return self.pp * self.decode_stage_time(micro, context) + (self.pp - 1) * self.params.allreduce_latency_us * 1e-6

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

    def tpot(self, batch: float, isl: float, osl: float) -> float:
        """Mean time per output token with ``batch`` sequences, prefill interleaved."""
        context = isl + osl / 2.0
        return self.step_time(batch, context) + batch / osl * self.prefill_time(isl)

    def throughput(self, batch: float, isl: float, osl: float) -> float:
        """Output tokens/s of the instance at a steady batch of ``batch`` sequences."""
        return batch / self.tpot(batch, isl, osl)

    def ttft_p99(self, batch: float, isl: float, osl: float) -> float:
        """p99 time to first token: the prefill, one decode step, and M/D/1 queueing on prefill."""
        t_p = self.prefill_time(isl)
        rate = self.throughput(batch, isl, osl) / osl  # requests/s
        rho = min(rate * t_p, 0.999)
        wait_mean = rho * t_p / (2.0 * (1.0 - rho))
        return t_p + self.step_time(batch, isl) + _P99_TAIL * wait_mean

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


def best_operating_point(inst: Instance, isl: float, osl: float, ttft_s: float | None = None,
                         tpot_s: float | None = None, load_factor: float = 1.0) -> Operating | None:
    """Largest-throughput batch that fits memory and meets the p99 latency targets.

    Throughput rises with the batch (weights are shared) until memory runs out or
    compute saturates, while TPOT and TTFT rise with it; so the answer is the
    largest batch that satisfies every bound, found by bisection. Returns None when
    even one sequence misses a target or does not fit.
    """
    b_mem = inst.max_batch_memory(isl, osl)
    if b_mem < 1:
        return None
    p = inst.params

    def ok(b: int) -> bool:
        if tpot_s is not None and inst.tpot(b, isl, osl) * p.tpot_p99_factor > tpot_s:
            return False
        if ttft_s is not None and inst.ttft_p99(b, isl, osl) > ttft_s:
            return False
        return True

    if not ok(1):
        return None
    lo, hi = 1, b_mem
    if ok(hi):
        lo = hi
    else:
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if ok(mid):
                lo = mid
            else:
                hi = mid
    # throughput can peak below the bound when communication grows with the batch
    candidates = {lo} | {max(1, int(lo * f)) for f in (0.5, 0.75)}
    batch = max(candidates, key=lambda b: inst.throughput(b, isl, osl))
    if batch == b_mem:
        limit = "memory" if b_mem < p.max_batch else "max_batch"
    elif tpot_s is not None and not ok(batch + 1) and inst.tpot(batch + 1, isl, osl) * p.tpot_p99_factor > tpot_s:
        limit = "tpot"
    elif ttft_s is not None and batch == lo:
        limit = "ttft"
    else:
        limit = "compute"
    return Operating(batch=batch, throughput=inst.throughput(batch, isl, osl) * load_factor,
                     tpot=inst.tpot(batch, isl, osl), ttft_p99=inst.ttft_p99(batch, isl, osl),
                     prefill=inst.prefill_time(isl), limited_by=limit)
