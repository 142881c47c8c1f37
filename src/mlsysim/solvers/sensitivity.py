"""Which hardware figure binds: the elasticity of latency to each figure the roofline reads.

For each figure x (peak compute, memory bandwidth, memory capacity, kernel launch overhead, and flash
bandwidth on microcontrollers) the device spec is rebuilt with x scaled by (1 + h) and by (1 - h)
(attrs.evolve, the catalog field's own name and canonical unit) and re-solved with mlsysim.Engine.solve. The
elasticity is the central difference in logs,
  e_x = d ln latency / d ln x ~ ln(t(+h) / t(-h)) / ln((1 + h) / (1 - h)),
so e = -1 means latency falls in proportion to the figure (the figure binds), e = 0 that it does not matter.
The figure with the largest |e| is the binding constraint. Measured figures move with their datasheet
figures (calibration.matmul_flops with the peaks, calibration.memory_bandwidth with memory.bandwidth), so the
rate the engine applies scales by exactly (1 +/- h).

Physics check: the roofline latency is homogeneous of degree -1 in the rates and +1 in the launch overhead
(scale every rate by k and the overhead by 1/k and every phase takes 1/k as long), so by Euler's theorem
  e_peak + e_bandwidth (+ e_flash) - e_launch = -1,
up to the curvature the finite step sees. A memory-bound decode step has e_bandwidth near -1 (less the share of
launch overhead) and e_peak near 0; a compute-bound training step the reverse.

Not modelled: figures the single-device roofline does not read (interconnect, on-chip SRAM, power), and
the discrete jumps where a change of capacity makes a model fit (latency does not depend on capacity).
"""
from __future__ import annotations

import math
from typing import Any

import attrs

from ..core.engine import Engine
from ..core.inputs import resolve_hardware
from ..errors import InvalidInputError
from ..specs.fields import figure
from ..specs.hardware import PRECISIONS, HardwareSpec
from ..units import quantity
from ._design import as_figure
from ._result import SolverResult

# The perturbation must stay a small step below 100 % (the -h side would reach zero).
MAX_PERTURBATION_PCT = 50.0


@attrs.frozen(kw_only=True)
class SensitivityResult(SolverResult):
    sensitivities: dict            # figure -> elasticity d ln latency / d ln figure
    binding_constraint: str        # the figure with the largest |elasticity|
    baseline_latency: Any
    perturbation_pct: float
    bottleneck: str                # the baseline's roofline verdict
    constraint_trace: tuple[str, ...] = ()


def _scaled_table(table: Any, factor: float) -> Any:
    if table is None:
        return None
    values = {p: figure(table, p) for p in PRECISIONS}
    return attrs.evolve(table, **{p: v * factor for p, v in values.items() if v is not None})


def _scale(hw: HardwareSpec, name: str, factor: float) -> HardwareSpec:
    """`hw` with figure `name` (and its measured twin) multiplied by `factor`."""
    cal = hw.calibration
    if name == "peak_flops":
        if cal is not None:
            cal = attrs.evolve(cal, matmul_flops=_scaled_table(cal.matmul_flops, factor))
        # A microcontroller's compute rate is its core clock (cycles model, core/mcu_cycles.py): scale it too.
        core = None if hw.core is None else attrs.evolve(hw.core, clock=figure(hw.core, "clock") * factor)
        return attrs.evolve(hw, peak_dense=_scaled_table(hw.peak_dense, factor),
                            peak_sparse=_scaled_table(hw.peak_sparse, factor), calibration=cal, core=core)
    if name == "memory_bandwidth":
        if cal is not None and figure(cal, "memory_bandwidth") is not None:
            cal = attrs.evolve(cal, memory_bandwidth=figure(cal, "memory_bandwidth") * factor)
        memory = attrs.evolve(hw.memory, bandwidth=figure(hw.memory, "bandwidth") * factor)
        return attrs.evolve(hw, memory=memory, calibration=cal)
    if name == "memory_capacity":
        return attrs.evolve(hw, memory=attrs.evolve(hw.memory, capacity=figure(hw.memory, "capacity") * factor))
    if name == "flash_bandwidth":
        return attrs.evolve(hw, flash=attrs.evolve(hw.flash, bandwidth=figure(hw.flash, "bandwidth") * factor))
    assert name == "launch_overhead"
    return attrs.evolve(hw, launch_overhead=figure(hw, "launch_overhead") * factor)


class SensitivitySolver:
    """Elasticity of Engine.solve's latency to each hardware figure, and the figure that binds."""

    def solve(self, model: Any, hardware: Any, precision: str = "fp16", perturbation_pct: float = 10.0,
              efficiency: float | None = 0.5, *, batch_size: int = 1, seq_len: int | None = None,
              is_training: bool = False, runtime: Any = None) -> SensitivityResult:
        """model, hardware: specs or registry names; precision and efficiency as for Engine.solve (None:
        calibrated efficiency); perturbation_pct: the step h in percent, in (0, 50]. Keyword-only: batch_size,
        seq_len, is_training, runtime (passed to Engine.solve; under a runtime its per-kernel cost, not the
        device's launch_overhead, sets the fixed cost, so launch_overhead's elasticity is 0)."""
        hw = resolve_hardware(hardware)
        pct = as_figure("perturbation_pct", perturbation_pct, "")
        if pct > MAX_PERTURBATION_PCT:
            raise InvalidInputError(f"perturbation_pct must be in (0, {MAX_PERTURBATION_PCT:g}] (a small step), "
                                    f"got {perturbation_pct!r}")
        h = pct / 100.0

        def latency(spec: HardwareSpec) -> float:
            return Engine.solve(model, spec, batch_size, precision, efficiency, is_training=is_training,
                                seq_len=seq_len, runtime=runtime).latency.to("s").magnitude

        baseline = Engine.solve(model, hw, batch_size, precision, efficiency, is_training=is_training,
                                seq_len=seq_len, runtime=runtime)
        names = ["peak_flops", "memory_bandwidth", "memory_capacity", "launch_overhead"]
        if hw.flash is not None:
            names.append("flash_bandwidth")
        step = math.log((1.0 + h) / (1.0 - h))
        sensitivities = {name: math.log(latency(_scale(hw, name, 1.0 + h)) / latency(_scale(hw, name, 1.0 - h)))
                         / step for name in names}  # central difference of ln t against ln x
        binding = max(sensitivities, key=lambda k: abs(sensitivities[k]))
        euler = sensitivities["peak_flops"] + sensitivities["memory_bandwidth"] \
            + sensitivities.get("flash_bandwidth", 0.0) - sensitivities["launch_overhead"]
        trace = (f"+/-{pct:g} % on each figure of {hw.name}; rates' elasticities minus the overhead's sum to "
                 f"{euler:.3f} (-1 by homogeneity" + (")" if runtime is None else
                                                       "; above -1 by the runtime's fixed per-kernel cost)"),)
        return SensitivityResult(sensitivities=sensitivities, binding_constraint=binding,
                                 baseline_latency=quantity(baseline.latency.to("ms").magnitude, "ms"),
                                 perturbation_pct=pct, bottleneck=baseline.bottleneck, constraint_trace=trace)
