"""TransformationModel: CPU preprocessing against the accelerator step (pipelined or serial)."""
from __future__ import annotations

import pytest

import mlsysim
from mlsysim.errors import InvalidInputError, InvalidTypeError
from mlsysim.solvers import TransformationModel

ureg = mlsysim.ureg
ms = lambda q: q.to("ms").magnitude  # noqa: E731


def test_cpu_bound_pipeline_by_hand():
    # 256 x 500 kB = 128 MB at 2 GB/s = 64 ms against a 50 ms step.
    r = TransformationModel().solve(256, 500 * ureg.kB, 2 * ureg("GB/s"), 50 * ureg.ms)
    assert ms(r.transform_time) == pytest.approx(64.0)
    assert r.is_bottleneck
    assert ms(r.effective_step_time) == pytest.approx(64.0)
    assert r.accelerator_utilization == pytest.approx(50 / 64)
    assert r.slowdown_factor == pytest.approx(64 / 50)
    assert r.stall_fraction == pytest.approx(14 / 64)


def test_fast_cpu_hides_behind_the_step():
    r = TransformationModel().solve(64, 100e3, 10e9, 0.05)
    assert not r.is_bottleneck
    assert r.accelerator_utilization == 1.0 and r.stall_fraction == 0.0 and r.slowdown_factor == 1.0
    assert ms(r.effective_step_time) == pytest.approx(50.0)


def test_without_overlap_the_stages_add():
    r = TransformationModel().solve(64, 100e3, 10e9, 0.05, overlap=False)
    assert ms(r.effective_step_time) == pytest.approx(50.0 + 64 * 100e3 / 10e9 * 1e3)
    assert r.stall_fraction == pytest.approx(ms(r.transform_time) / ms(r.effective_step_time))


def test_monotone_in_batch_and_cpu_rate():
    slow = [TransformationModel().solve(b, 1e6, 1e9, 0.1).stall_fraction for b in (50, 100, 200, 400)]
    assert slow == sorted(slow) and slow[0] == 0.0 and slow[-1] > 0.7
    fast = [TransformationModel().solve(400, 1e6, r, 0.1).accelerator_utilization for r in (1e9, 2e9, 4e9, 8e9)]
    assert fast == sorted(fast) and fast[-1] == 1.0


def test_bad_input():
    with pytest.raises(InvalidInputError):
        TransformationModel().solve(0, 1e6, 1e9, 0.1)
    with pytest.raises(InvalidTypeError):
        TransformationModel().solve(2.5, 1e6, 1e9, 0.1)
    with pytest.raises(InvalidInputError, match="convertible"):
        TransformationModel().solve(8, 1 * ureg.ms, 1e9, 0.1)
    with pytest.raises(InvalidInputError):
        TransformationModel().solve(8, 1e6, 0.0, 0.1)
    with pytest.raises(InvalidInputError):
        TransformationModel().solve(8, 1e6, 1e9, float("inf"))
    with pytest.raises(InvalidTypeError):
        TransformationModel().solve(8, 1e6, 1e9, 0.1, overlap="yes")
