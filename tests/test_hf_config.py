"""Offline Hugging Face config import: parameter counts against published figures, errors, TOML round trip."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

import mlsysim
from mlsysim.errors import InvalidInputError
from mlsysim.hf_config import catalog_entry, to_toml

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

FIXTURES = Path(__file__).parent / "fixtures" / "hf_configs"
TOLERANCE = 0.005  # the brief: within 0.5 % of the published count

# Published total parameters (sources in tests/fixtures/hf_configs/README.md).
PUBLISHED = {
    "llama3_8b": 8_030_261_248, "llama31_70b": 70_553_706_496, "qwen2_7b": 7.61e9, "gptj_6b": 6_053_381_344,
    "mixtral_8x7b": 46_702_792_704, "deepseek_v3": 671e9, "pythia_1b": 1_011_781_632,
    "bert_base_cased": 108_310_272, "gpt2_large": 774_030_080,
}
KINDS = {"mixtral_8x7b": "MoESpec", "deepseek_v3": "MoESpec"}


@pytest.mark.parametrize("stem", sorted(PUBLISHED))
def test_fixture_parameter_count_matches_published(stem):
    spec = mlsysim.Models.from_hf_config(FIXTURES / f"{stem}.json")
    assert type(spec).__name__ == KINDS.get(stem, "TransformerSpec")
    assert abs(spec.parameter_count / PUBLISHED[stem] - 1) <= TOLERANCE


def test_every_fixture_is_cited_in_the_readme():
    readme = (FIXTURES / "README.md").read_text(encoding="utf-8")
    for path in FIXTURES.glob("*.json"):
        assert f"`{path.name}`" in readme


def test_moe_active_parameters_and_mla():
    mixtral = mlsysim.Models.from_hf_config(FIXTURES / "mixtral_8x7b.json")
    # Mixtral paper (arXiv:2401.04088 sec. 2): 13B active of 47B; 2 of 8 experts per token.
    assert mixtral.experts == 8 and mixtral.experts_per_token == 2
    assert abs(mixtral.active_parameter_count / 12.9e9 - 1) < 0.01
    ds = mlsysim.Models.from_hf_config(FIXTURES / "deepseek_v3.json")
    assert ds.attention == "mla" and ds.mla.kv_lora_rank == 512 and ds.dense_layers == 3 and ds.shared_experts == 1
    # 37B activated (arXiv:2412.19437); the convention counts the input embedding in the active count (2 %).
    assert abs(ds.active_parameter_count / 37e9 - 1) < 0.02
    # MLA caches the latent + rotary key: 61 x (512 + 64) elements per token (DeepSeek-V2 sec. 2.1.2).
    assert ds.kv_elements_per_token == 61 * (512 + 64)
    assert "multi-token-prediction" in ds.provenance.notes


def test_gqa_and_tied_embeddings_are_read():
    llama = mlsysim.Models.from_hf_config(FIXTURES / "llama3_8b.json")
    assert (llama.heads, llama.kv_heads, llama.head_dim) == (32, 8, 128)
    assert llama.kv_elements_per_token == 2 * 32 * 8 * 128
    bert = mlsysim.Models.from_hf_config(FIXTURES / "bert_base_cased.json")
    assert bert.architecture == "encoder" and bert.tied_embeddings and bert.pooler


def test_matches_the_catalog_entry_built_from_the_same_geometry():
    """A config that carries the geometry a shipped entry cites gives the same count, to the parameter."""
    spec = mlsysim.Models.from_hf_config(FIXTURES / "llama3_8b.json")
    assert spec.parameter_count == mlsysim.Models.Llama3_8B.parameter_count
    mix = mlsysim.Models.from_hf_config(FIXTURES / "mixtral_8x7b.json")
    assert mix.parameter_count == mlsysim.Models.Mixtral_8x7B.parameter_count


# config.json values the shipped catalog entries cite in their provenance (see catalog/models/*.toml).
DICT_CASES = {
    "qwen3_8b": ({"model_type": "qwen3", "hidden_size": 4096, "intermediate_size": 12288, "num_hidden_layers": 36,
                  "num_attention_heads": 32, "num_key_value_heads": 8, "head_dim": 128, "vocab_size": 151936,
                  "tie_word_embeddings": False, "max_position_embeddings": 40960, "hidden_act": "silu"}, 8.2e9),
    "qwen3_30b_a3b": ({"model_type": "qwen3_moe", "hidden_size": 2048, "intermediate_size": 6144,
                       "moe_intermediate_size": 768, "num_hidden_layers": 48, "num_attention_heads": 32,
                       "num_key_value_heads": 4, "head_dim": 128, "num_experts": 128, "num_experts_per_tok": 8,
                       "vocab_size": 151936, "tie_word_embeddings": False, "max_position_embeddings": 40960,
                       "decoder_sparse_step": 1, "mlp_only_layers": []}, 30.5e9),
    "gpt_oss_20b": ({"model_type": "gpt_oss", "hidden_size": 2880, "intermediate_size": 2880,
                     "num_hidden_layers": 24, "num_attention_heads": 64, "num_key_value_heads": 8, "head_dim": 64,
                     "num_local_experts": 32, "experts_per_token": 4, "attention_bias": True, "vocab_size": 201088,
                     "max_position_embeddings": 131072, "sliding_window": 128,
                     "layer_types": ["sliding_attention", "full_attention"] * 12}, 20.91e9),
    "gpt2_xl": ({"model_type": "gpt2", "n_layer": 48, "n_embd": 1600, "n_head": 25, "n_positions": 1024,
                 "n_inner": None, "vocab_size": 50257, "activation_function": "gelu_new", "resid_pdrop": 0.1},
                1_557_611_200),
    # Mistral-7B-v0.1: 7,241,732,096 = Llama-3-8B's count less (128256 - 32000) x 4096 x 2 vocabulary rows.
    "mistral_7b": ({"model_type": "mistral", "hidden_size": 4096, "intermediate_size": 14336,
                    "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8,
                    "vocab_size": 32000, "max_position_embeddings": 32768, "sliding_window": 4096,
                    "tie_word_embeddings": False}, 7_241_732_096),
}


@pytest.mark.parametrize("key", sorted(DICT_CASES))
def test_dict_configs_match_published(key):
    config, published = DICT_CASES[key]
    spec = mlsysim.Models.from_hf_config(config, name=key)
    assert abs(spec.parameter_count / published - 1) <= TOLERANCE


def test_sliding_window_becomes_the_spec_field():
    spec = mlsysim.Models.from_hf_config(DICT_CASES["gpt_oss_20b"][0], name="oss")
    assert (spec.sliding_window.size, spec.sliding_window.layers) == (128, 12)  # layer_types: half the layers
    mistral = mlsysim.Models.from_hf_config(DICT_CASES["mistral_7b"][0], name="m7")
    assert (mistral.sliding_window.size, mistral.sliding_window.layers) == (4096, 32)  # every layer (v0.1)


def test_sliding_window_follows_use_sliding_window_and_max_window_layers():
    base = dict(DICT_CASES["mistral_7b"][0], model_type="qwen2", sliding_window=4096)
    assert mlsysim.Models.from_hf_config(dict(base, use_sliding_window=False), name="q").sliding_window is None
    spec = mlsysim.Models.from_hf_config(dict(base, use_sliding_window=True, max_window_layers=28), name="q")
    assert spec.sliding_window.layers == 32 - 28  # Qwen2Config: layers i >= max_window_layers use the window
    full = mlsysim.Models.from_hf_config(dict(base, use_sliding_window=True, max_window_layers=32), name="q")
    assert full.sliding_window is None and "no layer uses it" in full.provenance.notes
    with pytest.raises(InvalidInputError, match="sliding_window -1"):
        mlsysim.Models.from_hf_config(dict(base, sliding_window=-1), name="q")


def test_a_window_shortens_long_context_decode_and_keeps_parameters():
    windowed = mlsysim.Models.from_hf_config(DICT_CASES["gpt_oss_20b"][0], name="oss")
    full = mlsysim.Models.from_hf_config(dict(DICT_CASES["gpt_oss_20b"][0], sliding_window=None), name="oss_full")
    assert windowed.parameter_count == full.parameter_count
    assert windowed.get_kv_cache_size(65536, 1, "fp16").m_as("B") < full.get_kv_cache_size(65536, 1, "fp16").m_as("B")


def test_unknown_architecture_names_what_is_missing():
    with pytest.raises(InvalidInputError, match="model_type 'rwkv'.*supported model_type values") as info:
        mlsysim.Models.from_hf_config({"model_type": "rwkv", "hidden_size": 2048})
    assert "lacks num_hidden_layers, num_attention_heads, intermediate_size" in str(info.value)
    with pytest.raises(InvalidInputError) as info:
        mlsysim.Models.from_hf_config({"model_type": "llama", "hidden_size": 4096})
    for field in ("num_attention_heads", "num_hidden_layers", "intermediate_size", "vocab_size",
                  "max_position_embeddings"):
        assert field in str(info.value)
    with pytest.raises(InvalidInputError, match="does not download"):
        mlsysim.Models.from_hf_config("/nonexistent/dir/config.json")


def test_toml_round_trip_loads_as_a_catalog_entry(tmp_path):
    from mlsysim.catalog.loader import build_spec, load_catalog

    entry = catalog_entry(FIXTURES / "mixtral_8x7b.json", name="HF_Mixtral_Test")
    text = to_toml(entry)
    parsed = tomllib.loads(text)
    assert parsed["schema_version"] == 1 and parsed["models"][0] == entry
    assert set(parsed["models"][0]["provenance"]) == {"source", "checked", "kind", "notes"}
    spec = build_spec("models", parsed["models"][0])
    assert spec.parameter_count == mlsysim.Models.Mixtral_8x7B.parameter_count
    # The same text dropped into a user catalog directory loads with the whole catalog.
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "imported.toml").write_text(text, encoding="utf-8")
    names = [e.name for e in load_catalog([tmp_path], use_cache=False).entries]
    assert "HF_Mixtral_Test" in names


def test_imported_spec_solves():
    spec = mlsysim.Models.from_hf_config(FIXTURES / "llama3_8b.json")
    small = mlsysim.Engine.solve(spec, "H100", batch_size=1, precision="fp16")
    big = mlsysim.Engine.solve(spec, "H100", batch_size=64, precision="fp16")
    assert small.feasible
    # Roofline: a bigger decode batch streams the same weights for more tokens, so throughput rises.
    assert big.throughput.m_as("1/s") > small.throughput.m_as("1/s")


def test_a_config_json_is_named_for_its_directory(tmp_path, monkeypatch):
    folder = tmp_path / "Meta-Llama-3-8B"
    folder.mkdir()
    (folder / "config.json").write_text((FIXTURES / "llama3_8b.json").read_text(), encoding="utf-8")
    monkeypatch.chdir(folder)
    spec = mlsysim.Models.from_hf_config("config.json")
    assert spec.name == "Meta_Llama_3_8B" and spec.display_name == "Meta-Llama-3-8B"
    assert mlsysim.Models.from_hf_config(folder).name == "Meta_Llama_3_8B"  # a directory reads its config.json
