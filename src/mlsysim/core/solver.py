"""Solver hierarchy. ForwardModel is the base; RooflineModel is the single-device model behind Engine.solve.

Experimental API (see the stability promise): prefer ``Engine.solve``.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from .. import registry as _registry
from ..errors import CatalogError, InfeasibleError, InvalidInputError, InvalidTypeError, UnsupportedPrecisionError
from ..specs.calibration import CalibrationClass
from ..specs.hardware import PEAK_TOLERANCE, HardwareSpec
from ..specs.models import ModelSpec, SSMSpec, TransformerSpec
from . import mcu_cycles, runtime_costs
from .inputs import (MIN_EFFICIENCY, Source, check_bool, check_efficiency, check_outputs, check_positive_int,
                     resolve_hardware, resolve_model)
from .phase_roofline import phase_busy
from .power import average_power
from .precision import DEFAULT_PRECISION, ExecutionPrecision, _DefaultPrecision, default_precision, resolve_precision
from .lora import DEFAULT_LORA_RANK, check_lora, lora_cost
from .ragged import ragged_workload
from .results import MemoryBreakdown, PerformanceProfile
from .shape_cost import phase_times, runtime_shapes
from .workload import check_training_options, workload_cost
if TYPE_CHECKING:  # annotations only: the runtime specs are imported where a runtime is given
    from ..specs.runtimes import QuantFormat, RuntimeSpec
from . import runtime_plan, solve_plan  # noqa: E402  (import this module's helpers at call time)


def registries():
    """The loaded registry set (loaded on first call: the solver module must not load the catalog on import)."""
    return _registry.registries()

# Context length assumed when neither the caller nor the catalog entry (default_seq_len) gives one; capped
# at the model's trained context (BERT: 512, GPT-2: 1024).
DEFAULT_SEQ_LEN = 2048
# Kernels of a training step per forward kernel: the forward, and a backward of about two kernels per forward
# kernel (input and weight gradients of each GEMM, Kaplan et al. 2020's 2:4 FLOP split); the same factor as
# the workload's 3 x kernels without a runtime (estimate).
TRAINING_KERNEL_FACTOR = 3


class ForwardModel:
    """Base of the solver hierarchy: turns (model, hardware, batch, precision, efficiency) into a profile."""

    def solve(self, model: Any, hardware: Any, batch_size: int = 1, precision: str = "fp16",
              efficiency: float | None = None, **options: Any) -> PerformanceProfile:
        raise NotImplementedError


class RooflineModel(ForwardModel):
    """Single device, one pass: latency = sum over kernel phases of max(compute, memory) + launch overhead
    (the roofline of Williams et al. 2009, applied per phase)."""

    def solve(self, model: Any, hardware: Any, batch_size: int = 1, precision: str | None = DEFAULT_PRECISION,
              efficiency: float | None = None, *, is_training: bool = False, seq_len: int | None = None,
              raise_errors: bool = False, zero_stage: int = 0, dp_size: int = 1,
              activation_recomputation: str | bool = "none", weight_only: bool = False,
              prefill: bool = False, runtime: Any = None, seq_lens: Any = None, is_lora: bool = False,
              lora_rank: int = DEFAULT_LORA_RANK) -> PerformanceProfile:
        """is_lora=True (experimental, with is_training) trains rank-`lora_rank` adapters on every linear layer
        of a transformer over frozen weights (core/lora.py).

        prefill=True (experimental) runs the prompt of `seq_len` tokens through a decoder instead of one
        decode step; throughput is then prompt tokens/s and latency the time to first token.

        runtime (experimental): a RuntimeSpec or a name of mlsysim.Runtimes ("llamacpp", "vllm"). Its kernels
        per transformer layer and per-kernel cost (the graph-replay cost in the phases it captures as CUDA
        graphs) replace the engine's fixed 8 kernels per layer x the device's launch_overhead, and `precision`
        may name one of its quantisation formats ("q4_0": 4.5 bits per weight). Its fusion level adds the bytes of the
        ops it leaves unfused, and on a device with compute_units each phase runs at its shape's GEMM rate (tile and
        wave quantisation) and the attention core at the attention kernel's rate (core.shape_cost); an explicit
        `efficiency` keeps one rate for every phase (ragged batches at their mean length; LoRA steps keep the fused
        byte counts and one rate).

        seq_lens (experimental): a ragged batch, a list of one length per sequence or a
        mlsysim.SequenceLengths(mean=, mean_square=, max=); not with seq_len. A runtime that packs
        (RuntimeSpec.packs_ragged; runtime=None packs) computes the real tokens, one that pads computes
        batch x max (mlsysim.core.ragged); the result's seq_len is then the longest sequence."""
        if seq_lens is None and is_lora is False and is_training is False and zero_stage == 0 and dp_size == 1 \
                and activation_recomputation == "none" and solve_plan.ENABLED:
            # The common inference case on cached per-spec constants (core/solve_plan.py, with a runtime
            # core/runtime_plan.py; None: not that case)
            fast = solve_plan.solve(model, hardware, batch_size, precision, efficiency, seq_len, weight_only, prefill,
                                    raise_errors) if runtime is None else \
                runtime_plan.solve(model, hardware, batch_size, precision, efficiency, seq_len, weight_only, prefill,
                                   raise_errors, runtime)
            if fast is not None:
                return fast
        m = resolve_model(model)
        hw = resolve_hardware(hardware)
        rt = None if runtime is None else resolve_runtime(runtime, hw)
        batch = check_positive_int("batch_size", batch_size)
        eff = check_efficiency(efficiency)
        for flag, value in (("is_training", is_training), ("raise_errors", raise_errors),
                            ("weight_only", weight_only), ("prefill", prefill)):
            check_bool(flag, value)
        options = check_training_options(zero_stage, dp_size, activation_recomputation)
        lora = check_lora(is_lora, lora_rank, bool(is_training))
        training = options if is_training else None
        reasons: list[str] = []
        seq = _sequence_length(m, seq_len, reasons) if seq_lens is None else None
        if precision is None or type(precision) is _DefaultPrecision:  # fp16, else the device's own (microcontrollers: int8), said in reasons
            precision, why = default_precision(hw, bool(is_training))
            if why:
                reasons.append(why)
        if rt is None:
            prec, fmt = resolve_precision(hw, precision, weight_only=weight_only, training=is_training), None
        else:
            prec, fmt = runtime_precision(rt, hw, precision, weight_only, is_training)
        cls = calibration_class(hw)
        if prefill and is_training:
            raise InvalidInputError("prefill and is_training are exclusive: a training step already covers the prompt")
        # Under a runtime: the workload with the bytes of the ops it leaves unfused, and per-phase rates by shape
        # (core.shape_cost, cached per model, device, runtime and shape).
        shaped = None
        if seq_lens is not None:  # a ragged batch under the runtime's pack/pad rule
            executed = None
            if rt is not None and lora is None:
                def executed(s: int, lengths: tuple[float, float] | None) -> Any:
                    nonlocal shaped
                    shaped = runtime_shapes(m, hw, rt, batch, s, training, prefill, prec, lengths)
                    return shaped.cost
            seq, cost = ragged_workload(m, batch, seq_lens, seq_len, prec, training, prefill, rt, _sequence_length,
                                        reasons, executed)
        elif rt is not None and lora is None:
            shaped = runtime_shapes(m, hw, rt, batch, seq or 0, training, prefill, prec)
            cost = shaped.cost
        else:
            cost = workload_cost(m, batch, seq or 0, prec, training, prefill)
        if lora is not None:  # frozen base, trained low-rank adapters (Hu et al. 2021)
            cost = lora_cost(cost, m, prec, options, lora)
        reasons += cost.notes
        if fmt is not None:
            reasons.append(f"{fmt.name} weights ({rt.display_name}): {fmt.bits_per_weight:g} bits per weight with "
                           f"scales, " + (f"dequantised to {prec.compute} for the math" if prec.weight_only
                                          else f"math on {prec.compute} units"))
        elif prec.weight_only:
            why = "requested" if weight_only else f"{hw.display_name} has no {prec.requested} units"
            reasons.append(f"weight-only quantisation ({why}): {prec.requested} weights, math in {prec.compute}")

        # Compute roof: dense peak x efficiency (measured matmul rate of this device, else class efficiency).
        if eff is None:
            measured = _measured_matmul(hw, prec.compute)
            eff = _measured_efficiency(hw, prec.compute, measured / prec.peak_flops) if measured \
                else cls.matmul_efficiency
        achieved_flops = prec.peak_flops * eff
        compute_time = cost.hardware_flops / achieved_flops
        times = None  # per-phase compute seconds when the runtime's shape roof applies
        if shaped is not None:
            reasons += shaped.notes
            if shaped.gemm_scale is not None and efficiency is None:
                times, compute_time = phase_times(shaped, achieved_flops, prec.peak_flops)

        # Memory roof: measured device bandwidth, else datasheet x class streaming efficiency.
        measured_bw = hw.calibration._memory_bandwidth if hw.calibration else None
        bandwidth = measured_bw or hw.memory._bandwidth * cls.memory_efficiency
        # Microcontrollers: weights stream from flash, activations from SRAM (same streaming efficiency).
        weight_bw = hw.flash._bandwidth * cls.memory_efficiency if hw.flash is not None else bandwidth
        if fmt is not None:  # dequantising a weight-only format slows its weight stream (core/runtime_costs.py)
            weight_bw = runtime_costs.weight_bandwidth(weight_bw, fmt, prec.weight_only, hw)
        weight_time, other_time = cost.weight_traffic / weight_bw, cost.other_traffic / bandwidth
        memory_time = weight_time + other_time
        # Microcontrollers: cycles per MAC by layer type x kernel library x core (core/mcu_cycles.py).
        mcu = mcu_cycles.plan(m, hw, rt, prec.compute, efficiency is not None, resolve_runtime, reasons) \
            if hw.core is not None else None
        if mcu is not None:
            rt, compute_time = mcu.runtime, mcu.seconds * batch
            achieved_flops = cost.hardware_flops / compute_time
            eff = achieved_flops / prec.peak_flops
        if rt is None:
            per_kernel = hw._launch_overhead
            overhead = cost.kernels * per_kernel
            reasons.append(default_runtime_note(cls))
        else:
            kernels, per_kernel, note = runtime_kernels(rt, m, cost.kernels, is_training, prefill,
                                                        hw.calibration_class)
            overhead = kernels * per_kernel  # fixed cost per kernel, added to the roofline time of each phase
            reasons.append(note)
        if cost.phases and mcu is None:  # per-kernel roofline: each phase waits on its own slower roof
            busy, bottleneck = phase_busy(cost.phases, achieved_flops, weight_bw, bandwidth, times)
        else:
            busy = max(compute_time, memory_time)
            bottleneck = "Compute" if compute_time >= memory_time else "Memory"
        latency = runtime_costs.pass_time(rt, m, busy, overhead, per_kernel, bool(is_training), prefill)

        memory = MemoryBreakdown(weights=cost.weights, kv_cache=cost.kv_cache, activations=cost.activations,
                                 gradients=cost.gradients, optimizer_state=cost.optimizer_state,
                                 runtime_reserve=runtime_costs.memory_reserve(rt, cls, hw.memory._capacity, cost),
                                 capacity=hw.memory._capacity,
                                 weights_capacity=hw.flash._capacity if hw.flash is not None else None)
        misfit: list[str] = []
        feasible = _fits(memory, hw, misfit)
        if not feasible and raise_errors:
            raise InfeasibleError(f"{m.display_name} does not fit on {hw.display_name}: " + "; ".join(misfit))

        power = average_power(hw.power._tdp, hw.power._idle, compute_time, memory_time, latency,
                              cls.memory_bound_power_fraction)
        throughput = cost.items / latency
        energy = power * latency
        # MFU: model FLOPs per second over the dense peak, excluding recomputation (Chowdhery et al. 2022, PaLM,
        # appendix B).
        mfu = cost.model_flops / (latency * prec.peak_flops)

        def blame() -> tuple[tuple[float, Source], ...]:  # which figure set each part (for an error only)
            model_src = Source(None, entry=m.name)
            bw_src = Source("calibration.memory_bandwidth" if measured_bw else "memory.bandwidth", bandwidth,
                            hw.name)
            weight_src = Source("flash.bandwidth", hw.flash._bandwidth, hw.name) if hw.flash is not None else bw_src
            return ((compute_time, _blame(cost.hardware_flops, model_src,
                                          Source(f"peak_dense.{prec.compute}", prec.peak_flops, hw.name))),
                    (weight_time, _blame(cost.weight_traffic, model_src, weight_src)),
                    (other_time, _blame(cost.other_traffic, model_src, bw_src)),
                    (overhead, Source("launch_overhead", per_kernel, hw.name) if rt is None
                     else Source(runtime_costs.per_kernel_cost(rt, "training" if is_training else "prefill" if prefill
                                                               else "decode", hw.calibration_class)[2],
                                 per_kernel, rt.name)))

        mfu = check_outputs(f"RooflineModel ({m.name} on {hw.name})", latency=latency, throughput=throughput,
                            energy=energy, mfu=mfu, mfu_source=lambda: mfu_source(m, hw, prec.compute, eff),
                            terms=blame)
        return PerformanceProfile(
            latency_s=latency, throughput_per_s=throughput, bottleneck=bottleneck, mfu=mfu, feasible=feasible,
            energy_j=energy, model=m.name, hardware=hw.name, batch_size=batch,
            precision=prec.requested, compute_precision=prec.compute, seq_len=seq, is_training=bool(is_training),
            compute_time_s=compute_time, memory_time_s=memory_time, overhead_s=overhead, flops=cost.model_flops,
            hardware_flops=cost.hardware_flops, bytes_moved=cost.weight_traffic + cost.other_traffic,
            dense_peak_flops=prec.peak_flops, efficiency=eff, peak_flops_used=achieved_flops,
            bandwidth_used=bandwidth, power_w=power, memory=memory,
            throughput_unit=cost.item_unit, reasons=tuple(reasons + misfit), memory_reasons=tuple(misfit))


# Runtime names already looked up, per loaded registry set (a reload starts a new table): a name costs one
# dict probe instead of the registry's path and display-name search.
_runtime_names: tuple[Any, dict[str, RuntimeSpec]] = (None, {})


def _runtime_spec() -> type:
    from ..specs.runtimes import RuntimeSpec

    return RuntimeSpec


def resolve_runtime(runtime: Any, hw: HardwareSpec) -> RuntimeSpec:
    """A RuntimeSpec or a registry name of mlsysim.Runtimes, checked to run on the device's hardware class."""
    global _runtime_names
    if isinstance(runtime, str):
        reg = registries()
        owner, names = _runtime_names
        if owner is not reg:
            _runtime_names = (reg, {})
            names = _runtime_names[1]
        rt = names.get(runtime)
        if rt is None:
            rt = names[runtime] = reg.roots["Runtimes"].get(runtime)
    elif isinstance(runtime, _runtime_spec()):
        rt = runtime
    else:
        raise InvalidTypeError(f"runtime must be a RuntimeSpec or a name such as 'llamacpp' (mlsysim.Runtimes), got "
                               f"{type(runtime).__name__}")
    if hw.calibration_class not in rt.hardware_classes:
        raise InvalidInputError(f"{rt.display_name} does not run on {hw.display_name} ({hw.calibration_class}); it "
                                f"runs on {', '.join(rt.hardware_classes)}")
    return rt


def runtime_precision(rt: RuntimeSpec, hw: HardwareSpec, precision: Any, weight_only: bool,
                      training: bool) -> tuple[ExecutionPrecision, QuantFormat | None]:
    """`precision` under a runtime: one of its quantisation formats (the weights take the format's bits per weight,
    scales included), or a plain precision it computes in; anything else is an error naming what it has."""
    if not isinstance(precision, str):
        raise InvalidTypeError(f"precision must be a string such as 'fp16' or 'q4_0', got {type(precision).__name__}")
    fmt = rt.quant_format(precision)
    if fmt is None:
        name = precision.strip().lower()
        if name not in rt.precisions:
            have = ", ".join(f"{f.name} ({f.bits_per_weight:g} bits)" for f in rt.quantization) or "none"
            raise UnsupportedPrecisionError(f"{rt.display_name} does not run {precision!r}; it computes in "
                                            f"{', '.join(rt.precisions)}; its quantisation formats: {have}")
        return resolve_precision(hw, name, weight_only=weight_only, training=training), None
    # The storage format picks the units (native where the device has them, else weight-only dequantisation).
    base = resolve_precision(hw, fmt.storage, weight_only=weight_only or fmt.weight_only, training=training)
    if training:  # a training step keeps its own weight formats (mixed precision); the format names the GEMMs'
        return ExecutionPrecision(fmt.name, base.compute, base.weight_bytes, base.activation_bytes, base.weight_only,
                                  base.peak_flops), fmt
    # Stored weights: bits per weight of the block layout, scales and zero points included.
    return ExecutionPrecision(fmt.name, base.compute, fmt.bits_per_weight / 8.0, base.activation_bytes,
                              base.weight_only, base.peak_flops), fmt


def runtime_kernels(rt: RuntimeSpec, model: ModelSpec, default_kernels: int, training: bool,
                    prefill: bool, hardware_class: str | None = None) -> tuple[int, float, str]:
    """(kernels of the pass, seconds per kernel, reason) under a runtime. Transformers: layers x the runtime's
    kernels per layer for the phase + its kernels outside the layers (x TRAINING_KERNEL_FACTOR for a training
    step); other models keep the workload's layer dispatch count, at the runtime's per-kernel cost on
    `hardware_class` (its launch.by_class override where it has one)."""
    if isinstance(model, TransformerSpec):
        counts = rt.kernels
        if training:
            phase, per_layer = "training", counts.prefill
        elif prefill or model.architecture == "encoder":
            phase, per_layer = "prefill", counts.prefill
        else:
            phase, per_layer = "decode", counts.decode
        kernels = model.layers * per_layer + counts.per_pass
        shape = f"{model.layers} layers x {per_layer} + {counts.per_pass}"
        if training:
            kernels *= TRAINING_KERNEL_FACTOR
            shape = f"{TRAINING_KERNEL_FACTOR} x ({shape})"
    else:
        phase = "training" if training else ("decode" if isinstance(model, SSMSpec) else "prefill")
        kernels, shape = default_kernels, "the model's layer dispatches"
    per_kernel, how, _ = runtime_costs.per_kernel_cost(rt, phase, hardware_class)
    return kernels, per_kernel, \
        f"runtime {rt.display_name}: {kernels} kernels ({shape}) in {phase}, {per_kernel * 1e6:.3g} us each{how}"


def default_runtime_note(cls: CalibrationClass) -> str:
    """The reason naming the stack a runtime=None result stands for (the class's default_stack, catalog/calibration):
    the engine's own figures, KERNELS_PER_TRANSFORMER_LAYER fused kernels per layer at the device's launch overhead."""
    return f"runtime: engine default ({cls.default_stack or 'fused kernels'})"


def calibration_class(hw: HardwareSpec) -> CalibrationClass:
    """The calibration class a device names, checked: a HardwareSpec built in Python may name any class, and
    a class fraction below MIN_EFFICIENCY (a subnormal passes its (0, 1] validator) would give infinite times."""
    classes = registries().calibration
    cls = classes.get(hw.calibration_class) if isinstance(hw.calibration_class, str) else None
    if cls is None:
        raise CatalogError(f"unknown calibration class {hw.calibration_class!r}", entry=hw.name,
                           field="calibration_class",
                           expected=f"one of {', '.join(sorted(classes))} (catalog/calibration/*.toml)")
    for field in ("matmul_efficiency", "memory_efficiency"):
        if getattr(cls, field) < MIN_EFFICIENCY:
            raise CatalogError(f"{getattr(cls, field)!r} is below the lowest real efficiency", entry=cls.name,
                               field=field, expected=f"a fraction in [{MIN_EFFICIENCY:g}, 1]")
    return cls


def _measured_matmul(hw: HardwareSpec, precision: str) -> float | None:
    table = hw.calibration.matmul_flops if hw.calibration else None
    return table.get(precision) if table else None


def _measured_efficiency(hw: HardwareSpec, precision: str, ratio: float) -> float:
    """Measured rate / dense peak. A ratio within the catalog's rounding slack above 1 (PEAK_TOLERANCE: figures
    printed to 3-4 digits) is the peak itself; a ratio further above stays, and check_outputs blames it."""
    if 1.0 < ratio <= 1.0 + PEAK_TOLERANCE:
        return 1.0
    if ratio < MIN_EFFICIENCY:
        raise CatalogError(f"measured {precision} matmul rate is {ratio:.3g} of the dense peak", entry=hw.name,
                           field=f"calibration.matmul_flops.{precision}",
                           expected=f"a measured rate of at least {MIN_EFFICIENCY:g} x peak_dense.{precision}")
    return ratio


def mfu_source(model: ModelSpec, hw: HardwareSpec, compute_precision: str, efficiency: float) -> Source:
    """The figure an MFU above 1 comes from. MFU <= efficiency x model FLOPs / executed FLOPs, so it is the
    measured matmul rate when the efficiency applied exceeds 1, else the model's FLOP count."""
    if efficiency > 1.0:
        return Source(f"calibration.matmul_flops.{compute_precision}", _measured_matmul(hw, compute_precision),
                      hw.name)
    return Source(None, entry=model.name)


def _blame(work: float, model_src: Source, rate_src: Source) -> Source:
    """A time is work / rate: a non-finite amount of work is the model's doing, anything else the rate's."""
    return rate_src if math.isfinite(work) else model_src


def _sequence_length(model: ModelSpec, seq_len: int | None, reasons: list[str]) -> int | None:
    if isinstance(model, (TransformerSpec, SSMSpec)) or model.architecture == "encoder_decoder":
        if seq_len is None:
            return model.default_seq_len or min(DEFAULT_SEQ_LEN, model.context_length)
        seq = check_positive_int("seq_len", seq_len)
        if seq > model.context_length:
            if getattr(model, "position_embedding", None) == "learned":
                raise InvalidInputError(f"seq_len {seq} exceeds the {model.context_length} learned positions of "
                                        f"{model.display_name}; use seq_len <= {model.context_length}")
            reasons.append(f"seq_len {seq} is beyond the trained context ({model.context_length})")
        return seq
    if seq_len is not None:
        check_positive_int("seq_len", seq_len)
        # Fixed-input models (CNN, MLP, diffusion, recommendation) have no sequence: say so, never silently.
        shape = getattr(model, "input_shape", None)
        reasons.append(f"seq_len {seq_len} ignored: {model.display_name} ({model.architecture}) has a fixed input"
                       + (f" of shape {tuple(shape)}" if shape else "") + ", not a sequence")
    return None


def _fits(memory: MemoryBreakdown, hw: HardwareSpec, reasons: list[str]) -> bool:
    gib = 1024.0 ** 3
    if memory.weights_capacity is not None:
        ok = True
        if memory.weights > memory.weights_capacity:
            reasons.append(f"weights {memory.weights / 1024:.1f} KiB exceed flash {memory.weights_capacity / 1024:.1f} KiB")
            ok = False
        in_sram = memory.total - memory.weights
        if in_sram > memory.capacity:
            reasons.append(f"activations + runtime {in_sram / 1024:.1f} KiB exceed SRAM {memory.capacity / 1024:.1f} KiB")
            ok = False
        return ok
    if memory.total > memory.capacity:
        reasons.append(f"needs {memory.total / gib:.2f} GiB (weights {memory.weights / gib:.2f}, KV cache "
                       f"{memory.kv_cache / gib:.2f}, activations {memory.activations / gib:.2f}"
                       + (f", gradients {memory.gradients / gib:.2f}, optimizer {memory.optimizer_state / gib:.2f}"
                          if memory.gradients or memory.optimizer_state else "")
                       + f", runtime {memory.runtime_reserve / gib:.2f}) but {hw.display_name} has "
                       f"{memory.capacity / gib:.2f} GiB")
        return False
    return True
