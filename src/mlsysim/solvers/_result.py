"""The shared behaviour of every solver family's result: quantities in, JSON and a readable summary out.

A family's result is an ``attrs.frozen`` class deriving from SolverResult whose fields are pint Quantities
(figures), plain numbers, strings, booleans or tuples of those. Field names follow 0.1.x's where 0.1.x had the
family (bug fixes may change values, never names).
"""
from __future__ import annotations

import json
import math
from typing import Any

import attrs

from ..core.formatting import human


def _is_quantity(value: Any) -> bool:
    return hasattr(value, "units") and hasattr(value, "magnitude")


def _plain(value: Any) -> Any:
    if _is_quantity(value):
        return value.magnitude
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if attrs.has(type(value)) and isinstance(value, SolverResult):
        return value.to_dict()
    return value


class SolverResult:
    """Mixin: to_dict / to_json / summary / str / _repr_html_ for attrs result classes."""

    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: a quantity field `x` becomes `x` (its magnitude) and `x_unit` (the unit it is in)."""
        out: dict[str, Any] = {}
        for field in attrs.fields(type(self)):
            value = getattr(self, field.name)
            out[field.name] = _plain(value)
            if _is_quantity(value):
                out[f"{field.name}_unit"] = f"{value.units:~}"
        return out

    def to_json(self, **kwargs: Any) -> str:
        """Valid JSON (RFC 8259): a non-finite number raises instead of printing `Infinity`."""
        return json.dumps(self.to_dict(), **{"allow_nan": False, "default": str, **kwargs})

    def _rows(self) -> list[tuple[str, str]]:
        rows = []
        for field in attrs.fields(type(self)):
            value = getattr(self, field.name)
            if isinstance(value, float) and not math.isfinite(value):
                shown = str(value)
            elif isinstance(value, (tuple, list)) and value and all(isinstance(v, str) for v in value):
                shown = "; ".join(value)
            elif isinstance(value, SolverResult):
                shown = type(value).__name__
            else:
                shown = human(value)
            rows.append((field.name, shown))
        return rows

    def summary(self) -> str:
        rows = self._rows()
        width = max((len(k) for k, _ in rows), default=0)
        return "\n".join([type(self).__name__] + [f"  {k:<{width}}  {v}" for k, v in rows])

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        from html import escape

        cells = "".join(f"<tr><th style='text-align:left'>{escape(k)}</th><td>{escape(v)}</td></tr>"
                        for k, v in self._rows())
        return f"<table><caption>{escape(type(self).__name__)}</caption>{cells}</table>"
