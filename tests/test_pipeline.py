"""mlsysim.pipeline: sequential stages add latency and energy, the slowest stage bounds throughput; the
disaggregated serving deployment read as a spatial pipeline reproduces ServingModel's figures."""
from __future__ import annotations

import pytest

from mlsysim import Engine
from mlsysim.errors import InvalidInputError, InvalidTypeError
from mlsysim.pipeline import Pipeline, Stage, StageFigures

REL = 1e-9


def _close(a, b, rel=REL):
    return abs(a - b) <= rel * max(abs(a), abs(b))


def test_sequential_latency_is_the_sum_and_throughput_the_min():
    a = Engine.solve("ResNet50", "H100", 32, "fp16")
    b = Engine.solve("Llama3_8B", "H100", 32, "fp16")
    p = Pipeline([("detector", a), ("llm", b)])
    assert _close(p.latency_s, a.latency.m_as("s") + b.latency.m_as("s"))
    assert _close(p.latency.m_as("ms"), 1e3 * p.latency_s)
    assert _close(p.throughput_per_s, min(a.throughput.magnitude, b.throughput.magnitude))
    assert _close(p.energy_j, a.energy.m_as("J") + b.energy.m_as("J"))
    assert p.feasible == (a.feasible and b.feasible)
    slow = "detector" if a.throughput.magnitude < b.throughput.magnitude else "llm"
    assert p.limiting_stage == slow and p.bottleneck == p.stage(slow).result.bottleneck
    assert p.stages[0].result is a  # each stage keeps its own result
    # MFU: device-second weighted mean, between the stages' MFUs
    assert min(a.mfu, b.mfu) <= p.mfu <= max(a.mfu, b.mfu)
    text = p.explain()
    assert f"bounded by {slow}" in text and "the stages add" in text


def test_adding_a_stage_never_lowers_latency_nor_raises_throughput():
    stages = [(f"s{i}", StageFigures(0.01 * (i + 1), 100.0 / (i + 1), 1.0, 0.5, True, "Memory")) for i in range(4)]
    prev = None
    for k in range(1, 5):
        p = Pipeline(stages[:k])
        if prev is not None:
            assert p.latency_s > prev.latency_s and p.throughput_per_s <= prev.throughput_per_s
            assert p.energy_j > prev.energy_j
        prev = p
    assert prev.limiting_stage == "s3" and _close(prev.latency_s, 0.1)


def test_passes_and_work_scale_a_stage():
    f = StageFigures(0.002, 1000.0, 0.5, 0.3, True, "Memory")
    p = Pipeline([Stage("decode", f, passes=100, work=100, items=4)])
    assert _close(p.latency_s, 0.2) and _close(p.throughput_per_s, 10.0) and _close(p.energy_j, 0.5 * 100 / 4)


def test_request_pipeline_is_prefill_then_decode_steps():
    p = Pipeline.request("Llama3_8B", "H100", prompt_len=1024, output_len=129, batch_size=8)
    pre, dec = p.stage("prefill").result, p.stage("decode").result
    assert _close(p.latency_s, pre.latency.m_as("s") + 128 * dec.latency.m_as("s"))
    # decode of 8 sequences x 128 steps: 8 requests per 128 step latencies
    assert _close(p.stage("decode").rate, 8 / (128 * dec.latency.m_as("s")))
    assert p.limiting_stage == "decode" and p.bottleneck == "Memory"


def test_infeasible_stage_makes_the_pipeline_infeasible_and_is_named():
    ok = StageFigures(0.01, 10.0, 1.0, 0.1, True, "Compute")
    bad = StageFigures(0.01, 10.0, 1.0, 0.1, False, "Memory")
    p = Pipeline([("a", ok), ("b", bad)])
    assert not p.feasible and "b does not fit" in p.explain()


def test_disaggregated_serving_as_a_spatial_pipeline():
    p = Pipeline.disaggregated("Llama3_70B", "H100", {"tensor_parallel": 4, "workers": 1},
                               {"tensor_parallel": 4, "workers": 2}, prompt_len=2048, output_len=256, batch_size=32)
    r = p.serving
    assert p.kind == "spatial" and [s.name for s in p.stages] == ["prefill", "kv_transfer", "decode"]
    assert _close(p.latency_s, r.latency.m_as("s"), 1e-12)
    assert _close(p.throughput_per_s * 256, r.throughput.m_as("token/s"), 1e-5)  # Serving keeps a 1e-6 margin
    assert _close(p.energy_j, r.energy.m_as("J"))
    assert _close(p.mfu, r.mfu)
    assert p.limiting_stage == r.disaggregation["limiting_pool"]
    assert _close(p.stage("kv_transfer").latency_s, r.disaggregation["kv_transfer_s"])


def test_bad_stages_raise():
    with pytest.raises(InvalidInputError):
        Pipeline([])
    with pytest.raises(InvalidTypeError):
        Pipeline([("x", object())])
    f = StageFigures(0.01, 10.0, 1.0, 0.1, True, "Compute")
    with pytest.raises(InvalidInputError):
        Pipeline([("x", f), ("x", f)])
    with pytest.raises(InvalidInputError):
        Stage("x", f, passes=0)
    with pytest.raises(InvalidInputError):
        Pipeline([("x", f)], kind="diagonal")


def test_of_solves_and_dse_records_as_stages():
    from mlsysim import dse
    p = Pipeline.of_solves(("pre", {"model": "ResNet50", "hardware": "H100", "batch_size": 8}),
                           ("llm", {"model": "Llama3_8B", "hardware": "H100", "batch_size": 8, "passes": 10}))
    assert p.stage("llm").passes == 10
    rec = dse.sweep("Llama3_8B", "H100", [8], "fp16")[0]
    q = Pipeline([("rec", rec)])
    assert _close(q.latency_s, rec["latency"]) and q.bottleneck == rec["bottleneck"]
