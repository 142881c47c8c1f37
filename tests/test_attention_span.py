"""Attention that does not span the whole context (sliding windows, linear attention, DeepSeek Sparse Attention):
KV held and attention work are capped by the window / top_k, states are constant, catalog geometry from config.json."""
from __future__ import annotations

import attrs
import pytest

import mlsysim
from mlsysim.core import attention_span
from mlsysim.errors import CatalogError
from mlsysim.specs.models import LinearAttention, SlidingWindow

M = mlsysim.Models


def _dense(m):
    return attrs.evolve(m, sliding_window=None)


def test_catalog_windows_from_config():
    # (model, window, windowed layers): gpt-oss layer_types alternate, Gemma 3 pattern 6, Gemma 2 alternate
    for name, size, layers in (("GPT_OSS_20B", 128, 12), ("GPT_OSS_120B", 128, 18), ("Gemma3_27B", 1024, 52),
                               ("Gemma3_4B", 1024, 29), ("Gemma3_12B", 1024, 40), ("Gemma2_9B", 4096, 21),
                               ("Mistral_7B", 4096, 32)):
        w = M.get(name).sliding_window
        assert (w.size, w.layers) == (size, layers), name


def test_window_caps_kv_growth():
    m = M.get("Gemma3_27B")
    per_layer = m.kv_elements_per_token / m.layers
    # below the window every layer holds every token
    assert m.kv_elements_at(1000) == pytest.approx(m.kv_elements_per_token * 1000)
    # past it only the 10 global layers grow: hand calculation
    assert m.kv_elements_at(32768) == pytest.approx(per_layer * (10 * 32768 + 52 * 1024))
    growth = m.kv_elements_at(65536) - m.kv_elements_at(32768)
    assert growth == pytest.approx(per_layer * 10 * 32768)
    # an all-window model (Mistral 7B v0.1) holds a constant cache past the window
    mi = M.get("Mistral_7B")
    assert mi.kv_elements_at(4096) == mi.kv_elements_at(32768)
    assert mi.get_kv_cache_size(32768).m_as("B") == pytest.approx(_dense(mi).get_kv_cache_size(4096).m_as("B"))


def test_window_caps_attention_flops_and_causal_mean():
    m = M.get("Mistral_7B")
    per_layer_pair = m.attention_flops_per_token_per_context / m.layers
    assert attention_span.attention_flops_per_query(m, 10000) == pytest.approx(per_layer_pair * 32 * 4096)
    # causal prompt of S > W: mean over positions of min(i, W) = W - W^2 / (2 S)
    s, w = 8192, 4096
    assert attention_span.attention_flops_per_query(m, s, causal_prompt=True) == pytest.approx(
        per_layer_pair * 32 * (w - w * w / (2 * s)))
    dense = _dense(m)
    assert attention_span.attention_flops_per_query(dense, s, causal_prompt=True) == pytest.approx(
        per_layer_pair * 32 * s / 2)


def test_engine_decode_reads_less_with_window():
    m = M.get("Gemma3_27B")
    long = mlsysim.Engine.solve(m, "H100", 8, "fp16", seq_len=32768)
    dense = mlsysim.Engine.solve(_dense(m), "H100", 8, "fp16", seq_len=32768)
    assert long.latency.m_as("s") < dense.latency.m_as("s")
    short = mlsysim.Engine.solve(m, "H100", 8, "fp16", seq_len=512)
    short_dense = mlsysim.Engine.solve(_dense(m), "H100", 8, "fp16", seq_len=512)
    assert short.latency.m_as("s") == pytest.approx(short_dense.latency.m_as("s"), rel=1e-12)  # within the window


def test_serving_window_admits_more_sequences():
    from mlsysim.core.serving import ServingModel
    s = ServingModel()
    m = M.get("GPT_OSS_120B")
    kw = dict(prompt_len=16384, output_len=1024, runtime="vllm")
    win = s.solve(m, "H200", 1, "fp8", **kw)
    dense = s.solve(_dense(m), "H200", 1, "fp8", **kw)
    assert win.max_concurrent_sequences > 1.8 * dense.max_concurrent_sequences  # half the layers capped at 128


def test_sparse_attention_v32():
    v31, v32 = M.get("DeepSeek_V3_1"), M.get("DeepSeek_V3_2")
    sa = v32.sparse_attention
    assert (sa.top_k, sa.indexer_heads, sa.indexer_head_dim) == (2048, 64, 128)
    indexer = 1536 * 64 * 128 + 7168 * 128 + 2 * 128 + 7168 * 64  # wq_b, wk, k_norm, weights_proj
    assert v32.parameter_count - v31.parameter_count == pytest.approx(61 * indexer)
    # main attention stops growing at top_k; the indexer keeps growing linearly
    f = attention_span.attention_flops_per_query
    idx_per_token = 2.0 * 64 * 128 * 61
    assert f(v32, 200000) - f(v32, 100000) == pytest.approx(idx_per_token * 100000)
    assert f(v32, 100000) < 0.2 * f(v31, 100000)
    # the cache holds every latent plus an indexer key per token per layer
    assert v32.kv_elements_at(1000) == pytest.approx(v31.kv_elements_at(1000) + 61 * 128 * 1000)
    # decode reads only the selected latents past top_k
    assert attention_span.read_elements_per_query(v32, 100000) < 0.35 * v31.kv_elements_at(100000)


def test_linear_attention_state_is_constant():
    base = M.get("Qwen3_32B")
    la = LinearAttention(kind="gated_deltanet", layers=48, key_heads=16, value_heads=32, key_head_dim=128,
                         value_head_dim=128, conv_kernel=4)
    hybrid = attrs.evolve(base, linear_attention=la, published_parameters=None)
    full_layers = base.layers - 48
    per_layer = base.kv_elements_per_token / base.layers
    state = 32 * 128 * 128 + 3 * (2 * 16 * 128 + 32 * 128)
    assert la.state_elements == state
    assert hybrid.kv_elements_at(10000) == pytest.approx(per_layer * full_layers * 10000 + 48 * state)
    growth = hybrid.kv_elements_at(20000) - hybrid.kv_elements_at(10000)
    assert growth == pytest.approx(per_layer * full_layers * 10000)  # only the softmax layers grow
    # the attention parameters are the layer mean of the two kinds of block
    total = hybrid.attention_parameters_per_layer * base.layers
    assert total == pytest.approx(full_layers * base.attention_parameters_per_layer + 48 * la.parameters(base.hidden_size))


def test_bad_span_geometry_is_refused():
    base = M.get("Llama3_8B")
    with pytest.raises(CatalogError):
        attrs.evolve(base, sliding_window=SlidingWindow(size=4096, layers=base.layers + 1))
    la = LinearAttention(kind="gated_deltanet", layers=base.layers, key_heads=8, value_heads=8, key_head_dim=64,
                         value_head_dim=64, conv_kernel=4)
    with pytest.raises(CatalogError):  # a hybrid keeps at least one softmax layer
        attrs.evolve(base, linear_attention=la)
