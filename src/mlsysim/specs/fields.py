"""Field helpers shared by every spec: canonical units in metadata, validation that names the field."""
from __future__ import annotations

import math
import sys
from typing import Any

import attrs

from ..errors import CatalogError


# Plausibility bounds per canonical unit: several orders of magnitude beyond the smallest and largest figure of
# any device or model in the catalog (an nRF52840's 64 MFLOP/s to an NVL72 rack's 1.4 EFLOP/s, a 5 uW idle
# to a 120 kW rack, 8 KiB to 14 TB). A value outside is a unit slip ("3.35 B/s" for "3.35 TB/s"), or a
# subnormal / overflowing number that would give infinite or zero results, never a real device.
PLAUSIBLE_RANGE = {
    "B": (1.0, 1e18), "B/s": (1e3, 1e18), "flop/s": (1e3, 1e21), "flop": (1.0, 1e30), "s": (1e-12, 1e7),
    "W": (1e-9, 1e9), "J": (1e-15, 1e15), "g/kWh": (1e-3, 1e4), "L/kWh": (1e-3, 1e3), "": (1e-9, 1e16),
}
_ANY_NORMAL = (sys.float_info.min, sys.float_info.max)  # a unit without bounds: any normal positive float


def _check_positive(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if value is None:
        return
    unit = attribute.metadata.get("unit", "")
    low, high = PLAUSIBLE_RANGE.get(unit, _ANY_NORMAL)
    if type(value) is float and low <= value <= high:  # the common case, decided in one comparison
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise CatalogError(f"must be a number, got {value!r}", entry=getattr(instance, "name", None),
                           field=attribute.name, expected=f"a positive number in {unit or 'units'}")
    if not math.isfinite(value) or value <= 0:
        raise CatalogError(f"must be positive and finite, got {value!r}", entry=getattr(instance, "name", None),
                           field=attribute.name, expected=f"a positive number in {unit or 'units'}")
    if not low <= value <= high:
        raise CatalogError(f"{value:.4g} {unit} is outside the plausible range {low:g}-{high:g} {unit}".rstrip(),
                           entry=getattr(instance, "name", None), field=attribute.name,
                           expected="a real device's figure: check the unit prefix (GB/s vs B/s, TFLOP/s vs FLOP/s)")


def _check_count(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < attribute.metadata.get("min", 1):
        raise CatalogError(f"must be an integer >= {attribute.metadata.get('min', 1)}, got {value!r}",
                           entry=getattr(instance, "name", None), field=attribute.name)


def quantity(unit: str, *, optional: bool = False, doc: str = ""):
    """A physical quantity stored as a plain float in canonical ``unit`` (the hot path never sees pint)."""
    meta = {"unit": unit, "doc": doc}
    if optional:
        return attrs.field(default=None, validator=_check_positive, metadata=meta)
    return attrs.field(validator=_check_positive, metadata=meta)


def number(*, optional: bool = False, doc: str = ""):
    """A dimensionless positive number (a count of parameters, a ratio)."""
    meta = {"unit": "", "doc": doc}
    if optional:
        return attrs.field(default=None, validator=_check_positive, metadata=meta)
    return attrs.field(validator=_check_positive, metadata=meta)


def integer(*, minimum: int = 1, default: int | None = None, doc: str = ""):
    meta = {"min": minimum, "doc": doc}
    if default is None:
        return attrs.field(validator=_check_count, metadata=meta)
    return attrs.field(default=default, validator=_check_count, metadata=meta)


def one_of(*choices: str, default: str | None = None):
    def check(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
        if value not in choices:
            raise CatalogError(f"{value!r} is not allowed", entry=getattr(instance, "name", None),
                               field=attribute.name, expected=f"one of {', '.join(choices)}")
    if default is None:
        return attrs.field(validator=check, metadata={"choices": choices})
    return attrs.field(default=default, validator=check, metadata={"choices": choices})


def as_tuple(value: Any) -> tuple:
    return tuple(value) if value is not None else ()


class QuantityAccess:
    """Mixin: ``spec.q("memory.bandwidth")`` returns the float field as a pint Quantity of ``mlsysim.ureg``."""

    __slots__ = ()

    def q(self, path: str):
        from ..units import quantity as wrap

        obj: Any = self
        for part in path.split("."):
            holder, obj = obj, getattr(obj, part)
        field = attrs.fields_dict(type(holder)).get(part)
        unit = field.metadata.get("unit") if field is not None else getattr(holder, "UNIT", None)
        if obj is None:
            raise CatalogError(f"{path!r} is not set for this entry", entry=getattr(self, "name", None), field=path)
        if not unit:
            raise CatalogError(f"{path!r} is not a physical quantity", entry=getattr(self, "name", None), field=path)
        return wrap(obj, unit)


def figure(spec: Any, path: str) -> Any:
    """A spec's figure as a plain float in its canonical unit (``figure(hw, "memory.bandwidth")`` -> B/s),
    None where the optional figure is not set. This is the float view solvers compute with; users read the
    same figure as a pint Quantity by attribute (``hw.memory.bandwidth``)."""
    obj: Any = spec
    parts = path.split(".")
    for part in parts[:-1]:
        obj = getattr(obj, part)
        if obj is None:
            return None
    last = parts[-1]
    storage = f"_{last}"
    fields = attrs.fields_dict(type(obj)) if attrs.has(type(obj)) else {}
    if storage in fields:
        return getattr(obj, storage)
    value = getattr(obj, last)
    if hasattr(value, "magnitude") and last in fields:
        return value.to(fields[last].metadata["unit"]).magnitude
    return value
