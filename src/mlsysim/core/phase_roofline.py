"""The per-phase roofline: each kernel phase waits on its own slower roof (Williams et al. 2009, 'Roofline: an
insightful visual performance model', CACM 52(4), applied per phase), so a pass's busy time is the sum over its
phases of max(compute, memory), and the bottleneck is the roof that bounds more of that time. One function for the
reference solve (core/solver.py) and its cached plans (core/solve_plan.py, core/runtime_plan.py)."""
from __future__ import annotations

from collections.abc import Sequence


def phase_busy(phases: Sequence[tuple[float, float, float]], achieved_flops: float, weight_bandwidth: float,
               bandwidth: float, times: Sequence[float] | None = None) -> tuple[float, str]:
    """(busy seconds, "Compute" or "Memory") of phases (FLOPs, weight bytes, other bytes); `times`: per-phase
    compute seconds from a shape roof, replacing FLOPs / achieved_flops."""
    bound_compute = bound_memory = 0.0
    for i, (flops, w_bytes, o_bytes) in enumerate(phases):
        c = flops / achieved_flops if times is None else times[i]
        mem = w_bytes / weight_bandwidth + o_bytes / bandwidth
        if c >= mem:
            bound_compute += c
        else:
            bound_memory += mem
    return bound_compute + bound_memory, "Compute" if bound_compute >= bound_memory else "Memory"
