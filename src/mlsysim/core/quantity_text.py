"""formatting.human and the `~C` unit text of a result's Quantities, without pint's per-call to_compact/format.

A Quantity of mlsysim's registry is its magnitude and its units; what human() prints depends on nothing else.
So the unit's name is found once per units (and checked to parse back to the same units), and the figure is
formatted from the float by units.human_float (seconds and bytes by magnitude as human() does, other units by
pint's to_compact choice, replayed and cached). Units human() treats specially but human_float does not (a
time unit other than the second, a byte or bit unit other than the byte) keep human() itself, as does anything
that is not a plain Quantity of this registry. tests/test_result_text.py compares both with human() and pint.
"""
from __future__ import annotations

from typing import Any

from .. import units as _units
from ..formatting import human as _human
from ..units import human_float, quantity

_names: dict[Any, str | None] = {}   # units -> the name human_float formats them by, None: human() itself
_symbols: dict[Any, str] = {}        # units -> f"{units:~C}"
_CACHE_SIZE = 1024  # distinct units kept; a program prints a few dozen


def _name_of(q: Any) -> str | None:
    items = tuple(q.unit_items())
    if len(items) == 1 and items[0][1] == 1 and items[0][0].endswith(("byte", "bit")):
        return "B" if items[0][0] == "byte" else None  # human(): q.to("B"), a factor of exactly 1 for bytes
    if q.dimensionality == {"[time]": 1}:
        return "s" if items == (("second", 1),) else None  # human(): q.to("s")
    name = str(q.units)
    try:
        from pint.util import infer_base_unit  # pint is loaded: q is a Quantity

        # human_float keys pint's choice by the power of the magnitude itself: only units to_compact starts from
        # unchanged (no prefix, so its conversion to the base unit is the identity) and that parse back to q's
        if infer_base_unit(q) != q._units or quantity(1.0, name)._units != q._units:
            return None
    except Exception:  # a unit text that does not parse back: human() itself
        return None
    return name


def human(value: Any) -> str:
    """formatting.human(value), the same text."""
    ureg = _units._ureg  # None: no Quantity exists yet (and pint is not loaded for a plain value)
    if ureg is None or type(value) is not ureg.Quantity or type(value._magnitude) is not float:
        return _human(value)
    units = value._units
    try:
        name = _names[units]
    except KeyError:
        if len(_names) >= _CACHE_SIZE:
            _names.clear()
        name = _names[units] = _name_of(value)
    return _human(value) if name is None else human_float(value._magnitude, name)


def unit_symbol(value: Any) -> str:
    """f"{value.units:~C}" of a Quantity of this registry, formatted once per units."""
    ureg = _units._ureg
    if ureg is None or type(value) is not ureg.Quantity:
        return f"{value.units:~C}"
    units = value._units
    text = _symbols.get(units)
    if text is None:
        if len(_symbols) >= _CACHE_SIZE:
            _symbols.clear()
        text = _symbols[units] = f"{value.units:~C}"
    return text
