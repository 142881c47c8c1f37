"""runtime= on every solver that runs a forward pass (ServingModel/continuous batching excepted): each passes it to
RooflineModel, so its pass changes exactly as Engine.solve's does (kernels per layer x per-kernel cost, formats)."""
from __future__ import annotations

import pytest

import mlsysim
from mlsysim import Engine
from mlsysim.solvers import (CompressionModel, DistributedModel, EfficiencyModel, ParallelismOptimizer,
                             SensitivitySolver, SingleNodeModel, SynthesisSolver, WeightStreamingModel)


def seconds(q) -> float:
    return q.m_as("s")


def test_single_node_is_the_engine_under_a_runtime():
    a = SingleNodeModel().solve("Llama3_8B", "RTX4090", 1, "q4_0", runtime="llamacpp")
    b = Engine.solve("Llama3_8B", "RTX4090", 1, "q4_0", runtime="llamacpp")
    assert a.to_dict() == b.to_dict()
    ragged = SingleNodeModel().solve("BERT_Large", "H100", 2, "int8", runtime="tensorrt", seq_lens=[100, 300])
    assert ragged.to_dict() == Engine.solve("BERT_Large", "H100", 2, "int8", runtime="tensorrt",
                                            seq_lens=[100, 300]).to_dict()


@pytest.mark.parametrize("method,kwargs", [("quantization", dict(target_bitwidth=8)),
                                           ("pruning", dict(sparsity=0.5, sparsity_type="structured"))])
def test_compression_times_both_passes_under_the_runtime(method, kwargs):
    r = CompressionModel().solve("Llama3_8B", "H100", method, baseline_precision="fp16", runtime="vllm", **kwargs)
    none = CompressionModel().solve("Llama3_8B", "H100", method, baseline_precision="fp16", **kwargs)
    engine = Engine.solve("Llama3_8B", "H100", 1, "fp16", runtime="vllm")
    assert seconds(r.baseline_latency) == pytest.approx(seconds(engine.latency), rel=1e-12)
    # vLLM replays decode from a CUDA graph (1 us per kernel): both passes lose the same fixed cost.
    gap = seconds(Engine.solve("Llama3_8B", "H100", 1, "fp16").latency) - seconds(engine.latency)
    assert seconds(none.baseline_latency) - seconds(r.baseline_latency) == pytest.approx(gap, rel=1e-9)
    assert seconds(none.compressed_latency) - seconds(r.compressed_latency) == pytest.approx(gap, rel=1e-6)
    if method == "quantization":
        comp = Engine.solve("Llama3_8B", "H100", 1, r.precision, runtime="vllm")
        assert seconds(r.compressed_latency) == pytest.approx(seconds(comp.latency), rel=1e-12)


def test_compression_refuses_a_format_the_runtime_lacks():
    with pytest.raises(mlsysim.errors.UnsupportedPrecisionError):
        CompressionModel().solve("Llama3_8B", "H100", "quantization", target_bitwidth=4, baseline_precision="fp16",
                                 runtime="llamacpp")


def test_efficiency_conv_pass_carries_the_runtime_launch_cost():
    none = EfficiencyModel().solve("ResNet50", "A100", "conv", precision="int8", batch_size=8)
    eager = EfficiencyModel().solve("ResNet50", "A100", "conv", precision="int8", batch_size=8, runtime="tensorrt")
    e_none = Engine.solve("ResNet50", "A100", 8, "int8")
    e_rt = Engine.solve("ResNet50", "A100", 8, "int8", runtime="tensorrt")
    # mfu = useful FLOPs / (latency x peak): the ratio of MFUs is the inverse ratio of the engine's latencies.
    assert eager.mfu / none.mfu == pytest.approx(seconds(e_none.latency) / seconds(e_rt.latency), rel=1e-9)


def test_efficiency_takes_a_runtime_format():
    r = EfficiencyModel().solve("Llama3_8B", "H100", "ffn", precision="awq_int4", batch_size=1, seq_len=512,
                                runtime="vllm")
    plain = EfficiencyModel().solve("Llama3_8B", "H100", "ffn", precision="int4", batch_size=1, seq_len=512)
    assert r.hbm_bytes.m_as("B") > plain.hbm_bytes.m_as("B")  # 4.25 bits per weight with scales, not 4


def test_sensitivity_under_a_runtime():
    s = SensitivitySolver().solve("Llama3_8B", "H100", "fp16", efficiency=None, runtime="llamacpp")
    engine = Engine.solve("Llama3_8B", "H100", 1, "fp16", runtime="llamacpp")
    assert s.baseline_latency.m_as("s") == pytest.approx(seconds(engine.latency), rel=1e-12)
    assert s.sensitivities["launch_overhead"] == 0.0  # the runtime's per-kernel cost is not a hardware figure
    assert SensitivitySolver().solve("Llama3_8B", "H100", "fp16", efficiency=None).sensitivities["launch_overhead"] > 0


def test_synthesis_checks_only_devices_the_runtime_runs_on():
    default = Engine.solve("Llama3_8B", "H100", 1, "fp16")
    slow = Engine.solve("Llama3_8B", "H100", 1, "fp16", runtime="pytorch_eager")
    target = (seconds(default.latency) + seconds(slow.latency)) / 2  # between the two predictions
    base = SynthesisSolver().solve("Llama3_8B", target, "fp16", efficiency=None, candidates=["H100", "M2Ultra"])
    eager = SynthesisSolver().solve("Llama3_8B", target, "fp16", efficiency=None, candidates=["H100", "M2Ultra"],
                                    runtime="pytorch_eager")
    assert "H100" in base.meeting_hardware and "H100" not in eager.meeting_hardware
    llama = SynthesisSolver().solve("Llama3_8B", 1.0, "q4_0", efficiency=None, runtime="llamacpp")
    classes = set(mlsysim.Runtimes.llamacpp.hardware_classes)
    assert llama.meeting_hardware and all(mlsysim.Hardware.get(h).calibration_class in classes
                                          for h in llama.meeting_hardware)
    assert llama.model_size.m_as("GB") == pytest.approx(
        mlsysim.Models.Llama3_8B.parameters.m_as("param") * 4.5 / 8 / 1e9, rel=0.02)


def test_weight_streaming_device_pass_under_the_runtime():
    kw = dict(seq_len=1024, batch_size=1, precision="fp16", link_bandwidth=64e9)
    none = WeightStreamingModel().solve("Llama3_8B", "H100", **kw)
    rt = WeightStreamingModel().solve("Llama3_8B", "H100", **kw, runtime="pytorch_eager")
    layers = mlsysim.Models.Llama3_8B.layers
    engine = mlsysim.core.solver.RooflineModel().solve("Llama3_8B", "H100", 1, "fp16", seq_len=1024,
                                                        runtime="pytorch_eager")
    assert rt.layer_compute_time.m_as("s") == pytest.approx(seconds(engine.latency) / layers, rel=1e-12)
    assert rt.layer_compute_time.m_as("s") > none.layer_compute_time.m_as("s")
    assert rt.layer_injection_time == none.layer_injection_time  # the link does not depend on the stack


def test_distributed_and_parallelism_pass_the_runtime():
    kw = dict(seq_len=2048, tensor_parallel=8, pipeline_parallel=1)
    none = DistributedModel().solve("Llama3_8B", "Systems.Nodes.DGX_H100", 8, "bf16", **kw)
    eager = DistributedModel().solve("Llama3_8B", "Systems.Nodes.DGX_H100", 8, "bf16", runtime="pytorch_eager",
                                     **kw)
    assert seconds(eager.latency) > seconds(none.latency)
    assert DistributedModel().solve("Llama3_8B", "Systems.Nodes.DGX_H100", 8, "bf16", runtime=None,
                                    **kw).to_dict() == none.to_dict()
    plan_none = ParallelismOptimizer().solve("Llama3_8B", "Systems.Nodes.DGX_H100", 8, "bf16", max_pp=1,
                                             zero_stages=(0,), activation_recomputation=("none",))
    plan_eager = ParallelismOptimizer().solve("Llama3_8B", "Systems.Nodes.DGX_H100", 8, "bf16", max_pp=1,
                                              zero_stages=(0,), activation_recomputation=("none",),
                                              runtime="pytorch_eager")
    assert seconds(plan_eager.best_step_time) > seconds(plan_none.best_step_time)
