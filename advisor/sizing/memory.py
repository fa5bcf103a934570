"""GPU memory: weights by precision, KV cache per token, engine overheads.

Why these formulas and not "params x bytes x 1.2": the KV cache decides how
many sequences a GPU serves at once, and the ecosystem keeps getting it wrong
by 4-8x (counting attention heads instead of KV heads for grouped-query
attention, or materialising per-head K/V for DeepSeek's latent attention).
Here the KV bytes follow the attention type of each layer:

* GQA/MQA/MHA: ``2 x kv_heads x head_dim`` values per layer per token; under
  tensor parallelism each rank keeps ``max(kv_heads / tp, 1)`` heads, so heads
  are replicated once ``tp > kv_heads``;
* MLA (DeepSeek-V3/R1): one latent of ``kv_lora_rank + qk_rope_head_dim`` per
  layer per token. A well-tuned engine runs attention data-parallel across the
  ranks (SGLang ``--enable-dp-attention``, TensorRT-LLM attention DP), so the
  latent is stored once per sequence, not once per rank;
* sliding-window layers (gpt-oss) keep at most ``window`` tokens.

The engine budget follows vLLM/SGLang ("of total"): the engine may use
``gpu_memory_utilization`` of the card; weights, activations, NCCL buffers and a
runtime reserve come out of that, and the rest is KV cache.
"""

from __future__ import annotations

from dataclasses import dataclass

from advisor.catalog.costdata import Catalog, GpuSpec, ModelSpec
from advisor.sizing.cache import parameters

GIB = 1024 ** 3

#: Bytes per weight before block-scale overhead.
BASE_BYTES: dict[str, float] = {"bf16": 2.0, "fp8": 1.0, "fp4": 0.5, "int4": 0.5}
#: Bytes per KV-cache element.
KV_BYTES: dict[str, float] = {"bf16": 2.0, "fp8": 1.0}


def bytes_per_param(precision: str, catalog: Catalog) -> float:
    """Bytes per weight including the scale overhead of 4-bit block formats."""
    base = BASE_BYTES[precision]
    if precision == "fp4":
        return base + parameters(catalog)["quant_scale_overhead_fp4"]
    if precision == "int4":
        return base + parameters(catalog)["quant_scale_overhead_int4"]
    return base


def weight_bytes(model: ModelSpec, precision: str, catalog: Catalog) -> tuple[float, float]:
    """(dense bytes, routed-expert bytes) of the whole model at ``precision``."""
    bpp = bytes_per_param(precision, catalog)
    return model.dense_params_b * 1e9 * bpp, model.expert_params_b * 1e9 * bpp


def kv_bytes_per_token_layer(model: ModelSpec, kv_precision: str, tp: int = 1) -> float:
    """KV bytes one token adds in one attention layer, summed over the instance's ranks."""
    b = KV_BYTES[kv_precision]
    if model.attention == "mla":
        assert model.mla is not None
        return (model.mla.kv_lora_rank + model.mla.qk_rope_head_dim) * b
    return 2 * max(model.kv_heads, tp) * model.head_dim * b


def kv_bytes_per_sequence(model: ModelSpec, context: float, kv_precision: str, tp: int = 1) -> float:
    """KV bytes one sequence of ``context`` tokens holds, over the whole instance."""
    per_layer = kv_bytes_per_token_layer(model, kv_precision, tp)
    sliding = model.sliding_window_layers
    full = model.layers - sliding
    windowed = min(context, float(model.sliding_window)) if sliding and model.sliding_window else 0.0
    return per_layer * (full * context + sliding * windowed)


def kv_bytes_per_token(model: ModelSpec, kv_precision: str) -> float:
    """KV bytes per token of context in the full-attention layers (the long-context growth rate)."""
    return kv_bytes_per_token_layer(model, kv_precision) * (model.layers - model.sliding_window_layers)


def activation_bytes(model: ModelSpec, catalog: Catalog) -> float:
    """Activation buffer per GPU, sized by the engine's max tokens per forward pass.

    aiconfigurator's estimate ``2 x tokens x hidden x coeff``; MoE layers need
    about twice the dense coefficient (their coefficients are 22/13/10/10 vs 11/6.5/5/5).
    """
    coeff = parameters(catalog)["activation_coeff"] * (2 if model.moe else 1)
    return 2 * parameters(catalog)["max_num_tokens"] * model.hidden_size * coeff


@dataclass(frozen=True)
class MemoryPlan:
    """Per-GPU memory of one model instance spread over ``tp x pp`` (or ``ep``) GPUs (bytes)."""

    capacity: float
    usable: float
    weights: float
    overhead: float
    kv_budget: float

    @property
    def fits(self) -> bool:
        return self.kv_budget > 0


def memory_plan(model: ModelSpec, gpu: GpuSpec, precision: str, tp: int, pp: int, catalog: Catalog,
                ep: int = 1) -> MemoryPlan:
    """Split one GPU's memory into weights, overheads and the KV budget.

    With expert parallelism (``ep`` > 1, attention data-parallel) every GPU holds the dense
    part (attention, embeddings, shared experts) whole and ``1/ep`` of the routed experts.
    """
    capacity = gpu.memory_gib * GIB
    usable = capacity * parameters(catalog)["gpu_memory_utilization"]
    dense, experts = weight_bytes(model, precision, catalog)
    weights = dense + experts / ep if ep > 1 else (dense + experts) / (tp * pp)
    overhead = parameters(catalog)["runtime_reserve_gib"] * GIB + activation_bytes(model, catalog)
    if tp > 1 or pp > 1 or ep > 1:
        overhead += parameters(catalog)["nccl_reserve_gib"] * GIB
    return MemoryPlan(capacity=capacity, usable=usable, weights=weights, overhead=overhead,
                      kv_budget=usable - weights - overhead)
