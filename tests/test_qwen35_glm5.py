"""Qwen3.5-397B-A17B (hybrid Gated DeltaNet + gated attention, 512-expert MoE) and GLM-5 (MLA MoE with
DeepSeek Sparse Attention): geometry from their config.json reproduces the published totals, both solve on
H200/B200 nodes, and their cache physics follow from the hybrid layout / the compressed latent + indexer key."""
from __future__ import annotations

import attrs
import pytest

from mlsysim import Engine, Models
from mlsysim.core import attention_span
from mlsysim.core.serving import ServingModel

# (registry name, Hugging Face id, published total, published active) -- model cards of each id
PUBLISHED = (("Qwen35_397B_A17B", "Qwen/Qwen3.5-397B-A17B", 397e9, 17e9),
             ("GLM5", "zai-org/GLM-5", 744e9, 40e9))


@pytest.mark.parametrize("name,hf_id,total,active", PUBLISHED)
def test_counts_match_the_published_totals(name, hf_id, total, active):
    m = Models.get(hf_id)
    assert m.name == name and m.hf_id == hf_id
    assert abs(m.parameter_count / total - 1) < 0.005  # the catalog check's 0.5 %
    assert m.published_parameters == total
    # the cards' active figures are rounded; the derived ones (embedding and head included) lie above them
    assert active < m.active_parameter_count < 1.1 * active


def test_qwen35_hand_count():
    m = Models.get("Qwen35_397B_A17B")
    d, v = 4096, 248320
    expert = 3 * d * 1024  # SwiGLU gate, up, down
    moe = (512 + 1) * expert + 512 * d  # routed + shared experts, router
    softmax = d * 2 * 32 * 256 + 2 * d * 2 * 256 + 32 * 256 * d  # q (+ output gate), k, v, o
    qk, vv = 16 * 128, 64 * 128
    linear = d * (2 * qk + 2 * vv) + d * 2 * 64 + (2 * qk + vv) * 4 + vv * d  # qkvz, beta/alpha, conv, out
    approx = 2 * v * d + 60 * moe + 15 * softmax + 45 * linear
    assert m.parameter_count == pytest.approx(approx, rel=1e-4)  # remainder: norms, A_log, dt_bias
    # the output gate doubles q_proj in the 15 softmax layers
    plain = attrs.evolve(m, attention_output_gate=False)
    assert m.parameter_count - plain.parameter_count == 15 * d * 32 * 256


def test_glm5_hand_count():
    m = Models.get("GLM5")
    d = 6144
    attn = d * 2048 + 2048 * 64 * 256 + d * (512 + 64) + 512 * 64 * (192 + 256) + 64 * 256 * d
    indexer = 2048 * 32 * 128 + d * 128 + d * 32  # wq_b, wk, weights_proj
    moe = 257 * 3 * d * 2048 + 256 * d
    dense = 3 * d * 12288
    approx = 2 * 154880 * d + 78 * (attn + indexer) + 75 * moe + 3 * dense
    assert m.parameter_count == pytest.approx(approx, rel=1e-4)
    no_dsa = attrs.evolve(m, sparse_attention=None)
    assert m.parameter_count - no_dsa.parameter_count == pytest.approx(78 * indexer, rel=1e-3)


@pytest.mark.parametrize("name", [p[0] for p in PUBLISHED])
@pytest.mark.parametrize("gpu,node", [("H200", "HGX_H200"), ("B200", "B200")])
def test_engine_and_serving_solve(name, gpu, node):
    m = Models.get(name)
    r = Engine.solve(m, gpu, batch_size=1, precision="fp8")
    assert r.latency.m_as("s") > 0
    assert not r.feasible  # one GPU cannot hold 397B / 744B fp8 weights (141 / 180 GB)
    s = ServingModel().solve(m, node, 8, "fp8", prompt_len=2048, output_len=256, tensor_parallel=8)
    assert s.feasible  # eight GPUs hold them
    assert s.kv_cache_per_sequence_bytes > 0
    assert s.ttft.m_as("s") > 0 and s.tpot.m_as("s") > 0
    # decode reads every active weight per step: TPOT is at least the active fp8 bytes over 8 GPUs' bandwidth
    bw = 8 * (4.8e12 if gpu == "H200" else 8e12)  # HBM3e: H200 4.8 TB/s, B200 8 TB/s (datasheets)
    assert s.tpot.m_as("s") > 0.5 * m.active_parameter_count / bw


def test_qwen35_hybrid_cache_is_smaller_than_an_all_softmax_twin():
    m = Models.get("Qwen35_397B_A17B")
    assert not m.spans_whole_context and m.linear_attention.layers == 45
    per_full_layer = 2 * m.kv_heads * m.head_dim
    # only the 15 softmax layers grow with context; the 45 DeltaNet layers hold a fixed state
    assert m.kv_elements_at(8192) - m.kv_elements_at(4096) == pytest.approx(15 * per_full_layer * 4096)
    state = m.kv_elements_at(4096) - 15 * per_full_layer * 4096
    assert state == pytest.approx(45 * m.linear_attention.state_elements)
    assert m.kv_elements_at(65536) - m.kv_elements_at(32768) == pytest.approx(15 * per_full_layer * 32768)
    dense = attrs.evolve(m, linear_attention=None)
    for ctx in (2048, 32768, 262144):
        assert m.kv_elements_at(ctx) < dense.kv_elements_at(ctx)
    assert m.kv_elements_at(262144) < 0.3 * dense.kv_elements_at(262144)  # -> 15/60 of the cache at long context
    s = ServingModel()
    kw = dict(prompt_len=2048, output_len=256, tensor_parallel=8)
    hybrid = s.solve(m, "HGX_H200", 8, "fp8", **kw)
    full = s.solve(dense, "HGX_H200", 8, "fp8", **kw)
    assert hybrid.kv_cache_per_sequence_bytes < full.kv_cache_per_sequence_bytes


def test_glm5_latent_cache_and_sparse_attention():
    m = Models.get("GLM5")
    assert not m.spans_whole_context
    # MLA latent (512) + shared rotary key (64) + the DSA indexer key (128) per token per layer
    assert m.kv_elements_at(4096) == pytest.approx(78 * (512 + 64 + 128) * 4096)
    mha = attrs.evolve(m, attention="standard", mla=None, sparse_attention=None, published_parameters=None)
    assert m.kv_elements_at(4096) < 0.05 * mha.kv_elements_at(4096)  # vs 2 x 64 x 256 per layer
    # each query attends at most top_k = 2048 tokens: attention work stops growing past it
    far, near = (attention_span.attention_flops_per_query(m, c) for c in (131072, 65536))
    dense = attrs.evolve(m, sparse_attention=None)
    dfar, dnear = (attention_span.attention_flops_per_query(dense, c) for c in (131072, 65536))
    assert dfar == pytest.approx(2 * dnear)
    assert far < 0.1 * dfar
    assert far - near < 0.6 * (dfar - dnear)  # only the indexer's scoring still scales with context
