"""0.1.x's keywords of ServingModel and DistributedModel keep working beside ours, with 0.1.x's result names."""
from __future__ import annotations

import math

import pytest

import mlsysim
from mlsysim.errors import InvalidInputError
from mlsysim.solvers import DistributedModel, ServingModel


def test_serving_with_seq_len_and_itl():
    r = ServingModel().solve(mlsysim.Models.Llama3_8B, mlsysim.Hardware.H100, seq_len=2048, batch_size=8)
    ours = ServingModel().solve("Llama3_8B", "H100", 8, prompt_len=2048)
    assert r.itl == r.tpot == ours.tpot and r.ttft == ours.ttft
    # KV cache of the batch: 2 (K and V) x layers x kv_heads x head_dim x 2 bytes x tokens (fp16).
    m = mlsysim.Models.Llama3_8B
    per_token = 2 * m.layers * m.kv_heads * m.head_dim * 2
    assert r.kv_cache_size.to("B").magnitude == pytest.approx(8 * (2048 + 256) * per_token, rel=1e-6)
    assert r.total_memory_required > r.model_weights_size + r.kv_cache_size * 0.999
    assert 0 < r.memory_utilization < 1 and r.feasible
    assert r.prompt_cache_hit_ratio == 0.0
    text = str(r)
    assert "ttft" in text and "ServingResult" in text and r.to_dict()["ttft_unit"] == "s"


def test_serving_refuses_two_different_prompt_lengths():
    with pytest.raises(InvalidInputError, match="seq_len"):
        ServingModel().solve("Llama3_8B", "H100", seq_len=2048, prompt_len=1024)


def test_distributed_with_tp_size_and_pp_size():
    fleet = mlsysim.Systems.Clusters.Research_256
    r = DistributedModel().solve(mlsysim.Models.Llama3_70B, fleet, batch_size=256, tp_size=8, pp_size=4,
                                 seq_len=4096)
    assert r.parallelism == {"tp": 8, "pp": 4, "dp": 8, "ep": 1}
    assert r.step_latency_total == r.latency
    # The step is compute + bubble + the communication on its critical path (conservation of time).
    parts = r.compute_time_s + r.pipeline_bubble_latency.m_as("s") + r.communication_latency.m_as("s")
    assert parts == pytest.approx(r.latency.m_as("s"), rel=1e-9)
    assert 0 < r.scaling_efficiency < 1 and 0 < r.bubble_fraction < 1
    assert r.node_profile is r.device_profile and math.isfinite(r.effective_throughput.m_as("1/s"))


def test_distributed_microbatch_count_sets_the_microbatch_size():
    by_count = DistributedModel().solve("Llama3_70B", "Systems.Clusters.Research_256", 256, tp_size=8,
                                        pp_size=4, microbatch_count=8, seq_len=4096)
    by_size = DistributedModel().solve("Llama3_70B", "Systems.Clusters.Research_256", 256, tensor_parallel=8,
                                       pipeline_parallel=4, microbatch_size=4, seq_len=4096)
    assert by_count.microbatches == 8 and by_count.latency == by_size.latency


@pytest.mark.parametrize("option", [{"ep_size": 4}, {"overlap_comm": True}, {"nonsense": 1}])
def test_unmodelled_0_1_options_are_refused_not_ignored(option):
    with pytest.raises(InvalidInputError):
        DistributedModel().solve("Llama3_8B", "Systems.Nodes.DGX_H100", 8, **option)


def test_cnn_seq_len_is_reported_not_silently_ignored():
    r = mlsysim.Engine.solve("ResNet50", "A100", seq_len=128)
    assert any("seq_len 128 ignored" in note for note in r.reasons)
