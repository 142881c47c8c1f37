"""Pipeline.parallel: one transformer over a TP x PP group. On one device it is exactly the solver's pass; the
stages conserve layers and parameters; the step is the stages in turn plus (m - 1) slowest stages (the bubble
shrinks with micro-batches, throughput is bounded by the slowest stage); links cost bytes / bandwidth."""
from __future__ import annotations

import pytest

import mlsysim
from mlsysim import Engine
from mlsysim.core.solver import RooflineModel
from mlsysim.errors import InvalidInputError, UnsupportedModelError
from mlsysim.pipeline import Pipeline
from mlsysim.pipeline.parallel import ParallelPipeline, _layers_per_stage

REL = 1e-12


def _close(a, b, rel=REL):
    return abs(a - b) <= rel * max(abs(a), abs(b))


@pytest.mark.parametrize("phase", ["prefill", "decode", "training"])
def test_one_device_one_stage_is_the_solvers_pass(phase):
    p = Pipeline.parallel("Llama3_8B", "H100", microbatch_size=4, seq_len=2048, precision="bf16", phase=phase)
    if phase == "prefill":
        r = RooflineModel().solve("Llama3_8B", "H100", 4, "bf16", seq_len=2048, prefill=True)
    else:
        r = Engine.solve("Llama3_8B", "H100", 4, "bf16", seq_len=2048, is_training=phase == "training")
    assert [s.name for s in p.stages] == ["stage0"]
    assert _close(p.latency.m_as("s"), r.latency.m_as("s"))
    assert _close(p.energy.m_as("J") * 4, r.energy.m_as("J"))  # per sequence x 4 sequences = the pass
    assert _close(p.mfu, r.mfu) and p.feasible == r.feasible and p.bottleneck == r.bottleneck
    assert p.bubble_s == 0.0


def test_stages_conserve_layers_and_parameters_and_carry_their_results():
    m = mlsysim.Models.Llama3_70B
    p = Pipeline.parallel(m, "DGX_H100", tp=2, pp=4, microbatches=8, microbatch_size=1, seq_len=4096)
    assert isinstance(p, ParallelPipeline) and p.devices == 8
    compute = [s for s in p.stages if s.name.startswith("stage")]
    links = [s for s in p.stages if s.name.startswith("link")]
    assert len(compute) == 4 and len(links) == 3
    assert sum(s.result.detail["layers"] for s in compute) == m.layers
    assert _close(sum(s.result.detail["parameters"] for s in compute), m.parameter_count, 1e-9)
    assert all(s.devices == 2 for s in compute) and all(s.devices == 0 for s in links)
    for s in p.stages:  # the six stable fields on every stage's result
        for f in ("latency", "throughput", "energy", "mfu", "feasible", "bottleneck"):
            getattr(s.result, f)
    assert _layers_per_stage(80, 3) == [27, 27, 26] and _layers_per_stage(32, 4) == [8] * 4


def test_step_time_bubble_and_the_slowest_stage_bound():
    p = Pipeline.parallel("Llama3_70B", "DGX_H100", tp=2, pp=4, microbatches=6, microbatch_size=2, seq_len=2048)
    t = [s.latency_s for s in p.stages]
    assert _close(p.step_time_s, sum(t) + 5 * max(t))
    assert _close(p.latency.m_as("s"), p.step_time_s)
    assert _close(p.bubble_s, p.step_time_s - 6 * max(t))
    slowest = max(p.stages, key=lambda s: s.latency_s)
    assert p.limiting_stage == slowest.name and p.bottleneck == slowest.result.bottleneck
    assert p.throughput_per_s <= 2 / max(t)  # never above the slowest stage's rate
    assert _close(p.throughput.magnitude, 6 * 2 / p.step_time_s)
    # more micro-batches: a smaller bubble share and more throughput, approaching the slowest stage's rate
    prev = None
    for m in (1, 2, 8, 64, 1024):
        q = Pipeline.parallel("Llama3_70B", "DGX_H100", tp=2, pp=4, microbatches=m, microbatch_size=2, seq_len=2048)
        if prev is not None:
            assert q.bubble_fraction < prev.bubble_fraction and q.throughput_per_s > prev.throughput_per_s
        prev = q
    assert prev.throughput_per_s > 0.99 * 2 / max(t)


def test_equal_stages_give_narayanans_bubble():
    """p equal stages, m micro-batches, negligible links: bubble share (p - 1) / (m + p - 1) (Narayanan 2021 eq. 1)."""
    p = Pipeline.parallel("Llama3_8B", "DGX_H100", tp=1, pp=4, microbatches=12, microbatch_size=1, seq_len=1024,
                          phase="decode")
    compute = [s.latency_s for s in p.stages if s.name.startswith("stage")]
    links = [s.latency_s for s in p.stages if s.name.startswith("link")]
    assert max(links) < min(compute)
    # the first and last stages carry the embedding and the head: the middle ones are equal to the bit
    assert compute[1] == compute[2]
    from mlsysim.pipeline import Stage, StageFigures

    for pp, m in ((4, 12), (8, 1), (2, 32)):
        stages = [Stage(f"s{i}", StageFigures(0.01, 100.0, 1.0, 0.5, True, "Compute", {"layers": 1, "first_layer": i,
                                                                                     "last_layer": i}), devices=1)
                  for i in range(pp)]
        q = ParallelPipeline(stages, m, 1.0, "sequence", {s.name: 50.0 for s in stages}, pp, 1e15, 1e12)
        assert _close(q.bubble_fraction, (pp - 1) / (m + pp - 1))
        assert _close(q.step_time_s, (m + pp - 1) * 0.01)
        # energy: busy joules of every micro-batch plus idle watts while each stage waits
        assert _close(q.step_energy_j, pp * m * 1.0 + pp * 50.0 * (q.step_time_s - m * 0.01))


def test_link_is_bytes_over_bandwidth_plus_a_hop():
    from mlsysim.core.serving.layout import build_layout

    p = Pipeline.parallel("Llama3_8B", "DGX_H100", tp=1, pp=2, microbatch_size=3, seq_len=1024, precision="fp16")
    lay = build_layout(mlsysim.Models.Llama3_8B, "DGX_H100", 1, 1, 1, 2)
    link = p.stage("link0")
    nbytes = 3 * 1024 * 4096 * 2.0  # tokens x hidden x fp16 activations
    assert link.result.detail["bytes"] == nbytes
    assert _close(link.latency_s, nbytes / lay.link_bw + lay.hop_latency)
    train = Pipeline.parallel("Llama3_8B", "DGX_H100", tp=1, pp=2, microbatch_size=3, seq_len=1024, precision="bf16",
                              phase="training")
    assert train.stage("link0").result.detail["bytes"] == 2 * nbytes  # the gradient comes back


def test_tensor_parallelism_splits_the_work_and_adds_all_reduces():
    one = Pipeline.parallel("Llama3_70B", "DGX_H100", tp=1, microbatch_size=1, seq_len=4096)
    four = Pipeline.parallel("Llama3_70B", "DGX_H100", tp=4, microbatch_size=1, seq_len=4096)
    s1, s4 = one.stage("stage0"), four.stage("stage0")
    assert s1.result.detail["tp_comm_s"] == 0.0 and s4.result.detail["tp_comm_s"] > 0.0
    assert s4.latency_s < s1.latency_s < 4 * s4.latency_s  # faster, but not 4x: all-reduces, replicated norms
    assert s4.result.detail["memory_bytes_per_device"] < s1.result.detail["memory_bytes_per_device"]
    assert not one.feasible and four.feasible  # 140 GB of fp16 weights need more than one 80 GB device


def test_explain_names_the_limiting_stage_and_the_bubble():
    p = Pipeline.parallel("Llama3_70B", "DGX_H100", tp=2, pp=4, microbatches=4, microbatch_size=1, seq_len=2048)
    text = p.explain()
    assert f"{p.limiting_stage} limits the rate" in text and "bubble" in text and "link0" in text
    d = p.to_dict()
    assert d["kind"] == "parallel" and d["microbatches"] == 4 and len(d["stages"]) == 7


def test_bad_groups_raise():
    with pytest.raises(InvalidInputError, match="attention heads"):
        Pipeline.parallel("Llama3_8B", "DGX_H100", tp=3)
    with pytest.raises(InvalidInputError, match="layers"):
        Pipeline.parallel("Llama3_8B", "DGX_H100", pp=64)
    with pytest.raises(InvalidInputError):
        Pipeline.parallel("Llama3_70B", "DGX_H100", tp=8, pp=2)  # 16 GPUs in an 8-GPU node
    with pytest.raises(UnsupportedModelError):
        Pipeline.parallel("ResNet50", "H100")
    with pytest.raises(InvalidInputError):
        Pipeline.parallel("Llama3_8B", "H100", microbatches=0)
    with pytest.raises(InvalidInputError):
        Pipeline.parallel("BERT_Base", "H100", phase="decode")
    with pytest.raises(InvalidInputError):
        Pipeline.parallel("Llama3_8B", "H100", phase="backward")
