"""A 0.1.x-style script: how long do users wait at 99th percentile on two replicas?"""
from mlsysim.solvers import TailLatencyModel


def test_tail_latency_script():
    model = TailLatencyModel()
    result = model.solve(120.0, 12.5, num_replicas=2, service_time_cv=0.8)
    p50_ms = result.p50_latency.to("ms").magnitude
    p99_ms = result.p99_latency.to("ms").magnitude
    assert result.is_stable
    assert 0 < result.queue_utilization < 1
    assert 0 < p50_ms < p99_ms
    assert 0.0 <= result.slo_violation_probability <= 1.0
    assert result.p99_latency.to("s").magnitude == p99_ms / 1000
