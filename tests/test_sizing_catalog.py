"""The sizing/cost catalog: complete, sourced, strict, and loud about mistakes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from advisor.errors import InputError
from advisor.catalog.costdata import FILES, Catalog, Provenance, load_catalog

REPO = Path(__file__).resolve().parents[1]
CATALOG = REPO / "catalog"

MODEL_IDS = ["llama-2-70b", "llama-3.1-8b", "llama-3.1-70b", "llama-3.1-405b", "mixtral-8x7b", "mixtral-8x22b",
             "qwen2.5-72b", "qwen3-235b-a22b", "deepseek-v3", "deepseek-r1", "gpt-oss-120b", "gpt-oss-20b",
             "mistral-large-2"]
GPU_IDS = ["h100-sxm", "h100-pcie", "h100-nvl", "h200-sxm", "h200-nvl", "b200", "b300", "gb200", "gh200", "l40s",
           "l4", "a100-sxm", "rtx-pro-6000", "mi300x", "mi325x", "mi355x"]


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    c = Catalog(default_directory=CATALOG)
    c.validate_all()
    return c


def copy_catalog(tmp_path: Path) -> Path:
    d = tmp_path / "cat"
    d.mkdir()
    for name, _ in FILES.values():
        shutil.copy(CATALOG / name, d / name)
    return d


def test_contract_ids_present(catalog: Catalog) -> None:
    assert set(MODEL_IDS) <= set(catalog.models)
    assert set(GPU_IDS) <= set(catalog.gpus)


def _walk(obj: object) -> list[Provenance]:
    found = []
    if isinstance(obj, Provenance):
        found.append(obj)
    if hasattr(type(obj), "model_fields"):
        for name in type(obj).model_fields:
            found += _walk(getattr(obj, name))
    elif isinstance(obj, dict):
        for v in obj.values():
            found += _walk(v)
    return found


def test_every_entry_is_sourced_and_dated(catalog: Catalog) -> None:
    entries = []
    for section in FILES:
        entries += _walk(catalog._section(section))
    assert len(entries) > 150
    for e in entries:
        assert e.source and e.as_of and e.status in ("verified", "secondary", "assumption", "calibrated")


def test_moe_parameters_match_published_totals(catalog: Catalog) -> None:
    """Expert parameters derived from the moe block reproduce total and active counts (within 1%)."""
    for mid, m in catalog.models.items():
        if m.moe is None:
            continue
        active = m.dense_params_b + m.expert_params_b * m.moe.top_k / m.moe.experts
        assert active == pytest.approx(m.active_params_b, rel=0.01), mid


def test_fx_cross_rate(catalog: Catalog) -> None:
    assert catalog.fx_rate("EUR", "USD") == pytest.approx(1.1684)  # ECB, 2026-04-13
    assert catalog.fx_rate("USD", "SAR") == pytest.approx(3.75)  # the SAMA peg
    for code in ("CAD", "JPY", "KRW", "AUD", "SGD", "HKD", "INR", "CNY", "BRL", "SAR", "AED"):
        assert catalog.fx.rates_per_eur[code].as_of.startswith("2026"), code
    assert catalog.fx_rate("USD", "EUR") * catalog.fx_rate("EUR", "USD") == pytest.approx(1.0)
    with pytest.raises(InputError, match="unknown currency 'USS'"):
        catalog.fx_rate("USS", "EUR")


def test_unknown_ids_have_hints(catalog: Catalog) -> None:
    with pytest.raises(InputError) as err:
        catalog.gpu("h100-sx")
    assert "did you mean 'h100-sxm'" in str(err.value)
    with pytest.raises(InputError, match="unknown model 'llama-3-70b'"):
        catalog.model("llama-3-70b")


def test_missing_server_price_is_an_error_not_zero(catalog: Catalog) -> None:
    with pytest.raises(InputError, match="no server with a price for GPU 'l40s'"):
        catalog.default_server("l40s")
    sid, server = catalog.default_server("h100-sxm")
    assert server.price.value > 0 and server.price.currency == "USD"


def test_missing_cache_price_is_absent_not_zero(catalog: Catalog) -> None:
    assert catalog.api_offer("mistral-large-2411").cached_input is None
    assert catalog.api_offer("gpt-4o").output == 10


def test_user_override_directory(tmp_path: Path) -> None:
    d = tmp_path / "mine"
    d.mkdir()
    (d / "fx.yaml").write_text(
        "base: EUR\nrates_per_eur:\n  EUR: {value: 1, source: def, as_of: '2026', status: verified}\n"
        "  USD: {value: 1.2, source: my bank quote, as_of: '2026-01-02', status: assumption}\n")
    c = load_catalog(d)
    assert c.fx_rate("EUR", "USD") == 1.2
    assert "llama-2-70b" in Catalog(directory=d, default_directory=CATALOG).models


def broken(tmp_path: Path, name: str, old: str, new: str) -> tuple[Catalog, str]:
    """A catalog copy with one edit in one file (the edit must apply)."""
    d = copy_catalog(tmp_path)
    text = (d / name).read_text()
    assert old in text
    text = text.replace(old, new, 1)
    (d / name).write_text(text)
    return Catalog(default_directory=d), text


def test_unknown_key_points_at_line_with_hint(tmp_path: Path) -> None:
    cat, text = broken(tmp_path, "gpus.yaml", "    mem_bw_tbs: 3.35\n", "    mem_bw_tb: 3.35\n")
    with pytest.raises(InputError) as err:
        cat.gpus
    messages = [str(p) for p in err.value.problems]
    line = text.splitlines().index("    mem_bw_tb: 3.35") + 1
    assert any(f"gpus.yaml:{line}:5: unknown key 'mem_bw_tb'" in m and "did you mean 'mem_bw_tbs'" in m
               for m in messages), messages


def test_bad_status_and_date_are_reported(tmp_path: Path) -> None:
    d = copy_catalog(tmp_path)
    text = (d / "models.yaml").read_text().replace("status: verified", "status: verifed", 1)
    text = text.replace('as_of: "2026-08-21"', 'as_of: "21/08/2026"', 1)
    (d / "models.yaml").write_text(text)
    with pytest.raises(InputError) as err:
        Catalog(default_directory=d).models
    text_err = str(err.value)
    assert "'verifed' is not allowed here" in text_err and "did you mean 'verified'" in text_err
    assert "is not a date" in text_err
    assert "models.yaml:" in text_err


@pytest.mark.parametrize("name, old, new, section, message", [
    ("servers.yaml", "gpu: h100-sxm", "gpu: h100-smx", "servers", "unknown GPU 'h100-smx'.*did you mean 'h100-sxm'"),
    ("sizing.yaml", "  mbu:", "  mbu_x:", "sizing", "missing sizing parameter.*mbu"),
    ("models.yaml", "    mla: {kv_lora_rank: 512, qk_rope_head_dim: 64}\n", "", "models",
     "attention: mla needs an `mla` block"),
    ("cloud_gpu_offers.yaml", "    on_demand: 98.32\n", "", "cloud_offers", "needs at least one price"),
    ("electricity.yaml", "price_per_kwh: 0.2359", "price_per_kwh: 0", "electricity", "greater than 0"),
])
def test_catalog_mistakes_are_input_errors(tmp_path: Path, name: str, old: str, new: str, section: str,
                                           message: str) -> None:
    cat, _ = broken(tmp_path, name, old, new)
    with pytest.raises(InputError, match=message):
        getattr(cat, section)
