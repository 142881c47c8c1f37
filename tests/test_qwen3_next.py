"""Qwen3-Next-80B-A3B (hybrid Gated DeltaNet + gated softmax attention, 512-expert MoE): geometry from its
config.json reproduces the safetensors total, and its fixed linear-attention state keeps the KV cache of a
sequence far below a dense-attention twin's."""
from __future__ import annotations

import attrs
import pytest

from mlsysim import Models
from mlsysim.core.serving import ServingModel

SAFETENSORS_TOTAL = 79_674_391_296  # Qwen3-Coder-Next (same geometry), shared-expert gates and QK-norms included


def test_parameter_count_matches_the_published_geometry():
    m = Models.get("Qwen/Qwen3-Next-80B-A3B-Instruct")
    assert m.name == "Qwen3_Next_80B_A3B"
    assert abs(m.parameter_count / 80e9 - 1) < 0.005  # the card's 80B
    assert m.parameter_count == pytest.approx(SAFETENSORS_TOTAL, rel=1e-5)
    # the output gate doubles q_proj in the 12 softmax layers: 2048 x 16 x 256 weights each
    plain = attrs.evolve(m, attention_output_gate=False)
    assert m.parameter_count - plain.parameter_count == 12 * 2048 * 16 * 256
    assert m.active_parameter_count == pytest.approx(3.875e9, rel=0.002)


def test_hybrid_layers_hold_a_fixed_state_not_a_growing_cache():
    m = Models.get("Qwen3_Next_80B_A3B")
    assert not m.spans_whole_context and m.linear_attention.layers == 36
    grow = m.kv_elements_at(8192) - m.kv_elements_at(4096)
    per_full_layer = 2 * m.kv_heads * m.head_dim
    assert grow == pytest.approx(12 * per_full_layer * 4096)  # only the 12 softmax layers grow with context
    dense = attrs.evolve(m, linear_attention=None)
    s = ServingModel()
    kw = dict(prompt_len=32768, output_len=512, tensor_parallel=2, runtime="vllm")
    hybrid = s.solve(m, "H200", 8, "fp8", **kw)
    full = s.solve(dense, "H200", 8, "fp8", **kw)
    assert hybrid.kv_cache_per_sequence_bytes < 0.3 * full.kv_cache_per_sequence_bytes
    assert hybrid.max_concurrent_sequences > 3 * full.max_concurrent_sequences
