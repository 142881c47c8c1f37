"""The speed work changes no result: Engine.solve over a seeded random grid (tools/record_solve_grid.py,
recorded from the implementation before the per-call caches) gives the same figures, errors and text."""
from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
from record_solve_grid import run  # noqa: E402

ROWS = json.loads((Path(__file__).parent / "data" / "solve_grid.json").read_text())
# Floats compare to the last bit but for a reordering of one addition (relative 1e-12, far below any figure).
REL = 1e-12


def same(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a == b or (isinstance(a, (int, float)) and isinstance(b, (int, float))
                          and math.isclose(a, b, rel_tol=REL, abs_tol=0.0))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


@pytest.mark.parametrize("row", ROWS, ids=lambda r: "-".join(str(v) for v in r["case"].values()))
def test_same_result_as_recorded(row):
    got = run(row["case"])
    assert same(row["result"], got), (row["result"], got)


def test_repeated_solves_agree():
    """A warm call (caches filled) returns what the cold one did, for every recorded case."""
    for row in ROWS[:60]:
        first, second = run(row["case"]), run(row["case"])
        assert same(first, second)
