"""Utilisation guard: a measured row whose rate implies more model FLOP/s than the device's dense peak at the
row's precision has a wrong workload definition (too long a sequence, padded tokens counted that the runtime
never computed, a per-system figure read per device, sparse peak mistaken for dense), not a model error.

implied utilisation = model FLOPs per item (the engine's count for the row's workload: 2N per token plus
attention, Kaplan et al. 2020; 6N per token training) x measured items/s / dense peak FLOP/s at the row's compute
precision (the engine's PerformanceProfile.dense_peak_flops). A time metric (latency_ms, ttft_ms) is turned into
a rate as the items of one pass over the measured time.
"""
from __future__ import annotations

from typing import Any

# Above the dense peak is impossible for a correctly defined workload (the MFU ceiling, Chowdhery et al. 2022).
UTILISATION_LIMIT = 1.0


def implied_utilisation(metric: str, measured: float, profile: Any) -> float | None:
    """Model FLOP/s implied by the measurement over the dense peak; None for metrics that are not a rate or a
    pass time (energy, memory, fits)."""
    from . import RATE_METRICS, TIME_METRICS

    latency = profile.latency.to("s").magnitude
    items = profile.throughput.magnitude * latency  # items (tokens or samples) of one pass
    if metric in RATE_METRICS:
        rate = measured
    elif metric in TIME_METRICS:
        rate = items / (measured * 1e-3)
    else:
        return None
    return profile.flops / items * rate / profile.dense_peak_flops


def flagged(results: list[Any]) -> list[Any]:
    """Rows whose measurement implies utilisation above UTILISATION_LIMIT."""
    return [r for r in results if r.utilisation is not None and r.utilisation > UTILISATION_LIMIT]
