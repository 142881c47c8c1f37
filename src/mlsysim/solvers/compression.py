"""Model compression: what quantisation, pruning and distillation save in bytes and buy in speed.

Sizes and speed come from the engine's physics: weight bytes per precision (mlsysim.core.precision) and the
per-phase roofline of one pass (RooflineModel / workload_cost), baseline against compressed, on the same
device, batch and context. The speedup is therefore large where a pass is memory-bound on weights (batch-1
decode) and small where it is compute-bound without faster low-precision units.

- quantization: target_bitwidth 32/16/8/4 maps to fp32, fp16 (bf16), int8 (fp8) or int4 (fp4): native units
  where the device has them, otherwise weight-only quantisation (weights dequantised for the math).
- pruning: `unstructured` (stored as values + a presence bitmap; dense kernels still do every MAC, so no
  speedup), `structured` (whole rows/channels/heads removed: smaller dense GEMMs, FLOPs and weight bytes x
  (1 - sparsity)), `n_m` (NVIDIA 2:4, exactly 50%: half the values + 2 bits of index per kept value, and the
  device's peak_sparse rate -- only on hardware that has sparse tensor cores; elsewhere it runs dense).
- distillation: a smaller `student` model replaces the teacher.

The accuracy figure is a literature estimate per regime (sources at the constants), not a prediction for a
given model and task. Not modelled: quantisation scales and zero-points (~0.1-0.25 bit per weight at group
size 128), activation sparsity, the measured gap of 2:4 kernels below the 2x peak, recovery fine-tuning.
"""
from __future__ import annotations

from typing import Any

import attrs

from ..core.inputs import check_positive_int, resolve_hardware, resolve_model
from ..core.precision import ExecutionPrecision
from ..core.results import PerformanceProfile
from ..core.solver import RooflineModel, calibration_class
from ..core.workload import workload_cost
from ..errors import InvalidInputError, InvalidTypeError
from ..specs.fields import figure
from ..units import quantity
from ._queueing import choice, fraction
from ._result import SolverResult
from ._runtime import pass_precision

_ROOFLINE = RooflineModel()
METHODS = ("quantization", "pruning", "distillation")
SPARSITY_TYPES = ("unstructured", "structured", "n_m")
# Precision a bit width runs as, in order of preference: native integer units first, then the float format of
# the same width (OCP FP8 / MXFP4), else weight-only quantisation in the first name.
BITWIDTH_FORMATS = {32: ("fp32",), 16: ("fp16", "bf16"), 8: ("int8", "fp8"), 4: ("int4", "fp4")}
# 2:4 structured sparsity: 2 of every 4 weights kept, each with a 2-bit position index (NVIDIA A100 whitepaper,
# "Sparse Tensor Cores"; Mishra et al. 2021, "Accelerating Sparse Deep Neural Networks", sec. 2).
NM_KEPT_FRACTION = 0.5
NM_INDEX_BITS_PER_KEPT = 2.0
# Unstructured sparse storage: the kept values plus one presence bit per weight (bitmap format).
BITMAP_BITS_PER_WEIGHT = 1.0
BITS_PER_BYTE = 8.0

# --- accuracy estimates (absolute change of task accuracy, -0.02 = two points) ------------------------------
# fp16/bf16 inference of mixed-precision-trained models is lossless in practice (Micikevicius et al. 2018);
# 8-bit: LLM.int8() (Dettmers et al. 2022) and SmoothQuant W8A8 (Xiao et al. 2023) report no to sub-point loss;
# 4-bit group-wise weights: GPTQ (Frantar et al. 2023) and AWQ (Lin et al. 2024) report ~1-2 points on LLMs.
# All estimates.
QUANT_ACCURACY_DELTA = {32: 0.0, 16: 0.0, 8: -0.005, 4: -0.02}
# One-shot unstructured pruning of LLMs (SparseGPT, Frantar & Alistarh 2023; Wanda, Sun et al. 2024): a few
# points at 50%, collapse beyond ~70%. Piecewise-linear through (sparsity, delta) points; estimate.
PRUNING_ACCURACY_POINTS = ((0.0, 0.0), (0.5, -0.03), (0.7, -0.15), (0.9, -0.5), (1.0, -1.0))
# 2:4 at 50% loses more than 50% unstructured in the same papers (the pattern constrains which weights go);
# estimate.
NM_ACCURACY_DELTA = -0.06
# Structured (channel/head) pruning removes more signal per pruned weight than unstructured pruning at equal
# sparsity (LLM-Pruner, Ma et al. 2023; Sheared-LLaMA, Xia et al. 2024 need retraining to recover); estimate.
STRUCTURED_ACCURACY_FACTOR = 2.0
# DistilBERT keeps 77.0 of BERT-base's 79.5 GLUE score at 40% fewer parameters (Sanh et al. 2019, table 1):
# one published teacher-student pair, used for every pair (estimate).
DISTILLATION_ACCURACY_DELTA = -0.025


@attrs.frozen(kw_only=True)
class CompressionResult(SolverResult):
    original_size_gb: Any            # weights at baseline_precision
    compressed_size_gb: Any          # weights after compression (as stored)
    compression_ratio: float         # original / compressed
    estimated_accuracy_delta: float  # literature estimate, absolute (-0.02 = two points)
    memory_savings_pct: float        # 100 x (1 - compressed / original)
    inference_speedup: float         # baseline pass latency / compressed pass latency
    method: str
    precision: str                   # the precision the compressed model runs in
    baseline_latency: Any
    compressed_latency: Any
    baseline_bottleneck: str
    constraint_trace: tuple[str, ...] = ()


class CompressionModel:
    """Bytes saved and speed gained by quantising, pruning or distilling a model on one device."""

    def solve(self, model: Any, hardware: Any, method: str = "quantization", target_bitwidth: int = 8,
              sparsity: float = 0.0, sparsity_type: str = "unstructured", *, baseline_precision: str = "fp32",
              batch_size: int = 1, seq_len: int | None = None, efficiency: float | None = None,
              student: Any = None, runtime: Any = None) -> CompressionResult:
        """baseline_precision: the uncompressed model's precision (0.1.x's fp32 reference by default; pruning
        keeps it). batch_size / seq_len / efficiency: the pass both are timed on (a decode step for decoders).
        student: the distilled model (method="distillation"). runtime (experimental): the software stack both
        passes run on (mlsysim.Runtimes name or spec), as Engine.solve's runtime=: its kernels and launch cost
        time both passes; the quantised format must be one it runs."""
        m, hw = resolve_model(model), resolve_hardware(hardware)
        method = choice("method", method, METHODS)
        batch = check_positive_int("batch_size", batch_size)
        common = dict(seq_len=seq_len, runtime=runtime)
        base = _ROOFLINE.solve(m, hw, batch, baseline_precision, efficiency, **common)
        original = base.memory.weights
        trace: list[str] = []
        if method == "quantization":
            bits = _bitwidth(target_bitwidth)
            name = _format_for(hw, bits)
            comp = _ROOFLINE.solve(m, hw, batch, name, efficiency, **common)
            compressed, latency, accuracy = comp.memory.weights, comp.latency.to("s").magnitude, \
                QUANT_ACCURACY_DELTA[bits]
            trace += [r for r in comp.reasons if "quantisation" in r]
        elif method == "pruning":
            s = fraction("sparsity", sparsity, high=1.0, high_open=True)
            kind = choice("sparsity_type", sparsity_type, SPARSITY_TYPES)
            name = base.precision
            compressed, latency, accuracy = _prune(m, hw, base, s, kind, trace,
                                                   pass_precision(hw, baseline_precision, runtime))
        else:
            if student is None:
                raise InvalidInputError("distillation needs student= (the smaller model, a spec or registry name); "
                                        "the teacher is `model`")
            comp = _ROOFLINE.solve(student, hw, batch, baseline_precision, efficiency, **common)
            name = comp.precision
            compressed, latency, accuracy = comp.memory.weights, comp.latency.to("s").magnitude, \
                DISTILLATION_ACCURACY_DELTA
            trace.append(f"student {comp.model} replaces teacher {m.name}; accuracy from one published pair")
        base_latency = base.latency.to("s").magnitude
        ratio = original / compressed
        return CompressionResult(
            original_size_gb=quantity(original / 1e9, "GB"), compressed_size_gb=quantity(compressed / 1e9, "GB"),
            compression_ratio=ratio, estimated_accuracy_delta=accuracy, memory_savings_pct=100.0 * (1.0 - 1.0 / ratio),
            inference_speedup=base_latency / latency, method=method, precision=name,
            baseline_latency=quantity(base_latency * 1e3, "ms"), compressed_latency=quantity(latency * 1e3, "ms"),
            baseline_bottleneck=base.bottleneck, constraint_trace=tuple(trace))


def _bitwidth(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidTypeError(f"target_bitwidth must be an int (one of {', '.join(map(str, BITWIDTH_FORMATS))}), "
                               f"got {value!r}")
    if value not in BITWIDTH_FORMATS:
        raise InvalidInputError(f"target_bitwidth {value} has no storage format in the engine; accepted: "
                                f"{', '.join(map(str, BITWIDTH_FORMATS))}")
    return value


def _format_for(hw: Any, bits: int) -> str:
    names = BITWIDTH_FORMATS[bits]
    native = [n for n in names if figure(hw, f"peak_dense.{n}") is not None]
    return native[0] if native else names[0]  # none native: weight-only quantisation in the first format


def _prune(m: Any, hw: Any, base: PerformanceProfile, s: float, kind: str, trace: list[str],
           prec: ExecutionPrecision) -> tuple[float, float, float]:
    """(stored weight bytes, pass latency in s, accuracy delta) of the pruned model at the baseline precision."""
    original = base.memory.weights
    bits = prec.weight_bytes * BITS_PER_BYTE
    dense_accuracy = _interpolate(PRUNING_ACCURACY_POINTS, s)
    if kind == "unstructured":
        stored = min(original, original * ((1.0 - s) + BITMAP_BITS_PER_WEIGHT / bits))
        if stored == original:
            trace.append(f"at sparsity {s:g} the bitmap format is no smaller than dense; stored dense")
        trace.append("unstructured sparsity: dense kernels still execute every MAC, so no speedup")
        return stored, base.latency.to("s").magnitude, dense_accuracy
    if kind == "structured":
        scale = 1.0 - s
        return original * scale, _phase_latency(m, hw, base, prec, flops_scale=scale, weight_scale=scale), \
            max(-1.0, STRUCTURED_ACCURACY_FACTOR * dense_accuracy)
    if abs(s - NM_KEPT_FRACTION) > 1e-9:
        raise InvalidInputError(f"n_m (2:4) sparsity keeps exactly 2 of 4 weights: sparsity must be 0.5, got {s:g}")
    weight_scale = NM_KEPT_FRACTION * (1.0 + NM_INDEX_BITS_PER_KEPT / bits)
    sparse_peak = figure(hw, f"peak_sparse.{base.compute_precision}")
    if sparse_peak is None:
        trace.append(f"{hw.display_name} has no sparse {base.compute_precision} units: 2:4 runs dense, no speedup")
        return original * weight_scale, base.latency.to("s").magnitude, NM_ACCURACY_DELTA
    # Sparse tensor cores skip the zero half: the same work at the sparse peak x the same efficiency.
    flops_scale = base.dense_peak_flops / sparse_peak
    return original * weight_scale, _phase_latency(m, hw, base, prec, flops_scale=flops_scale,
                                                   weight_scale=weight_scale), NM_ACCURACY_DELTA


def _phase_latency(m: Any, hw: Any, base: PerformanceProfile, prec: ExecutionPrecision | None = None, *,
                   flops_scale: float, weight_scale: float) -> float:
    """The baseline's per-phase roofline (Williams et al. 2009) with the weight-bearing phases' FLOPs and weight
    bytes scaled; rates and launch overhead (the runtime's, under one) are the baseline's. Scales of 1 give the
    baseline latency. prec: the baseline's precision (default: base.precision on hw without a runtime)."""
    if prec is None:
        prec = pass_precision(hw, base.precision, None)
    cost = workload_cost(m, base.batch_size, base.seq_len or 0, prec, None)
    phases = cost.phases or ((cost.hardware_flops, cost.weight_traffic, cost.other_traffic),)
    flash = figure(hw, "flash.bandwidth")
    weight_bw = flash * calibration_class(hw).memory_efficiency if flash is not None else base.bandwidth_used
    busy = 0.0
    for flops, w_bytes, o_bytes in phases:
        if w_bytes > 0.0:  # a GEMM phase carries the weights that pruning removes
            flops, w_bytes = flops * flops_scale, w_bytes * weight_scale
        busy += max(flops / base.peak_flops_used, w_bytes / weight_bw + o_bytes / base.bandwidth_used)
    return busy + base.overhead_s


def _interpolate(points: tuple[tuple[float, float], ...], x: float) -> float:
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        if x0 <= x <= x1:
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    return points[-1][1]  # pragma: no cover - x is within [0, 1)


__all__ = ["CompressionModel", "CompressionResult"]
