"""A 0.1.x-style script: how many requests does PagedAttention keep in flight on one H100?"""
import mlsysim
from mlsysim.solvers import ContinuousBatchingModel


def test_continuous_batching_script():
    solver = ContinuousBatchingModel()
    res = solver.solve(mlsysim.Models.Language.Llama3_8B, mlsysim.Hardware.Cloud.H100, seq_len=3000,
                       max_batch_size=128, page_size=16, precision="fp16", efficiency=0.5)
    assert res.feasible
    assert 0 < res.max_active_requests <= 128
    assert res.throughput_tokens_per_sec > 0
    assert 0 <= res.memory_fragmentation_pct < 100
    assert res.paged_kv_cache_size.to("GB").magnitude > 0
    assert res.ttft.to("ms").magnitude > 0 and res.itl.to("ms").magnitude > 0
    assert res.speedup_vs_static >= 1.0
    assert res.constraint_trace
