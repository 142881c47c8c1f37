"""Serving power from utilisation (plain floats, hot path)."""

from __future__ import annotations


def step_activity(mfu: float, peak_flops: float, flops: float, step_bytes: float, bandwidth: float,
                  tpot: float, memory_power_fraction: float) -> float:
    """Dynamic-power share of a serving step, 0..1, as the engine's pass (core/power.py average_power): the compute
    busy share (prefill + decode FLOP rate, MFU x peak, over the step's achievable FLOP rate) plus the memory busy
    share (the decode step's weight + KV bytes at the step's bandwidth over the step time) weighted by the hardware
    class's memory_bound_power_fraction. The two add: back-to-back steps keep tensor cores and HBM busy together
    (ML.ENERGY's vLLM runs on H100 draw 490 W at 8 requests, streaming weights, and ~690 W, near TDP, at 256+)."""
    u_compute = min(mfu * peak_flops / flops, 1.0)
    u_memory = min(step_bytes / bandwidth / tpot, 1.0)
    return min(1.0, u_compute + memory_power_fraction * u_memory)


def serving_power(idle: float, tdp: float, activity: float) -> float:
    """Board power of one GPU at the given activity, W."""
    # linear utilisation power model: P = P_idle + (P_peak - P_idle) * u (Fan, Weber, Barroso 2007, 'Power
    # provisioning for a warehouse-sized computer', ISCA, sec. 4.1); ML.ENERGY measures serving power below TDP
    return idle + (tdp - idle) * activity
