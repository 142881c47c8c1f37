"""Numeric precisions: storage size and the rule that picks the compute units a precision runs on."""
from __future__ import annotations

import attrs

from ..errors import InvalidTypeError, UnsupportedPrecisionError
from ..specs.hardware import BYTES_PER_ELEMENT, PRECISIONS, HardwareSpec
# Storage-only formats: when the hardware has no units for them, weights stay quantised and are dequantised
# to a float format for the math (weight-only quantisation, e.g. AWQ/GPTQ W4A16, llama.cpp Q4/Q8).
QUANTISED_STORAGE = ("fp8", "int8", "int4", "fp4")
# Storage formats no training recipe in the catalog's scope uses for weights and gradients.
TRAINING_UNSUPPORTED = ("int8", "int4", "fp4")
# Float formats weight-only quantised kernels compute in, in order of preference at equal peak.
DEQUANT_TARGETS = ("bf16", "fp16", "fp32")


@attrs.frozen
class ExecutionPrecision:
    requested: str          # what the user asked for: the storage format of the weights
    compute: str            # the units the math runs on
    weight_bytes: float     # bytes per weight element
    activation_bytes: float  # bytes per activation / KV element (the compute format, >= 1 byte)
    weight_only: bool       # True when weights are dequantised to `compute` (no native units)
    peak_flops: float       # dense peak of `compute`, FLOP/s


def check_precision_name(precision: object) -> str:
    if not isinstance(precision, str):
        raise InvalidTypeError(f"precision must be a string such as 'fp16', got {type(precision).__name__}")
    name = precision.strip().lower()
    if name not in BYTES_PER_ELEMENT:
        raise UnsupportedPrecisionError(f"unknown precision {precision!r}; valid: {', '.join(PRECISIONS)}")
    return name


# Precision used when the caller names none: fp16 (0.1.x's default); on a device without fp16 units the first
# of these it has -- int8 before fp32 because integer-only targets (microcontrollers, edge NPUs) deploy int8
# (TensorFlow Lite Micro runs int8-quantised models, David et al. 2021, sec. 4).
class _DefaultPrecision(str):
    """The signature default "fp16", told apart from an explicit "fp16": only the default may fall back to the
    device's own precision (an explicit fp16 on a device without fp16 units stays an error)."""

    __slots__ = ()


DEFAULT_PRECISION = _DefaultPrecision("fp16")
DEFAULT_PRECISION_ORDER = ("fp16", "bf16", "int8", "fp32")
TRAINING_DEFAULT_ORDER = ("fp16", "bf16", "fp32")


def default_precision(hardware: HardwareSpec, training: bool = False) -> tuple[str, str | None]:
    """(precision, reason or None) when the caller names no precision (None or the signature default)."""
    if hardware.peak_dense.get(DEFAULT_PRECISION):
        return DEFAULT_PRECISION, None
    order = TRAINING_DEFAULT_ORDER if training else DEFAULT_PRECISION_ORDER
    name = next((p for p in order if hardware.peak_dense.get(p)), None)
    if name is None:
        have = ", ".join(p for p, _ in hardware.peak_dense.items())
        raise UnsupportedPrecisionError(f"{hardware.display_name} has none of {', '.join(order)}; pass precision= "
                                        f"one of {have}")
    return name, (f"precision not given: {hardware.display_name} has no {DEFAULT_PRECISION} units, so its "
                  f"{name} (pass precision= to choose)")


def resolve_precision(hardware: HardwareSpec, precision: str, *, weight_only: bool = False,
                      training: bool = False) -> ExecutionPrecision:
    """Native units if the hardware has them; weight-only quantisation for storage formats it lacks (or when
    asked for); an error for a float format it lacks (never a silent switch to another peak)."""
    name = check_precision_name(precision)
    if weight_only and name not in QUANTISED_STORAGE:
        raise UnsupportedPrecisionError(f"weight_only applies to quantised storage formats "
                                        f"({', '.join(QUANTISED_STORAGE)}), not {name}")
    if training:
        if name in TRAINING_UNSUPPORTED or weight_only:
            raise UnsupportedPrecisionError(
                f"training in {name}{' weight-only' if weight_only else ''} is not modelled; train in fp32, tf32, "
                "bf16 or fp16 (mixed precision), or fp8 (bf16 weights and gradients, fp8 matmuls)")
        if name == "fp8" and hardware.peak_dense.get("fp8"):
            # FP8 training (Micikevicius et al. 2022; Transformer Engine): fp8 GEMMs, bf16 weights/gradients/
            # saved activations, fp32 master weights in the optimizer state.
            return ExecutionPrecision(name, name, 2.0, 2.0, False, hardware.peak_dense._fp8)
    native = hardware.peak_dense.get(name)
    if native is not None and not weight_only:
        act = max(BYTES_PER_ELEMENT[name], 1.0)  # sub-byte activations/KV are not stored: int8 at least
        return ExecutionPrecision(name, name, BYTES_PER_ELEMENT[name], act, False, native)
    if name in QUANTISED_STORAGE:
        floats = [(hardware.peak_dense.get(p), p) for p in DEQUANT_TARGETS if hardware.peak_dense.get(p)]
        if floats:
            peak, compute = max(floats, key=lambda fp: fp[0])
            return ExecutionPrecision(name, compute, BYTES_PER_ELEMENT[name], BYTES_PER_ELEMENT[compute], True, peak)
    have = ", ".join(p for p, _ in hardware.peak_dense.items())
    raise UnsupportedPrecisionError(
        f"{hardware.display_name} has no {name} peak in the catalog (it lists: {have}; a figure the vendor does not "
        f"print is left out, never guessed); choose one of those, or a quantised storage format "
        f"({', '.join(QUANTISED_STORAGE)}) to run weight-only quantisation")
