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
    "param": (1.0, 1e16),
    "USD": (1e-2, 1e10), "USD/kWh": (1e-4, 1e2), "USD/h": (1e-4, 1e5), "kg": (1e-6, 1e7), "h": (1e-3, 1e9),  # economics tables
}
_ANY_NORMAL = (sys.float_info.min, sys.float_info.max)  # a unit without bounds: any normal positive float


def _public(attribute: attrs.Attribute) -> str:
    """The name users and catalog files know a field by (a figure is stored as `_x`, read as `x`)."""
    return attribute.name.lstrip("_")


def _check_positive(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if value is None:
        return
    unit = attribute.metadata.get("unit", "")
    low, high = PLAUSIBLE_RANGE.get(unit, _ANY_NORMAL)
    if type(value) is float and low <= value <= high:  # the common case, decided in one comparison
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise CatalogError(f"must be a number, got {value!r}", entry=getattr(instance, "name", None),
                           field=_public(attribute), expected=f"a positive number in {unit or 'units'}")
    if not math.isfinite(value) or value <= 0:
        raise CatalogError(f"must be positive and finite, got {value!r}", entry=getattr(instance, "name", None),
                           field=_public(attribute), expected=f"a positive number in {unit or 'units'}")
    if not low <= value <= high:
        raise CatalogError(f"{value:.4g} {unit} is outside the plausible range {low:g}-{high:g} {unit}".rstrip(),
                           entry=getattr(instance, "name", None), field=_public(attribute),
                           expected="a real device's figure: check the unit prefix (GB/s vs B/s, TFLOP/s vs FLOP/s)")


def _check_count(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < attribute.metadata.get("min", 1):
        raise CatalogError(f"must be an integer >= {attribute.metadata.get('min', 1)}, got {value!r}",
                           entry=getattr(instance, "name", None), field=attribute.name)


def quantity(unit: str, *, optional: bool = False, doc: str = ""):
    """A physical figure: declare it as ``_x: float = quantity("B/s")`` in a ``@spec`` class. It is stored as a
    plain float in canonical ``unit`` under ``_x`` (the float view the solvers read: no pint on the hot path),
    passed to ``__init__`` and written in catalog files as ``x``, and read by users as ``spec.x``, a pint
    Quantity of ``mlsysim.ureg`` (0.1.x's shape)."""
    meta = {"unit": unit, "doc": doc}
    convert = _to_canonical(unit)
    if optional:
        return attrs.field(default=None, converter=convert, validator=_check_positive, metadata=meta)
    return attrs.field(converter=convert, validator=_check_positive, metadata=meta)


def _to_canonical(unit: str):
    """Converter: a pint Quantity given for a figure (``bandwidth=3.35 * ureg("TB/s")``) becomes the float in
    the canonical unit; plain numbers are taken as already canonical; anything else reaches the validator."""
    def convert(value: Any) -> Any:
        if not hasattr(value, "units") or not hasattr(value, "to"):
            return value
        try:
            return float(value.to(unit).magnitude)
        except Exception as exc:  # pint's DimensionalityError, or a Quantity of another registry
            raise CatalogError(f"{value!r} cannot be converted to {unit} ({type(exc).__name__})",
                               expected=f"a quantity convertible to {unit}, or a number in {unit}") from None
    return convert


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


class _Figure:
    # Read-only attribute ``x`` of a spec: the float stored in ``_x`` as a pint Quantity in its canonical unit
    # (None where an optional figure is not set). Built on each read (~0.3 us): specs stay immutable and small.
    __slots__ = ("storage", "unit", "__doc__")

    def __init__(self, storage: str, unit: str, doc: str) -> None:
        self.storage, self.unit, self.__doc__ = storage, unit, doc or f"pint Quantity in {unit}"

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        value = getattr(obj, self.storage)
        if value is None:
            return None
        from ..units import quantity as wrap

        return wrap(value, self.unit)

    def __set__(self, obj: Any, value: Any) -> None:
        raise attrs.exceptions.FrozenInstanceError()


class _Reference:
    # Attribute ``x`` of a spec whose field ``_x`` names another entry: the named spec (0.1.x's
    # ``cluster.node.accelerator``), resolved on each read through the registry the package installs in
    # mlsysim._hooks (specs never import the registry). A spec given directly (built in Python) is returned.
    __slots__ = ("storage", "public")

    def __init__(self, storage: str, public: str) -> None:
        self.storage, self.public = storage, public

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        value = getattr(obj, self.storage)
        if not isinstance(value, str):
            return value
        from .. import _hooks

        target = _hooks.resolve_path(value) if _hooks.resolve_path is not None else None
        if target is None:
            raise CatalogError(f"{value!r} names no registry entry", entry=getattr(obj, "name", None),
                               field=self.public, expected="a registry path such as 'Systems.Nodes.DGX_H100'")
        return target

    def __set__(self, obj: Any, value: Any) -> None:
        raise attrs.exceptions.FrozenInstanceError()


def reference(doc: str = ""):
    """A field naming another catalog entry by registry path: declare it as ``_x: str = reference()``; the
    catalog key and ``__init__`` keyword are ``x``, ``spec.x`` is the named spec, ``spec._x`` the path."""
    return attrs.field(metadata={"reference": True, "doc": doc})


def spec(cls: type) -> type:
    """``attrs.frozen(kw_only=True)`` plus a Quantity attribute ``x`` for every figure field ``_x``."""
    cls = attrs.frozen(kw_only=True, repr=False)(cls)
    if cls.__repr__ is object.__repr__:  # no hand-written repr in the class or its bases
        cls.__repr__ = _public_repr
    for field in attrs.fields(cls):
        unit = field.metadata.get("unit")
        public = field.name[1:]
        if unit and field.name.startswith("_") and not hasattr(cls, public):
            setattr(cls, public, _Figure(field.name, unit, field.metadata.get("doc", "")))
        elif field.metadata.get("reference") and field.name.startswith("_") and not hasattr(cls, public):
            setattr(cls, public, _Reference(field.name, public))
    return cls


def _public_repr(self: Any) -> str:
    """Fields by the names users know them by (``bandwidth``, not the storage ``_bandwidth``), figures with units."""
    parts = []
    for field in attrs.fields(type(self)):
        if field.name.startswith("_") and field.metadata.get("reference"):
            parts.append(f"{field.alias}={getattr(self, field.name)!r}")
        elif field.name.startswith("_") and field.metadata.get("unit"):
            value = getattr(self, field.alias)
            parts.append(f"{field.alias}={value.to_compact():.4g~P}" if value is not None else f"{field.alias}=None")
        else:
            parts.append(f"{field.alias}={getattr(self, field.name)!r}")
    return f"{type(self).__name__}({', '.join(parts)})"


class QuantityAccess:
    """Mixin of every spec. ``spec.q("memory.bandwidth")`` is the 0.1.0 spelling of ``spec.memory.bandwidth``
    (deprecated: read the attribute, which is a pint Quantity)."""

    __slots__ = ()

    def _repr_html_(self) -> str:
        """Notebook view: every set field with its unit, provenance last (the rows of `mlsysim show`)."""
        from html import escape

        from .describe import describe

        cells = "".join(f"<tr><th style='text-align:left'>{escape(k)}</th><td>{escape(v)}</td></tr>"
                        for k, v in describe(self))
        return f"<table><caption>{escape(type(self).__name__)} {escape(str(getattr(self, 'name', '')))}</caption>" \
               f"{cells}</table>"

    def q(self, path: str):
        import warnings

        warnings.warn(f"spec.q({path!r}) is deprecated: read spec.{path}, a pint Quantity", DeprecationWarning,
                      stacklevel=2)
        obj: Any = self
        for part in path.split("."):
            obj = getattr(obj, part)
        if obj is None:
            raise CatalogError(f"{path!r} is not set for this entry", entry=getattr(self, "name", None), field=path)
        if not hasattr(obj, "units"):
            raise CatalogError(f"{path!r} is not a physical quantity", entry=getattr(self, "name", None), field=path)
        return obj


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
