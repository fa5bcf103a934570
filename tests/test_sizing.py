"""Sizing model: memory arithmetic, physics sanity, CLI contract, input errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from advisor.cli.size import size
from advisor.errors import InputError
from advisor.catalog.costdata import Catalog
from advisor.sizing.memory import GIB, kv_bytes_per_sequence, kv_bytes_per_token, memory_plan
from advisor.sizing.plan import plan_capacity, plan_workload, size_fixed
from advisor.sizing.throughput import Params, make_instance

REPO = Path(__file__).resolve().parents[1]
CATALOG = REPO / "catalog"


#: A minimal valid profile without its workload section (the tests add one).
PROFILE_HEAD = ("schema_version: 1\norganisation: {name: T, hq_country: FR, sectors: [other]}\n"
                "data: {categories: [non_personal], subject_jurisdictions: [FR], "
                "classification_level: internal}\nai: {use_cases: [internal_productivity]}\n")


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog(default_directory=CATALOG)


# ----------------------------------------------------------------- memory ----

@pytest.mark.parametrize("model_id, expected", [
    ("llama-3.1-8b", 131072),      # 32 layers x 2 x 8 KV heads x 128 x 2 B: GQA, not 32 heads
    ("llama-3.1-70b", 327680),
    ("llama-3.1-405b", 516096),
    ("llama-2-70b", 327680),
    ("deepseek-v3", 70272),        # MLA latent: 61 x (512 + 64) x 2 B, ~71x below per-head K/V
    ("qwen3-235b-a22b", 192512),
])
def test_kv_bytes_per_token_bf16(catalog: Catalog, model_id: str, expected: int) -> None:
    assert kv_bytes_per_token(catalog.model(model_id), "bf16") == expected


def test_sliding_window_layers_cap_kv(catalog: Catalog) -> None:
    m = catalog.model("gpt-oss-120b")
    per_layer = 2 * 8 * 64 * 2
    assert kv_bytes_per_sequence(m, 100, "bf16") == per_layer * 36 * 100
    # 18 full layers grow with context, 18 sliding layers stop at 128 tokens
    assert kv_bytes_per_sequence(m, 10000, "bf16") == per_layer * (18 * 10000 + 18 * 128)


def test_kv_heads_replicate_beyond_tp(catalog: Catalog) -> None:
    m = catalog.model("qwen3-235b-a22b")  # 4 KV heads
    assert kv_bytes_per_sequence(m, 1000, "bf16", tp=8) == 2 * kv_bytes_per_sequence(m, 1000, "bf16", tp=4)


def test_weights_by_precision(catalog: Catalog) -> None:
    gpu, m = catalog.gpu("h100-sxm"), catalog.model("llama-3.1-70b")
    bf16 = memory_plan(m, gpu, "bf16", 4, 1, catalog).weights
    fp8 = memory_plan(m, gpu, "fp8", 4, 1, catalog).weights
    fp4 = memory_plan(m, gpu, "fp4", 4, 1, catalog).weights
    assert bf16 == pytest.approx(70.55e9 * 2 / 4)
    assert fp8 == pytest.approx(bf16 / 2)
    assert fp4 == pytest.approx(70.55e9 * 0.5625 / 4)   # NVFP4 block scales


def test_worked_example_kv_budget(catalog: Catalog) -> None:
    """sizing-and-tco.md 3.3: Llama-3.1-70B FP8 on H100 TP2 leaves ~30-34 GiB of KV per GPU."""
    plan = memory_plan(catalog.model("llama-3.1-70b"), catalog.gpu("h100-sxm"), "fp8", 2, 1, catalog)
    assert 28 * GIB < plan.kv_budget < 36 * GIB


# ---------------------------------------------------------------- physics ----

def test_moe_reads_more_experts_as_batch_grows(catalog: Catalog) -> None:
    params = Params.from_catalog(catalog)
    inst = make_instance(catalog.model("deepseek-r1"), catalog.gpu("h200-sxm"), "fp8", "fp8", 8, 1, catalog, params)
    assert inst.expert_fraction(1) == pytest.approx(8 / 256)
    assert inst.expert_fraction(128) > 0.98
    curve = inst.curve(1000, 1)
    assert curve.step(64) > 3 * curve.step(1)


def test_tp_buys_latency_not_throughput_per_gpu(catalog: Catalog) -> None:
    params = Params.from_catalog(catalog)
    m, g = catalog.model("llama-3.1-70b"), catalog.gpu("h100-sxm")
    tp2 = make_instance(m, g, "fp8", "fp8", 2, 1, catalog, params)
    tp4 = make_instance(m, g, "fp8", "fp8", 4, 1, catalog, params)
    assert tp4.tpot(8, 4096, 512) < tp2.tpot(8, 4096, 512)


def test_throughput_scales_with_gpus_and_bandwidth(catalog: Catalog) -> None:
    one = size_fixed(catalog, "llama-2-70b", "h200-sxm", 1, "fp8", 300, 285)["throughput_tokens_per_s"]
    eight = size_fixed(catalog, "llama-2-70b", "h200-sxm", 8, "fp8", 300, 285)["throughput_tokens_per_s"]
    assert eight == pytest.approx(8 * one, rel=0.02)
    h100 = size_fixed(catalog, "llama-2-70b", "h100-sxm", 8, "fp8", 300, 285)["throughput_tokens_per_s"]
    assert h100 < eight


def test_does_not_fit_is_reported(catalog: Catalog) -> None:
    r = size_fixed(catalog, "llama-3.1-405b", "l4", 1, "bf16", 1000, 200)
    assert r["fits"] is False and r["throughput_tokens_per_s"] == 0.0 and "cannot hold" in r["reason"]


def test_latency_targets_reduce_throughput(catalog: Catalog) -> None:
    r = size_fixed(catalog, "llama-2-70b", "h200-sxm", 8, "fp8", 300, 285, ttft_ms=450, tpot_ms=40)
    assert 0 < r["latency_bounded"]["throughput_tokens_per_s"] < r["throughput_tokens_per_s"]
    assert r["latency_bounded"]["per_instance"]["tpot_ms"] * 1.0 <= 40


def test_plan_capacity_ha_adds_one_instance(catalog: Catalog) -> None:
    kw = dict(peak_requests_per_s=20.0, input_tokens=1500, output_tokens=400, ttft_ms=1000, tpot_ms=50)
    base = plan_capacity(catalog, "llama-3.1-70b", "h100-sxm", **kw)
    ha = plan_capacity(catalog, "llama-3.1-70b", "h100-sxm", ha=True, **kw)
    assert base["feasible"] and ha["instances"] == base["instances"] + 1
    assert ha["gpus"] == base["gpus"] + base["layout"]["gpus_per_instance"]
    assert base["servers"] == -(-base["gpus"] // 8) or base["layout"]["gpus_per_instance"] > 8


def test_plan_capacity_grows_with_load(catalog: Catalog) -> None:
    kw = dict(input_tokens=1000, output_tokens=300, ttft_ms=2000, tpot_ms=80)
    small = plan_capacity(catalog, "llama-3.1-8b", "l40s", peak_requests_per_s=1, **kw)["gpus"]
    big = plan_capacity(catalog, "llama-3.1-8b", "l40s", peak_requests_per_s=200, **kw)["gpus"]
    assert big > 10 * small


def test_plan_workload_profile_shape(catalog: Catalog) -> None:
    workload = {"model": "llama-3.1-70b", "requests_per_day": 20000, "input_tokens": 1500, "output_tokens": 400,
                "peak_factor": 3, "latency": {"ttft_ms": 1000, "tpot_ms": 50}}
    r = plan_workload(catalog, workload, ["h100-sxm", "l4"])
    assert r["peak_requests_per_s"] == pytest.approx(20000 / 86400 * 3, rel=1e-3)
    h100, l4 = r["plans"]
    assert h100["feasible"] and l4["feasible"] and l4["gpus"] >= 8 * h100["gpus"]
    assert r["fewest_gpus"] == "h100-sxm"
    impossible = plan_workload(catalog, workload | {"latency": {"ttft_ms": 1, "tpot_ms": 50}}, ["l4"])
    assert not impossible["plans"][0]["feasible"] and impossible["fewest_gpus"] is None


# --------------------------------------------------------------- errors ----

@pytest.mark.parametrize("kwargs, message", [
    (dict(model_id="llama-3-70b"), "unknown model 'llama-3-70b'"),
    (dict(gpu_id="h100"), "unknown GPU 'h100'"),
    (dict(precision="fp16"), "unknown precision 'fp16'"),
    (dict(count=0), "--count must be at least 1"),
    (dict(input_tokens=200000), "exceed the context"),
])
def test_bad_inputs(catalog: Catalog, kwargs: dict, message: str) -> None:
    args = dict(model_id="llama-3.1-70b", gpu_id="h100-sxm", count=8, precision="fp8", input_tokens=1000,
                output_tokens=200)
    args.update(kwargs)
    with pytest.raises(InputError, match=message):
        size_fixed(catalog, **args)


def test_hint_for_typo(catalog: Catalog) -> None:
    with pytest.raises(InputError) as err:
        size_fixed(catalog, "llama-3.1-70b", "h100-smx", 8, "fp8", 1000, 200)
    assert "did you mean 'h100-sxm'" in str(err.value)


# ------------------------------------------------------------------- CLI ----

def run(*args: str) -> tuple[int, str, BaseException | None]:
    result = CliRunner().invoke(size, [*args, "--catalog", str(CATALOG)])
    return result.exit_code, result.output, result.exception


def test_cli_json_contract() -> None:
    code, out, exc = run("--model", "llama-3.1-70b", "--gpu", "h100-sxm", "--count", "8", "--precision", "fp8",
                         "--input-tokens", "1000", "--output-tokens", "200", "--format", "json")
    assert code == 0, exc
    data = json.loads(out)
    assert data["fits"] is True and data["throughput_tokens_per_s"] > 1000
    mem = data["memory_per_gpu_gib"]
    assert {"weights", "kv_cache", "overhead", "free"} <= set(mem)
    assert mem["weights"] + mem["kv_cache"] + mem["overhead"] + mem["free"] == pytest.approx(mem["capacity"], abs=0.05)
    assert data["inputs"]["count"] == 8 and data["inputs"]["precision"] == "fp8"
    kinds = {(c["kind"], c["id"]) for c in data["catalog"]}
    assert ("model", "llama-3.1-70b") in kinds and ("gpu", "h100-sxm") in kinds
    assert all({"source", "as_of", "status"} <= set(c) for c in data["catalog"])


def test_cli_text() -> None:
    code, out, _ = run("--model", "gpt-oss-20b", "--gpu", "l4", "--count", "1", "--precision", "fp4", "--input-tokens", "500",
                       "--output-tokens", "200")
    assert code == 0 and "output tokens/s" in out and "memory per GPU" in out


def test_cli_profile(tmp_path: Path) -> None:
    p = tmp_path / "profile.yaml"
    p.write_text(PROFILE_HEAD + "workload:\n  model: llama-3.1-8b\n  requests_per_day: 100000\n"
                 "  input_tokens: 800\n  output_tokens: 300\n  peak_factor: 2\n"
                 "  latency: {ttft_ms: 1000, tpot_ms: 50}\n")
    code, out, exc = run(str(p), "--gpu", "l40s", "--gpu", "h100-sxm", "--format", "json")
    assert code == 0, exc
    data = json.loads(out)
    assert [pl["inputs"]["gpu"] for pl in data["plans"]] == ["l40s", "h100-sxm"]
    assert all(pl["gpus"] >= 1 and pl["servers"] >= 1 for pl in data["plans"])


def test_cli_profile_errors_point_into_the_file(tmp_path: Path) -> None:
    p = tmp_path / "profile.yaml"
    p.write_text(PROFILE_HEAD + "workload:\n  model: llama-3.1-8\n  requests_per_day: -5\n"
                 "  input_tokens: 800\n  output_tokens: 300\n  latency: {ttft: 1000}\n")
    code, text, _ = run(str(p))
    assert code == 2
    n = PROFILE_HEAD.count("\n")  # the workload section starts after the head
    assert f"{p}:{n + 3}:21: workload.requests_per_day: input should be greater than or equal to 1" in text
    assert "unknown key 'ttft'" in text and "did you mean 'ttft_ms'" in text
    p.write_text(PROFILE_HEAD + "workload:\n  model: llama-3.1-8\n  requests_per_day: 5\n"
                 "  input_tokens: 800\n  output_tokens: 300\n")
    code, text, _ = run(str(p))
    assert code == 2
    assert f"{p}:{n + 2}:10: workload.model: unknown model 'llama-3.1-8'" in text and "did you mean 'llama-3.1-8b'" in text


def test_cli_missing_options() -> None:
    code, out, _ = run("--model", "llama-3.1-8b")
    assert code == 2 and "missing --gpu, --count, --input-tokens, --output-tokens" in out


def test_cli_count_with_profile_is_rejected(tmp_path: Path) -> None:
    p = tmp_path / "p.yaml"
    p.write_text(PROFILE_HEAD + "workload: {model: llama-3.1-8b, requests_per_day: 10, input_tokens: 10, "
                 "output_tokens: 10}\n")
    code, out, _ = run(str(p), "--count", "8")
    assert code == 2 and "--count is for the fixed-hardware form" in out


def test_cli_unknown_gpu_is_one_line_exit_2() -> None:
    code, out, _ = run("--model", "llama-3.1-70b", "--gpu", "h100-smx", "--count", "8", "--input-tokens", "10",
                       "--output-tokens", "10")
    assert code == 2 and "unknown GPU 'h100-smx'" in out and "did you mean 'h100-sxm'" in out
    assert "Traceback" not in out


def test_size_module_import_is_light() -> None:
    import subprocess
    import sys
    code = ("import sys, advisor.cli.size; "
            "print(any(m in sys.modules for m in ('numpy', 'matplotlib', 'pydantic')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO,
                         env={"PYTHONPATH": str(REPO), "PATH": ""})
    assert out.stdout.strip() == "False", out.stderr


# ----------------------------------------------------------- search/memo ----

@pytest.mark.parametrize("model_id, gpu_id, tp, pp", [
    ("llama-3.1-70b", "h100-sxm", 4, 1), ("llama-3.1-70b", "l40s", 8, 2), ("llama-3.1-8b", "l4", 1, 1),
    ("deepseek-r1", "h200-sxm", 8, 1), ("gpt-oss-120b", "b200", 1, 1), ("mixtral-8x7b", "mi300x", 2, 1)])
@pytest.mark.parametrize("ttft_ms, tpot_ms", [(None, None), (None, 30), (500, None), (2000, 60), (300, 20)])
def test_operating_point_search_matches_a_full_scan(catalog: Catalog, model_id: str, gpu_id: str, tp: int, pp: int,
                                                    ttft_ms: float | None, tpot_ms: float | None) -> None:
    """The closed form / bisection finds exactly the largest batch a scan of every batch finds."""
    from advisor.sizing.throughput import best_operating_point
    params = Params.from_catalog(catalog)
    inst = make_instance(catalog.model(model_id), catalog.gpu(gpu_id), "fp8", "fp8", tp, pp, catalog, params)
    isl, osl = 1200, 300
    op = best_operating_point(inst, isl, osl, ttft_s=ttft_ms and ttft_ms / 1e3, tpot_s=tpot_ms and tpot_ms / 1e3)
    curve = inst.curve(isl, osl)
    ok = [b for b in range(1, inst.max_batch_memory(isl, osl) + 1)
          if (tpot_ms is None or curve.tpot(b) * params.tpot_p99_factor <= tpot_ms / 1e3)
          and (ttft_ms is None or curve.ttft_p99(b) <= ttft_ms / 1e3)]
    best = max(ok, key=curve.throughput) if ok else None
    assert (op.batch if op else None) == (max(ok) if ok else None) == best


def test_memo_is_bounded_and_invisible(catalog: Catalog) -> None:
    from advisor.sizing import cache
    kw = dict(peak_requests_per_s=5.0, input_tokens=900, output_tokens=250, ttft_ms=1500, tpot_ms=60)
    cache.clear(catalog)
    cold = plan_capacity(catalog, "llama-3.1-70b", "h200-sxm", **kw)
    warm = plan_capacity(catalog, "llama-3.1-70b", "h200-sxm", **kw)
    assert cold == warm and cold is not warm
    for i in range(cache.LIMIT + 10):
        cache.memo(catalog)[("filler", i)] = i
    cache.memo(catalog)  # past the limit: dropped wholesale
    assert len(cache.memo(catalog)) <= cache.LIMIT
    assert plan_capacity(catalog, "llama-3.1-70b", "h200-sxm", **kw) == cold


# -------------------------------------------------------- serving choices ----

def _plan(catalog: Catalog, model: str, gpu: str, **kw: object) -> dict:
    args: dict = dict(peak_requests_per_s=20.0, input_tokens=1000, output_tokens=300, ttft_ms=3000, tpot_ms=80)
    args.update(kw)
    return plan_capacity(catalog, model, gpu, **args)


def test_one_stream_llama70b_fp8_on_h200_is_about_20ms(catalog: Catalog) -> None:
    """Published: 51 tok/s for one stream of Llama-3.3-70B FP8 on an H200 (19.6 ms); the single
    bandwidth factor of the old model gave 37 ms."""
    params = Params.from_catalog(catalog)
    inst = make_instance(catalog.model("llama-3.1-70b"), catalog.gpu("h200-sxm"), "fp8", "fp8", 1, 1, catalog,
                         params, efficiency=catalog.stacks["nvidia-hopper"].value)
    assert 17e-3 < inst.curve(128, 512).step(1) < 26e-3


def test_fp4_where_the_gpu_has_fp4_cores_with_a_quality_note(catalog: Catalog) -> None:
    b200 = _plan(catalog, "llama-3.1-70b", "b200", peak_requests_per_s=200.0)
    chosen = b200["serving"]["precision"]
    assert b200["inputs"]["precision"] == chosen["weights"] == "fp4" and "MLPerf" in chosen["quality"]
    by = {(c["precision"], c["speculative_decoding"]): c["gpus"] for c in b200["serving"]["considered"]}
    assert by[("fp4", None)] < by[("fp8", None)]  # the GPUs FP4 saves are shown
    h100 = _plan(catalog, "llama-3.1-70b", "h100-sxm")
    assert {c["precision"] for c in h100["serving"]["considered"]} == {"fp8"}  # no FP4 cores, no INT4 with FP8
    a100 = _plan(catalog, "llama-3.1-70b", "a100-sxm")
    assert {c["precision"] for c in a100["serving"]["considered"]} == {"bf16", "int4"}
    gpt_oss = _plan(catalog, "gpt-oss-120b", "h100-sxm")["serving"]["precision"]
    assert gpt_oss["weights"] == "fp4" and gpt_oss["weight_only"] and "no quality cost" in gpt_oss["quality"]
    forced = _plan(catalog, "llama-3.1-70b", "b200", precision="fp8")
    assert {c["precision"] for c in forced["serving"]["considered"]} == {"fp8"}


def test_large_moe_under_a_latency_target_uses_expert_parallelism(catalog: Catalog) -> None:
    """DeepSeek serves R1 with EP over many GPUs (~1,850 output tok/s per H800 at 20 tok/s per user);
    TP8 alone is 10-28x more pessimistic under latency targets (issue 8)."""
    kw = dict(peak_requests_per_s=50.0, input_tokens=2000, output_tokens=1000, ttft_ms=5000, tpot_ms=80,
              speculative="off")
    plan = _plan(catalog, "deepseek-r1", "h200-sxm", **kw)
    par = plan["serving"]["parallelism"]
    assert par["expert_parallel"] > 8 and par["attention_data_parallel"] == par["expert_parallel"]
    per_gpu = plan["per_instance"]["throughput_tokens_per_s"] / par["gpus_per_instance"]
    params = Params.from_catalog(catalog)
    tp8 = make_instance(catalog.model("deepseek-r1"), catalog.gpu("h200-sxm"), "fp8", "fp8", 8, 1, catalog, params,
                        efficiency=catalog.stacks["nvidia-hopper"].value)
    from advisor.sizing.throughput import best_operating_point
    op = best_operating_point(tp8, 2000, 1000, ttft_s=5, tpot_s=0.08)
    assert op is not None and per_gpu > 3 * op.throughput / 8
    assert 800 < per_gpu < 4000


def test_prefix_cache_share_comes_from_the_profile_or_is_a_labelled_assumption(catalog: Catalog) -> None:
    kw = dict(peak_requests_per_s=40.0, input_tokens=8000, output_tokens=200)
    none = _plan(catalog, "llama-3.1-70b", "h100-sxm", **kw)
    cached = _plan(catalog, "llama-3.1-70b", "h100-sxm", cached_input_share=0.8, **kw)
    assert "status assumption" in none["serving"]["prefix_caching"]["basis"]
    assert cached["serving"]["prefix_caching"] == {"cached_input_share": 0.8,
                                                   "basis": "profile workload.cached_input_share"}
    assert cached["per_instance"]["prefill_ms"] < 0.5 * none["per_instance"]["prefill_ms"]
    assert cached["gpus"] < none["gpus"]


def test_speculative_decoding_is_chosen_only_where_a_tpot_target_binds(catalog: Catalog) -> None:
    free = _plan(catalog, "llama-3.1-70b", "h100-sxm", tpot_ms=None, ttft_ms=None)
    assert free["serving"]["speculative_decoding"] is None
    tight = _plan(catalog, "llama-3.1-70b", "h100-sxm", tpot_ms=15, peak_requests_per_s=5.0)
    spec = tight["serving"]["speculative_decoding"]
    assert spec is not None and spec["method"] == "eagle3" and spec["tokens_per_step"] > 1.5
    assert spec["published_speedup"] and spec["source"]
    off = _plan(catalog, "llama-3.1-70b", "h100-sxm", tpot_ms=15, peak_requests_per_s=5.0, speculative="off")
    assert not off["feasible"] or (off["serving"]["speculative_decoding"] is None and off["gpus"] >= tight["gpus"])
    # no published draft head for Mixtral: never chosen
    assert _plan(catalog, "mixtral-8x7b", "h100-sxm", tpot_ms=15)["serving"]["speculative_decoding"] is None


def test_the_software_stack_is_named_and_differs_by_vendor(catalog: Catalog) -> None:
    amd = _plan(catalog, "llama-3.1-70b", "mi300x")["serving"]["software_stack"]
    nv = _plan(catalog, "llama-3.1-70b", "h200-sxm")["serving"]["software_stack"]
    assert amd["id"] == "amd-cdna3" and nv["id"] == "nvidia-hopper"
    assert amd["efficiency"] < nv["efficiency"] and amd["status"] == "calibrated"


def test_stacks_name_known_gpus_once(tmp_path: Path) -> None:
    text = (CATALOG / "sizing.yaml").read_text()
    (tmp_path / "sizing.yaml").write_text(text.replace("gpus: [mi300x, mi325x]", "gpus: [mi300x, mi325x, h100-sxm, mi3000]"))
    with pytest.raises(InputError) as err:
        Catalog(directory=tmp_path, default_directory=CATALOG).validate_all()
    messages = " ".join(p.message for p in err.value.problems)
    assert "unknown GPU 'mi3000'" in messages and "already in stack 'nvidia-hopper'" in messages
