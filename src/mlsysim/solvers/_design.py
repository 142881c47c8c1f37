"""Argument checks the design and analysis families share (topology, scaling, data, transformation,
parallelism, sensitivity, synthesis, responsible): a figure given as a pint Quantity or as a plain number in its
documented unit, fractions, counts, and registry look-ups. Every refusal is an mlsysim error that says what
is accepted."""
from __future__ import annotations

import math
import sys
from typing import Any

from ..errors import InvalidInputError, InvalidTypeError


def is_quantity(value: Any) -> bool:
    return hasattr(value, "units") and hasattr(value, "magnitude") and hasattr(value, "m_as")


def as_figure(name: str, value: Any, unit: str, *, zero: bool = False) -> float:
    """`value` as a finite float in `unit`: a pint Quantity of any unit convertible to `unit`, or a plain
    number already in `unit`. Positive (or zero where `zero`); NaN, infinities and subnormals are refused."""
    shown_unit = unit or "a plain number"
    if is_quantity(value):
        try:
            value = value.m_as(unit) if unit else value.m_as("dimensionless")
        except Exception:  # pint's DimensionalityError / UndefinedUnitError
            raise InvalidInputError(f"{name} must be a quantity convertible to {shown_unit}, got {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidTypeError(f"{name} must be a pint Quantity or a number in {shown_unit}, got {value!r} "
                               f"({type(value).__name__})")
    try:
        value = float(value)
    except OverflowError:  # an int beyond the float range
        raise InvalidInputError(f"{name} is too large: {value!r}") from None
    if zero and value == 0.0:
        return 0.0
    if not math.isfinite(value) or value < sys.float_info.min:
        need = "zero or positive" if zero else "positive"
        raise InvalidInputError(f"{name} must be {need} and finite (in {shown_unit}), got {value!r}")
    return value


def as_fraction(name: str, value: Any, *, low_open: bool = True, high: float = 1.0) -> float:
    """A plain float in (0, high] (or [0, high] when not `low_open`)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidTypeError(f"{name} must be a number in ({0 if low_open else '[0'}, {high:g}], got {value!r}")
    ok = (0.0 < value <= high) if low_open else (0.0 <= value <= high)  # NaN fails both
    if not ok or (low_open and value < sys.float_info.min):
        raise InvalidInputError(f"{name} must be in {'(0' if low_open else '[0'}, {high:g}], got {value!r}")
    return float(value)


def as_choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str):
        raise InvalidTypeError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    key = value.strip().lower().replace("-", "_")
    if key not in choices:
        raise InvalidInputError(f"unknown {name} {value!r}; accepted: {', '.join(choices)}")
    return key


def registry_entry(root: str, name: str) -> Any:
    """The entry `name` of registry root `root` (an UnknownEntryError lists the closest names)."""
    from ..registry import registries

    return registries().roots[root].get(name)
