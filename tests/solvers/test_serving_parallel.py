"""ServingModel parallel layouts: tensor, data, expert and pipeline parallelism (physics, issue 10)."""
from __future__ import annotations

import pytest

from mlsysim.core.serving.comm import (ALL_REDUCE_LATENCY_FLOOR, all_reduce_volume, max_expert_load,
                                       tp_all_reduce)
from mlsysim.errors import InvalidInputError
from mlsysim.solvers import ServingModel

S = ServingModel()
BASE = dict(prompt_len=2048, output_len=256)


def test_tp2_halves_weight_bytes_per_gpu_and_never_raises_memory():
    one = S.solve("Llama3_70B", "H200", 8, "fp8", **BASE)
    two = S.solve("Llama3_70B", "H200", 8, "fp8", tensor_parallel=2, **BASE)
    four = S.solve("Llama3_70B", "H200", 8, "fp8", tensor_parallel=4, **BASE)
    # every matrix splits except the replicated KV projections (8 KV heads: split up to TP 8) and norms
    assert two.weights_per_gpu_bytes == pytest.approx(one.weights_per_gpu_bytes / 2, rel=0.01)
    assert four.weights_per_gpu_bytes <= two.weights_per_gpu_bytes <= one.weights_per_gpu_bytes
    assert two.kv_cache_per_sequence_bytes == pytest.approx(one.kv_cache_per_sequence_bytes / 2, rel=1e-9)
    assert four.max_concurrent_sequences > two.max_concurrent_sequences > one.max_concurrent_sequences


def test_kv_heads_are_replicated_when_tp_exceeds_them():
    # Llama-3.1-8B has 8 KV heads: at TP 8 each GPU holds one; TP 16 is refused (no node holds 16 here)
    t8 = S.solve("Llama3_8B", "H100", 8, "bf16", tensor_parallel=8, **BASE)
    t4 = S.solve("Llama3_8B", "H100", 8, "bf16", tensor_parallel=4, **BASE)
    assert t8.kv_cache_per_sequence_bytes == pytest.approx(t4.kv_cache_per_sequence_bytes / 2)


def test_all_reduce_volume_and_latency_floor():
    for n in (2, 4, 8):
        assert all_reduce_volume(1e6, n) == pytest.approx(2 * (n - 1) / n * 1e6)
    assert all_reduce_volume(1e6, 1) == 0
    # a decode-sized message is latency-bound: the floor, not bytes/bandwidth
    assert tp_all_reduce(8 * 8192 * 2, 8, 450e9, 1e-6) >= ALL_REDUCE_LATENCY_FLOOR
    big = tp_all_reduce(1e9, 8, 450e9, 1e-6)
    assert big == pytest.approx(2 * 7 / 8 * 1e9 / 450e9 + 14e-6)


def test_tensor_parallel_costs_communication_per_gpu():
    one = S.solve("Llama3_8B", "H100", 1, "bf16", **BASE)
    two = S.solve("Llama3_8B", "H100", 1, "bf16", tensor_parallel=2, **BASE)
    # faster per token but less than 2x (two all-reduces per layer), so lower throughput per GPU
    assert two.tpot < one.tpot and two.tpot.m_as("s") > one.tpot.m_as("s") / 2
    assert two.throughput_per_gpu < one.throughput_per_gpu


def test_device_name_and_node_agree():
    a = S.solve("Llama3_70B", "H100", 32, "fp8", tensor_parallel=4, **BASE)
    b = S.solve("Llama3_70B", "DGX_H100", 32, "fp8", tensor_parallel=4, **BASE)
    assert a.tpot == b.tpot and a.ttft == b.ttft and a.max_concurrent_sequences == b.max_concurrent_sequences


def test_data_parallel_scales_throughput_not_latency():
    one = S.solve("Llama3_8B", "DGX_H100", 16, "bf16", **BASE)
    four = S.solve("Llama3_8B", "DGX_H100", 16, "bf16", data_parallel=4, **BASE)
    assert four.tpot == one.tpot and four.gpus == 4
    assert four.throughput.m_as("token/s") == pytest.approx(4 * one.throughput.m_as("token/s"))
    assert four.throughput_per_gpu.m_as("token/s") == pytest.approx(one.throughput_per_gpu.m_as("token/s"))


def test_expert_parallel_for_moe():
    r1 = S.solve("Mixtral_8x7B", "DGX_H100", 32, "bf16", tensor_parallel=2, **BASE)
    r2 = S.solve("Mixtral_8x7B", "DGX_H100", 32, "bf16", tensor_parallel=2, expert_parallel=2, **BASE)
    assert r2.parallelism["ep"] == 2 and r2.feasible
    # the same expert bytes per GPU either way (E/ep experts each on tp*dp/ep GPUs)
    assert r2.weights_per_gpu_bytes == pytest.approx(r1.weights_per_gpu_bytes, rel=1e-9)
    assert max_expert_load(1000, 1) == 1000
    assert 1000 / 8 < max_expert_load(1000, 8) < 1000  # imbalance: the busiest rank gets more than the mean
    with pytest.raises(InvalidInputError, match="experts"):
        S.solve("Mixtral_8x7B", "DGX_H100", 8, "bf16", tensor_parallel=3 * 0 + 1, expert_parallel=3, **BASE)
    with pytest.raises(InvalidInputError, match="dense"):
        S.solve("Llama3_8B", "DGX_H100", 8, "bf16", tensor_parallel=2, expert_parallel=2, **BASE)


def test_pipeline_parallel_splits_layers():
    one = S.solve("Llama3_70B", "DGX_H100", 32, "fp8", tensor_parallel=2, **BASE)
    two = S.solve("Llama3_70B", "DGX_H100", 32, "fp8", tensor_parallel=2, pipeline_parallel=2, **BASE)
    assert two.weights_per_gpu_bytes < one.weights_per_gpu_bytes and two.gpus == 4


def test_bad_layouts_are_one_line_errors():
    with pytest.raises(InvalidInputError, match="divide the 32 attention heads"):
        S.solve("Llama3_8B", "H100", 1, "bf16", tensor_parallel=3, **BASE)
    with pytest.raises(InvalidInputError, match="DGX H100 has 8"):
        S.solve("Llama3_70B", "DGX_H100", 1, "bf16", tensor_parallel=8, data_parallel=2, **BASE)
    with pytest.raises(InvalidInputError, match="prompt_len"):
        S.solve("Llama3_8B", "H100", 64, "bf16")  # today's order without a prompt length


def test_0_1_x_positional_order_is_read_as_0_1_x_with_a_warning():
    """0.1.1 required seq_len third; today prompt_len is required: a call with neither is 0.1.x-shaped."""
    with pytest.warns(DeprecationWarning, match="positional order") as caught:
        old = S.solve("Llama3_8B", "H100", 2048, 8, "fp8")
    assert caught[0].filename == __file__  # at the caller's line
    new = S.solve("Llama3_8B", "H100", 8, "fp8", prompt_len=2048)
    assert old.ttft.m_as("s") == new.ttft.m_as("s") and old.tpot.m_as("s") == new.tpot.m_as("s")
    with pytest.warns(DeprecationWarning):
        assert S.solve("Llama3_8B", "H100", 2048).ttft.m_as("s") == S.solve("Llama3_8B", "H100", 1,
                                                                             prompt_len=2048).ttft.m_as("s")
