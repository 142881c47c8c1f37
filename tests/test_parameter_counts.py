"""Parameter counts derived from geometry match the published counts."""
from __future__ import annotations

import pytest

from mlsysim import Models
from mlsysim.specs import MoESpec, SSMSpec, TransformerSpec


@pytest.mark.parametrize("name,published", [
    ("Llama2_70B", 68.98e9), ("Llama3_8B", 8.03e9), ("Llama3_70B", 70.55e9), ("GPT2", 1.56e9),
])
def test_pinned_counts_within_half_a_percent(name, published):
    assert getattr(Models, name).parameters == pytest.approx(published, rel=0.005)


def test_every_geometric_model_matches_its_published_count():
    checked = 0
    for m in Models:
        if isinstance(m, (TransformerSpec, SSMSpec)) and m.published_parameters:
            assert m.parameters == pytest.approx(m.published_parameters, rel=0.005), m.name
            checked += 1
    assert checked >= 15


def test_moe_active_parameters():
    mixtral = Models.Mixtral_8x7B
    assert isinstance(mixtral, MoESpec)
    assert mixtral.parameters == pytest.approx(46.7e9, rel=0.005)
    assert mixtral.active_parameters == pytest.approx(12.9e9, rel=0.01)
    ds = Models.DeepSeekV3
    assert ds.parameters == pytest.approx(671e9, rel=0.005)
    # DeepSeek publishes 37B activated; the count without the input embedding table is 36.6B.
    assert ds.active_parameters - ds.embedding_parameters == pytest.approx(36.6e9, rel=0.01)


def test_gqa_and_mla_kv_cache_geometry():
    assert Models.Llama3_70B.kv_elements_per_token == 2 * 80 * 8 * 128
    assert Models.Llama2_70B.kv_elements_per_token < Models.Llama2_13B.kv_elements_per_token * 2  # GQA vs MHA
    assert Models.DeepSeekV3.kv_elements_per_token == 61 * (512 + 64)


def test_swiglu_has_three_matrices_and_gpt_mlp_two():
    llama, gpt = Models.Llama3_8B, Models.GPT2
    assert llama.ffn_parameters_per_layer == 3 * llama.hidden_size * llama.ffn_size
    assert gpt.ffn_parameters_per_layer == 2 * gpt.hidden_size * gpt.ffn_size + gpt.ffn_size + gpt.hidden_size
