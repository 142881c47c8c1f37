"""A 0.1.x-style script: will a month-long job on 8K GPUs finish without a failure, and how often to checkpoint?"""
import mlsysim
from mlsysim.solvers import ReliabilityModel


def test_reliability_script():
    fleet = mlsysim.Systems.Clusters.Frontier_8K
    r = ReliabilityModel().solve(fleet, job_duration_hours=30 * 24, checkpoint_time_s=60.0,
                                 avg_recovery_time_s=300.0)
    hours, minutes = r.fleet_mtbf.to("hour").magnitude, r.optimal_checkpoint_interval.to("minute").magnitude
    print(f"fleet MTBF {hours:.2f} h, checkpoint every {minutes:.1f} min")
    assert r.fleet_mtbf.to("hour").magnitude < 24
    assert r.failure_probability > 0.99
    assert r.expected_failures > 1
    assert 0.5 < r.goodput_ratio < 1.0
    assert r.optimal_checkpoint_interval.to("s").magnitude > 60
