"""MoE and MLA layers in the shape roof (mlsysim.core.layer_gemms, core.shape_cost): the GEMM shapes conserve the
workload's FLOPs, routed experts run at tokens-per-expert rows (so a few tokens spread over many experts tile-
quantise badly), MLA's latent projections are GEMMs of their ranks, and large prompts reach the roof."""
from __future__ import annotations

import pytest

import mlsysim
from mlsysim.core.layer_gemms import attention_head_dim, ffn_gemms, projection_gemms
from mlsysim.core.precision import resolve_precision
from mlsysim.core.shape_cost import runtime_shapes
from mlsysim.core.solver import RooflineModel
from mlsysim.core.workload import workload_cost

MOE_MODELS = ("Mixtral_8x7B", "DeepSeek_V3")


def _flops(gemms):
    return sum(2.0 * m * n * k * b * layers for m, n, k, b, layers in gemms)


@pytest.mark.parametrize("name", MOE_MODELS + ("Llama3_8B",))
def test_gemm_shapes_conserve_the_phase_flops(name):
    m = mlsysim.Models.get(name)
    prec = resolve_precision(mlsysim.Hardware.get("H100"), "bf16")
    tokens = 4096
    cost = workload_cost(m, 1, tokens, prec, None, True)
    proj, _attn, ffn = cost.phases[0][0], cost.phases[1][0], cost.phases[2][0]
    # Biases and router/norm rounding aside, the GEMMs carry the phase's FLOPs (within 1 %).
    assert _flops(projection_gemms(m, tokens)) == pytest.approx(proj, rel=0.01)
    assert _flops(ffn_gemms(m, tokens)) == pytest.approx(ffn, rel=0.01)


def test_routed_experts_run_at_tokens_per_expert_rows():
    m = mlsysim.Models.get("DeepSeek_V3")
    tokens = 1024
    routed = [g for g in ffn_gemms(m, tokens) if g[3] > 1]
    assert routed, "the routed experts are one grouped GEMM"
    rows, _n, _k, experts, _layers = routed[0]
    assert experts == m.experts
    assert rows == pytest.approx(tokens * m.experts_per_token / m.experts)
    # Fewer token-expert pairs than experts: only that many experts are active, one row each.
    few = [g for g in ffn_gemms(m, 3) if g[3] > 1 or g[0] == 1.0]
    assert few[0][3] == 3 * m.experts_per_token and few[0][0] == pytest.approx(1.0)


def test_mla_projections_are_the_latent_rank_gemms():
    m = mlsysim.Models.get("DeepSeek_V3")
    a = m.mla
    shapes = {(n, k) for _m, n, k, _b, _l in projection_gemms(m, 512)}
    assert (a.q_lora_rank, m.hidden_size) in shapes                       # query down-projection
    assert (a.kv_lora_rank + a.qk_rope_head_dim, m.hidden_size) in shapes  # joint key/value down-projection
    assert (m.heads * (a.qk_nope_head_dim + a.v_head_dim), a.kv_lora_rank) in shapes
    assert attention_head_dim(m) == a.qk_nope_head_dim + a.qk_rope_head_dim


def _scales(name, seq, hw="H200"):
    m, h = mlsysim.Models.get(name), mlsysim.Hardware.get(hw)
    prec = resolve_precision(h, "bf16")
    shaped = runtime_shapes(m, h, mlsysim.Runtimes.get("vllm"), 1, seq, None, True, prec)
    return shaped.gemm_scale


@pytest.mark.parametrize("name", MOE_MODELS)
def test_moe_ffn_efficiency_rises_with_the_prompt_to_the_roof(name):
    values = [_scales(name, s)[2] for s in (16, 128, 1024, 8192, 65536)]
    assert all(b >= a - 0.02 for a, b in zip(values, values[1:]))
    assert values[0] < 0.3  # a few tokens per expert: mostly idle tiles (latency bound)
    assert values[-1] > 0.85  # thousands of rows per expert: at the large-GEMM roof


def test_spreading_tokens_over_experts_costs_efficiency():
    # The same token count through a dense FFN (all rows in one GEMM) tiles better than through 256 experts.
    dense = _scales("Llama3_8B", 1024)[2]
    moe = _scales("DeepSeek_V3", 1024)[2]
    assert moe < dense


def test_moe_prefill_names_the_shape_roof():
    r = RooflineModel().solve("Mixtral_8x7B", "H200", 1, "bf16", prefill=True, seq_len=2048, runtime="vllm")
    assert any("shape roof" in why for why in r.reasons)
    short = RooflineModel().solve("Mixtral_8x7B", "H200", 1, "bf16", prefill=True, seq_len=256, runtime="vllm")
    # Time per prompt token falls as the expert GEMMs fill their tiles.
    assert r.latency.m_as("s") / 2048 < short.latency.m_as("s") / 256
