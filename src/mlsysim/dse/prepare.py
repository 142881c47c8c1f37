"""What the engine tier computes once per device x precision and once per workload, before any grid point.

Device figures (one entry per hardware x precision of the grid) follow RooflineModel.solve exactly: the dense
peak of the compute units the precision resolves to, x the measured matmul efficiency or the class's; the
measured memory bandwidth or datasheet x class streaming efficiency; the launch overhead; the power model's
TDP, idle and memory-bound fraction; capacity and runtime reserve. Devices the scalar solver runs on special
paths (a microcontroller's cycles model, weights in flash) are marked for the scalar solver.

A workload is (model, batch, sequence length, weight bytes, activation bytes, fp32 math or mixed):
core.workload.workload_cost depends on nothing else (with the sweep's training options for a training step), so
one cost serves every device whose precision stores the same bytes.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..core import solver as _solver
from ..core.precision import _DefaultPrecision, default_precision, resolve_precision
from ..core.workload import workload_cost

SCALAR, ERROR = "scalar", "error"


@dataclass(frozen=True)
class Device:
    precision: str      # the requested (or defaulted) precision name, as the scalar result reports it
    bytes_key: tuple[float, float, bool]  # (weight bytes, activation bytes, fp32 math: plain Adam state)
    prec: Any           # ExecutionPrecision
    achieved: float     # FLOP/s: dense peak x efficiency
    peak: float         # dense peak of the compute units, FLOP/s
    weight_bw: float    # B/s weights stream at
    bandwidth: float    # B/s everything else streams at
    launch: float       # s per kernel launch
    tdp: float
    idle: float
    memory_power_fraction: float
    capacity: float     # bytes
    reserve: float      # bytes the runtime keeps


def device(hw: Any, precision: Any, efficiency: float | None, training: bool = False) -> Device | tuple[str, str]:
    """Device figures, or (SCALAR, why) for a special path, or (ERROR, message) when the point cannot run."""
    if hw.core is not None or hw.flash is not None:
        return SCALAR, "microcontroller path (cycles model, flash)"
    try:
        if precision is None or type(precision) is _DefaultPrecision:
            precision, _ = default_precision(hw, training)
        prec = resolve_precision(hw, precision, training=training)
        cls = _solver.calibration_class(hw)
        eff = efficiency
        if eff is None:  # same rule as RooflineModel.solve: measured matmul rate, else the class efficiency
            measured = _solver._measured_matmul(hw, prec.compute)
            eff = _solver._measured_efficiency(hw, prec.compute, measured / prec.peak_flops) if measured \
                else cls.matmul_efficiency
    except Exception as exc:  # noqa: BLE001 -- the point's error, reported in its row
        return ERROR, f"{type(exc).__name__}: {exc}"
    measured_bw = hw.calibration._memory_bandwidth if hw.calibration else None
    bandwidth = measured_bw or hw.memory._bandwidth * cls.memory_efficiency
    return Device(prec.requested, (prec.weight_bytes, prec.activation_bytes, prec.compute == "fp32"), prec, prec.peak_flops * eff,
                  prec.peak_flops, bandwidth, bandwidth, hw._launch_overhead, hw.power._tdp, hw.power._idle,
                  cls.memory_bound_power_fraction, hw.memory._capacity, cls._runtime_reserve)


def sequence(model: Any, seq_len: int | None) -> int | None | tuple[str, str]:
    """The context the scalar solver would use (the model's default when None), or (ERROR, message)."""
    try:
        return _solver._sequence_length(model, seq_len, [])
    except Exception as exc:  # noqa: BLE001
        return ERROR, f"{type(exc).__name__}: {exc}"


@dataclass(frozen=True)
class Workload:
    phases: tuple[tuple[float, float, float], ...]  # (FLOPs, weight bytes, other bytes); one phase if none
    hardware_flops: float
    weight_traffic: float
    other_traffic: float
    model_flops: float
    kernels: float
    items: float
    unit: str
    held: float  # bytes held before the runtime reserve: weights + KV + activations + gradients + optimizer


def workload(model: Any, batch: int, seq: int | None, prec: Any, training: Any = None) -> Workload | tuple[str, str]:
    try:
        c = workload_cost(model, batch, seq or 0, prec, training, False)
    except Exception as exc:  # noqa: BLE001
        return ERROR, f"{type(exc).__name__}: {exc}"
    # No phases: the solver takes max(compute, memory) of the totals, which is the roofline of one phase.
    phases = c.phases or ((c.hardware_flops, c.weight_traffic, c.other_traffic),)
    held = c.weights + c.kv_cache + c.activations + c.gradients + c.optimizer_state  # MemoryBreakdown.total order
    return Workload(phases, c.hardware_flops, c.weight_traffic, c.other_traffic, c.model_flops, float(c.kernels),
                    c.items, c.item_unit, held)
