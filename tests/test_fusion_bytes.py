"""Bytes of unfused element-wise ops (mlsysim.core.fusion) against hand counts from the model geometry."""
from __future__ import annotations

import pytest

import mlsysim
from mlsysim.core.solver import RooflineModel


def solve(model, hw, batch, prec, runtime=None, **kw):
    return RooflineModel().solve(model, hw, batch, prec, runtime=runtime, **kw)


def test_eager_resnet50_moves_116_mb_per_image_more_than_tensorrt():
    # Hand count (bf16): BatchNorm reads + writes 11,113,984 elements, ReLU 9,608,704, the 16 residual adds read
    # two and write one 5,519,360-element tensor: 2 x (2 x 11113984 + 2 x 9608704 + 3 x 5519360) bytes.
    per_image = 2.0 * (2 * 11113984 + 2 * 9608704 + 3 * 5519360)
    assert per_image / 1e6 == pytest.approx(116.0, abs=0.1)
    eager = solve("ResNet50", "H200", 256, "bf16", "pytorch_eager")
    trt = solve("ResNet50", "H200", 256, "bf16", "tensorrt")
    assert eager.bytes_moved - trt.bytes_moved == pytest.approx(256 * per_image, rel=1e-9)
    assert eager.latency.m_as("s") > trt.latency.m_as("s")


def test_tensorrt_and_runtime_none_move_the_same_bytes():
    base = solve("ResNet50", "H200", 64, "bf16")
    trt = solve("ResNet50", "H200", 64, "bf16", "tensorrt")
    assert trt.bytes_moved == base.bytes_moved
    llama = solve("Llama3_8B", "H200", 1, "bf16", seq_len=2048, prefill=True)
    trtllm = solve("Llama3_8B", "H200", 1, "bf16", "trtllm", seq_len=2048, prefill=True)
    assert trtllm.bytes_moved == llama.bytes_moved


def test_runtime_none_results_unchanged():
    r = mlsysim.Engine.solve("ResNet50", "H200", 256, "bf16")
    assert not any("unfused" in x or "does not fuse" in x for x in r.reasons)
    assert r.bytes_moved == solve("ResNet50", "H200", 256, "bf16").bytes_moved


def test_llama_prefill_unfused_bytes_by_hand():
    m = mlsysim.Models.Llama3_8B
    L, d, ffn, H, hd, ab, tokens = m.layers, m.hidden_size, m.ffn_size, m.heads, m.head_dim, 2.0, 2048
    rms = 2 * d * (28.0 + 2 * ab)           # two RMSNorms, fp32 upcast: 28 + 4 ab bytes against 2 ab fused
    silu = ffn * (5.0 - 3.0) * ab           # silu(g) * u as two kernels against one
    repeat = 4.0 * H * hd * ab              # repeat_kv for K and V: read KV, write H, attention reads H - KV more
    want = L * tokens * (rms + silu + repeat)
    base = solve("Llama3_8B", "H200", 1, "bf16", seq_len=tokens, prefill=True)
    graph = solve("Llama3_8B", "H200", 1, "bf16", "pytorch_cuda_graph", seq_len=tokens, prefill=True)
    assert graph.bytes_moved - base.bytes_moved == pytest.approx(want, rel=1e-9)


def test_no_kv_repeat_without_gqa():
    # Llama-2-13B has as many K/V heads as query heads: nothing to repeat.
    m = mlsysim.Models.Llama2_13B
    base = solve("Llama2_13B", "H200", 1, "bf16", seq_len=1024, prefill=True)
    graph = solve("Llama2_13B", "H200", 1, "bf16", "pytorch_cuda_graph", seq_len=1024, prefill=True)
    rms_silu = m.layers * 1024 * (2 * m.hidden_size * 32.0 + m.ffn_size * 4.0)
    assert graph.bytes_moved - base.bytes_moved == pytest.approx(rms_silu, rel=1e-9)


def test_gpt2_training_gelu_and_dropout_bytes():
    # GPT-2: LayerNorm is one kernel even in eager mode (no extra); tanh-GELU 18 passes vs 2; two residual
    # dropouts writing output + 1-byte mask; forward + backward ~ 3x the forward bytes.
    m = mlsysim.Models.GPT2
    tokens, ab = 8 * 1024, 2.0
    per_token = m.ffn_size * 16 * ab + 2 * m.hidden_size * (2 * ab + 1.0)
    want = 3.0 * m.layers * tokens * per_token
    base = solve("GPT2", "H200", 8, "bf16", seq_len=1024, is_training=True)
    eager = solve("GPT2", "H200", 8, "bf16", "pytorch_eager", seq_len=1024, is_training=True)
    assert eager.bytes_moved - base.bytes_moved == pytest.approx(want, rel=1e-9)


def test_unfused_bytes_scale_with_batch():
    a = solve("ResNet50", "H200", 32, "bf16", "pytorch_eager").bytes_moved - solve("ResNet50", "H200", 32, "bf16").bytes_moved
    b = solve("ResNet50", "H200", 64, "bf16", "pytorch_eager").bytes_moved - solve("ResNet50", "H200", 64, "bf16").bytes_moved
    assert b == pytest.approx(2 * a, rel=1e-9)


def test_model_without_elementwise_counts_says_so():
    r = solve("MobileNetV2", "H200", 32, "bf16", "pytorch_eager")
    assert any("no element-wise counts" in x for x in r.reasons)
