"""ParallelismOptimizer: TP x PP x DP search with DistributedModel; the fastest feasible plan wins."""
from __future__ import annotations

import itertools

import pytest

import mlsysim

from mlsysim.errors import InfeasibleError, InvalidInputError, InvalidTypeError, MlsysimError
from mlsysim.solvers import DistributedModel, ParallelismOptimizer

opt = ParallelismOptimizer()
sec = lambda q: q.to("s").magnitude  # noqa: E731


def test_search_finds_the_brute_force_optimum_on_one_node():
    r = opt.solve("Llama3_8B", "DGX_H100", 64, "bf16", 0.5, seq_len=2048)
    d, best = DistributedModel(), None
    for tp, pp in itertools.product((1, 2, 4, 8), (1, 2, 4, 8)):
        if 8 % (tp * pp):
            continue
        dp = 8 // (tp * pp)
        for mb, zero, rec in itertools.product((1, 2, 4, 8), (0, 1, 2, 3), ("none", "selective", "full")):
            if (64 // dp) % mb:
                continue
            p = d.solve("Llama3_8B", "DGX_H100", 64, "bf16", 0.5, seq_len=2048, tensor_parallel=tp,
                        pipeline_parallel=pp, microbatch_size=mb, zero_stage=zero, activation_recomputation=rec)
            if p.feasible and (best is None or sec(p.latency) < best):
                best = sec(p.latency)
    assert sec(r.best_step_time) == pytest.approx(best)
    assert r.search_space_size == 10  # (tp, pp) with tp x pp | 8: 1x1 1x2 1x4 1x8 2x1 2x2 2x4 4x1 4x2 8x1


def test_best_plan_resolves_to_the_same_step_and_ranks_first():
    r = opt.solve("Llama3_70B", "Research_256", 256, "bf16", 0.5, seq_len=4096)
    c = r.best_config
    p = DistributedModel().solve("Llama3_70B", "Research_256", 256, "bf16", 0.5, seq_len=4096,
                                 tensor_parallel=c["tp"], pipeline_parallel=c["pp"],
                                 microbatch_size=c["microbatch_size"], zero_stage=c["zero_stage"],
                                 activation_recomputation=c["activation_recomputation"])
    assert p.feasible and c["tp"] * c["pp"] * c["dp"] == 256
    assert sec(r.best_step_time) == pytest.approx(sec(p.latency))
    assert r.objective_value == r.best_mfu == pytest.approx(p.mfu)
    steps = [sec(t["step_time"]) for t in r.top_candidates]
    mfus = [t["mfu"] for t in r.top_candidates]
    assert steps == sorted(steps) and mfus == sorted(mfus, reverse=True)  # fastest = highest MFU
    assert len({(t["config"]["tp"], t["config"]["pp"]) for t in r.top_candidates}) == len(r.top_candidates)
    assert all(t["memory_per_device"].to("GB").magnitude > 0 for t in r.top_candidates)
    assert r.total_searched > r.search_space_size and r.feasible_plans <= r.search_space_size


def test_caps_restrict_the_split():
    r = opt.solve("Llama3_70B", "Research_256", 256, max_tp=2, max_pp=4, seq_len=4096)
    assert all(t["config"]["tp"] <= 2 and t["config"]["pp"] <= 4 for t in r.top_candidates)
    free = opt.solve("Llama3_70B", "Research_256", 256, seq_len=4096)
    assert sec(free.best_step_time) <= sec(r.best_step_time)  # a superset of plans is never slower


def test_without_overlap_the_all_reduce_adds_to_every_step():
    kwargs = dict(seq_len=2048, zero_stages=(1,), activation_recomputation=("none",), microbatch_sizes=(1,))
    on = opt.solve("Llama3_8B", "DGX_H100", 64, "bf16", 0.5, max_tp=1, max_pp=1, overlap_comm=True, **kwargs)
    off = opt.solve("Llama3_8B", "DGX_H100", 64, "bf16", 0.5, max_tp=1, max_pp=1, overlap_comm=False, **kwargs)
    p = DistributedModel().solve("Llama3_8B", "DGX_H100", 64, "bf16", 0.5, seq_len=2048, zero_stage=1)
    assert sec(on.best_step_time) == pytest.approx(sec(p.latency))
    assert sec(off.best_step_time) == pytest.approx(sec(p.latency) + p.dp_comm_time_s - p.dp_comm_exposed_s)
    assert off.best_mfu == pytest.approx(on.best_mfu * sec(on.best_step_time) / sec(off.best_step_time))


def test_models_that_fit_nowhere_and_batches_that_split_nowhere():
    with pytest.raises(InfeasibleError, match="GiB per device"):
        opt.solve("Llama31_405B", "DGX_H100", 8)
    with pytest.raises(InvalidInputError, match="no TP x PP x DP split"):
        opt.solve("Llama3_70B", "Research_256", 3, max_pp=1)
    cnn = opt.solve("ResNet50", "DGX_H100", 256)  # not a transformer: data parallel only
    assert cnn.best_config["tp"] == cnn.best_config["pp"] == 1 and cnn.search_space_size == 1


def test_bad_input():
    with pytest.raises(InvalidTypeError, match="ClusterSpec"):
        opt.solve("Llama3_8B", mlsysim.Hardware.H100, 64)
    with pytest.raises(MlsysimError):
        opt.solve("Llama3_8B", "H100", 64)  # not a Systems entry
    with pytest.raises(InvalidInputError):
        opt.solve("Llama3_8B", "DGX_H100", 0)
    with pytest.raises(InvalidInputError, match="accepted"):
        opt.solve("Llama3_8B", "DGX_H100", 64, zero_stages=(5,))
    with pytest.raises(InvalidInputError, match="accepted"):
        opt.solve("Llama3_8B", "DGX_H100", 64, activation_recomputation=("some",))
    with pytest.raises(InvalidTypeError):
        opt.solve("Llama3_8B", "DGX_H100", 64, zero_stages=1)
    with pytest.raises(InvalidTypeError):
        opt.solve("Llama3_8B", "DGX_H100", 64, overlap_comm="yes")
    with pytest.raises(MlsysimError):
        opt.solve("Llama3_8B", "DGX_H100", 64, "fp99")
