"""Human-readable figures: one unit per magnitude (``44.7 KiB``, ``432 s``), never ``4.466e-05 GiB``."""
from __future__ import annotations

import math
from typing import Any

# Binary byte prefixes (IEC 80000-13), as memory capacities are quoted.
_BYTE_STEPS = (("B", 1.0), ("KiB", 2.0 ** 10), ("MiB", 2.0 ** 20), ("GiB", 2.0 ** 30), ("TiB", 2.0 ** 40),
               ("PiB", 2.0 ** 50))
# Time: SI prefixes below a second, calendar units above (a training run is read in hours or days).
_TIME_STEPS = (("ns", 1e-9), ("µs", 1e-6), ("ms", 1e-3), ("s", 1.0), ("min", 60.0), ("h", 3600.0),
               ("day", 86400.0), ("year", 365.25 * 86400.0))


def _pick(value: float, steps: tuple[tuple[str, float], ...]) -> tuple[float, str]:
    """The largest unit in which |value| is at least 1 (the smallest unit for values below it)."""
    chosen = steps[0]
    for step in steps:
        if abs(value) >= step[1]:
            chosen = step
    return value / chosen[1], chosen[0]


def human(q: Any, digits: int = 4) -> str:
    """A quantity in the unit that suits its magnitude; plain numbers are printed with `digits` significant."""
    if not hasattr(q, "units"):
        return f"{q:.{digits}g}" if isinstance(q, float) else str(q)
    magnitude = q.magnitude
    if not isinstance(magnitude, (int, float)) or not math.isfinite(magnitude) or magnitude == 0:
        return f"{q:~P}"
    dims = q.dimensionality
    names = tuple(q.unit_items())
    # pint's byte is dimensionless (bit = []): recognise it by name, with power 1.
    if len(names) == 1 and names[0][1] == 1 and names[0][0].endswith(("byte", "bit")):
        value, unit = _pick(q.to("B").magnitude, _BYTE_STEPS)
    elif dims == {"[time]": 1}:
        value, unit = _pick(q.to("s").magnitude, _TIME_STEPS)
    else:
        compact = q.to_compact()
        return f"{compact.magnitude:.{digits}g} {compact.units:~P}"
    return f"{value:.{digits}g} {unit}"
