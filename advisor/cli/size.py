"""``advisor size``: how much a GPU configuration serves, or how many GPUs a workload needs.

Two forms:

* ``advisor size --model ID --gpu ID --count N --precision P --input-tokens I
  --output-tokens O`` reports the throughput and per-GPU memory of N GPUs;
* ``advisor size PROFILE.yaml [--gpu ID ...]`` reads the profile's ``workload``
  section and reports the GPUs and servers needed at peak on each GPU type.

The command is thin on purpose: it parses options, calls
:mod:`advisor.sizing.plan`, and formats. Heavy imports stay inside the
function so ``advisor --help`` starts fast.
"""

from __future__ import annotations

import json
from typing import Any

import click

from advisor.cli.common import FiniteFloat, guarded


def _layout_text(lay: dict[str, Any]) -> str:
    """TP4, TP8xPP2, or EP16 (expert parallel with attention data-parallel)."""
    if lay.get("expert_parallel", 1) > 1:
        return f"EP{lay['expert_parallel']}"
    return f"TP{lay['tensor_parallel']}" + (f"xPP{lay['pipeline_parallel']}" if lay["pipeline_parallel"] > 1 else "")


def _fmt_text_fixed(r: dict[str, Any]) -> str:
    i = r["inputs"]
    lines = [f"{i['count']} x {i['gpu']} serving {i['model']} ({i['precision']} weights, {i['kv_precision']} KV cache), "
             f"{i['input_tokens']} in / {i['output_tokens']} out tokens"]
    if not r["fits"]:
        lines.append(f"does not fit: {r['reason']}")
    else:
        lay = r["layout"]
        op = r["per_instance"]
        lines.append(f"throughput: {r['throughput_tokens_per_s']:,.0f} output tokens/s "
                     f"({lay['instances']} instance(s) of {_layout_text(lay)}"
                     + f"; batch {op['batch']} per instance, limited by {op['limited_by']})")
        lines.append(f"per instance: TPOT {op['tpot_ms']} ms, TTFT p99 {op['ttft_p99_ms']} ms")
        if "latency_bounded" in r:
            lb = r["latency_bounded"]
            lines.append("within latency targets: " + (f"{lb['throughput_tokens_per_s']:,.0f} tokens/s"
                                                       if lb["meets_targets"] else lb["reason"]))
    m = r["memory_per_gpu_gib"]
    lines.append(f"memory per GPU (GiB): weights {m['weights']}, KV cache {m['kv_cache']}, overhead {m['overhead']}, "
                 f"free {m['free']} of {m['capacity']}")
    lines.append("sources: " + "; ".join(f"{c['kind']} {c['id']} ({c['status']}, {c['as_of']})" for c in r["catalog"]))
    return "\n".join(lines)


def _fmt_text_workload(r: dict[str, Any]) -> str:
    lines = [f"workload: {r['model']} at {r['peak_requests_per_s']} requests/s peak" + (" with N+1" if r["ha"] else "")]
    for p in r["plans"]:
        gpu = p["inputs"]["gpu"]
        if not p["feasible"]:
            lines.append(f"  {gpu:14} not feasible: {p['reason']}")
            continue
        lay = p["layout"]
        spec = p["serving"]["speculative_decoding"]
        lines.append(f"  {gpu:14} {p['gpus']:5d} GPUs  {p['servers']:4d} servers  "
                     f"({p['instances']} x {_layout_text(lay)}, {p['inputs']['precision']}"
                     + (f", {spec['method']} x{spec['draft_tokens']}" if spec else "")
                     + f", batch {p['per_instance']['batch']})")
    if r["fewest_gpus"]:
        lines.append(f"fewest GPUs: {r['fewest_gpus']}")
        chosen = next(p for p in r["plans"] if p["inputs"]["gpu"] == r["fewest_gpus"])["serving"]
        lines.append(f"  weights {chosen['precision']['weights']}: {chosen['precision']['quality']}")
        pc = chosen["prefix_caching"]
        lines.append(f"  prefix cache: {pc['cached_input_share']:.0%} of prompt tokens ({pc['basis']})")
        spec = chosen["speculative_decoding"]
        if spec:
            lines.append(f"  speculative decoding: {spec['method']}, {spec['draft_tokens']} drafted tokens, "
                         f"{spec['tokens_per_step']} tokens per step ({spec['published_speedup']})")
    return "\n".join(lines)


@click.command("size", short_help="Size the GPUs a model or a workload needs.")
@click.argument("profile", required=False, type=click.Path(dir_okay=False))
@click.option("--model", "model_id", help="Model id from catalog/models.yaml (e.g. llama-3.1-70b).")
@click.option("--gpu", "gpu_ids", multiple=True, help="GPU id from catalog/gpus.yaml; repeat to compare (profile form).")
@click.option("--count", type=int, help="Number of GPUs (fixed-hardware form).")
@click.option("--precision", default="auto", show_default=True, help="Weight precision: bf16, fp8, fp4, int4 or auto.")
@click.option("--kv-precision", default="auto", show_default=True, help="KV-cache precision: bf16, fp8 or auto.")
@click.option("--input-tokens", type=int, help="Mean input (prompt) tokens per request.")
@click.option("--output-tokens", type=int, help="Mean output tokens per request.")
@click.option("--ttft-ms", type=FiniteFloat(1, 600_000), help="p99 time-to-first-token target in ms, as workload.latency.ttft_ms (optional).")
@click.option("--tpot-ms", type=FiniteFloat(1, 600_000), help="p99 time-per-output-token target in ms, as workload.latency.tpot_ms (optional).")
@click.option("--ha", is_flag=True, help="Add one spare instance (N+1) to the profile form.")
@click.option("--format", "fmt", type=click.Choice(["json", "text"]), default="text", show_default=True,
              help="Text for reading, JSON for scripts.")
@click.option("--catalog", "catalog_dir", type=click.Path(file_okay=False),
              help="Directory whose catalog YAML files override the bundled ones.")
def size(profile: str | None, model_id: str | None, gpu_ids: tuple[str, ...], count: int | None, precision: str,
         kv_precision: str, input_tokens: int | None, output_tokens: int | None, ttft_ms: float | None,
         tpot_ms: float | None, ha: bool, fmt: str, catalog_dir: str | None) -> None:
    """Size GPUs for a model: throughput of N GPUs, or GPUs needed for a profile's workload."""
    guarded(_run)(profile, model_id, gpu_ids, count, precision, kv_precision, input_tokens, output_tokens,
                  ttft_ms, tpot_ms, ha, fmt, catalog_dir)


def _run(profile: str | None, model_id: str | None, gpu_ids: tuple[str, ...], count: int | None, precision: str,
         kv_precision: str, input_tokens: int | None, output_tokens: int | None, ttft_ms: float | None,
         tpot_ms: float | None, ha: bool, fmt: str, catalog_dir: str | None) -> None:
    from advisor.errors import InputError
    from advisor.catalog.costdata import load_catalog
    from advisor.sizing.plan import plan_workload, size_fixed

    catalog = load_catalog(catalog_dir)
    if profile is not None:
        if count is not None:
            raise InputError.single("advisor size", "--count is for the fixed-hardware form, not with a profile",
                                    hint="drop --count to get the GPUs the profile's workload needs")
        workload = read_workload(profile, catalog)
        result = plan_workload(catalog, workload, list(gpu_ids) or None, precision=precision,
                               ha=ha or bool(workload.get("high_availability")))
        click.echo(json.dumps(result, indent=2) if fmt == "json" else _fmt_text_workload(result))
        return

    missing = [name for name, value in (("--model", model_id), ("--gpu", gpu_ids), ("--count", count),
                                        ("--input-tokens", input_tokens), ("--output-tokens", output_tokens))
               if not value]
    if missing:
        raise InputError.single("advisor size", "missing " + ", ".join(missing),
                                hint="give --model, --gpu, --count, --input-tokens and --output-tokens, "
                                     "or a profile file")
    if len(gpu_ids) > 1:
        raise InputError.single("advisor size", "--gpu may be given once with --count")
    assert model_id and count and input_tokens and output_tokens
    result = size_fixed(catalog, model_id, gpu_ids[0], count, precision, input_tokens, output_tokens,
                        kv_precision=kv_precision, ttft_ms=ttft_ms, tpot_ms=tpot_ms)
    click.echo(json.dumps(result, indent=2) if fmt == "json" else _fmt_text_fixed(result))


def read_workload(path: str, catalog: Any) -> dict[str, Any]:
    """The validated ``workload`` section of a profile (the whole profile is
    checked, catalog references included, as ``advisor evaluate`` checks it)."""
    from advisor.profile import load_profile

    return load_profile(path, catalog=catalog).profile.workload.model_dump()
