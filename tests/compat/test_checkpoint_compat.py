"""A 0.1.x-style script: how long does a 70B Adam checkpoint take with sharded writers, and what does it cost?"""
import mlsysim
from mlsysim.solvers import CheckpointModel


def test_checkpoint_script():
    model = CheckpointModel()
    one = model.solve(mlsysim.Models.Llama3_70B, mlsysim.Hardware.H100)
    sharded = model.solve(mlsysim.Models.Llama3_70B, mlsysim.Hardware.H100, optimizer="adam",
                          checkpoint_interval_hours=1.0, n_writers=64, filesystem_limit_gbs=200.0)
    print(one.checkpoint_size.to("GB"), one.write_time_seconds.to("minute"), sharded.write_time_seconds)
    assert 900 < one.checkpoint_size.to("GB").magnitude < 1100
    assert sharded.write_time_seconds < one.write_time_seconds
    assert sharded.storage_bottleneck
    assert sharded.max_bandwidth_required.to("GB/s").magnitude == 200.0
    assert 0 < one.mfu_penalty_pct < 100
