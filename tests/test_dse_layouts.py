"""Parallelism searches: serving layouts respect divisibility and memory (rejects keep their reason) and rank
the feasible ones; training plans are the ParallelismOptimizer's."""
from __future__ import annotations

import pytest

from mlsysim import dse
from mlsysim.errors import InvalidInputError


def test_serving_layouts_rank_feasible_layouts_under_a_tpot_bound():
    s = dse.serving_layouts("Llama3_70B", "DGX_H100", prompt_len=2048, output_len=256,
                            tensor_parallel=(1, 2, 3, 4, 8), concurrency=(1, 16, 64),
                            constraints={"tpot": ("<=", 0.050)}, top=50)
    assert s.best and all(r["feasible"] and r["tpot"] <= 0.050 for r in s.best)
    vals = [r["objective"] for r in s.best]
    assert vals == sorted(vals, reverse=True)
    assert all(r["objective"] == r["result"].throughput_per_gpu.m_as("token/s") for r in s.best)
    # divisibility: 64 attention heads are not split 3 ways; memory: 70B fp16 weights do not fit one H100
    tp3 = [r for r in s.rejected if r["config"]["tensor_parallel"] == 3]
    assert tp3 and all("tensor_parallel=3" in r["reason"] for r in tp3)
    tp1 = [r for r in s.rejected if r["config"]["tensor_parallel"] == 1]
    assert len(tp1) == 3 and all("exceed" in r["reason"] for r in tp1)
    assert all(r["config"]["tensor_parallel"] not in (1, 3) for r in s.best)
    assert s.searched == 15


def test_serving_layouts_max_gpus_and_bad_axes():
    s = dse.serving_layouts("Llama3_8B", "DGX_H100", prompt_len=512, output_len=64, tensor_parallel=(1, 2, 4),
                            concurrency=(8,), max_gpus=2)
    assert all(r["gpus"] <= 2 for r in s.best)
    assert any("max_gpus" in r["reason"] for r in s.rejected)
    with pytest.raises(InvalidInputError):
        dse.serving_layouts("Llama3_8B", "H100", prompt_len=512, tensor_parallel=(0,))


def test_training_plans_are_the_parallelism_optimizers():
    from mlsysim.solvers.parallelism import ParallelismOptimizer
    a = dse.training_plans("Llama3_8B", "DGX_H100", 64, "bf16", zero_stages=(1,), activation_recomputation=("none",))
    b = ParallelismOptimizer().solve("Llama3_8B", "DGX_H100", 64, "bf16", zero_stages=(1,),
                                     activation_recomputation=("none",))
    assert a.best_config == b.best_config and a.best_mfu == b.best_mfu
