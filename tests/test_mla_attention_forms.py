"""MLA's two attention forms (DeepSeek-V2 sec. 2.1): a decode step scores the cached latent with W_UK absorbed into the
query (2 x (c_kv + d_rope) + 2 x c_kv FLOPs per head and pair), a prompt or a training step expands keys and values
per head (2 x (d_nope + d_rope) + 2 x d_v); every other attention has one form."""
from __future__ import annotations

import pytest

from mlsysim import Engine, Models
from mlsysim.core.workload import workload_cost
from mlsysim.core.precision import resolve_precision
from mlsysim import Hardware


def test_deepseek_v3_forms_by_hand():
    m = Models.DeepSeekV3
    mla = m.mla
    assert m.attention_flops_per_token_per_context == m.layers * m.heads * (
        2 * (mla.kv_lora_rank + mla.qk_rope_head_dim) + 2 * mla.kv_lora_rank)
    assert m.expanded_attention_flops_per_token_per_context == m.layers * m.heads * (
        2 * (mla.qk_nope_head_dim + mla.qk_rope_head_dim) + 2 * mla.v_head_dim)
    # 640 vs 2176 FLOPs per head and pair: expanding is cheaper for the many queries of a prompt
    assert m.expanded_attention_flops_per_token_per_context / m.attention_flops_per_token_per_context \
        == pytest.approx(640 / 2176)


@pytest.mark.parametrize("name", ["Llama3_8B", "Mixtral_8x7B", "Gemma3_27B", "GPT2"])
def test_one_form_without_mla(name):
    m = Models.get(name)
    assert m.expanded_attention_flops_per_token_per_context == m.attention_flops_per_token_per_context


def test_prefill_uses_the_expanded_form_decode_the_absorbed():
    m, hw = Models.DeepSeekV3, Hardware.H200
    prec = resolve_precision(hw, "fp8", weight_only=False, training=False)
    s = 1024
    # decode: the attention core is linear in the context, at the absorbed rate per pair
    d1, d2 = (workload_cost(m, 1, n, prec, None, False).hardware_flops for n in (s, 2 * s))
    assert d2 - d1 == pytest.approx(m.attention_flops_per_token_per_context * s, rel=1e-9)
    # prefill: causal pairs S^2 / 2; the second difference over S, 2S, 3S keeps only them, at the expanded rate
    p1, p2, p3 = (workload_cost(m, 1, n, prec, None, True).hardware_flops for n in (s, 2 * s, 3 * s))
    assert p3 - 2 * p2 + p1 == pytest.approx(m.expanded_attention_flops_per_token_per_context * s * s, rel=1e-9)


def test_the_serving_step_scales_only_prompt_pairs():
    from mlsysim.core.serving import ServingModel

    step = ServingModel().build_step(Models.DeepSeekV3, "HGX_H200", "fp8", None, 8, 8, 1, 1, None, False, None)[-1]
    assert step._pairs(4.0, 1000.0, 0.0, 0.0) == 4000.0
    assert step._pairs(0.0, 0.0, 100.0, 50.0) == pytest.approx(100 * 50 * 640 / 2176)


def test_a_training_step_of_an_mla_model_is_faster_than_with_absorbed_attention():
    r = Engine.solve("DeepSeek_V2_5", "H200", 1, "bf16", is_training=True, seq_len=4096)
    assert r.latency.m_as("s") > 0  # solves; the expanded form counts 3.4x fewer attention FLOPs per pair
    m = Models.DeepSeek_V2_5
    assert m.expanded_attention_flops_per_token_per_context < m.attention_flops_per_token_per_context
