"""KV allocation and scheduling modes of serving runtimes: on-demand paging (vLLM, SGLang) admits more sequences
than worst-case reservation (TRT-LLM GUARANTEED_NO_EVICT) and still preempts when the mean footprint exceeds the
pool; SGLang's separate prefill steps; the frontend latency of a request."""
from __future__ import annotations

import attrs
import pytest

from mlsysim.core.serving import ServingModel
from mlsysim.core.serving.kv import kv_capacity
from mlsysim.core.solver import registries

RT = registries().roots["Runtimes"]


def _with(name, **serving):
    rt = RT.get(name)
    return attrs.evolve(rt, serving=attrs.evolve(rt.serving, **serving))


def test_catalog_modes():
    assert RT.get("vllm").serving.kv_allocation == "on_demand"
    assert RT.get("sglang").serving.kv_allocation == "on_demand" and RT.get("sglang").serving.mixed_prefill is False
    assert RT.get("trtllm").serving.kv_allocation == "reserve_max" and RT.get("trtllm").serving.mixed_prefill


def test_on_demand_admits_by_mean_tokens_hand_calculation():
    pool_bytes, per_token = 1e9, 1e5  # 10_000 tokens of pool
    reserved = kv_capacity(2e9, 2e9, 0.5e9, 0.5e9, per_token, 1000, 16)
    paged = kv_capacity(2e9, 2e9, 0.5e9, 0.5e9, per_token, 1000, 16, on_demand=True, mean_tokens=600)
    assert reserved.slots == int(pool_bytes // (1008 * per_token))  # whole blocks of prompt + output
    assert paged.slots == int(pool_bytes // ((600 + 8) * per_token))  # mean held + half a block
    assert paged.slots > reserved.slots


def test_on_demand_admits_more_than_reservation_and_still_preempts():
    s = ServingModel()
    kw = dict(prompt_len=512, output_len=2048, tensor_parallel=4)
    on = s.solve("Llama3_70B", "DGX_H100", 1, "bf16", runtime="vllm", **kw)
    off = s.solve("Llama3_70B", "DGX_H100", 1, "bf16", runtime=_with("vllm", kv_allocation="reserve_max"), **kw)
    # mean held = 512 + 1024 of 2560: about 2560 / 1544 as many fit
    assert on.max_concurrent_sequences > 1.5 * off.max_concurrent_sequences
    n = on.max_concurrent_sequences
    fits = s.solve("Llama3_70B", "DGX_H100", n, "bf16", runtime="vllm", **kw)
    past = s.solve("Llama3_70B", "DGX_H100", int(n * 1.3), "bf16", runtime="vllm", **kw)
    assert fits.feasible and not past.feasible
    assert any("preemption" in r and "on demand" in r for r in past.reasons)


def test_sglang_separate_prefill_steps():
    s = ServingModel()
    kw = dict(prompt_len=512, output_len=512, tensor_parallel=4, runtime="sglang")
    low = s.solve("Llama33_70B", "H200", 256, "bf16", arrival_rate=0.5, **kw)
    high = s.solve("Llama33_70B", "H200", 256, "bf16", arrival_rate=4.0, **kw)
    mixed = s.solve("Llama33_70B", "H200", 256, "bf16", arrival_rate=4.0,
                    **dict(kw, runtime=_with("sglang", mixed_prefill=True)))
    # the median gap is a bare decode step while under half the gaps hold a prefill step: it sits below the mean
    assert high.itl_p50.m_as("s") < high.tpot.m_as("s")
    assert low.tpot.m_as("s") <= high.tpot.m_as("s") and low.ttft.m_as("s") <= high.ttft.m_as("s")
    # prefill in its own steps re-reads the weights: the mean gap is longer than with chunks riding in decode
    assert high.tpot.m_as("s") > mixed.tpot.m_as("s")


def test_frontend_latency_adds_to_ttft_only():
    s = ServingModel()
    kw = dict(prompt_len=1024, output_len=256, arrival_rate=1.0, tensor_parallel=4)
    base = s.solve("Llama33_70B", "H200", 64, "bf16", runtime=_with("sglang", frontend_latency=None), **kw)
    fe = s.solve("Llama33_70B", "H200", 64, "bf16", runtime=_with("sglang", frontend_latency=0.01), **kw)
    assert fe.ttft.m_as("s") - base.ttft.m_as("s") == pytest.approx(0.01, rel=1e-3)
    assert fe.ttft_p50.m_as("s") - base.ttft_p50.m_as("s") == pytest.approx(0.01, rel=1e-3)
    assert fe.itl_p50.m_as("s") == pytest.approx(base.itl_p50.m_as("s"), rel=1e-3)
