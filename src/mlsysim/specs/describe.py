"""Human-readable listing of a spec: every field with its unit, nested tables flattened, provenance last."""
from __future__ import annotations

from typing import Any

import attrs

from .provenance import Provenance


def describe(spec: Any, prefix: str = "") -> list[tuple[str, str]]:
    """[(dotted field, text)] for every set field; quantities in readable units (pint's compact form)."""
    from ..units import quantity

    rows: list[tuple[str, str]] = []
    later: list[tuple[str, str]] = []
    for f in attrs.fields(type(spec)):
        value = getattr(spec, f.name)
        if value is None or value == () or value == "":
            continue
        name = f"{prefix}{f.name.lstrip('_')}"
        if isinstance(value, Provenance):
            text = f"{value.kind}, checked {value.checked}: {value.source}" + (f" ({value.notes})" if value.notes else "")
            later.append((name, text))
        elif attrs.has(type(value)):
            rows += describe(value, name + ".")
        elif isinstance(value, tuple) and all(attrs.has(type(v)) for v in value):  # a table of rows (formats)
            for i, row in enumerate(value):
                rows += describe(row, f"{name}.{getattr(row, 'name', i)}.")
        elif f.name == "rows" and isinstance(value, tuple):
            rows.append((name, f"{len(value)} layers"))
        elif f.metadata.get("unit") == "B":  # capacities read best in binary prefixes (80 GiB, 640 KiB)
            rows.append((name, _binary(float(value))))
        elif f.metadata.get("unit") or getattr(spec, "UNIT", None):
            unit = f.metadata.get("unit") or spec.UNIT
            rows.append((name, f"{quantity(float(value), unit).to_compact():.4g~P}"))
        else:
            rows.append((name, str(value)))
    return rows + later


def _binary(nbytes: float) -> str:
    for prefix, scale in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if nbytes >= scale:
            return f"{nbytes / scale:.4g} {prefix}"
    return f"{nbytes:.4g} B"
