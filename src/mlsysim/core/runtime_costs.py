"""Costs a runtime adds beyond the roofline, read from its catalog entry (catalog/runtimes/*.toml):

- launch cost per kernel on the device's hardware class (LaunchCost.by_class: llama.cpp's Metal back end on
  Apple silicon differs from its CUDA back end), in the phases it replays from graphs or not;
- dequantisation of a weight-only format: the packed weights stream at DequantCost.stream_efficiency x the
  float streaming bandwidth (a memory-bound mat-vec whose inner loop also unpacks and scales);
- memory it reserves (MemoryReserve: fixed bytes + a fraction of capacity), in place of the class reserve.

All plain-float reads of spec fields: called on Engine.solve's hot path.
"""
from __future__ import annotations

from ..specs.calibration import CalibrationClass
from ..specs.runtimes import QuantFormat, RuntimeSpec


def per_kernel_cost(rt: RuntimeSpec, phase: str, hardware_class: str) -> tuple[float, str, str]:
    """(seconds per kernel, how it is launched, catalog field it comes from) for `phase` on `hardware_class`."""
    launch = rt.launch
    override = launch.override(hardware_class)
    if override is not None:
        field = f"launch.by_class.{hardware_class}"
        if override._graph_kernel_cost is not None and phase in launch.graph_phases:
            return override._graph_kernel_cost, " replayed from a CUDA graph", field + ".graph_kernel_cost"
        return override._kernel_cost, "", field + ".kernel_cost"
    if phase in launch.graph_phases:
        return launch._graph_kernel_cost, " replayed from a CUDA graph", "launch.graph_kernel_cost"
    return launch._kernel_cost, "", "launch.kernel_cost"


def weight_stream_efficiency(fmt: QuantFormat | None, weight_only: bool) -> float:
    """Fraction of the float streaming bandwidth the weights of `fmt` stream at: its dequant.stream_efficiency
    when the weights are dequantised for the math (weight-only), 1 otherwise."""
    if fmt is None or not weight_only or fmt.dequant is None:
        return 1.0
    return fmt.dequant.stream_efficiency


def memory_reserve(rt: RuntimeSpec | None, cls: CalibrationClass, capacity: float) -> float:
    """Bytes the stack holds back from the model: the runtime's memory_reserve where it states one, else the
    hardware class's runtime_reserve (also the runtime=None figure)."""
    if rt is None or rt.memory_reserve is None:
        return cls._runtime_reserve
    return rt.memory_reserve.bytes_on(capacity)
