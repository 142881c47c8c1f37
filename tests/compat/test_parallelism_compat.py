"""A 0.1.x-style script: how should Llama-3 70B be split over a 256-GPU research cluster?"""
import mlsysim
from mlsysim.solvers import ParallelismOptimizer


def test_parallelism_script():
    result = ParallelismOptimizer().solve(mlsysim.Models.Llama3_70B, mlsysim.Systems.Clusters.Research_256,
                                          batch_size=256, precision="fp16", efficiency=0.5)
    cfg = result.best_config
    assert cfg["tp"] * cfg["pp"] * cfg["dp"] == 256
    assert 0 < result.best_mfu <= 1 and result.objective_value == result.best_mfu
    assert result.best_step_time.to("s").magnitude > 0
    assert result.best_throughput.to("1/s").magnitude > 0
    assert result.top_candidates[0]["config"] == cfg
    assert result.total_searched >= result.search_space_size > 1
    print(result.summary())
