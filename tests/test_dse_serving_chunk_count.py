"""The serving tier of dse.sweep after the S14 serving physics: host work a + b n per step
(serving.request_overhead, vLLM), discrete steps of whole prompt chunks (serving.prefill_step_model =
"chunk_count": NIM; the mean mixed step over the Poisson count of chunks, the step-boundary residual, the
Schweitzer-Bard closed-loop wait), hybrid / gated attention weights read from the spec (attention_output_gate,
Qwen3-Next's Gated DeltaNet layers) and the prompt_lengths option. Every figure agrees with one
ServingModel.solve per point bit for bit, with the same feasibility, bottleneck and errors, and chunk-count groups
are vectorised (no full ServingModel.solve per point)."""
from __future__ import annotations

import random

import attrs
import pytest

from mlsysim import Models, dse
from mlsysim.core.serving import ServingModel
from mlsysim.registry import registries
from serving_tier_checks import assert_identical as _agree_exactly

MODELS = ["Llama3_8B", "Llama3_70B", "Mixtral_8x7B", "Qwen25_7B", "Mistral_7B", "Gemma3_27B", "Qwen3_Next_80B_A3B",
          "DeepSeek_V3"]
DEVICES = ["H100", "A100", "L4", "B200", "DGX_H100"]


def _runtime(name: str, **serving):
    rt = registries().roots["Runtimes"].get(name)
    return attrs.evolve(rt, serving=attrs.evolve(rt.serving, **serving)) if serving else rt


def _runtimes() -> list:
    # nim as shipped; nim with prefill-only steps (chunk_count beside mixed_prefill = false); TensorRT-LLM with
    # and without chunk_count; vLLM (request_overhead); SGLang (frontend, prefill-only steps)
    return ["nim", _runtime("nim", mixed_prefill=False), "trtllm", _runtime("trtllm", prefill_step_model="chunk_count"),
            _runtime("trtllm", prefill_step_model="mean_load"), "vllm", "sglang"]


def _grid(rng: random.Random) -> dict:
    opts = {"output_len": rng.choice([2, 16, 128, 512]), "runtime": rng.choice(_runtimes())}
    if rng.random() < 0.4:
        opts["tensor_parallel"] = rng.choice([1, 2, 4])
    if rng.random() < 0.2:
        opts["pipeline_parallel"] = 2
    if rng.random() < 0.2:
        opts["max_num_batched_tokens"] = rng.choice([512, 2048])
    if rng.random() < 0.3:
        opts["prompt_lengths"] = rng.choice(["fixed", "exponential"])
    return dict(models=rng.sample(MODELS, 2), hardware=rng.sample(DEVICES, 2),
                batch_sizes=sorted(rng.sample([1, 2, 3, 8, 17, 64, 256, 1024], 3)),
                precisions=rng.sample(["fp16", "bf16", "fp8", "int8"], 2),
                seq_lens=sorted(rng.sample([16, 128, 700, 2048, 6000], 2)), solver="serving", **opts)


@pytest.mark.parametrize("seed", range(10))
def test_random_grids_agree_with_the_solver_loop(seed):
    grid = _grid(random.Random(2000 + seed))
    ref = dse.sweep(**grid, backend="scalar")  # one ServingModel.solve per point
    _agree_exactly(ref, dse.sweep(**grid))  # numpy when installed
    _agree_exactly(ref, dse.sweep(**grid, backend="python"))  # grouped, scalar steady state per point


def test_tensorrt_llm_runtimes_schedule_whole_chunks():
    """TensorRT-LLM's MicroBatchScheduler puts each context request into a step with its whole remaining length
    (the catalog's provenance): trtllm and nim (TensorRT-LLM behind NIM) both take chunk_count steps."""
    for name in ("trtllm", "nim"):
        assert _runtime(name).serving.prefill_step_model == "chunk_count"


@pytest.mark.parametrize("runtime", ["nim", "trtllm", "vllm"])
def test_chunk_count_and_per_request_host_groups_take_the_tier_not_the_solver(monkeypatch, runtime):
    calls = []
    real = ServingModel.solve

    def counting(self, *a, **k):
        calls.append(a)
        return real(self, *a, **k)

    grid = dict(models=["Llama3_8B", "Llama3_70B", "Mistral_7B"], hardware=["H100", "B200"],
                batch_sizes=[1, 16, 100, 256], precisions="fp8", seq_lens=[500, 5000], solver="serving",
                output_len=128, runtime=runtime, tensor_parallel=2)
    ref = dse.sweep(**grid, backend="scalar")
    assert not any(r["error"] for r in ref)
    monkeypatch.setattr(ServingModel, "solve", counting)
    tables = [dse.sweep(**grid, backend=backend) for backend in ("auto", "python")]
    assert calls == []
    monkeypatch.setattr(ServingModel, "solve", real)
    for got in tables:
        _agree_exactly(ref, got)


def test_chunk_count_points_are_vectorised(monkeypatch):
    """The nim group's points run in the vectorised steady state (none through the scalar steady_state per point)."""
    pytest.importorskip("numpy")
    from mlsysim.dse import serving_tier

    seen = []
    real = serving_tier._steady
    monkeypatch.setattr(serving_tier, "_steady", lambda *a: seen.append(a) or real(*a))
    t = dse.sweep(["Llama3_8B", "Llama3_70B"], ["H100"], [1, 8, 64, 250], "fp8", [500, 5000], solver="serving",
                  output_len=500, runtime="nim", tensor_parallel=2, backend="numpy")
    assert seen == [] and not any(r["error"] for r in t)


def test_handed_off_chunk_count_points_keep_the_solvers_figures(monkeypatch):
    """Late stragglers go to core.serving.scheduler.steady_state (with chunk_count); forced after the first pass."""
    pytest.importorskip("numpy")
    from mlsysim.dse import serving_steady as ss

    grid = dict(models=["Llama3_8B", "Gemma3_27B"], hardware=["H100", "L4"], batch_sizes=[1, 64], precisions="fp8",
                seq_lens=[700, 6000], solver="serving", output_len=128,
                runtime=_runtime("nim", mixed_prefill=False))
    ref = dse.sweep(**grid, backend="scalar")
    monkeypatch.setattr(ss, "HANDOFF_AFTER", 1)
    monkeypatch.setattr(ss, "HANDOFF_ITERATIONS", 0)
    _agree_exactly(ref, dse.sweep(**grid))
    _agree_exactly(dse.sweep(**dict(grid, runtime="nim"), backend="scalar"), dse.sweep(**dict(grid, runtime="nim")))


def test_gated_attention_weights_reach_the_vectorised_step():
    """attention_output_gate adds q_proj's gate rows (heads x head_dim x d per layer): the tier reads the spec's
    attention weights, so a gated Llama 3 8B streams more bytes per decode step than the plain one, and both agree
    with the solver bit for bit."""
    plain = Models.Llama3_8B
    gated = attrs.evolve(plain, name="Llama3_8B_gated", attention_output_gate=True, published_parameters=None)
    extra = gated.attention_parameters_per_layer - plain.attention_parameters_per_layer
    assert extra == plain.hidden_size * plain.heads * plain.head_dim  # the gate's rows, hand count
    grid = dict(models=[gated, plain], hardware=["H100", "L4"], batch_sizes=[1, 8, 64], precisions="fp16",
                seq_lens=[128, 2048], solver="serving", output_len=64, runtime="vllm", tensor_parallel=2)
    got = dse.sweep(**grid)
    _agree_exactly(dse.sweep(**grid, backend="scalar"), got)
    rows = list(got)
    half = len(rows) // 2
    for g, p in zip(rows[:half], rows[half:]):
        assert g["tpot"] > p["tpot"]  # memory-bound decode: more weight bytes per step


def test_physics_per_request_host_work_on_arrays():
    """serving_numpy.step_time adds the host's a + b n per step: against the same step with b = 0 it differs by
    b x (requests sampling a token) / pp, as StepModel.time does."""
    np = pytest.importorskip("numpy")
    from mlsysim.dse import serving_numpy as sn
    from mlsysim.dse.grid import make_space
    from mlsysim.dse.serving_tier import _Group

    space = make_space("Llama3_8B", "H100", [1], "fp16", [1024], "serving", None, {"runtime": "vllm"})
    g = _Group(space, 0, 0, 0)
    b = g.step.host_req
    assert b > 0
    nd = np.array([1.0, 16.0, 256.0])
    cd, zero = np.full(3, 1024.0 + 128.0), np.zeros(3)
    const = dict(sn.step_params(g.step), **sn.span_point(g.step, 1024, 256))  # whole-context attention
    c = sn.row_flags({k: np.full(3, v) for k, v in const.items()})
    c0 = sn.row_flags({k: np.full(3, v) for k, v in dict(const, host_req=0.0).items()})
    t, t0 = sn.step_time(c, nd, cd, zero, zero, zero, np.ones(3)), sn.step_time(c0, nd, cd, zero, zero, zero, np.ones(3))
    assert np.allclose(t - t0, b * nd, rtol=1e-9, atol=0.0)
    for i in range(3):
        assert t[i] == g.step.time(nd[i], cd[i], graph=1.0)


def test_physics_whole_chunks_cost_more_than_the_mean_load():
    """Steps are convex in their prefill tokens (each phase the max of two lines), so the expectation over the
    Poisson count of whole chunks is at least the step at the mean load (Jensen): nim's TPOT with chunk_count is at
    least the same runtime's with mean_load, at every point of the grid; one client sees no one else's prompts."""
    grid = dict(models=["Llama3_70B"], hardware=["H100"], batch_sizes=[1, 10, 50, 100], precisions="fp8",
                seq_lens=[5000], solver="serving", output_len=500, tensor_parallel=2)
    counted = dse.sweep(**grid, runtime="nim")
    mean = dse.sweep(**grid, runtime=_runtime("nim", prefill_step_model="mean_load"))
    for a, b in zip(counted, mean):
        assert a["tpot"] >= b["tpot"] * (1.0 - 1e-12)
    assert list(counted)[-1]["tpot"] > list(mean)[-1]["tpot"] * 1.01  # many clients: chunks are whole prompts


def test_prompt_lengths_leave_the_table_figures_and_bad_values_are_the_solvers_error():
    grid = dict(models=["Llama3_8B"], hardware=["H100"], batch_sizes=[1, 64], precisions="fp16", seq_lens=[1024],
                solver="serving", output_len=64, runtime="vllm")
    fixed = dse.sweep(**grid)
    _agree_exactly(fixed, dse.sweep(**grid, prompt_lengths="exponential"))  # itl_p50 only, not in the table
    bad = dse.sweep(**grid, prompt_lengths="lognormal")
    with pytest.raises(Exception) as exc:
        ServingModel().solve("Llama3_8B", "H100", 1, "fp16", prompt_len=1024, output_len=64, runtime="vllm",
                             prompt_lengths="lognormal")
    assert all(r["error"] and str(exc.value) in r["error"] for r in bad)
