"""The serving tier of dse.sweep (grouped setup, vectorised steady state) agrees with one ServingModel.solve per
point -- every figure bit for bit, the same feasibility, bottleneck and errors -- on random grids of models,
devices, precisions, prompt lengths, batch sizes, layouts and runtimes; options it does not cover still run
through the solver itself."""
from __future__ import annotations

import random

import pytest

from mlsysim import dse
from mlsysim.core.serving import ServingModel
from mlsysim.dse import run as dse_run
from serving_tier_checks import assert_identical as _identical

MODELS = ["Llama3_8B", "Llama3_70B", "Mixtral_8x7B", "Qwen25_7B", "GPT2", "BERT_Base", "DeepSeek_V3"]
DEVICES = ["H100", "A100", "L4", "MI300X", "B200", "T4"]
PRECISIONS = ["fp16", "bf16", "fp8", "int8", "int4"]
RUNTIMES = [None, "vllm", "sglang", "tensorrt", "llamacpp"]


def _random_grid(rng: random.Random) -> dict:
    opts = {"output_len": rng.choice([2, 16, 128, 512])}
    if rng.random() < 0.6:
        opts["runtime"] = rng.choice(RUNTIMES)
    if rng.random() < 0.4:
        opts["tensor_parallel"] = rng.choice([1, 2, 4])
    if rng.random() < 0.2:
        opts["pipeline_parallel"] = 2
    if rng.random() < 0.2:
        opts["kv_precision"] = "fp8"
    if rng.random() < 0.2:
        opts["max_num_batched_tokens"] = rng.choice([512, 2048])
    return dict(models=rng.sample(MODELS, 2), hardware=rng.sample(DEVICES, 2),
                batch_sizes=sorted(rng.sample([1, 2, 3, 8, 17, 64, 256, 1024], 3)),
                precisions=rng.sample(PRECISIONS, 2), seq_lens=sorted(rng.sample([16, 128, 700, 2048, 8192], 2)),
                solver="serving", **opts)


@pytest.mark.parametrize("seed", range(6))
def test_random_grids_agree_with_the_solver_loop(seed):
    grid = _random_grid(random.Random(seed))
    ref = dse.sweep(**grid, backend="scalar")  # one ServingModel.solve per point
    _identical(ref, dse.sweep(**grid))  # numpy when installed
    _identical(ref, dse.sweep(**grid, backend="python"))  # the grouped tier without numpy


def test_matches_serving_model_solve_directly():
    t = dse.sweep(["Llama3_8B", "Mixtral_8x7B"], ["H100", "L4"], [1, 16, 128], ["fp16", "fp8"], [512, 4096],
                  solver="serving", output_len=64, runtime="vllm")
    solver = ServingModel()
    for rec in t:
        if rec["error"]:
            continue
        r = solver.solve(rec["model"], rec["hardware"], rec["batch_size"], rec["precision"],
                         prompt_len=rec["seq_len"], output_len=64, runtime="vllm")
        assert rec["latency"] == r.latency.m_as("s") and rec["tpot"] == r.tpot.m_as("s")
        assert rec["ttft"] == r.ttft.m_as("s") and rec["throughput"] == r.throughput.m_as("token/s")
        assert rec["feasible"] == r.feasible and rec["bottleneck"] == r.bottleneck
        if not rec["feasible"]:
            assert rec["reasons"] == tuple(r.reasons)


def test_physics_more_requests_in_flight_raise_throughput_and_tpot():
    t = dse.sweep("Llama3_8B", "H100", [1, 2, 4, 8, 16, 32, 64], "fp16", [1024], solver="serving", output_len=128)
    thr, tpot = t.column("throughput"), t.column("tpot")
    assert all(b > a for a, b in zip(thr, thr[1:]))  # more sequences share each weight read
    assert all(b >= a for a, b in zip(tpot, tpot[1:]))  # and each step carries more tokens


def test_options_outside_the_grouped_tier_use_the_solver(monkeypatch):
    calls = []
    real = dse_run.solve_chunk

    def spy(space, a, b, backend="auto"):
        from mlsysim.dse.serving_tier import grouped_applies
        calls.append(grouped_applies(space))
        return real(space, a, b, backend)

    monkeypatch.setattr(dse_run, "solve_chunk", spy)
    grid = dict(models="Llama3_8B", hardware="H100", batch_sizes=[8], precisions="fp16", seq_lens=[512],
                solver="serving")
    t = dse.sweep(**grid, arrival_rate=2.0)
    static = dse.sweep(**grid, batching="static")
    assert calls == [False, False]
    r = ServingModel().solve("Llama3_8B", "H100", 8, "fp16", prompt_len=512, output_len=256, arrival_rate=2.0)
    assert t[0]["latency"] == r.latency.m_as("s")
    assert static[0]["latency"] > 0


def test_errors_are_the_solvers_own_words():
    t = dse.sweep(["BERT_Base", "GPT2"], "H100", [1], "fp16", [512, 1000], solver="serving", output_len=128)
    ref = dse.sweep(["BERT_Base", "GPT2"], "H100", [1], "fp16", [512, 1000], solver="serving", output_len=128,
                    backend="scalar")
    assert t.errors == ref.errors and len(t.errors) == 3  # an encoder; GPT-2 past its 1024 learned positions
    assert "encoder" in t.error(0) and "learned positions" in t.error(3)


def test_auto_vectorises_from_the_measured_crossover(monkeypatch):
    """backend="auto" runs the scalar steady state per point below run.VECTORISE_MIN_POINTS tier points (numpy's
    per-pass calls cost more there) and the arrays from it on; both agree with the scalar solve bit for bit."""
    pytest.importorskip("numpy")
    from serving_tier_checks import assert_identical

    from mlsysim.dse import run as dse_run
    from mlsysim.dse import serving_tier

    seen = []
    real = serving_tier._steady
    monkeypatch.setattr(serving_tier, "_steady", lambda *a: seen.append(a) or real(*a))
    small = dict(models=["Llama3_8B"], hardware=["H100"], batch_sizes=[1, 8, 64, 256], precisions=["fp16"],
                 seq_lens=[1024], solver="serving", runtime="vllm")
    assert len(small["batch_sizes"]) < dse_run.VECTORISE_MIN_POINTS
    t = dse.sweep(**small)
    assert len(seen) == 4  # every point through the scalar steady state
    assert_identical(dse.sweep(**small, backend="scalar"), t)
    seen.clear()
    big = dict(small, batch_sizes=list(range(1, dse_run.VECTORISE_MIN_POINTS + 1)))
    t = dse.sweep(**big)
    assert seen == []  # the arrays
    assert_identical(dse.sweep(**big, backend="scalar"), t)
