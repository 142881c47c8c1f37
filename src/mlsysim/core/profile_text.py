"""The text of PerformanceProfile.summary() and its notebook table, from the profile's floats.

The labels a profile prints depend only on which memory terms it holds, so each label set's line template
(labels padded to one width) is built once and filled with `%`; seconds and bytes are formatted by a table
lookup (formatting.human's unit choice, found by bisection) and one printf, with no pint and no unit parsing.
The text is formatting.human's of the Quantity, character for character (tests/test_summary_text.py compares
it with the previous implementation on random profiles); anything unusual (a non-float, zero, NaN, an
infinity) goes through units.human_float, which falls back to human() itself.
"""
from __future__ import annotations

from bisect import bisect_right
from typing import Any

from ..formatting import _BYTE_STEPS, _TIME_STEPS
from ..units import human_float

DIGITS = 4  # significant digits of every figure (formatting.human's default)
_INF = float("inf")


def _table(steps: tuple[tuple[str, float], ...]) -> tuple[tuple[float, ...], tuple[tuple[str, float], ...]]:
    """(limits, (printf format, factor) per step). formatting._pick takes the largest step whose factor |v|
    reaches, else the first: with the first limit 0.0, bisect_right - 1 is that index for every |v| > 0."""
    limits = (0.0,) + tuple(factor for _, factor in steps[1:])
    return limits, tuple((f"%.{DIGITS}g {name}", factor) for name, factor in steps)


_TIME_LIMITS, _TIME_FORMATS = _table(_TIME_STEPS)
_BYTE_LIMITS, _BYTE_FORMATS = _table(_BYTE_STEPS)


def seconds(value: Any) -> str:
    """human_float(value, "s"): a finite non-zero float by table lookup, anything else through it."""
    if type(value) is float:
        a = abs(value)
        if 0.0 < a < _INF:
            fmt, factor = _TIME_FORMATS[bisect_right(_TIME_LIMITS, a) - 1]
            return fmt % (value / factor)
    return human_float(value, "s", DIGITS)


def nbytes(value: Any) -> str:
    """human_float(value, "B"), as seconds() does it."""
    if type(value) is float:
        a = abs(value)
        if 0.0 < a < _INF:
            fmt, factor = _BYTE_FORMATS[bisect_right(_BYTE_LIMITS, a) - 1]
            return fmt % (value / factor)
    return human_float(value, "B", DIGITS)


_HEAD = ("model", "hardware", "workload", "latency", "throughput", "bottleneck", "mfu", "feasible", "energy",
         "  compute / memory / overhead")
_DEVICE_MEMORY = ("memory",)
_MCU_MEMORY = ("memory (SRAM)", "flash (weights)")  # a microcontroller: the weights sit in flash, the rest in SRAM
# The memory terms listed under the total when non-zero, in this order: (label, MemoryBreakdown field).
_TERMS = (("  weights", "weights"), ("  kv cache", "kv_cache"), ("  activations", "activations"),
          ("  gradients", "gradients"), ("  optimizer state", "optimizer_state"),
          ("  runtime reserve", "runtime_reserve"))
_layouts: dict[int, tuple[tuple[str, ...], str]] = {}  # label-set mask -> (labels, line template)


def _layout(mask: int) -> tuple[tuple[str, ...], str]:
    """Labels and template of one label set: bit 0 a microcontroller, bit i + 1 memory term i present."""
    labels = _HEAD + (_MCU_MEMORY if mask & 1 else _DEVICE_MEMORY) \
        + tuple(label for i, (label, _) in enumerate(_TERMS) if mask >> (i + 1) & 1)
    width = max(len(label) for label in labels)
    template = "\n".join(f"{label:<{width}}  %s" for label in labels)
    _layouts[mask] = labels, template
    return labels, template


def rows(p: Any) -> tuple[tuple[str, ...], str, list[str]]:
    """(labels, template, values) of profile `p`'s summary: every figure in the unit that suits its magnitude."""
    m = p.memory
    workload = f"batch {p.batch_size}, {p.precision}"
    if p.compute_precision != p.precision:
        workload += " (computed in " + p.compute_precision + ")"
    if p.seq_len:
        workload += ", seq_len " + str(p.seq_len)
    if p.is_training:
        workload += ", training"
    values = [p.model, p.hardware, workload, seconds(p.latency_s),
              human_float(p.throughput_per_s, f"{p.throughput_unit}/s", DIGITS), p.bottleneck, f"{p.mfu:.1%}",
              "yes" if p.feasible else "NO", human_float(p.energy_j, "J", DIGITS),
              f"{seconds(p.compute_time_s)} / {seconds(p.memory_time_s)} / {seconds(p.overhead_s)}"]
    if m.weights_capacity is None:
        mask = 0
        values.append(f"{nbytes(m.total)} of {nbytes(m.capacity)}")
    else:
        mask = 1
        values.append(f"{nbytes(m.total - m.weights)} of {nbytes(m.capacity)}")
        values.append(f"{nbytes(m.weights)} of {nbytes(m.weights_capacity)}")
    bit = 2
    for term in (m.weights, m.kv_cache, m.activations, m.gradients, m.optimizer_state, m.runtime_reserve):
        if term:
            mask |= bit
            values.append(nbytes(term))
        bit <<= 1
    labels, template = _layouts.get(mask) or _layout(mask)
    return labels, template, values


def summary(p: Any) -> str:
    """The summary's text: one padded line per figure, then one `note:` line per reason."""
    _, template, values = rows(p)
    text = template % tuple(values)
    if p.reasons:
        text += "\n" + "\n".join([f"note: {r}" for r in p.reasons])
    return text
