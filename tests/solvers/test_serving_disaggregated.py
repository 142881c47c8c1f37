"""Disaggregated prefill/decode pools (issue 10): the limiting pool, KV transfer in TTFT, GPU accounting."""
from __future__ import annotations

import pytest

from mlsysim.errors import InvalidInputError
from mlsysim.solvers import ServingModel

S = ServingModel()
BASE = dict(prompt_len=4096, output_len=256)


def test_pools_limit_and_account_for_gpus():
    few_prefill = S.solve("Llama3_70B", "DGX_H100", 128, "fp8", **BASE, disaggregated={
        "prefill": {"tensor_parallel": 2, "workers": 1}, "decode": {"tensor_parallel": 4, "workers": 2}})
    d = few_prefill.disaggregation
    assert few_prefill.gpus == 2 + 8 and d["prefill_gpus"] == 2 and d["decode_gpus"] == 8
    more_prefill = S.solve("Llama3_70B", "DGX_H100", 128, "fp8", **BASE, disaggregated={
        "prefill": {"tensor_parallel": 2, "workers": 4}, "decode": {"tensor_parallel": 4, "workers": 2}})
    assert more_prefill.request_rate >= few_prefill.request_rate
    assert more_prefill.ttft <= few_prefill.ttft
    rate = few_prefill.request_rate.m_as("1/s")
    assert rate <= min(d["prefill_capacity_rps"], d["decode_capacity_rps"]) * (1 + 1e-9)
    assert few_prefill.disaggregation["limiting_pool"] in ("prefill", "decode")


def test_ttft_includes_the_kv_transfer():
    r = S.solve("Llama3_70B", "DGX_H100", 16, "fp8", **BASE, disaggregated={
        "prefill": {"tensor_parallel": 4}, "decode": {"tensor_parallel": 4}})
    d = r.disaggregation
    # 4096 tokens x 80 layers x 8 KV heads x 128 x 2 (K, V) x 2 bytes = 1.34 GB over 4 GPUs' 400 Gb/s NICs
    assert d["kv_bytes_per_request"] == pytest.approx(4096 * 80 * 8 * 128 * 2 * 2)
    assert d["kv_transfer_s"] == pytest.approx(d["kv_bytes_per_request"] / (4 * 50e9), rel=0.01)
    assert r.ttft.m_as("s") > d["kv_transfer_s"]


def test_bad_pool_spec_is_an_error():
    with pytest.raises(InvalidInputError, match="unknown keys"):
        S.solve("Llama3_8B", "DGX_H100", 8, "bf16", **BASE, disaggregated={"prefill": {"tp": 2}, "decode": {}})
    with pytest.raises(InvalidInputError, match="prefill"):
        S.solve("Llama3_8B", "DGX_H100", 8, "bf16", **BASE, disaggregated={"decode": {}})
