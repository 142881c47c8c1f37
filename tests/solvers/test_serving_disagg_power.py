"""Disaggregated prefill/decode energy from each pool's utilisation (P_idle + (TDP - P_idle) x activity per GPU),
not every GPU at TDP."""
from __future__ import annotations

import pytest

from mlsysim import Hardware
from mlsysim.core.serving import ServingModel

POOLS = {"prefill": {"tensor_parallel": 2, "workers": 1}, "decode": {"tensor_parallel": 4, "workers": 1}}
KW = dict(prompt_len=2048, output_len=256, disaggregated=POOLS)


def _solve(batch, pools=POOLS):
    return ServingModel().solve("Llama3_70B", "H100", batch, "fp8", **dict(KW, disaggregated=pools))


def test_pool_power_between_idle_and_tdp_and_energy_is_power_over_rate():
    hw = Hardware.get("H100")
    idle, tdp = hw.power.idle.m_as("W"), hw.power.tdp.m_as("W")
    for batch in (2, 32, 256):
        r = _solve(batch)
        d = r.disaggregation
        for pool, gpus in (("prefill", 2), ("decode", 4)):
            assert gpus * idle <= d[f"{pool}_power_w"] < gpus * tdp
        total = d["prefill_power_w"] + d["decode_power_w"]
        assert r.energy.m_as("J") == pytest.approx(total / r.request_rate.m_as("1/s"), rel=1e-12)
        assert r.energy.m_as("J") < 6 * tdp / r.request_rate.m_as("1/s")  # below the all-TDP bound


def test_an_underused_prefill_pool_draws_less():
    light, heavy = _solve(2), _solve(256)  # decode-limited vs prefill-limited
    assert light.disaggregation["limiting_pool"] == "decode" and heavy.disaggregation["limiting_pool"] == "prefill"
    assert light.disaggregation["prefill_power_w"] < heavy.disaggregation["prefill_power_w"]
    more = dict(POOLS, prefill={"tensor_parallel": 2, "workers": 4})  # 4 workers share the same prompts
    spare = _solve(2, more).disaggregation
    assert spare["prefill_power_w"] / 4 < light.disaggregation["prefill_power_w"]
