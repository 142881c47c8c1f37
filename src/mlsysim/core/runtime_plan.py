"""RooflineModel.solve with a runtime on cached constants: an inference pass (decode step, forward pass or prefill)
under a RuntimeSpec on any device (a microcontroller's cycles model is part of the plan), with no ragged batch,
no training and no LoRA.

The sibling of core/solve_plan.py (the runtime=None case), with the same rules:
- a plan per (model, device, runtime, precision, efficiency, seq_len, weight_only, prefill) holds what the solve
  derives before the batch is known: the runtime precision and its quantisation format, the calibration class,
  the compute roof, the memory roofs (the format's dequantisation included), the power figures, how the runtime's
  launch cost combines with the GPU work (core.runtime_costs.pass_time) and the notes that do not depend on the
  batch;
- per batch, the plan keeps the runtime's shaped workload (core.shape_cost: its unfused bytes and per-phase shape
  rates), the per-phase compute seconds, the kernel count and per-kernel cost with their note, the memory
  breakdown (the runtime's reserve depends on what the model holds) and its verdict; a warm call then computes
  the roofline terms on plain floats.
Plans are keyed on the identity of the (frozen) specs and hold them, are rebuilt when the catalog is reloaded, and
the caches are bounded. The result is the reference path's to the last bit: the same expressions in the same
order (property-tested in tests/test_runtime_plan.py against RooflineModel.solve with the fast path off); anything
outside the case, and every error, goes to the reference path (``solve`` returns None).
"""
from __future__ import annotations

from typing import Any

from .. import registry as _registry
from ..specs.hardware import HardwareSpec
from ..specs.models import ModelSpec, SSMSpec, TransformerSpec
from . import mcu_cycles, runtime_costs
from . import solve_plan
from . import solver as _solver
from .inputs import MAX_COUNT, check_efficiency
from .precision import _DefaultPrecision, default_precision
from .phase_roofline import phase_busy
from .results import MemoryBreakdown, PerformanceProfile
from .shape_cost import phase_times, runtime_shapes

# Same bounds as core/solve_plan.py: plans kept before the cache is emptied, batch sizes kept per plan.
PLAN_CACHE_SIZE = 4096
BATCH_CACHE_SIZE = 1024

_PRECISION_TYPES = (str, _DefaultPrecision, type(None))
_EFFICIENCY_TYPES = (float, int, type(None))
_SEQ_TYPES = (int, type(None))
_runtime_type: list[type] = []  # RuntimeSpec, imported on the first runtime solve (specs.runtimes loads lazily)


class Plan:
    """What one (model, device, runtime, arguments) tuple fixes before the batch size is known."""

    __slots__ = ("reg", "model", "hw", "rt", "seq", "head", "quant_note", "prec", "fmt", "eff", "shape_roof",
                 "achieved", "bandwidth", "weight_bw", "capacity", "weights_capacity", "tdp", "idle",
                 "memory_power", "cls", "prefill", "gap", "batches", "mcu_seconds", "mcu_notes")


class Batch:
    """What a plan fixes for one batch size: the shaped workload and every term that follows from it alone."""

    __slots__ = ("cost", "compute_time", "busy", "bottleneck", "kernels", "per_kernel", "reasons", "memory",
                 "feasible", "misfit", "achieved", "eff")


_plans: dict[tuple, Plan] = {}


def solve(model: Any, hardware: Any, batch: Any, precision: Any, efficiency: Any, seq_len: Any, weight_only: Any,
          prefill: Any, raise_errors: Any, runtime: Any) -> PerformanceProfile | None:
    """The profile, or None where the reference path must run (outside the case, or an error)."""
    if type(precision) not in _PRECISION_TYPES or type(efficiency) not in _EFFICIENCY_TYPES \
            or type(seq_len) not in _SEQ_TYPES or type(weight_only) is not bool or type(prefill) is not bool \
            or type(raise_errors) is not bool or type(batch) is not int or not 1 <= batch <= MAX_COUNT:
        return None
    if type(runtime) is str:
        rkey = runtime
    else:  # a RuntimeSpec itself (not a subclass): keyed on its identity, which the plan holds
        if not _runtime_type:
            _runtime_type.append(_solver._runtime_spec())
        if type(runtime) is not _runtime_type[0]:
            return None
        rkey = id(runtime)
    m = model if isinstance(model, ModelSpec) else _resolve(model, "Models")
    hw = hardware if isinstance(hardware, HardwareSpec) else _resolve(hardware, "Hardware")
    if m is None or hw is None:
        return None
    key = (id(m), id(hw), rkey, precision, type(precision), efficiency, type(efficiency), seq_len, weight_only,
           prefill)
    plan = _plans.get(key)
    if plan is None or plan.model is not m or plan.hw is not hw or plan.reg is not _registry._loaded \
            or (rkey is not runtime and plan.rt is not runtime):
        plan = _plan(m, hw, runtime, precision, efficiency, seq_len, weight_only, prefill)
        if plan is None:
            return None
        if len(_plans) >= PLAN_CACHE_SIZE:
            _plans.clear()
        _plans[key] = plan
    b = plan.batches.get(batch)
    if b is None:
        b = _batch(plan, batch)
        if b is None:
            return None
        if len(plan.batches) >= BATCH_CACHE_SIZE:
            plan.batches.clear()
        plan.batches[batch] = b
    if not b.feasible and raise_errors:
        return None

    # The reference path's roofline (RooflineModel.solve), term for term.
    cost, prec = b.cost, plan.prec
    achieved_flops, bandwidth, weight_bw = b.achieved, plan.bandwidth, plan.weight_bw
    compute_time = b.compute_time
    weight_time, other_time = cost.weight_traffic / weight_bw, cost.other_traffic / bandwidth
    memory_time = weight_time + other_time
    per_kernel = b.per_kernel
    overhead = b.kernels * per_kernel
    if b.busy is not None:  # the per-phase roofline, summed once per batch
        busy, bottleneck = b.busy, b.bottleneck
    else:
        busy = max(compute_time, memory_time)
        bottleneck = "Compute" if compute_time >= memory_time else "Memory"
    # core.runtime_costs.pass_time: added, or the slower stage of an asynchronous host dispatch
    gap = plan.gap
    latency = busy + overhead if gap is None or per_kernel <= 0 else max(overhead, busy + overhead / per_kernel * gap)
    return solve_plan.profile(plan, m, hw, batch, cost, compute_time, memory_time, overhead, latency, bottleneck,
                              b.feasible, b.memory, b.eff, achieved_flops, b.reasons, b.misfit)


def _resolve(name: Any, root: str) -> Any:
    """A registry name's spec, or None (the reference path then resolves it, or raises its own error)."""
    if type(name) is not str:
        return None
    try:
        return _registry.registries().roots[root].get(name)
    except Exception:
        return None


def _plan(m: ModelSpec, hw: HardwareSpec, runtime: Any, precision: Any, efficiency: Any, seq_len: Any,
          weight_only: bool, prefill: bool) -> Plan | None:
    """The reference path's steps that do not depend on the batch, in its order; None on any error."""
    try:
        reg = _registry.registries()
        rt = _solver.resolve_runtime(runtime, hw)
        eff = check_efficiency(efficiency)
        reasons: list[str] = []
        seq = _solver._sequence_length(m, seq_len, reasons)
        if precision is None or type(precision) is _DefaultPrecision:
            precision, why = default_precision(hw, False)
            if why:
                reasons.append(why)
        prec, fmt = _solver.runtime_precision(rt, hw, precision, weight_only, False)
        cls = _solver.calibration_class(hw)
        if fmt is not None:
            quant = (f"{fmt.name} weights ({rt.display_name}): {fmt.bits_per_weight:g} bits per weight with "
                     f"scales, " + (f"dequantised to {prec.compute} for the math" if prec.weight_only
                                    else f"math on {prec.compute} units"),)
        elif prec.weight_only:
            why = "requested" if weight_only else f"{hw.display_name} has no {prec.requested} units"
            quant = (f"weight-only quantisation ({why}): {prec.requested} weights, math in {prec.compute}",)
        else:
            quant = ()
        if eff is None:
            measured = _solver._measured_matmul(hw, prec.compute)
            eff = _solver._measured_efficiency(hw, prec.compute, measured / prec.peak_flops) if measured \
                else cls.matmul_efficiency
        measured_bw = hw.calibration._memory_bandwidth if hw.calibration else None
        bandwidth = measured_bw or hw.memory._bandwidth * cls.memory_efficiency
        weight_bw = hw.flash._bandwidth * cls.memory_efficiency if hw.flash is not None else bandwidth
        if fmt is not None:
            weight_bw = runtime_costs.weight_bandwidth(weight_bw, fmt, prec.weight_only, hw)
        # Microcontrollers: the library's cycles per MAC by layer type x the core (core/mcu_cycles.py) replace the
        # roofline compute time, or a reason says why they do not apply.
        mcu_notes: list[str] = []
        mcu = mcu_cycles.plan(m, hw, rt, prec.compute, efficiency is not None, _solver.resolve_runtime, mcu_notes) \
            if hw.core is not None else None
    except Exception:
        return None
    p = Plan()
    p.reg, p.model, p.hw, p.rt, p.seq, p.prec, p.fmt, p.eff, p.prefill = reg, m, hw, rt, seq, prec, fmt, eff, prefill
    p.head, p.quant_note, p.cls, p.batches = tuple(reasons), quant, cls, {}
    p.shape_roof = efficiency is None  # an explicit efficiency keeps one rate for every phase
    p.achieved = prec.peak_flops * eff
    p.bandwidth, p.weight_bw = bandwidth, weight_bw
    p.capacity = hw.memory._capacity
    p.weights_capacity = hw.flash._capacity if hw.flash is not None else None
    p.tdp, p.idle, p.memory_power = hw.power._tdp, hw.power._idle, cls.memory_bound_power_fraction
    # runtime_costs.pass_time's rule, fixed by the runtime and the phase: None adds the launch cost to the GPU work
    gap = rt.launch._async_gap
    if gap is not None:
        decoder = isinstance(m, SSMSpec) or isinstance(m, TransformerSpec) and m.architecture != "encoder"
        phase = "prefill" if prefill or not decoder else "decode"
        if phase in rt.launch.graph_phases:
            gap = None
    p.gap = gap
    p.mcu_seconds, p.mcu_notes = (None if mcu is None else mcu.seconds), tuple(mcu_notes)
    return p


def _batch(p: Plan, batch: int) -> Batch | None:
    """The reference path's batch-dependent steps before the roofline, in its order; None on any error."""
    m, hw, rt, prec = p.model, p.hw, p.rt, p.prec
    try:
        shaped = runtime_shapes(m, hw, rt, batch, p.seq or 0, None, p.prefill, prec)
        cost = shaped.cost
        compute_time = cost.hardware_flops / p.achieved
        times = None
        if shaped.gemm_scale is not None and p.shape_roof:
            times, compute_time = phase_times(shaped, p.achieved, prec.peak_flops)
        kernels, per_kernel, note = _solver.runtime_kernels(rt, m, cost.kernels, False, p.prefill,
                                                            hw.calibration_class)
        memory = MemoryBreakdown(weights=cost.weights, kv_cache=cost.kv_cache, activations=cost.activations,
                                 gradients=cost.gradients, optimizer_state=cost.optimizer_state,
                                 runtime_reserve=runtime_costs.memory_reserve(rt, p.cls, p.capacity, cost),
                                 capacity=p.capacity, weights_capacity=p.weights_capacity)
        misfit: list[str] = []
        feasible = _solver._fits(memory, hw, misfit)
    except Exception:
        return None
    b = Batch()
    b.busy = b.bottleneck = None
    b.achieved, b.eff = p.achieved, p.eff
    if p.mcu_seconds is not None:  # the cycles model's compute time, and the rate it implies
        compute_time = p.mcu_seconds * batch
        b.achieved = cost.hardware_flops / compute_time
        b.eff = b.achieved / prec.peak_flops
    elif cost.phases:  # per-kernel roofline: each phase waits on its own slower roof (RooflineModel.solve's)
        b.busy, b.bottleneck = phase_busy(cost.phases, p.achieved, p.weight_bw, p.bandwidth, times)
    b.cost, b.compute_time, b.kernels, b.per_kernel = cost, compute_time, kernels, per_kernel
    b.memory, b.feasible, b.misfit = memory, feasible, tuple(misfit)
    b.reasons = p.head + cost.notes + p.quant_note + shaped.notes + p.mcu_notes + (note,) + b.misfit
    return b


def clear() -> None:
    """Forget every plan."""
    _plans.clear()
