"""SingleNodeModel: the single-device roofline under 0.1.x's name and call shape."""
from __future__ import annotations

import pytest

import mlsysim
from mlsysim.errors import InfeasibleError, InvalidInputError, InvalidTypeError
from mlsysim.solvers import ForwardModel, SingleNodeModel

s = lambda q: q.to("s").magnitude  # noqa: E731


def test_is_the_engine():
    a = SingleNodeModel().solve("Llama3_8B", "H100", 8, "bf16")
    b = mlsysim.Engine.solve("Llama3_8B", "H100", 8, "bf16")
    assert s(a.latency) == s(b.latency) and a.mfu == b.mfu and a.bottleneck == b.bottleneck
    assert isinstance(SingleNodeModel(), ForwardModel)


def test_options_pass_through_to_the_roofline():
    short = SingleNodeModel().solve(mlsysim.Models.Llama3_8B, mlsysim.Hardware.H100, 4, seq_len=512)
    long = SingleNodeModel().solve(mlsysim.Models.Llama3_8B, mlsysim.Hardware.H100, 4, seq_len=32768)
    assert long.latency > short.latency  # the decode step reads a longer KV cache
    assert long.memory.kv_cache == pytest.approx(64 * short.memory.kv_cache)
    train = SingleNodeModel().solve("Llama3_8B", "H100", 1, "bf16", is_training=True, seq_len=1024)
    assert train.is_training and train.memory.optimizer_state > 0


def test_efficiency_sets_the_compute_roof():
    half = SingleNodeModel().solve("ResNet50", "H100", 256, "fp16", 0.5)
    full = SingleNodeModel().solve("ResNet50", "H100", 256, "fp16", 1.0)
    assert half.peak_flops_used == pytest.approx(0.5 * full.peak_flops_used)
    assert half.latency >= full.latency


def test_raise_errors_on_a_model_that_does_not_fit():
    assert SingleNodeModel().solve("Llama3_70B", "T4", 1, "fp16").feasible is False
    with pytest.raises(InfeasibleError):
        SingleNodeModel().solve("Llama3_70B", "T4", 1, "fp16", raise_errors=True)


def test_unknown_and_unmodelled_options_are_refused():
    with pytest.raises(InvalidInputError, match="accepted: .*seq_len"):
        SingleNodeModel().solve("Llama3_8B", "H100", seqlen=512)
    with pytest.raises(InvalidInputError, match="LoRA"):
        SingleNodeModel().solve("Llama3_8B", "H100", is_lora=True)
    assert SingleNodeModel().solve("Llama3_8B", "H100", is_lora=False).feasible
    with pytest.raises(InvalidTypeError):
        SingleNodeModel().solve("Llama3_8B", "H100", batch_size="8")
