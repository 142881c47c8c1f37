"""The hardware a latency target needs: the roofline run backwards.

One pass of the workload (a decode step, a forward pass, a training step: mlsysim.core.workload) executes F
FLOPs and moves Q bytes. To finish within a target time t each roof alone must be fast enough
(Williams et al. 2009, inverted):
  required bandwidth  = Q / t                    (achieved, as if the pass were purely memory-bound)
  required FLOP/s     = F / (t x efficiency)     (dense peak, when kernels reach `efficiency` of it)
  required memory     = weights + KV cache + activations (+ gradients and optimizer state when training)
These are necessary, not sufficient: a real pass adds the two roofs phase by phase and pays kernel launch
overhead. So the catalog devices that meet the target are found by solving the workload on each of them with
mlsysim.Engine.solve (same precision and efficiency) and keeping those whose latency is within the target and
whose memory holds it.

Not modelled: multi-device solutions (see ParallelismOptimizer), the runtime's reserved memory in the
requirement (each device's own reserve is counted in the check), cost and power.
"""
from __future__ import annotations

import math
from typing import Any

import attrs

from ..core.engine import Engine
from ..core.inputs import check_bool, check_efficiency, check_positive_int, resolve_hardware, resolve_model
from ..core.precision import BYTES_PER_ELEMENT, ExecutionPrecision, check_precision_name
from ..core.solver import _sequence_length
from ..core.workload import TrainingOptions, workload_cost
from ..errors import InvalidTypeError, UnsupportedPrecisionError
from ..specs.hardware import HardwareSpec
from ..specs.runtimes import RuntimeSpec
from ..units import quantity
from ._design import as_figure
from ._result import SolverResult

GB = 1e9
TFLOPS = 1e12


@attrs.frozen(kw_only=True)
class SynthesisResult(SolverResult):
    required_bw: Any              # bytes moved / target
    required_flops: Any           # FLOPs / (target x efficiency): the dense peak needed
    required_memory: Any          # bytes held during the pass (no runtime reserve)
    compute_memory_ratio: Any     # required FLOP/s / required B/s: the machine balance the target asks for
    target_latency: Any
    model_size: Any               # weight bytes at the precision
    total_ops: Any                # FLOPs executed by one pass
    meeting_hardware: tuple[str, ...]  # catalog devices whose Engine.solve meets the target and fits, fastest first
    constraint_trace: tuple[str, ...] = ()


class SynthesisSolver:
    """Minimum bandwidth, compute and memory for a latency target, and the catalog devices that reach it."""

    def solve(self, model: Any, target_latency: Any, precision: str = "fp16", efficiency: float | None = 0.5, *,
              batch_size: int = 1, seq_len: int | None = None, is_training: bool = False,
              candidates: Any = None, runtime: Any = None) -> SynthesisResult:
        """model: a spec or registry name; target_latency: one pass (a time Quantity, or seconds); precision:
        storage format of weights and activations; efficiency: fraction of the dense peak kernels reach
        (None: each device's calibrated value in the check, 0.5 in the requirement). Keyword-only:
        batch_size, seq_len, is_training, candidates (hardware to check, default every catalog device), runtime
        (experimental: the software stack, an mlsysim.Runtimes name or spec, as Engine.solve's runtime=; only
        devices of the hardware classes it runs on are checked, and `precision` may name its quantisation
        formats, whose bits per weight set the requirement)."""
        m = resolve_model(model)
        target = as_figure("target_latency", target_latency, "s")
        rt = None if runtime is None else _runtime_spec(runtime)
        eff = check_efficiency(efficiency)
        batch = check_positive_int("batch_size", batch_size)
        check_bool("is_training", is_training)
        seq = _sequence_length(m, seq_len, [])
        prec = _requirement_precision(precision, rt)
        name = prec.requested
        cost = workload_cost(m, batch, seq or 0, prec, TrainingOptions() if is_training else None)
        moved = cost.weight_traffic + cost.other_traffic
        held = cost.weights + cost.kv_cache + cost.activations + cost.gradients + cost.optimizer_state
        applied = eff if eff is not None else REQUIREMENT_EFFICIENCY
        required_bw = moved / target                       # memory roof alone
        required_flops = cost.hardware_flops / (target * applied)  # compute roof alone, at the peak
        meeting, skipped = _meeting(m, candidates, target, batch, name, eff, is_training, seq_len, rt)
        trace = (f"{cost.hardware_flops:.4g} FLOP and {moved:.4g} B per pass of {m.name} (batch {batch}"
                 f"{', seq ' + str(seq) if seq else ''}{', training' if is_training else ''}, {name})",
                 f"compute requirement at efficiency {applied:g}" + ("" if eff is not None else
                                                                      " (assumed; devices checked calibrated)"),
                 f"{len(meeting)} device(s) meet {target * 1e3:.4g} ms in Engine.solve"
                 + (f" under {rt.display_name} ({skipped} device(s) of classes it does not run on not checked)"
                    if rt is not None else ""))
        return SynthesisResult(
            required_bw=quantity(required_bw / GB, "GB/s"), required_flops=quantity(required_flops / TFLOPS, "TFLOP/s"),
            required_memory=quantity(held / GB, "GB"),
            compute_memory_ratio=quantity(required_flops / required_bw, "flop/B"),
            target_latency=quantity(target * 1e3, "ms"), model_size=quantity(cost.weights / GB, "GB"),
            total_ops=quantity(cost.hardware_flops, "flop"), meeting_hardware=meeting, constraint_trace=trace)


# The efficiency the requirement assumes when the caller leaves it to each device's calibration (None):
# 0.1.x's default fraction of peak. An assumption, printed in the trace.
REQUIREMENT_EFFICIENCY = 0.5


def _catalog_hardware() -> list[HardwareSpec]:
    from ..registry import registries

    reg = registries()
    seen: dict[str, HardwareSpec] = {}
    for path in reg.roots["Hardware"].paths():
        spec = reg.resolve_path(path)
        if isinstance(spec, HardwareSpec):
            seen.setdefault(spec.name, spec)
    return list(seen.values())


def _runtime_spec(runtime: Any) -> RuntimeSpec:
    if isinstance(runtime, RuntimeSpec):
        return runtime
    if not isinstance(runtime, str):
        raise InvalidTypeError(f"runtime must be a RuntimeSpec or a name such as 'vllm' (mlsysim.Runtimes), got "
                               f"{type(runtime).__name__}")
    from ..registry import registries

    return registries().roots["Runtimes"].get(runtime)


# Weight-only formats dequantise to 16-bit floats for the math (activations stay fp16/bf16).
WEIGHT_ONLY_ACTIVATION = "fp16"


def _requirement_precision(precision: Any, rt: RuntimeSpec | None) -> ExecutionPrecision:
    """Hardware-free precision: the workload's cost reads storage sizes only, never the peak. A runtime's
    quantisation format stores its bits per weight (scales included)."""
    fmt = rt.quant_format(precision) if rt is not None and isinstance(precision, str) else None
    if fmt is None:
        name = check_precision_name(precision)
        element = BYTES_PER_ELEMENT[name]
        return ExecutionPrecision(name, name, element, max(element, 1.0), False, math.nan)
    act = BYTES_PER_ELEMENT[WEIGHT_ONLY_ACTIVATION] if fmt.weight_only else max(BYTES_PER_ELEMENT[fmt.storage], 1.0)
    return ExecutionPrecision(fmt.name, fmt.storage, fmt.bytes_per_weight, act, fmt.weight_only, math.nan)


def _meeting(model: Any, candidates: Any, target: float, batch: int, precision: str, eff: float | None,
             training: bool, seq_len: int | None, rt: RuntimeSpec | None = None) -> tuple[tuple[str, ...], int]:
    if candidates is None:
        devices = _catalog_hardware()
    elif isinstance(candidates, (list, tuple)):
        devices = [resolve_hardware(c) for c in candidates]
    else:
        raise InvalidTypeError(f"candidates must be a list of hardware names or specs, got {type(candidates).__name__}")
    found, skipped = [], 0
    for hw in devices:
        if rt is not None and hw.calibration_class not in rt.hardware_classes:
            skipped += 1  # the stack does not run on this class of device
            continue
        try:
            profile = Engine.solve(model, hw, batch, precision, eff, is_training=training, seq_len=seq_len,
                                   runtime=rt)
        except UnsupportedPrecisionError:
            continue  # the device has no units for this precision: it cannot run the workload as asked
        seconds = profile.latency.to("s").magnitude
        if profile.feasible and seconds <= target:
            found.append((seconds, hw.name))
    return tuple(name for _, name in sorted(found)), skipped
