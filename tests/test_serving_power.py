"""Serving energy from utilisation: P = idle + (TDP - idle) x activity (core/serving/power.py)."""

from mlsysim import Hardware
from mlsysim.core.serving.model import ServingModel
from mlsysim.core.serving.power import serving_power, step_activity


def _run(batch, **kw):
    return ServingModel().solve("Llama3_8B", "H100", batch, "fp16", prompt_len=512, output_len=64, **kw)


def test_power_model_by_hand():
    assert serving_power(100.0, 700.0, 0.0) == 100.0
    assert serving_power(100.0, 700.0, 1.0) == 700.0
    assert serving_power(100.0, 700.0, 0.5) == 400.0
    # 8 GB at 2 TB/s in a 5 ms step: memory 80 % busy, beats an MFU of 0.3; clamped at 1
    assert abs(step_activity(0.3, 1e15, 6e14, 8e9, 2e12, 5e-3) - 0.8) < 1e-12
    assert abs(step_activity(0.3, 1e15, 3.5e14, 8e9, 2e12, 5e-3) - 0.3e15 / 3.5e14) < 1e-12
    assert step_activity(0.9, 1e15, 6e14, 8e9, 2e12, 1e-3) == 1.0


def test_energy_between_idle_and_tdp():
    hw = Hardware.H100
    for batch in (1, 8, 64):
        r = _run(batch)
        per_request_s = r.gpus / r.request_rate.m_as("1/s")  # GPU-seconds per request
        e = r.energy.m_as("J")
        assert hw.power._idle * per_request_s <= e <= hw.power._tdp * per_request_s


def _avg_power(r):
    return r.energy.m_as("J") * r.request_rate.m_as("1/s") / r.gpus  # average W per GPU


def test_power_rises_with_load():
    powers = [_avg_power(_run(256, arrival_rate=rate)) for rate in (0.05, 0.2, 1.0, 5.0)]
    assert all(a < b for a, b in zip(powers, powers[1:])), powers
    assert Hardware.H100.power._idle < powers[0] < Hardware.H100.power._tdp
    assert powers[-1] <= Hardware.H100.power._tdp


def test_closed_loop_below_tdp_and_energy_falls_with_batching():
    for batch in (1, 16, 64):
        assert Hardware.H100.power._idle < _avg_power(_run(batch)) <= Hardware.H100.power._tdp
    # energy per request falls with batching: the board's power is shared over more requests
    assert _run(64).energy.m_as("J") < _run(1).energy.m_as("J")
