"""A 0.1.x-style script: stream Llama-3 70B from MemoryX into a CS-3."""
import mlsysim
from mlsysim.solvers import WeightStreamingModel


def test_weight_streaming_script():
    res = WeightStreamingModel().solve(mlsysim.Models.Language.Llama3_70B, mlsysim.Hardware.Cloud.Cerebras_CS3,
                                       seq_len=2048, batch_size=32, precision="fp16", efficiency=0.5,
                                       phase="decode")
    assert res.feasible
    assert res.throughput_tokens_per_sec > 0
    assert res.bottleneck in ("Compute-Bound", "Memory-Bound", "Interconnect-Bandwidth-Bound")
    assert res.layer_injection_time.to("ms").magnitude > res.layer_compute_time.to("ms").magnitude
    assert res.optimal_batch_size > 32
    assert 0 < res.wafer_memory_utilization <= 1
