"""The common case of RooflineModel.solve on cached constants: an inference pass (decode step, forward pass or
prefill) with no runtime, no ragged batch and no training (the same case under a runtime: core/runtime_plan.py), on
any device (a microcontroller's cycles model, core/mcu_cycles.py, is part of its plan).

Three caches make a warm call cost a few float operations:
- a plan per (model, device, precision, efficiency, seq_len, weight_only, prefill): everything the solve derives
  from the specs and those arguments (the precision's units and peak, the calibration class, the compute and
  memory roofs, the launch overhead, the power figures, the notes that do not depend on the batch);
- the workload per (model, sequence length, precision formats, prefill, batch): what a pass costs is
  independent of the device (core.workload), so a sweep over devices computes it once;
- the terms of one batch size on one plan (the per-layer roofline of a layer table sums every layer once).
All are keyed on the identity of the (frozen) specs and hold them, so an id is never reused while cached.

The result is the reference path's to the last bit: the same expressions in the same order (property-tested in
tests/test_solve_plan.py against RooflineModel.solve with the fast path off). Anything outside the common case,
and every error, goes to the reference path (``solve`` returns None), so errors keep their exact wording.
"""
from __future__ import annotations

import itertools
from typing import Any

from .. import registry as _registry
from ..specs.hardware import HardwareSpec
from ..specs.models import ModelSpec
from . import mcu_cycles, runtime_costs
from . import solver as _solver  # the reference path's helpers (a partly imported module while solver imports us)
from .inputs import _INF, _TINY, MAX_COUNT, MAX_EFFICIENCY, MFU_ROUNDING_TOLERANCE, check_efficiency
from .phase_roofline import phase_busy
from .power import average_power
from .precision import _DefaultPrecision, default_precision, resolve_precision
from .results import MemoryBreakdown, PerformanceProfile
from .workload import workload_cost

ENABLED = True  # tests switch it off to run the reference path on the same inputs
# Entries kept before a cache is emptied (a program solves a handful of spec pairs; a sweep a few thousand).
PLAN_CACHE_SIZE = 4096
_profile = PerformanceProfile.from_fields
COST_CACHE_SIZE = 16384
FIT_CACHE_SIZE = 1024  # batch sizes per plan

_PRECISION_TYPES = (str, _DefaultPrecision, type(None))
_EFFICIENCY_TYPES = (float, int, type(None))
_SEQ_TYPES = (int, type(None))


class Plan:
    """What one (model, device, arguments) pair fixes before the batch size is known."""

    __slots__ = ("reg", "model", "hw", "seq", "head", "tail", "prec", "eff", "achieved", "bandwidth", "weight_bw",
                 "per_kernel", "reserve", "capacity", "weights_capacity", "tdp", "idle", "memory_power", "wid",
                 "prefill", "fits", "rt", "mcu_seconds", "cls")


_plans: dict[tuple, Plan] = {}
_costs: dict[tuple[int, int], tuple[ModelSpec, Any]] = {}
_workload_ids: dict[tuple, int] = {}
_next_id = itertools.count()  # workload ids are never reused, so a plan's id cannot name another workload


def solve(model: Any, hardware: Any, batch: Any, precision: Any, efficiency: Any, seq_len: Any, weight_only: Any,
          prefill: Any, raise_errors: Any) -> PerformanceProfile | None:
    """The profile, or None where the reference path must run (outside the common case, or an error)."""
    if type(precision) not in _PRECISION_TYPES or type(efficiency) not in _EFFICIENCY_TYPES \
            or type(seq_len) not in _SEQ_TYPES or type(weight_only) is not bool or type(prefill) is not bool \
            or type(raise_errors) is not bool or type(batch) is not int or not 1 <= batch <= MAX_COUNT:
        return None
    m = model if isinstance(model, ModelSpec) else _resolve(model, "Models")
    hw = hardware if isinstance(hardware, HardwareSpec) else _resolve(hardware, "Hardware")
    if m is None or hw is None:
        return None
    key = (id(m), id(hw), precision, type(precision), efficiency, type(efficiency), seq_len, weight_only, prefill)
    plan = _plans.get(key)
    if plan is None or plan.model is not m or plan.hw is not hw or plan.reg is not _registry._loaded:
        plan = _plan(m, hw, precision, efficiency, seq_len, weight_only, prefill)
        if plan is None:
            return None
        if len(_plans) >= PLAN_CACHE_SIZE:
            _plans.clear()
        _plans[key] = plan
    ck = (plan.wid, batch)
    hit = _costs.get(ck)
    if hit is not None and hit[0] is m:
        cost = hit[1]
    else:
        cost = workload_cost(m, batch, plan.seq or 0, plan.prec, None, prefill)
        if len(_costs) >= COST_CACHE_SIZE:
            _costs.clear()
        _costs[ck] = (m, cost)

    # What this workload costs on this plan's roofs, once per batch size (the per-phase roofline of a layer table
    # loops over every layer): the reference path's expressions, term for term.
    terms = plan.fits.get(batch)
    if terms is None or terms[0] is not cost:
        terms = _batch_terms(plan, cost, m, hw, batch)
        if len(plan.fits) >= FIT_CACHE_SIZE:
            plan.fits.clear()
        plan.fits[batch] = terms
    _, compute_time, memory_time, achieved_flops, eff, overhead, busy, bottleneck, latency, memory, feasible, \
        misfit, tail = terms
    if not feasible and raise_errors:
        return None
    reasons = plan.head + cost.notes + tail
    return profile(plan, m, hw, batch, cost, compute_time, memory_time, overhead, latency, bottleneck, feasible,
                   memory, eff, achieved_flops, reasons + misfit if misfit else reasons, misfit)


def profile(plan: Any, m: ModelSpec, hw: HardwareSpec, batch: int, cost: Any, compute_time: float,
            memory_time: float, overhead: float, latency: float, bottleneck: str, feasible: bool, memory: Any,
            eff: float, achieved_flops: float, reasons: tuple, misfit: tuple) -> PerformanceProfile | None:
    """The profile of a planned solve (this module's and core/runtime_plan.py's), the reference path's tail term
    for term: power from the busy shares (core/power.py), throughput, energy, MFU over the dense peak; None outside
    check_outputs' common case (the reference path then words the error)."""
    prec = plan.prec
    power = average_power(plan.tdp, plan.idle, compute_time, memory_time, latency, plan.memory_power)
    throughput = cost.items / latency
    energy = power * latency
    mfu = cost.model_flops / (latency * prec.peak_flops)
    if not (type(latency) is float and type(throughput) is float and type(energy) is float and type(mfu) is float
            and _TINY <= latency < _INF and _TINY <= throughput < _INF and _TINY <= energy < _INF
            and 0.0 <= mfu <= MAX_EFFICIENCY + MFU_ROUNDING_TOLERANCE):
        return None
    if mfu > MAX_EFFICIENCY:
        mfu = MAX_EFFICIENCY
    return _profile({
        "latency_s": latency, "throughput_per_s": throughput, "bottleneck": bottleneck, "mfu": mfu,
        "feasible": feasible, "energy_j": energy, "model": m.name, "hardware": hw.name, "batch_size": batch,
        "precision": prec.requested, "compute_precision": prec.compute, "seq_len": plan.seq, "is_training": False,
        "compute_time_s": compute_time, "memory_time_s": memory_time, "overhead_s": overhead,
        "flops": cost.model_flops, "hardware_flops": cost.hardware_flops,
        "bytes_moved": cost.weight_traffic + cost.other_traffic, "dense_peak_flops": prec.peak_flops,
        "efficiency": eff, "peak_flops_used": achieved_flops, "bandwidth_used": plan.bandwidth, "power_w": power,
        "memory": memory, "throughput_unit": cost.item_unit, "reasons": reasons, "memory_reasons": misfit})

def _batch_terms(plan: Plan, cost: Any, m: ModelSpec, hw: HardwareSpec, batch: int) -> tuple:
    """(cost, compute, memory and overhead seconds, achieved FLOP/s, efficiency, busy seconds, bottleneck,
    latency, memory breakdown, fits, why not, the reasons after the workload's notes) of one batch size."""
    achieved_flops, bandwidth, weight_bw, eff, rt = plan.achieved, plan.bandwidth, plan.weight_bw, plan.eff, plan.rt
    compute_time = cost.hardware_flops / achieved_flops
    memory_time = cost.weight_traffic / weight_bw + cost.other_traffic / bandwidth
    tail = plan.tail
    if rt is not None:  # a microcontroller's cycles model (core/mcu_cycles.py) sets the compute time
        compute_time = plan.mcu_seconds * batch
        achieved_flops = cost.hardware_flops / compute_time
        eff = achieved_flops / plan.prec.peak_flops
        kernels, per_kernel, note = _solver.runtime_kernels(rt, m, cost.kernels, False, plan.prefill,
                                                            hw.calibration_class)
        overhead = kernels * per_kernel
        tail = tail + (note,)
    else:
        per_kernel = plan.per_kernel
        overhead = cost.kernels * per_kernel
    if cost.phases and rt is None:  # per-kernel roofline: each phase waits on its own slower roof
        busy, bottleneck = phase_busy(cost.phases, achieved_flops, weight_bw, bandwidth)
    else:
        busy = max(compute_time, memory_time)
        bottleneck = "Compute" if compute_time >= memory_time else "Memory"
    latency = runtime_costs.pass_time(rt, m, busy, overhead, per_kernel, False, plan.prefill) if rt is not None \
        else busy + overhead
    reserve = plan.reserve if rt is None else runtime_costs.memory_reserve(rt, plan.cls, plan.capacity, cost)
    memory = MemoryBreakdown(weights=cost.weights, kv_cache=cost.kv_cache, activations=cost.activations,
                             gradients=cost.gradients, optimizer_state=cost.optimizer_state,
                             runtime_reserve=reserve, capacity=plan.capacity, weights_capacity=plan.weights_capacity)
    misfit: list[str] = []
    feasible = _solver._fits(memory, hw, misfit)
    return (cost, compute_time, memory_time, achieved_flops, eff, overhead, busy, bottleneck, latency, memory,
            feasible, tuple(misfit), tail)


def _resolve(name: Any, root: str) -> Any:
    """A registry name's spec, or None (the reference path then resolves it, or raises its own error)."""
    if type(name) is not str:
        return None
    try:
        return _registry.registries().roots[root].get(name)
    except Exception:
        return None


def _plan(m: ModelSpec, hw: HardwareSpec, precision: Any, efficiency: Any, seq_len: Any, weight_only: bool,
          prefill: bool) -> Plan | None:
    """The reference path's steps that do not depend on the batch, in its order; None on any error."""
    try:
        reg = _registry.registries()
        eff = check_efficiency(efficiency)
        reasons: list[str] = []
        seq = _solver._sequence_length(m, seq_len, reasons)
        if precision is None or type(precision) is _DefaultPrecision:
            precision, why = default_precision(hw, False)
            if why:
                reasons.append(why)
        prec = resolve_precision(hw, precision, weight_only=weight_only, training=False)
        cls = _solver.calibration_class(hw)
        workload_cost(m, 1, seq or 0, prec, None, prefill)  # the model's own errors come before the device's
        tail: list[str] = []
        if prec.weight_only:
            why = "requested" if weight_only else f"{hw.display_name} has no {prec.requested} units"
            tail.append(f"weight-only quantisation ({why}): {prec.requested} weights, math in {prec.compute}")
        if eff is None:
            measured = _solver._measured_matmul(hw, prec.compute)
            eff = _solver._measured_efficiency(hw, prec.compute, measured / prec.peak_flops) if measured \
                else cls.matmul_efficiency
        # Microcontrollers: cycles per MAC by layer type x kernel library x core (core/mcu_cycles.py), or the
        # roofline where that model does not apply (its reason says why).
        mcu = mcu_cycles.plan(m, hw, None, prec.compute, efficiency is not None, _solver.resolve_runtime, tail) \
            if hw.core is not None else None
        if mcu is None:
            tail.append(_solver.default_runtime_note(cls))
    except Exception:
        return None
    p = Plan()
    p.reg, p.model, p.hw, p.seq, p.prec, p.eff, p.prefill = reg, m, hw, seq, prec, eff, prefill
    p.head, p.tail, p.fits, p.cls = tuple(reasons), tuple(tail), {}, cls
    p.rt, p.mcu_seconds = (None, None) if mcu is None else (mcu.runtime, mcu.seconds)
    p.achieved = prec.peak_flops * eff
    measured_bw = hw.calibration._memory_bandwidth if hw.calibration else None
    p.bandwidth = measured_bw or hw.memory._bandwidth * cls.memory_efficiency
    p.weight_bw = hw.flash._bandwidth * cls.memory_efficiency if hw.flash is not None else p.bandwidth
    p.per_kernel = hw._launch_overhead
    p.reserve = runtime_costs.memory_reserve(None, cls, hw.memory._capacity)
    p.capacity = hw.memory._capacity
    p.weights_capacity = hw.flash._capacity if hw.flash is not None else None
    p.tdp, p.idle, p.memory_power = hw.power._tdp, hw.power._idle, cls.memory_bound_power_fraction
    # One small int per distinct workload (the model, its sequence, the precision's formats, prefill): the cost
    # cache key. The cost cache holds the model, so its id is not reused while an entry names it.
    wkey = (id(m), seq, prec.requested, prec.compute, prec.weight_bytes, prec.activation_bytes, prec.weight_only,
            prefill)
    if len(_workload_ids) >= COST_CACHE_SIZE:
        _workload_ids.clear()
    p.wid = _workload_ids.get(wkey)
    if p.wid is None:
        p.wid = _workload_ids[wkey] = next(_next_id)
    return p


def clear() -> None:
    """Forget every plan and cached workload (the runtime plans of core/runtime_plan.py too)."""
    from . import runtime_plan

    runtime_plan.clear()
    _plans.clear()
    _costs.clear()
    _workload_ids.clear()
