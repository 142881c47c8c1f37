"""The shape roof on Ampere, Ada and Blackwell devices (catalog compute_units): sourced SM counts, and a pipeline
ramp that is the sm_90 fit's fill/drain time at each device's tensor rate per SM (so a slower SM waits fewer
K-steps), with the GEMM physics that follows: wave quantisation on the device's own SM count, large GEMMs at the
roof, small ones far below it."""
from __future__ import annotations

import pytest

import mlsysim
from mlsysim.core.gemm_roof import gemm_efficiency, relative_gemm_efficiency
from mlsysim.core.solver import RooflineModel

# SM counts from the architecture whitepapers / datasheets cited in each entry's compute_units provenance.
SMS = {"A100": 108, "A100_80GB": 108, "A100_40GB": 108, "A100_40GB_PCIe": 108, "A100_80GB_PCIe": 108, "A30": 56,
       "RTX3090": 82, "A40": 84, "A10": 72, "RTX4090": 128, "L4": 58, "L40": 142, "L40S": 142, "B200": 148}
H100_RATE_PER_SM = 989.4e12 / 132
H100_RAMP = 160


def _units(name):
    return mlsysim.Hardware.get(name).compute_units


@pytest.mark.parametrize("name", sorted(SMS))
def test_sm_count_and_provenance(name):
    units = _units(name)
    assert units is not None and units.sms == SMS[name]
    assert units.provenance.kind == "estimate"  # no GEMM sweep fitted on this architecture yet: said so


@pytest.mark.parametrize("name", sorted(SMS))
def test_ramp_is_the_sm90_fill_time_at_this_devices_rate_per_sm(name):
    hw = mlsysim.Hardware.get(name)
    peak = hw.peak_dense.get("bf16") or hw.peak_dense.get("fp16")
    expected = H100_RAMP * (peak / hw.compute_units.sms) / H100_RATE_PER_SM
    assert hw.compute_units.gemm_k_ramp == pytest.approx(expected, abs=0.5)


def test_slower_sm_reaches_the_roof_at_smaller_k():
    # Same tile, same SM count: the device with the shorter ramp (slower tensor units per SM) loses less to the
    # pipeline fill of a short-K GEMM.
    a100, h100 = _units("A100"), _units("H100")
    k = 256
    e_a = gemm_efficiency(108 * 128, 256, k, 108, 128, 256, a100.gemm_k_ramp)
    e_h = gemm_efficiency(108 * 128, 256, k, 108, 128, 256, h100.gemm_k_ramp)
    assert e_a > e_h
    assert e_a == pytest.approx(k / (k + a100.gemm_k_ramp))


@pytest.mark.parametrize("name", ["A100_80GB", "L4", "RTX4090", "B200"])
def test_limits_large_gemm_at_roof_tiny_gemm_far_below(name):
    u = _units(name)
    big = relative_gemm_efficiency(16384, 16384, 16384, u.sms, *u.gemm_tile, u.gemm_k_ramp)
    tiny = relative_gemm_efficiency(64, 64, 64, u.sms, *u.gemm_tile, u.gemm_k_ramp)
    assert big == pytest.approx(1.0, abs=0.03)
    assert tiny < 0.05


def test_wave_quantisation_follows_the_devices_sm_count():
    # 58 tiles fill the L4's 58 SMs in one wave; 59 tiles need a second wave of the same length.
    u = _units("L4")
    k = 4096
    t = [128 * tiles * 256 * k / gemm_efficiency(128 * tiles, 256, k, u.sms, *u.gemm_tile, u.gemm_k_ramp)
         for tiles in (58, 59)]
    assert t[1] == pytest.approx(2 * t[0], rel=1e-9)


def test_runtime_prefill_on_a100_uses_the_shape_roof_and_grows_with_the_prompt():
    times = []
    for seq in (128, 512, 2048):
        r = RooflineModel().solve("Llama3_8B", "A100_80GB", 1, "fp16", prefill=True, seq_len=seq, runtime="vllm")
        assert any("shape roof" in why and "108 SMs" in why for why in r.reasons)
        times.append(r.latency.m_as("s"))
    assert times[0] < times[1] < times[2]
