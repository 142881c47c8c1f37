"""Discrete-step serving physics (runtime serving.prefill_step_model = "chunk_count", used by `nim`): the mean
mixed step over the Poisson count of whole prompt chunks, the closed loop's mean-value-analysis queue, and the
HTTP frontend of NVIDIA NIM (per-request latency, per-step cost) as runtime data."""
from __future__ import annotations

import math

import pytest

from mlsysim import dse
from mlsysim.core.inputs import resolve_model
from mlsysim.core.serving import ServingModel
from mlsysim.core.serving.scheduler import closed_loop_wait, expected_mixed_step, steady_state

KW = dict(prompt_len=5000, output_len=500, tensor_parallel=2, kv_precision="fp8")


def _step(runtime="nim"):
    s = ServingModel()
    return s.build_step(resolve_model("Llama33_70B"), "DGX_H100", "fp8", None, 2, 1, 1, 1, runtime, False, "fp8")


def test_mean_step_over_chunk_counts_is_at_least_the_step_at_the_mean_load():
    *_, params, step = _step()
    for lam in (0.01, 0.05, 0.3, 1.0, 3.0):
        mean, bare = expected_mixed_step(step, 24.0, 5250.0, 5000.0, 2500.0, lam)
        at_mean = step.pass_time(24.0, 5250.0, lam * 5000.0, 2500.0, lam * 2500.0, graph=math.exp(-lam))
        assert mean >= at_mean * (1 - 1e-12)  # Jensen: the step is convex in its prefill tokens
        assert bare == step.pass_time(24.0, 5250.0, graph=1.0) and mean > bare
    assert expected_mixed_step(step, 24.0, 5250.0, 5000.0, 2500.0, 0.0) == (bare, bare)


def test_expected_step_is_the_poisson_mixture_by_hand():
    *_, step = _step()
    lam = 0.2
    f = [step.pass_time(8.0, 2000.0, graph=1.0)] + [step.pass_time(8.0, 2000.0, k * 5000.0, 2500.0, k * 2500.0,
                                                                  graph=0.0) for k in range(1, 12)]
    exact = sum(math.exp(-lam) * lam ** k / math.factorial(k) * f[k] for k in range(12))
    assert expected_mixed_step(step, 8.0, 2000.0, 5000.0, 2500.0, lam)[0] == pytest.approx(exact, rel=1e-6)


def test_closed_loop_wait_limits():
    assert closed_loop_wait(1.0, 0.4, 10.0) == 0.0  # one client never queues
    waits = [closed_loop_wait(float(n), 0.4, 10.0) for n in (2, 5, 25, 50, 100, 400)]
    assert waits == sorted(waits) and waits[0] < 0.4 * 0.05
    # saturation: R -> n S - Z, so the throughput n / (R + Z) -> 1 / S (deterministic: half the MVA queue)
    n, s, z = 400.0, 0.4, 10.0
    r = 2.0 * closed_loop_wait(n, s, z) + s
    assert n / (r + z) == pytest.approx(1.0 / s, rel=1e-3)


def test_nim_ttft_and_tpot_non_decreasing_in_concurrency():
    s = ServingModel()
    rs = [s.solve("Llama33_70B", "DGX_H100", c, "fp8", runtime="nim", **KW) for c in (1, 2, 5, 10, 25, 50, 80)]
    ttft = [r.ttft.m_as("ms") for r in rs]
    tpot = [r.tpot.m_as("ms") for r in rs]
    assert ttft == sorted(ttft) and tpot == sorted(tpot)


def test_nim_is_the_trtllm_engine_plus_its_frontend():
    s = ServingModel()
    nim = s.solve("Llama33_70B", "DGX_H100", 1, "fp8", runtime="nim", **KW)
    trt = s.solve("Llama33_70B", "DGX_H100", 1, "fp8", runtime="trtllm", **KW)
    rt = s.build_step(resolve_model("Llama33_70B"), "DGX_H100", "fp8", None, 2, 1, 1, 1, "nim", False, "fp8")[2]
    sv = rt.serving
    # one client: no one else's prefill, so the frontend and the per-step cost are the whole difference
    assert nim.ttft.m_as("s") == pytest.approx(trt.ttft.m_as("s") + sv.frontend_latency.m_as("s")
                                               + sv.step_overhead.m_as("s") - 0.05e-3, rel=1e-5)
    assert nim.tpot.m_as("s") == pytest.approx(trt.tpot.m_as("s") + sv.step_overhead.m_as("s") - 0.05e-3, rel=1e-5)
    assert nim.max_concurrent_sequences == trt.max_concurrent_sequences


def test_chunk_count_rides_only_where_the_runtime_asks():
    *_, step = _step("trtllm")
    a = steady_state(step, 5000, 500, 8192, clients=25)
    b = steady_state(step, 5000, 500, 8192, clients=25, chunk_count=True)
    assert b.tpot > a.tpot  # whole prompts in a few steps cost more than the same tokens spread over all
    assert b.request_rate < a.request_rate


def test_dse_sweep_of_nim_is_the_solver_itself():
    t = dse.sweep("Llama33_70B", "H100", [1, 25], "fp8", [5000], solver="serving", output_len=500,
                  runtime="nim", tensor_parallel=2, kv_precision="fp8")
    s = ServingModel()
    for rec in t:
        r = s.solve("Llama33_70B", "H100", rec["batch_size"], "fp8", runtime="nim", **KW)
        assert not rec["error"] and rec["tpot"] == r.tpot.m_as("s") and rec["ttft"] == r.ttft.m_as("s")
