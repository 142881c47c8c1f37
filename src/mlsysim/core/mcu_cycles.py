"""Microcontroller compute time from cycles per MAC: core micro-architecture x layer type x kernel library.

An in-order Cortex-M core runs int8 inference as a loop of SIMD multiply-accumulates whose cost per MAC is set
by the kernel library (im2col, requantisation, loop and load overhead around SMLAD) and the layer's shape: a
network's first convolution (1-3 input channels) and depthwise convolutions reuse each loaded operand far less
than pointwise/standard convolutions, and a fully connected layer loads one weight per MAC (Lai et al. 2018,
CMSIS-NN, arXiv:1801.06601, sections 3-4). So

    time = sum over layer types of MACs(type) x cycles_per_mac(library, type) x mac_cycle_scale(core) / clock

with the library's cycles per MAC measured on its reference core (catalog/runtimes: mcu.cycles_per_mac, or a table
measured on the device's own core, mcu.by_core, where the library's per-layer counts there are published) and the
core's cycles relative to that core (catalog/hardware: core.mac_cycle_scale: Cortex-M7 dual issue and 64-bit
loads ~0.57, Cortex-M33 ~0.81 of a Cortex-M4, from MLPerf Tiny runs of one library on both cores). The runtime's
per-layer dispatch cost is added by the solver (launch.kernel_cost per layer). Figures and their fit:
tools/fit_mcu_cycles.py.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs

from ..errors import CatalogError, InvalidInputError
from ..specs.hardware import HardwareSpec

if TYPE_CHECKING:  # annotations only: the layer kinds are imported where a cycles table is read
    from ..specs.runtimes import RuntimeSpec

# Precision of the kernels the cycles tables describe (CMSIS-NN, X-CUBE-AI and microTVM int8 kernels).
MCU_PRECISION = "int8"


@attrs.frozen
class McuPlan:
    runtime: RuntimeSpec
    seconds: float  # compute time of one sample, dispatch excluded


def core_scale(hw: HardwareSpec, rt: RuntimeSpec) -> float:
    """Cycles per MAC of the device's core relative to the library's reference core; an error names the fix."""
    core, mcu = hw.core, rt.mcu
    if core.name not in mcu.cores:
        raise InvalidInputError(f"{rt.display_name} has no kernels for {core.name} ({hw.display_name}); it has "
                                f"{', '.join(mcu.cores)}. Pick a runtime whose mcu.cores lists {core.name}, or add "
                                f"{core.name} to mcu.cores of {rt.name} in catalog/runtimes with its source")
    if mcu.measured_on(core.name):  # the reference core, or a core with its own per-layer table (mcu.by_core)
        return 1.0
    if core.mac_cycle_scale is None:
        raise CatalogError(f"core {core.name} has no mac_cycle_scale", entry=hw.name, field="core.mac_cycle_scale",
                           expected=f"cycles per MAC of {core.name} relative to {mcu.reference_core} (measured: the "
                                    f"same model and library on both cores; see tools/fit_mcu_cycles.py)")
    return core.mac_cycle_scale


def cycles_per_mac(rt: RuntimeSpec, hw: HardwareSpec, kind: str) -> float:
    """Cycles per int8 MAC of a `kind` layer under runtime `rt` on the device's core."""
    if rt.mcu is None:
        raise InvalidInputError(f"{rt.display_name} has no microcontroller cycles table (mcu.cycles_per_mac); use "
                                f"one of the runtimes that has one (cmsis_nn, x_cube_ai, microtvm, microtvm_cmsis_nn)")
    if hw.core is None:
        raise InvalidInputError(f"{hw.display_name} has no core table (core.name, core.clock): the cycles model "
                                f"needs one; add it to its catalog/hardware entry")
    from ..specs.runtimes import MAC_LAYER_KINDS

    if kind not in MAC_LAYER_KINDS:
        raise InvalidInputError(f"unknown layer type {kind!r}; the cycles model knows {', '.join(MAC_LAYER_KINDS)}")
    return rt.mcu.table_for(hw.core.name).get(kind) * core_scale(hw, rt)


def sample_cycles(model: Any, rt: RuntimeSpec, hw: HardwareSpec) -> float:
    """Core cycles of one sample: sum over layer types of MACs x cycles per MAC (dispatch excluded)."""
    table = getattr(model, "layer_table", None)
    by_kind = table.macs_by_kind if table is not None else ()
    if not by_kind:
        raise InvalidInputError(f"{model.display_name} has no per-layer types (layer_table.kinds), which the "
                                f"microcontroller cycles model needs: add them (tools/cnn_layers.py prints them), "
                                f"or pass efficiency= to use the roofline")
    scale = core_scale(hw, rt)  # first: an unknown core is an error naming the fix
    per_mac = rt.mcu.table_for(hw.core.name)
    return sum(macs * per_mac.get(kind) for kind, macs in by_kind) * scale


# Plans already made, by the identity of (model, runtime, hardware) and precision: specs are immutable, so a plan
# and its reasons are computed once (the hot path then costs a dict probe); entries hold their specs, so an id
# reused by a new object never matches. Cleared when it reaches _CACHE_SIZE entries.
_plans: dict[tuple[int, int, int, str], tuple[Any, Any, Any, McuPlan | None, tuple[str, ...]]] = {}
_CACHE_SIZE = 1024


def plan(model: Any, hw: HardwareSpec, rt: RuntimeSpec | None, precision: str, efficiency_given: bool,
         resolve: Callable[[str, HardwareSpec], RuntimeSpec], reasons: list[str]) -> McuPlan | None:
    """The cycles-model compute time of one sample on a device with a core table, or None where the roofline
    applies (a reason says why): an explicit efficiency, a non-int8 precision, a library without a cycles
    table, or runtime=None on a core without a default library or for a model without layer types."""
    if efficiency_given:
        return None
    key = (id(model), id(rt), id(hw), precision)
    hit = _plans.get(key)
    if hit is not None and hit[0] is model and hit[1] is rt and hit[2] is hw:
        reasons.extend(hit[4])
        return hit[3]
    notes: list[str] = []
    result = _plan(model, hw, rt, precision, resolve, notes)
    if len(_plans) >= _CACHE_SIZE:
        _plans.clear()
    _plans[key] = (model, rt, hw, result, tuple(notes))
    reasons.extend(notes)
    return result


def _plan(model: Any, hw: HardwareSpec, rt: RuntimeSpec | None, precision: str,
          resolve: Callable[[str, HardwareSpec], RuntimeSpec], reasons: list[str]) -> McuPlan | None:
    core = hw.core
    if rt is None:
        if core.default_runtime is None or precision != MCU_PRECISION:
            reasons.append(f"no default kernel library for {core.name} at {precision}: class roofline efficiency"
                           if core.default_runtime is None else
                           f"{precision} on {core.name}: the cycles model covers int8 kernels; class roofline")
            return None
        candidate = resolve(core.default_runtime, hw)
        table = getattr(model, "layer_table", None)
        if candidate.mcu is None or table is None or not table.macs_by_kind:
            reasons.append(f"{model.display_name} has no per-layer types: class roofline efficiency")
            return None
        rt = candidate
        reasons.append(f"runtime=None on {core.name}: default kernel library {rt.display_name} "
                       f"({hw.name} core.default_runtime)")
    elif rt.mcu is None or precision != MCU_PRECISION:
        reasons.append(f"{rt.display_name}: no int8 cycles table for {precision}; class roofline efficiency")
        return None
    cycles = sample_cycles(model, rt, hw)
    reasons.append(f"{rt.display_name} on {core.name} at {core._clock / 1e6:.4g} MHz: "
                   f"{cycles / 1e6:.4g} M cycles per sample (cycles per MAC by layer type x core scale; replaces the "
                   f"roofline compute time)")
    return McuPlan(rt, cycles / core._clock)
