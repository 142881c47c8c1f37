"""A 0.1.x-style script: how long do researchers wait for a shared 256-GPU cluster?"""
import mlsysim
from mlsysim.solvers import OrchestrationModel


def test_orchestration_script():
    cluster = mlsysim.Systems.Clusters.Research_256
    r = OrchestrationModel().solve(cluster, arrival_rate_jobs_per_day=2.0, avg_job_duration_days=0.4)
    print(f"utilisation {r.cluster_utilization:.0%}, wait {r.avg_wait_time_days.to('hour').magnitude:.1f} h")
    assert r.is_stable and 0 < r.cluster_utilization < 1
    assert r.avg_wait_time_days.to("hour").magnitude > 0
    assert r.avg_queue_length > 0
    busy = OrchestrationModel().solve(cluster, 3.0, 0.4)
    assert not busy.is_stable
