"""Printed output for tutorials: the 0.1.x ``mlsysim.show`` helpers, same names and call shapes.

``info("Decode", ITL=r.itl, Memory=r.memory_utilization)`` prints an aligned block, ``table(headers, rows)`` an
aligned table and ``banner(text)`` a section line. Quantities are printed in the unit that suits their
magnitude (``6.386 ms``, ``14.96 GiB``; :func:`mlsysim.core.formatting.human`), so a figure reads the same
whichever unit a solver returned it in. Each helper prints and returns None.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from .errors import InvalidInputError, InvalidTypeError

__all__ = ["info", "table", "banner", "format_value"]

# Width of the rule under an info() title, in characters (a presentation choice, not a measured figure).
_TITLE_WIDTH = 48
# Significant digits of a printed figure: four tell 6.386 ms from 6.39 ms without noise digits.
_DIGITS = 4
# From this magnitude a plain number prints whole, with thousands separators (1,234,567 not 1.235e+06).
_WHOLE_FROM = 1e4
_ALIGNMENTS = {"<": str.ljust, ">": str.rjust, "^": str.center}


def format_value(value: Any) -> str:
    """One cell: a quantity in a unit that suits it, a number with four significant digits, else str()."""
    if hasattr(value, "units") and hasattr(value, "magnitude"):
        from .core.formatting import human

        return human(value, _DIGITS)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if not math.isfinite(value):
        return str(value)
    if abs(value) >= _WHOLE_FROM:
        return f"{value:,.0f}"
    return f"{value:.{_DIGITS}g}"


def info(title: str | None = None, **fields: Any) -> None:
    """Print ``key:  value`` lines, keys aligned (underscores shown as spaces), under an optional title."""
    if title:
        head = f"── {title} "
        print(head + "─" * max(0, _TITLE_WIDTH - len(head)))
    if not fields:
        return
    labels = {key.replace("_", " ") + ":": value for key, value in fields.items()}
    width = max(len(label) for label in labels)
    for label, value in labels.items():
        print(f"{label:<{width}}  {format_value(value)}")


def table(headers: Sequence[Any], rows: Sequence[Sequence[Any]], alignments: str | None = None) -> None:
    """Print an aligned table. `alignments`: one of ``< > ^`` per column (default: first column left, the
    rest right; a shorter string is completed with ``>``). Rows may be shorter than the header, not longer."""
    if isinstance(headers, str) or not isinstance(headers, Sequence) or not headers:
        raise InvalidTypeError(f"headers must be a list of column titles, got {headers!r}")
    n = len(headers)
    align = ("<" + ">" * (n - 1)) if alignments is None else alignments.ljust(n, ">")
    if len(align) > n or any(a not in _ALIGNMENTS for a in align):
        raise InvalidInputError(f"alignments must be at most {n} of '<', '>', '^', got {alignments!r}")
    cells = []
    for i, row in enumerate(rows):
        if isinstance(row, str) or not isinstance(row, Sequence):
            raise InvalidTypeError(f"row {i} must be a list of cells, got {row!r}")
        if len(row) > n:
            raise InvalidInputError(f"row {i} has {len(row)} cells for {n} columns: {list(row)!r}")
        cells.append([format_value(v) for v in row] + [""] * (n - len(row)))
    titles = [str(h) for h in headers]
    widths = [max([len(titles[c])] + [len(r[c]) for r in cells]) for c in range(n)]

    def line(values: list[str]) -> str:
        return "  ".join(_ALIGNMENTS[align[c]](values[c], widths[c]) for c in range(n))

    head = line(titles)
    print(head)
    print("─" * len(head))
    for r in cells:
        print(line(r))


def banner(text: str) -> None:
    """Print a section line, after a blank line: ``=== text ===``."""
    print(f"\n=== {text} ===")
