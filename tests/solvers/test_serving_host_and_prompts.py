"""Host work per request in a step (runtime serving.request_overhead, vLLM V1's scheduler and output loops) and
varied prompt lengths (ServingModel.solve prompt_lengths="exponential"), which set the median inter-token gap."""
from __future__ import annotations

import math

import pytest

from mlsysim.core.inputs import resolve_model
from mlsysim.core.serving import ServingModel
from mlsysim.core.serving.scheduler import _compound_cdf, _median_prefill_tokens
from mlsysim.errors import InvalidInputError


def _vllm_step():
    s = ServingModel()
    *_, params, step = s.build_step(resolve_model("Llama3_8B"), "H100", "bf16", None, 1, 1, 1, 1, "vllm", False, None)
    return params, step


def test_host_work_grows_by_the_fitted_cost_per_request():
    params, step = _vllm_step()
    assert params.request_overhead > 0
    # the same step with 200 more decode requests: bytes and FLOPs grow too, so compare against a twin step
    # whose host part is fixed
    b = params.request_overhead
    t1, t2 = step.pass_time(10.0, 700.0), step.pass_time(210.0, 700.0)
    step.host_req = 0.0
    u1, u2 = step.pass_time(10.0, 700.0), step.pass_time(210.0, 700.0)
    assert (t2 - t1) - (u2 - u1) == pytest.approx(200 * b, rel=1e-9)


def test_median_prefill_tokens_is_the_compound_median():
    assert _median_prefill_tokens(0.5, 512.0) == 0.0  # P(no prompt) = 0.61 >= 1/2
    for lam in (0.8, 1.5, 4.0):
        x = _median_prefill_tokens(lam, 512.0)
        assert _compound_cdf(x, lam, 512.0) == pytest.approx(0.5, abs=1e-6)
    xs = [_median_prefill_tokens(lam, 512.0) for lam in (0.7, 1.0, 2.0, 4.0, 8.0)]
    assert xs == sorted(xs)
    assert _median_prefill_tokens(50.0, 512.0) == pytest.approx(50 * 512, rel=0.05)  # law of large numbers
    assert _compound_cdf(0.0, 2.0, 512.0) == pytest.approx(math.exp(-2.0))


def test_varied_prompts_only_move_the_median_gap():
    s = ServingModel()
    kw = dict(prompt_len=512, output_len=394, runtime="vllm")
    fixed = s.solve("Llama3_8B", "H100", 384, "bf16", **kw)
    varied = s.solve("Llama3_8B", "H100", 384, "bf16", prompt_lengths="exponential", **kw)
    assert varied.tpot.m_as("s") == fixed.tpot.m_as("s") and varied.ttft.m_as("s") == fixed.ttft.m_as("s")
    assert varied.itl_p50.m_as("s") < fixed.itl_p50.m_as("s")  # the median step carries a shorter prompt
    light = [s.solve("Llama3_8B", "H100", 16, "bf16", prompt_lengths=p, **kw).itl_p50.m_as("s")
             for p in ("fixed", "exponential")]
    assert light[0] == light[1]  # most steps carry no prompt: the median is the decode-only step either way


def test_unknown_prompt_lengths_is_refused():
    with pytest.raises(InvalidInputError, match="prompt_lengths must be one of fixed, exponential"):
        ServingModel().solve("Llama3_8B", "H100", 4, "bf16", prompt_len=512, prompt_lengths="uniform")
