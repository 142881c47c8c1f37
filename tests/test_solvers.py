"""Experimental solvers: serving (prefill + decode) and distributed training. Physics checks only."""
from __future__ import annotations

import pytest

from mlsysim import Models
from mlsysim.errors import InvalidInputError
from mlsysim.solvers import DistributedModel, ForwardModel, RooflineModel, ServingModel


def test_solver_hierarchy():
    for cls in (RooflineModel, ServingModel, DistributedModel):
        assert issubclass(cls, ForwardModel)


def test_serving_ttft_grows_with_prompt_and_tpot_with_context():
    s = ServingModel()
    short = s.solve("Llama3_8B", "H100", 4, "bf16", prompt_len=256, output_len=128)
    long = s.solve("Llama3_8B", "H100", 4, "bf16", prompt_len=4096, output_len=128)
    assert long.ttft > short.ttft and long.tpot >= short.tpot
    assert short.latency.to("s").magnitude == pytest.approx(
        short.ttft.to("s").magnitude + 127 * short.tpot.to("s").magnitude)
    assert short.prefill.bottleneck == "Compute" and short.decode.bottleneck == "Memory"


def test_serving_kv_capacity_counts_sequences_that_fit():
    # fp8 weights keep a bf16 KV cache unless asked (vLLM cache_dtype "auto"): ask for fp8 KV here
    r = ServingModel().solve("Llama3_70B", "H200", 1, "fp8", prompt_len=2048, output_len=2048, kv_precision="fp8")
    kv_per_seq = 2 * 80 * 8 * 128 * 1 * 4096  # fp8 KV, 4096 tokens
    assert r.kv_cache_per_sequence_bytes == pytest.approx(kv_per_seq)
    # beside the weights: the 1 GiB runtime reserve and the live activations of a full token-budget step
    assert r.weights_per_gpu_bytes == pytest.approx(Models.Llama3_70B.parameters.m_as("param"), rel=1e-3)
    assert 2**30 < r.memory_other_bytes < 4 * 2**30
    free = 141 * 2**30 - r.weights_per_gpu_bytes - r.memory_other_bytes
    assert r.max_concurrent_sequences == pytest.approx(free / kv_per_seq, abs=2)
    too_many = ServingModel().solve("Llama3_70B", "H200", r.max_concurrent_sequences + 1, "fp8",
                                    prompt_len=2048, output_len=2048, kv_precision="fp8")
    assert too_many.feasible is False


def test_distributed_data_parallel_scales_and_communication_costs_time():
    d = DistributedModel()
    one_node = d.solve("Llama3_8B", "Systems.Nodes.DGX_H100", 64, "bf16", seq_len=4096, zero_stage=1)
    assert one_node.devices == 8 and one_node.data_parallel == 8
    assert one_node.latency.to("s").magnitude >= one_node.compute_time_s
    cluster = d.solve("Llama3_8B", "Systems.Clusters.Research_256", 256, "bf16", seq_len=4096, zero_stage=1)
    assert cluster.throughput > one_node.throughput  # more devices, more tokens/s
    assert cluster.mfu <= one_node.mfu + 1e-9        # but no better utilisation (communication)


def test_tensor_and_pipeline_parallel_shard_memory():
    d = DistributedModel()
    plain = d.solve("Llama3_70B", "Systems.Clusters.Research_256", 256, "bf16", seq_len=4096, zero_stage=1)
    sharded = d.solve("Llama3_70B", "Systems.Clusters.Research_256", 256, "bf16", seq_len=4096, zero_stage=1,
                      tensor_parallel=8, pipeline_parallel=2)
    assert sharded.memory.weights == pytest.approx(plain.memory.weights / 16)
    assert sharded.tp_comm_time_s > 0 and sharded.pp_comm_time_s > 0 and sharded.bubble_time_s > 0
    assert plain.feasible is False and sharded.feasible is True


def test_distributed_input_errors():
    d = DistributedModel()
    with pytest.raises(InvalidInputError, match="divide"):
        d.solve("Llama3_8B", "Systems.Nodes.DGX_H100", 8, tensor_parallel=3)
    with pytest.raises(InvalidInputError, match="multiple"):
        d.solve("Llama3_8B", "Systems.Nodes.DGX_H100", 12)


def test_distributed_reasons_describe_the_sharded_system():
    r = DistributedModel().solve("Llama3_70B", "Systems.Clusters.Frontier_8K", 1024, "bf16", seq_len=8192,
                                 tensor_parallel=8, pipeline_parallel=4, zero_stage=1)
    assert r.feasible and not any("needs" in reason for reason in r.reasons)


def test_gradient_accumulation_exposes_more_data_parallel_traffic():
    d = DistributedModel()
    one = d.solve("Llama3_70B", "Systems.Clusters.Frontier_8K", 1024, "bf16", seq_len=2048, tensor_parallel=8)
    many = d.solve("Llama3_70B", "Systems.Clusters.Frontier_8K", 8192, "bf16", seq_len=2048, tensor_parallel=8)
    assert many.microbatches == 8 * one.microbatches
    assert many.dp_comm_exposed_s >= one.dp_comm_exposed_s


def test_gradient_traffic_follows_precision():
    d = DistributedModel()
    fp32 = d.solve("GPT2", "Systems.Clusters.Research_256", 256, "fp32", seq_len=1024)
    bf16 = d.solve("GPT2", "Systems.Clusters.Research_256", 256, "bf16", seq_len=1024)
    assert fp32.dp_comm_time_s > 1.9 * bf16.dp_comm_time_s


@pytest.mark.parametrize("kwargs,fragment", [
    ({"model": "Llama3_70B", "tensor_parallel": 128}, "heads"),
    ({"model": "Llama3_70B", "tensor_parallel": 5}, "divide"),
    ({"model": "ResNet50", "tensor_parallel": 8}, "transformers only"),
])
def test_parallelism_the_model_cannot_take_is_an_error(kwargs, fragment):
    with pytest.raises(InvalidInputError, match=fragment):
        DistributedModel().solve(system="Systems.Clusters.Frontier_8K", batch_size=8192, **kwargs)


def test_cnn_data_parallel_reports_samples_per_second():
    r = DistributedModel().solve("ResNet50", "Systems.Nodes.DGX_H100", 256, "bf16")
    assert "sample" in str(r.throughput.units) and "token" not in str(r.throughput.units)


def test_serving_rejects_what_it_cannot_serve():
    from mlsysim.errors import UnsupportedModelError

    with pytest.raises(UnsupportedModelError, match="decoder"):
        ServingModel().solve("BERT_Base", "H100")
    with pytest.raises(InvalidInputError, match="learned positions"):
        ServingModel().solve("GPT2", "H100", prompt_len=1000, output_len=48)
    r = ServingModel().solve("Llama2_7B", "H100", 1, prompt_len=3000, output_len=2000)
    assert any("beyond the trained context" in reason for reason in r.reasons)


def test_absurd_sizes_are_clear_errors():
    from mlsysim import Engine

    with pytest.raises(InvalidInputError, match="2\\*\\*53"):
        Engine.solve("Llama3_8B", "H100", 10**400)
