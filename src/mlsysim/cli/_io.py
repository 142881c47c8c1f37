"""What every command shares: output through one function, JSON that is always valid, exit codes, errors."""
from __future__ import annotations

import argparse
import json
import os
import sys

# Exit statuses (mlsysim --help lists them).
OK, BAD_INPUT, INFEASIBLE, CONSTRAINT_VIOLATED = 0, 1, 2, 3

# Unit symbols pint's pretty format prints, spelled in ASCII for a terminal that cannot encode them
# (PYTHONIOENCODING=ascii, a C locale, a Windows code page).
_ASCII = str.maketrans({"\u00b5": "u", "\u03bc": "u", "\u00b2": "^2", "\u00b3": "^3", "\u00b7": "*",
                        "\u00d7": "x", "\u00b0": "deg", "\u2013": "-", "\u2014": "-", "\u2264": "<=",
                        "\u2265": ">=", "\u2248": "~", "\u2212": "-"})


def encodable(text: str, encoding: str | None) -> str:
    """`text` as the stream's encoding can carry it: unchanged if it can, else ASCII unit symbols, and any
    character still left as a backslash escape."""
    encoding = encoding or "utf-8"
    try:
        text.encode(encoding)
        return text
    except (UnicodeEncodeError, LookupError):
        pass
    try:
        return text.translate(_ASCII).encode(encoding, "backslashreplace").decode(encoding)
    except LookupError:  # an encoding Python does not know: plain ASCII is always safe
        return text.translate(_ASCII).encode("ascii", "backslashreplace").decode("ascii")


def out(text: str = "") -> None:
    """Every line the CLI prints goes through here."""
    sys.stdout.write(encodable(text, getattr(sys.stdout, "encoding", None)) + "\n")


def dumps(data: object) -> str:
    """JSON output is always valid JSON: a non-finite number is an error, never `Infinity`."""
    return json.dumps(data, indent=2, allow_nan=False)


def table(rows: list[dict], columns: list[str]) -> None:
    """A plain left-aligned text table of `rows` (dicts) under `columns`."""
    cells = [[str(r.get(c, "")) for c in columns] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
    out("  ".join(c.ljust(w) for c, w in zip(columns, widths)).rstrip())
    for row in cells:
        out("  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip())


class Parser(argparse.ArgumentParser):
    """Bad arguments are bad input: one line on stderr and exit status 1 (2 means 'does not fit')."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(BAD_INPUT, f"mlsysim: error: {message} (see 'mlsysim --help')\n")


def add_json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print only JSON on stdout")


def detach_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail a second time."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # no real file descriptor (captured output in tests)
        pass


def error(message: str) -> None:
    sys.stderr.write(encodable(f"mlsysim: error: {message}", getattr(sys.stderr, "encoding", None)) + "\n")


def csv_ints(text: str) -> list[int]:
    """'1,8,64' -> [1, 8, 64] (argparse type: a bad list is bad input)."""
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None
    if not values:
        raise argparse.ArgumentTypeError("expected at least one integer")
    return values


def quantity_dict(value) -> dict:
    """{"value": magnitude, "unit": "ms"} of a pint quantity (JSON-safe)."""
    return {"value": float(value.magnitude), "unit": f"{value.units:~}"}
