"""Serving power from utilisation (plain floats, hot path)."""

from __future__ import annotations


def step_activity(mfu: float, peak_flops: float, flops: float, step_bytes: float, bandwidth: float,
                  tpot: float) -> float:
    """Busy share of a serving step, 0..1: the more stressed of compute (prefill + decode FLOP rate, MFU x peak,
    over the step's achievable FLOP rate) and memory (the decode step's weight + KV bytes at the step's
    bandwidth over the step time)."""
    # max of the unit utilisations: the step is as busy as its bottleneck unit (roofline; Fan et al. 2007 sec. 4)
    return min(1.0, max(mfu * peak_flops / flops, step_bytes / bandwidth / tpot))


def serving_power(idle: float, tdp: float, activity: float) -> float:
    """Board power of one GPU at the given activity, W."""
    # linear utilisation power model: P = P_idle + (P_peak - P_idle) * u (Fan, Weber, Barroso 2007, 'Power
    # provisioning for a warehouse-sized computer', ISCA, sec. 4.1); ML.ENERGY measures serving power below TDP
    return idle + (tdp - idle) * activity
