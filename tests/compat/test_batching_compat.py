"""A 0.1.x-style script: the biggest batch that keeps P99 under 15 s at 4 requests/s."""
import mlsysim
from mlsysim.solvers import BatchingOptimizer


def test_batching_script():
    opt = BatchingOptimizer()
    res = opt.solve(mlsysim.Models.Language.Llama3_8B, mlsysim.Hardware.Cloud.H100, seq_len=256,
                    sla_latency_ms=15000.0, arrival_rate_qps=4.0, num_replicas=1, precision="fp16",
                    efficiency=0.5, max_search_batch=64)
    assert res.is_feasible
    assert 1 <= res.best_batch_size <= 64 == res.total_searched
    assert res.best_config["max_batch_size"] == res.best_batch_size
    assert res.p99_latency.to("ms").magnitude <= 15000.0
    assert res.max_throughput > 0 and 0 <= res.slo_violation_probability <= 0.01
