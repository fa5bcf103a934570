"""Public entry points of the sizing model.

* :func:`size_fixed` answers "what does this many GPUs of this kind deliver for
  this model?" (``advisor size --count N``);
* :func:`plan_capacity` answers "how many GPUs and servers does this workload
  need at peak?" (``advisor size PROFILE.yaml`` and the cost engine).

Both take plain parameters (ids, token counts, rates), not a profile object, so
the same core serves the CLI, the cost engine and the calibration. Both return
JSON-ready dicts that name the catalog entries they used, with source, as_of and
status, so every number a user sees can be traced.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any, Iterator

from advisor.errors import InputError, did_you_mean, one_of
from advisor.catalog.costdata import PRECISIONS, Catalog, GpuSpec, ModelSpec, StackEfficiency
from advisor.sizing.cache import memo, parameters
from advisor.sizing.memory import GIB, kv_bytes_per_token
from advisor.sizing.throughput import (Instance, Operating, Params, Speculation, best_operating_point,
                                       make_instance)

_TP_CHOICES = (1, 2, 4, 8, 16, 32, 64)
_MAX_PP = 16
#: Expert-parallel degrees tried for mixture-of-experts models (GPUs per instance), plus one and two
#: scale-up domains on rack-scale systems (72 and 144 on NVL72).
_EP_CHOICES = (2, 4, 8, 16, 32, 64, 128, 256)
#: Scale-up bandwidth (GB/s per GPU) below which expert parallelism is not considered (PCIe Gen5 x16: 64).
_EP_MIN_FABRIC_GBS = 100.0
#: Parameters whose provenance a sizing result lists (the ones that move the answer).
_CITED_PARAMETERS = ("gpu_memory_utilization", "runtime_reserve_gib", "mbu", "mbu_kv", "mfu_prefill", "mfu_decode",
                     "step_overhead_us_per_layer", "seq_overhead_us", "tpot_p99_factor", "max_batch",
                     "moe_expert_us", "moe_token_passes")


def _cli_error(message: str, hint: str | None = None) -> InputError:
    return InputError.single("advisor size", message, hint=hint)


def _require(table: dict[str, Any], key: str, what: str) -> Any:
    """Look an id up for a user request; an unknown id is an input error with a hint."""
    if key in table:
        return table[key]
    hint = did_you_mean(key, table) or one_of(sorted(table))
    raise _cli_error(f"unknown {what} '{key}'", hint)


def resolve_precision(gpu: GpuSpec, precision: str) -> str:
    """'auto' means the narrowest format a well-tuned engine serves without accuracy debate: fp8 where
    the GPU has FP8 tensor cores, else bf16."""
    if precision == "auto":
        return "fp8" if "fp8" in gpu.tflops else "bf16"
    if precision not in PRECISIONS:
        raise _cli_error(f"unknown precision '{precision}'",
                         did_you_mean(precision, PRECISIONS + ("auto",)) or one_of(PRECISIONS + ("auto",)))
    return precision


def resolve_kv_precision(gpu: GpuSpec, precision: str, kv_precision: str) -> str:
    """'auto': an FP8 KV cache when the weights are 8-bit or narrower and the GPU has FP8 (what
    TensorRT-LLM and vLLM deployments at MLPerf use), else bf16."""
    if kv_precision == "auto":
        return "fp8" if precision in ("fp8", "fp4", "int4") and "fp8" in gpu.tflops else "bf16"
    if kv_precision not in ("bf16", "fp8"):
        raise _cli_error(f"unknown KV-cache precision '{kv_precision}'",
                         did_you_mean(kv_precision, ("bf16", "fp8", "auto")) or one_of(["bf16", "fp8", "auto"]))
    return kv_precision


def _check_tokens(model_id: str, model: ModelSpec, isl: int, osl: int) -> None:
    if isl < 1 or osl < 1:
        raise _cli_error("input and output tokens must be at least 1")
    if isl + osl > model.max_context:
        raise _cli_error(f"{isl} input + {osl} output tokens exceed the context of '{model_id}' "
                         f"({model.max_context} tokens)", "shorten the request or pick a longer-context model")


def layouts(model: ModelSpec, gpu: GpuSpec, max_gpus: int) -> Iterator[tuple[int, int, int]]:
    """Candidate (tensor parallel, pipeline parallel, expert parallel) layouts of one instance.

    TP stays inside the GPU's NVLink/xGMI domain and divides the attention heads;
    pipeline stages across nodes are only considered with the widest TP, which is
    how vLLM documents multi-node serving (TP = GPUs per node, PP = nodes).
    A mixture-of-experts model may also spread its experts over ``ep`` GPUs with
    attention data-parallel, inside a node or across nodes (SGLang and DeepSeek
    serve DeepSeek-V3 with EP 32-144), up to one expert per GPU, where the GPUs have a
    scale-up fabric (NVLink, Infinity Fabric) for the all-to-all: over PCIe, engines
    use TP/PP (TensorRT-LLM's RTX PRO 6000 tables run Qwen3-235B as TP2 x PP4).
    """
    tps = [t for t in _TP_CHOICES if t <= gpu.scaleup_domain and t <= max_gpus and model.attention_heads % t == 0]
    for tp in tps:
        yield tp, 1, 1
    if tps:
        widest = tps[-1]
        for pp in range(2, min(_MAX_PP, max_gpus // widest) + 1):
            yield widest, pp, 1
    if model.moe is not None and gpu.scaleup_bw_gbs >= _EP_MIN_FABRIC_GBS:
        domain = gpu.scaleup_domain
        choices = sorted(set(_EP_CHOICES) | ({domain, 2 * domain} if domain > 8 else set()))
        for ep in choices:
            if ep <= max_gpus and ep <= model.moe.experts:
                yield 1, 1, ep


def default_params(catalog: Catalog) -> Params:
    """The catalog's sizing parameters (read once per catalog)."""
    store = memo(catalog)
    params = store.get(("params",))
    if params is None:
        params = store[("params",)] = Params.from_catalog(catalog)
    return params  # type: ignore[no-any-return]


def stack_of(catalog: Catalog, gpu_id: str) -> tuple[str, StackEfficiency] | None:
    """The calibrated software stack (vendor family) a GPU belongs to, if any."""
    for sid, stack in catalog.stacks.items():
        if gpu_id in stack.gpus:
            return sid, stack
    return None


def _efficiency(catalog: Catalog, gpu: GpuSpec, model: ModelSpec) -> float:
    """The GPU family's calibrated efficiency on its current software, with the MoE factor for a
    mixture-of-experts model (1.0 for a GPU in no calibrated family)."""
    store = memo(catalog)
    key = ("efficiency", id(gpu), model.moe is not None)
    if key not in store:
        gpu_id = next((k for k, v in catalog.gpus.items() if v is gpu), None)
        found = stack_of(catalog, gpu_id) if gpu_id else None
        store[key] = (found[1].value * (found[1].moe if model.moe is not None else 1.0)) if found else 1.0
    return store[key]  # type: ignore[no-any-return]


def _instances(catalog: Catalog, model: ModelSpec, gpu: GpuSpec, precision: str, kv_precision: str,
               max_gpus: int, params: Params, efficiency: float | None = None,
               speculation: Speculation | None = None) -> list[Instance]:
    eff = _efficiency(catalog, gpu, model) if efficiency is None else efficiency
    store = memo(catalog)
    key = ("instances", id(model), id(gpu), precision, kv_precision, max_gpus, params, eff, speculation)
    cached = store.get(key)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    if speculation is not None:
        # the same layouts with a draft: no new memory plan (the draft head's weights are small
        # next to the model's and are not counted)
        plain = _instances(catalog, model, gpu, precision, kv_precision, max_gpus, params, eff)
        out = [replace(inst, speculation=speculation, _curves={}) for inst in plain]
    else:
        out = []
        deep_fits = False
        for tp, pp, ep in layouts(model, gpu, max_gpus):
            if pp > 1 and deep_fits:
                continue  # more stages only add bubbles
            inst = make_instance(model, gpu, precision, kv_precision, tp, pp, catalog, params, ep=ep, efficiency=eff)
            deep_fits = deep_fits or (pp > 1 and inst.memory.fits)
            out.append(inst)
    store[key] = out
    return out


_NONE = object()


def _point(catalog: Catalog, inst: Instance, isl: float, osl: float, ttft_s: float | None, tpot_s: float | None,
           load_factor: float, cached_share: float) -> Operating | None:
    """The best operating point of one (memoised) instance, memoised per token shape and targets."""
    store = memo(catalog)
    key = ("point", id(inst), isl, osl, ttft_s, tpot_s, load_factor, cached_share)
    found = store.get(key, _NONE)
    if found is _NONE:
        found = store[key] = best_operating_point(inst, isl, osl, ttft_s=ttft_s, tpot_s=tpot_s,
                                                  load_factor=load_factor, cached_share=cached_share)
    return found  # type: ignore[return-value]


def operating_points(catalog: Catalog, model: ModelSpec, gpu: GpuSpec, precision: str, kv_precision: str,
                     max_gpus: int, isl: float, osl: float, params: Params, ttft_s: float | None = None,
                     tpot_s: float | None = None, load_factor: float = 1.0, efficiency: float | None = None,
                     speculation: Speculation | None = None,
                     cached_share: float = 0.0) -> list[tuple[Instance, Operating]]:
    """Each candidate layout with its best operating point (layouts that cannot serve are left out);
    memoised per (model, GPU, precision, token shape, targets, serving options)."""
    store = memo(catalog)
    key = ("points", id(model), id(gpu), precision, kv_precision, max_gpus, isl, osl, params, ttft_s, tpot_s,
           load_factor, efficiency, speculation, cached_share)
    cached = store.get(key)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    out = []
    for inst in _instances(catalog, model, gpu, precision, kv_precision, max_gpus, params, efficiency, speculation):
        op = best_operating_point(inst, isl, osl, ttft_s=ttft_s, tpot_s=tpot_s, load_factor=load_factor,
                                  cached_share=cached_share)
        if op is not None:
            out.append((inst, op))
    store[key] = out
    return out


def _memory_report(inst: Instance, op: Operating | None, isl: int, osl: int) -> dict[str, float]:
    m = inst.memory
    kv_used = (op.batch * inst.kv_per_sequence(inst.mean_context(isl, osl)) / inst.gpus) if op else 0.0
    free = m.capacity - m.weights - m.overhead - kv_used
    return {
        "capacity": round(m.capacity / GIB, 2),
        "engine_usable": round(m.usable / GIB, 2),
        "weights": round(m.weights / GIB, 2),
        "kv_cache": round(kv_used / GIB, 2),
        "overhead": round(m.overhead / GIB, 2),
        "free": round(free / GIB, 2),
        "kv_budget": round(max(m.kv_budget, 0.0) / GIB, 2),
    }


def _operating_report(op: Operating | None) -> dict[str, Any] | None:
    if op is None:
        return None
    return {
        "batch": op.batch,
        "throughput_tokens_per_s": round(op.throughput, 1),
        "tpot_ms": round(op.tpot * 1e3, 2),
        "ttft_p99_ms": round(op.ttft_p99 * 1e3, 1),
        "prefill_ms": round(op.prefill * 1e3, 2),
        "limited_by": op.limited_by,
    }


def _citations(catalog: Catalog, model_id: str, gpu_id: str) -> list[dict[str, str]]:
    store = memo(catalog)
    key = ("citations", model_id, gpu_id)
    cites = store.get(key)
    if cites is None:
        cites = [catalog.model(model_id).cite(model_id, "model"), catalog.gpu(gpu_id).cite(gpu_id, "gpu")]
        cites += [catalog.sizing[name].cite(name, "sizing_parameter") for name in _CITED_PARAMETERS]
        found = stack_of(catalog, gpu_id)
        if found:
            cites.append(found[1].cite(found[0], "sizing_stack"))
        store[key] = cites
    return [dict(c) for c in cites]


def _assumptions(inst: Instance) -> list[str]:
    notes = []
    if inst.model.attention == "mla" and inst.gpus > 1:
        notes.append("MLA latent KV stored once per sequence (attention data-parallel across ranks)")
    if inst.model.moe is not None:
        notes.append("MoE experts read per step follow uniform routing: 1 - (1 - k/E)^batch per layer; routing "
                     "kernels move each token's hidden state per routed expert")
    if inst.ep > 1:
        notes.append(f"expert parallel over {inst.ep} GPUs with attention data-parallel; the all-to-all runs over "
                     + ("NVLink/xGMI" if inst.ep <= inst.gpu.scaleup_domain else "the scale-out network (one NIC per GPU)")
                     + " and overlaps compute (two-batch overlap)")
    if inst.speculation is not None:
        notes.append(f"speculative decoding ({inst.speculation.method}, {inst.speculation.draft_tokens} drafted "
                     f"tokens, acceptance {inst.speculation.acceptance}): needs the draft head deployed with the model")
    if inst.precision not in inst.gpu.tflops:
        notes.append(f"{inst.gpu.name} has no {inst.precision} tensor cores: weight-only quantisation, "
                     f"compute at {next(k for k in ('fp8', 'bf16') if k in inst.gpu.tflops)}")
    notes.append("throughput is output tokens/s at steady state with prefill interleaved (aggregated serving)")
    return notes


def best_system(catalog: Catalog, model: ModelSpec, gpu: GpuSpec, count: int, precision: str, kv_precision: str,
                isl: float, osl: float, params: Params, ttft_s: float | None = None, tpot_s: float | None = None,
                load_factor: float = 1.0, efficiency: float | None = None, speculation: Speculation | None = None,
                cached_share: float = 0.0) -> tuple[float, Instance, Operating] | None:
    """The layout and batch of ``count`` GPUs with the most whole-system output tokens/s.

    Replicas of one layout share nothing, so the system throughput is
    replicas x instance throughput; GPUs left over by a layout stay idle.
    """
    best: tuple[float, Instance, Operating] | None = None
    for inst, op in operating_points(catalog, model, gpu, precision, kv_precision, count, isl, osl, params,
                                     ttft_s=ttft_s, tpot_s=tpot_s, load_factor=load_factor, efficiency=efficiency,
                                     speculation=speculation, cached_share=cached_share):
        total = op.throughput * (count // inst.gpus)
        if best is None or total > best[0] * 1.0001:
            best = (total, inst, op)
    return best


def size_fixed(catalog: Catalog, model_id: str, gpu_id: str, count: int, precision: str = "auto",
               input_tokens: int = 1000, output_tokens: int = 200, kv_precision: str = "auto",
               ttft_ms: float | None = None, tpot_ms: float | None = None,
               params: Params | None = None) -> dict[str, Any]:
    """Throughput and memory of ``count`` GPUs serving ``model_id``.

    Picks the instance layout (TP x PP) and replica count that a well-tuned
    engine would use for maximum throughput; ``throughput_tokens_per_s`` is the
    whole system's output tokens/s without latency targets. With ``ttft_ms`` /
    ``tpot_ms`` a second, latency-bounded figure is added.
    """
    model = _require(catalog.models, model_id, "model")
    gpu = _require(catalog.gpus, gpu_id, "GPU")
    if count < 1:
        raise _cli_error("--count must be at least 1")
    precision = resolve_precision(gpu, precision)
    kv_precision = resolve_kv_precision(gpu, precision, kv_precision)
    _check_tokens(model_id, model, input_tokens, output_tokens)
    params = params or default_params(catalog)

    best = best_system(catalog, model, gpu, count, precision, kv_precision, input_tokens, output_tokens, params)

    result: dict[str, Any] = {
        "inputs": {"model": model_id, "gpu": gpu_id, "count": count, "precision": precision,
                   "kv_precision": kv_precision, "input_tokens": input_tokens, "output_tokens": output_tokens,
                   "ttft_ms": ttft_ms, "tpot_ms": tpot_ms},
        "kv_cache_bytes_per_token": kv_bytes_per_token(model, kv_precision),
    }
    if best is None:
        widest = list(_instances(catalog, model, gpu, precision, kv_precision, count, params))
        inst = widest[-1] if widest else make_instance(model, gpu, precision, kv_precision, 1, 1, catalog, params)
        result.update({
            "fits": False,
            "throughput_tokens_per_s": 0.0,
            "reason": (f"{model.name} at {precision} needs {inst.memory.weights * inst.gpus / GIB:.0f} GiB of weights; "
                       f"{count} x {gpu.name} cannot hold it with room for one {input_tokens + output_tokens}-token "
                       "sequence"),
            "layout": _layout(inst) | {"instances": 0, "idle_gpus": count},
            "memory_per_gpu_gib": _memory_report(inst, None, input_tokens, output_tokens),
            "catalog": _citations(catalog, model_id, gpu_id),
            "assumptions": _assumptions(inst),
        })
        return result

    total, inst, op = best
    instances = count // inst.gpus
    result.update({
        "fits": True,
        "throughput_tokens_per_s": round(total, 1),
        "layout": _layout(inst) | {"instances": instances, "idle_gpus": count - instances * inst.gpus},
        "serving": _serving_report(catalog, model_id, gpu_id, inst, (0.0, "not applied (fixed-hardware form)"), {}),
        "per_instance": _operating_report(op),
        "memory_per_gpu_gib": _memory_report(inst, op, input_tokens, output_tokens),
        "max_sequences_per_instance": inst.max_batch_memory(input_tokens, output_tokens),
    })
    if ttft_ms is not None or tpot_ms is not None:
        bounded = _latency_bounded(catalog, model, gpu, precision, kv_precision, count, input_tokens,
                                   output_tokens, ttft_ms, tpot_ms, params)
        result["latency_bounded"] = bounded
    result["catalog"] = _citations(catalog, model_id, gpu_id)
    result["assumptions"] = _assumptions(inst)
    return result


def _latency_bounded(catalog: Catalog, model: ModelSpec, gpu: GpuSpec, precision: str, kv_precision: str,
                     count: int, isl: int, osl: int, ttft_ms: float | None, tpot_ms: float | None,
                     params: Params) -> dict[str, Any]:
    """Best whole-system throughput of ``count`` GPUs while p99 TTFT/TPOT meet the targets."""
    best = best_system(catalog, model, gpu, count, precision, kv_precision, isl, osl, params,
                       ttft_s=ttft_ms / 1e3 if ttft_ms else None, tpot_s=tpot_ms / 1e3 if tpot_ms else None,
                       load_factor=params.server_load_factor)
    if best is None:
        return {"meets_targets": False, "throughput_tokens_per_s": 0.0,
                "reason": "no layout meets the latency targets even with one sequence per instance"}
    total, inst, op = best
    return {"meets_targets": True, "throughput_tokens_per_s": round(total, 1),
            "layout": _layout(inst) | {"instances": count // inst.gpus},
            "per_instance": _operating_report(op)}


#: Quality order of the weight formats: on a tie in GPUs the optimiser keeps the better one.
_QUALITY = {"bf16": 0, "fp8": 1, "int4": 2, "fp4": 2}


def precision_candidates(catalog: Catalog, model_id: str, gpu: GpuSpec, precision: str) -> list[str]:
    """Weight formats the optimiser tries: the requested one, or with 'auto' FP8 (BF16 on a GPU
    without FP8), the 4-bit formats catalog/sizing.yaml ``precisions`` marks ``auto`` where the GPU
    has tensor cores for them, and the model's own published format (gpt-oss ships in MXFP4)."""
    if precision != "auto":
        return [resolve_precision(gpu, precision)]
    out = [resolve_precision(gpu, "auto")]
    for name, choice in catalog.precision_choices.items():
        if name in out or name in ("bf16", "fp8"):
            continue
        native = model_id in choice.native_for
        cores = choice.auto and name in gpu.tflops
        weight_only_int4 = name == "int4" and "fp8" not in gpu.tflops
        if native or cores or weight_only_int4:
            out.append(name)
    return out


def _quality(catalog: Catalog, model_id: str, precision: str) -> int:
    choice = catalog.precision_choices.get(precision)
    return 0 if choice is not None and model_id in choice.native_for else _QUALITY[precision]


def speculation_candidates(catalog: Catalog, model_id: str, mode: str = "auto") -> list[Speculation]:
    """Speculative-decoding set-ups the optimiser tries: each catalogued method published for the
    model, at each of its draft lengths ('off': none)."""
    if mode == "off":
        return []
    out = []
    for name, method in catalog.speculative_methods.items():
        if method.models is not None and model_id not in method.models:
            continue
        out += [Speculation(name, k, method.acceptance, method.draft_cost) for k in method.draft_tokens]
    return out


def _cached_share(catalog: Catalog, share: float | None) -> tuple[float, str]:
    """The prompt share served from the prefix cache, and where the figure comes from."""
    if share is not None:
        return float(share), "profile workload.cached_input_share"
    item = catalog.opex.items.get("api_cached_input_share")
    if item is not None:
        return float(item.value), f"catalog/opex.yaml api_cached_input_share, status {item.status}; " \
                                  "set workload.cached_input_share"
    return 0.0, "assumption: no prompt prefix reuse"


def _serving_report(catalog: Catalog, model_id: str, gpu_id: str, inst: Instance, cached: tuple[float, str],
                    considered: dict[tuple[str, str], int | None]) -> dict[str, Any]:
    """What the optimiser chose and why, in words a briefing can quote."""
    choice = catalog.precision_choices.get(inst.precision)
    native = choice is not None and model_id in choice.native_for
    spec = inst.speculation
    stack = stack_of(catalog, gpu_id)
    method = catalog.speculative_methods.get(spec.method) if spec else None
    return {
        "precision": {
            "weights": inst.precision, "kv_cache": inst.kv_precision,
            "weight_only": inst.precision not in inst.gpu.tflops,
            "quality": ("the model's own published format: no quality cost" if native
                        else choice.quality if choice else "full precision"),
            "source": choice.source if choice else None,
        },
        "parallelism": {"tensor_parallel": inst.tp, "pipeline_parallel": inst.pp, "expert_parallel": inst.ep,
                        "attention_data_parallel": inst.ep if inst.ep > 1 else 1, "gpus_per_instance": inst.gpus},
        "prefix_caching": {"cached_input_share": cached[0], "basis": cached[1]},
        "speculative_decoding": None if spec is None or method is None else {
            "method": spec.method, "draft_tokens": spec.draft_tokens, "acceptance": spec.acceptance,
            "tokens_per_step": round(spec.tokens_per_step, 2), "published_speedup": method.speedup,
            "source": method.source},
        "software_stack": None if stack is None else {
            "id": stack[0], "software": stack[1].software, "efficiency": stack[1].value,
            "moe_factor": stack[1].moe, "status": stack[1].status},
        "considered": [{"precision": p, "speculative_decoding": m or None, "gpus": g}
                       for (p, m), g in sorted(considered.items())],
    }


def _best_drafts(catalog: Catalog, model: ModelSpec, gpu: GpuSpec, precision: str, kv: str, max_gpus: int,
                 isl: int, osl: int, params: Params, ttft_s: float | None, tpot_s: float | None,
                 specs: list[Speculation], cached: float,
                 plain: list[tuple[Instance, Operating]]) -> list[Speculation]:
    """Per method, the draft length that serves most on the plain layout with the most throughput
    per GPU (every length when no plain layout meets the targets); memoised."""
    store = memo(catalog)
    key = ("drafts", id(model), id(gpu), precision, kv, max_gpus, isl, osl, params, ttft_s, tpot_s, tuple(specs),
           cached)
    if key not in store:
        store[key] = _choose_drafts(catalog, model, gpu, precision, kv, max_gpus, isl, osl, params, ttft_s, tpot_s,
                                    specs, cached, plain)
    return store[key]  # type: ignore[no-any-return]


def _choose_drafts(catalog: Catalog, model: ModelSpec, gpu: GpuSpec, precision: str, kv: str, max_gpus: int,
                   isl: int, osl: int, params: Params, ttft_s: float | None, tpot_s: float | None,
                   specs: list[Speculation], cached: float,
                   plain: list[tuple[Instance, Operating]]) -> list[Speculation]:
    if not plain:
        return specs  # nothing meets the targets without a draft: try every draft length everywhere
    inst = max(plain, key=lambda p: p[1].throughput / p[0].gpus)[0]
    best: dict[str, tuple[float, Speculation]] = {}
    for spec in specs:
        op = best_operating_point(replace(inst, speculation=spec, _curves={}), isl, osl, ttft_s=ttft_s,
                                  tpot_s=tpot_s, load_factor=params.server_load_factor, cached_share=cached)
        rate = op.throughput if op else 0.0
        if spec.method not in best or rate > best[spec.method][0]:
            best[spec.method] = (rate, spec)
    return [spec for rate, spec in best.values() if rate > 0]


def plan_capacity(catalog: Catalog, model_id: str, gpu_id: str, *, peak_requests_per_s: float,
                  input_tokens: int, output_tokens: int, ttft_ms: float | None = None,
                  tpot_ms: float | None = None, precision: str = "auto", kv_precision: str = "auto",
                  ha: bool = False, params: Params | None = None, cached_input_share: float | None = None,
                  speculative: str = "auto") -> dict[str, Any]:
    """GPUs and servers needed to serve ``peak_requests_per_s`` within the latency targets.

    The optimiser tries every weight format allowed (``precision_candidates``), every
    instance layout (TP x PP, and expert parallelism for MoE models) and, under a TPOT
    target, the speculative-decoding methods published for the model. For each: the
    latency-bounded request rate per instance, planned at ``target_utilisation``
    (queueing headroom), instances = ceil(peak / planned rate), plus one when ``ha``
    (N+1). The fewest GPUs win, then the fewest servers, then the better quality and
    no speculation. Servers pack whole instances when an instance fits in a server,
    else each instance takes ceil(gpus / gpus_per_server) servers. ``serving`` in the
    result says what was chosen.
    """
    model = _require(catalog.models, model_id, "model")
    gpu = _require(catalog.gpus, gpu_id, "GPU")
    if peak_requests_per_s <= 0:
        raise _cli_error("peak request rate must be positive")
    precisions = precision_candidates(catalog, model_id, gpu, precision)
    _check_tokens(model_id, model, input_tokens, output_tokens)
    params = params or default_params(catalog)
    rho = parameters(catalog)["target_utilisation"]
    max_gpus = gpu.scaleup_domain * _MAX_PP
    cached = _cached_share(catalog, cached_input_share)
    ttft_s, tpot_s = (ttft_ms / 1e3 if ttft_ms else None), (tpot_ms / 1e3 if tpot_ms else None)
    specs = speculation_candidates(catalog, model_id, speculative) if tpot_s else []

    best: tuple[tuple[Any, ...], Instance, Operating, int] | None = None
    considered: dict[tuple[str, str], int | None] = {}
    spare = 1 if ha else 0
    for prec in precisions:
        kv = resolve_kv_precision(gpu, prec, kv_precision)
        quality = _quality(catalog, model_id, prec)
        tried: list[Speculation | None] = [None]
        for spec in tried:
            label = (prec, spec.method if spec else "")
            points: list[tuple[Instance, Operating]] = []
            label_best: int | None = None
            layouts_ = _instances(catalog, model, gpu, prec, kv, max_gpus, params, speculation=spec)
            for inst in sorted(layouts_, key=lambda i: i.gpus):
                if label_best is not None and inst.gpus * (1 + spare) > label_best:
                    continue  # one instance of it already needs more GPUs than this choice's best
                op = _point(catalog, inst, input_tokens, output_tokens, ttft_s, tpot_s, params.server_load_factor,
                            cached[0])
                if op is None:
                    continue
                points.append((inst, op))
                rate = op.throughput / output_tokens
                instances = max(1, math.ceil(peak_requests_per_s / (rate * rho) - 1e-9)) + spare
                gpus = instances * inst.gpus
                per_server = gpu.gpus_per_server
                if inst.gpus <= per_server:
                    servers = math.ceil(instances / (per_server // inst.gpus))
                else:
                    servers = instances * math.ceil(inst.gpus / per_server)
                key = (gpus, servers, quality, spec is not None)
                if best is None or key < best[0]:
                    best = (key, inst, op, instances)
                if label_best is None or gpus < label_best:
                    label_best = gpus
            considered[label] = label_best
            # speculation only pays where the TPOT target binds the batch; the draft length is
            # chosen on the best plain layout, then tried on every layout
            if spec is None and specs and (not points or any(op.limited_by == "tpot" for _, op in points)):
                tried.extend(_best_drafts(catalog, model, gpu, prec, kv, max_gpus, input_tokens, output_tokens,
                                          params, ttft_s, tpot_s, specs, cached[0], points))

    chosen_precision = best[1].precision if best else precisions[0]
    base: dict[str, Any] = {
        "inputs": {"model": model_id, "gpu": gpu_id, "precision": chosen_precision,
                   "kv_precision": best[1].kv_precision if best else resolve_kv_precision(gpu, chosen_precision,
                                                                                           kv_precision),
                   "input_tokens": input_tokens, "output_tokens": output_tokens,
                   "peak_requests_per_s": round(peak_requests_per_s, 4), "ttft_ms": ttft_ms, "tpot_ms": tpot_ms,
                   "ha": ha},
    }
    if best is None:
        base.update({"feasible": False, "gpus": None, "servers": None,
                     "reason": (f"no layout of up to {max_gpus} x {gpu.name} holds {model.name} at "
                                f"{' or '.join(precisions)} and meets the latency targets"),
                     "catalog": _citations(catalog, model_id, gpu_id)})
        return base
    (gpus, servers, _, _), inst, op, instances = best
    rate = op.throughput / output_tokens
    base.update({
        "feasible": True,
        "gpus": gpus,
        "servers": servers,
        "gpus_per_server": gpu.gpus_per_server,
        "instances": instances,
        "ha_spare_instances": 1 if ha else 0,
        "layout": _layout(inst),
        "serving": _serving_report(catalog, model_id, gpu_id, inst, cached, considered),
        "per_instance": _operating_report(op),
        "requests_per_s_per_instance": round(rate, 4),
        "target_utilisation": rho,
        "peak_utilisation": round(peak_requests_per_s / (rate * (instances - (1 if ha else 0))), 3),
        "memory_per_gpu_gib": _memory_report(inst, op, input_tokens, output_tokens),
        "catalog": _citations(catalog, model_id, gpu_id) + [catalog.sizing["target_utilisation"].cite(
            "target_utilisation", "sizing_parameter")],
        "assumptions": _assumptions(inst),
    })
    return base


def _layout(inst: Instance) -> dict[str, int]:
    return {"tensor_parallel": inst.tp, "pipeline_parallel": inst.pp, "expert_parallel": inst.ep,
            "gpus_per_instance": inst.gpus}


def plan_workload(catalog: Catalog, workload: dict[str, Any], gpu_ids: list[str] | None = None,
                  precision: str = "auto", ha: bool = False) -> dict[str, Any]:
    """Size a profile's ``workload`` section on each GPU (all catalogued GPUs by default).

    ``workload`` uses the profile schema names: model, requests_per_day, input_tokens,
    output_tokens, peak_factor (peak hourly / average hourly rate), latency
    {ttft_ms, tpot_ms}. The peak rate is requests_per_day / 86,400 x peak_factor.
    """
    model_id = str(workload["model"])
    peak = float(workload["requests_per_day"]) / 86400.0 * float(workload.get("peak_factor", 1.0))
    latency = workload.get("latency") or {}
    gpus = gpu_ids or list(catalog.gpus)
    plans = []
    for gpu_id in gpus:
        plans.append(plan_capacity(catalog, model_id, gpu_id, peak_requests_per_s=peak,
                                   input_tokens=int(workload["input_tokens"]),
                                   output_tokens=int(workload["output_tokens"]),
                                   ttft_ms=latency.get("ttft_ms"), tpot_ms=latency.get("tpot_ms"),
                                   precision=precision, ha=ha,
                                   cached_input_share=workload.get("cached_input_share")))
    feasible = [p for p in plans if p["feasible"]]
    return {"model": model_id, "peak_requests_per_s": round(peak, 4), "ha": ha, "plans": plans,
            "fewest_gpus": min(feasible, key=lambda p: p["gpus"])["inputs"]["gpu"] if feasible else None}
