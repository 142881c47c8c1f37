"""Shared checks of the DSE serving tier against `ServingModel.solve` (imported by the test_dse_serving_* files)."""
from __future__ import annotations

import math

# The figures a serving sweep record carries beside its flags.
FIGURES = ("latency", "throughput", "energy", "mfu", "ttft", "tpot")
FLAGS = ("feasible", "bottleneck", "error", "throughput_unit")


def _flags(record: dict) -> tuple:
    return tuple(record[k] for k in FLAGS)


def assert_identical(ref, got) -> None:
    """Every figure equal bit for bit (NaN matches NaN) and the same flags, point for point."""
    assert len(ref) == len(got)
    for a, b in zip(ref, got):
        for k in FIGURES:
            assert a[k] == b[k] or (math.isnan(a[k]) and math.isnan(b[k])), (k, a, b)
        assert _flags(a) == _flags(b), (a, b)


def assert_close(ref, got, rel: float) -> int:
    """Every figure within `rel` relative and the same flags; returns how many points agree bit for bit."""
    assert len(ref) == len(got)
    exact = 0
    for a, b in zip(ref, got):
        same = True
        for k in FIGURES:
            x, y = a[k], b[k]
            if math.isnan(x) and math.isnan(y):
                continue
            assert math.isclose(x, y, rel_tol=rel), (k, a, b)
            same &= x == y
        assert _flags(a) == _flags(b), (a, b)
        exact += same
    return exact
