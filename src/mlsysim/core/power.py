"""Device power during a pass: between idle and TDP, driven by how busy compute and memory are.

P = P_idle + (P_tdp - P_idle) x min(1, u_compute + f_mem x u_memory)
u_compute = compute time / latency and u_memory = memory time / latency are the busy fractions; f_mem is the
class's memory_bound_power_fraction (a memory-bound decode still toggles HBM, caches and load units). The
two dynamic terms add: tensor cores and the memory system draw power at the same time when both are busy.
"""
from __future__ import annotations


def average_power(tdp: float, idle: float, compute_time: float, memory_time: float, latency: float,
                  memory_power_fraction: float) -> float:
    u_compute = min(compute_time / latency, 1.0)
    u_memory = min(memory_time / latency, 1.0)
    activity = min(1.0, u_compute + memory_power_fraction * u_memory)
    return idle + (tdp - idle) * activity
