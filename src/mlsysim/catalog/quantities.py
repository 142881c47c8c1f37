"""Catalog quantity strings ("989.4 TFLOP/s", "80 GiB", "5 us") read by a strict grammar, never evaluated.

pint evaluates a string as an arithmetic expression, so "2 B * 9 ** 9 ** 9" would run for minutes. A catalog
figure is a number and a unit, nothing else:

    quantity := number unit
    number   := digits [ "." digits ] [ ("e" | "E") [sign] 1-3 digits ]
    unit     := atom { ( "*" | "/" | " " ) atom }           (at most MAX_ATOMS atoms)
    atom     := letter { letter | digit | "_" } [ ("^" | "**") [ "-" ] digit ]

Only a unit expression that passed the grammar reaches pint, once per distinct (unit, canonical unit) pair:
the conversion factor is cached, so a catalog of 10,000 entries parses its figures with float() alone.
"""
from __future__ import annotations

import math
import re
import sys
import threading

# Longest quantity string accepted: a figure with a unit is a few dozen characters; anything longer is data
# in the wrong field.
MAX_QUANTITY_CHARS = 64
# Unit atoms in one expression ("GB/s" has two, "g/kWh" two, "TFLOP/s" two).
MAX_ATOMS = 4

_NUMBER = r"[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]{1,3})?"
_ATOM = r"[A-Za-z\u00b5\u03bc][A-Za-z0-9_]*(?:(?:\^|\*\*)-?[0-9])?"
_UNIT = rf"{_ATOM}(?:\s*[*/]\s*{_ATOM}|\s+{_ATOM}){{0,{MAX_ATOMS - 1}}}"
QUANTITY_RE = re.compile(rf"^\s*({_NUMBER})\s*({_UNIT})\s*$")
# The same grammar as a JSON Schema pattern (schemas/common.schema.json "quantity" uses it verbatim).
QUANTITY_PATTERN = QUANTITY_RE.pattern

_factors: dict[tuple[str, str], float] = {}
_lock = threading.Lock()


class QuantityError(ValueError):
    """A catalog quantity string that is not `number unit`, or whose unit does not convert."""


def _factor(unit_text: str, canonical: str) -> float:
    """Multiplier from `unit_text` to `canonical` (pint, on a grammar-checked unit expression only)."""
    key = (unit_text, canonical)
    found = _factors.get(key)
    if found is not None:
        return found
    from ..units import get_ureg

    ureg = get_ureg()
    try:
        factor = float(ureg.Quantity(1.0, ureg.Unit(unit_text)).to(canonical).magnitude)
    except Exception as exc:  # pint raises several unrelated types (UndefinedUnitError, DimensionalityError)
        raise QuantityError(f"unit {unit_text!r} does not convert to {canonical}: {exc}") from None
    with _lock:
        _factors[key] = factor
    return factor


def parse_quantity(text: str, canonical: str) -> float:
    """The value of `text` in `canonical` units as a finite float; QuantityError says what is wrong."""
    if len(text) > MAX_QUANTITY_CHARS:
        raise QuantityError(f"{text[:MAX_QUANTITY_CHARS]!r}... is longer than {MAX_QUANTITY_CHARS} characters")
    match = QUANTITY_RE.match(text)
    if match is None:
        raise QuantityError(f"{text!r} is not a number followed by a unit (no arithmetic, no sign)")
    number, unit_text = match.groups()
    value = float(number) * _factor(unit_text.strip(), canonical)
    if not math.isfinite(value) or (value != 0.0 and abs(value) < sys.float_info.min):
        raise QuantityError(f"{text!r} is {value!r} {canonical}: not a finite, normal floating-point number")
    return value
