"""InferenceScalingModel: K reasoning steps of T tokens on top of the prompt, decode over a growing context."""
from __future__ import annotations

import pytest

from mlsysim.errors import InvalidInputError, InvalidTypeError, UnsupportedModelError
from mlsysim.solvers import InferenceScalingModel, RooflineModel, ServingModel

isc = InferenceScalingModel()
ms = lambda q: q.to("ms").magnitude  # noqa: E731


def test_time_adds_up():
    r = isc.solve("Llama3_8B", "H100", 8, 2048, "bf16")
    assert r.tokens_generated == 8 * 50 and r.final_context == 2048 + 400
    assert ms(r.total_reasoning_time) == pytest.approx(ms(r.ttft) + 8 * ms(r.time_per_step))
    assert ms(r.total_reasoning_time) == pytest.approx(ms(r.ttft) + 399 * ms(r.itl))  # first token from prefill
    direct = ServingModel().solve("Llama3_8B", "H100", 1, "bf16", prompt_len=2048, output_len=400, batching="static")
    assert ms(r.total_reasoning_time) == pytest.approx(ms(direct.latency))
    assert r.energy_per_query == direct.energy


def test_mean_step_is_the_step_at_the_mean_context():
    # Decode time is affine in the context: N steps from c0 to c0 + N cost N x step(c0 + N/2).
    r = isc.solve("Llama3_8B", "H100", 40, 1024, "bf16", tokens_per_step=100)
    roof = RooflineModel()
    exact = sum(ms(roof.solve("Llama3_8B", "H100", 1, "bf16", seq_len=1024 + i).latency)
                for i in range(0, 4000, 50)) * 50
    assert 3999 * ms(r.itl) == pytest.approx(exact, rel=2e-3)


def test_more_thinking_costs_more_than_linearly():
    short = isc.solve("Llama3_8B", "H100", 10, 1024, tokens_per_step=100)
    long = isc.solve("Llama3_8B", "H100", 100, 1024, tokens_per_step=100)
    assert ms(long.itl) > ms(short.itl)  # each token reads a longer KV cache
    decode = lambda r: ms(r.total_reasoning_time) - ms(r.ttft)  # noqa: E731
    assert decode(long) > 10 * decode(short)
    assert long.energy_per_query.to("J").magnitude > 5 * short.energy_per_query.to("J").magnitude
    assert ms(long.ttft) == pytest.approx(ms(short.ttft))  # same prompt


def test_chain_that_outgrows_memory_is_infeasible():
    ok = isc.solve("Llama2_7B", "T4", 8, 1024)
    too_long = isc.solve("Llama2_7B", "T4", 200, 1024)
    assert ok.feasible and not too_long.feasible
    assert any("KV cache" in line for line in too_long.constraint_trace)


def test_bad_input():
    with pytest.raises(InvalidInputError):
        isc.solve("Llama3_8B", "H100", 0)
    with pytest.raises(InvalidTypeError):
        isc.solve("Llama3_8B", "H100", 8, tokens_per_step=2.5)
    with pytest.raises(UnsupportedModelError):
        isc.solve("ResNet50", "H100")
    with pytest.raises(InvalidInputError):
        isc.solve("GPT2", "H100", 8, 1000)  # 1000 + 400 tokens exceed GPT-2's 1024 learned positions
