"""A 0.1.x-style script: one model, one GPU, read the roofline profile."""
import mlsysim
from mlsysim.solvers import SingleNodeModel


def test_single_node_script():
    profile = SingleNodeModel().solve(mlsysim.Models.Language.Llama3_8B, mlsysim.Hardware.Cloud.H100,
                                      batch_size=16, precision="fp16", efficiency=0.5)
    assert profile.feasible
    assert profile.bottleneck in ("Compute", "Memory")
    assert profile.latency.to("ms").magnitude > 0
    assert profile.throughput.to("1/s").magnitude > 0
    assert 0 < profile.mfu <= 1
    assert profile.energy.to("J").magnitude > 0
