"""Unit names that code written for mlsysim 0.1.x passes to `mlsysim.ureg` (issue: drop-in for 0.1.x)."""
from __future__ import annotations

import pytest

import mlsysim


@pytest.mark.parametrize("text,unit,value", [
    ("1 TFLOPs/s", "flop/s", 1e12), ("3 GFLOPs", "flop", 3e9), ("2 PFLOPs/s", "TFLOP/s", 2000.0),
    ("8 Bparam", "count", 8e9), ("70 Mparam", "param", 70e6), ("1 Tparam", "Bparam", 1000.0),
    ("2 Kparam", "count", 2000.0), ("400 Gbps", "GB/s", 50.0), ("2.5 USD/hour", "dollar/hour", 2.5),
])
def test_0_1_unit_names_convert(text, unit, value):
    assert mlsysim.ureg.Quantity(text).to(unit).magnitude == pytest.approx(value)


def test_currencies_never_convert_silently():
    import pint

    with pytest.raises(pint.DimensionalityError):
        mlsysim.ureg.Quantity(1, "EUR").to("USD")
    with pytest.raises(pint.DimensionalityError):
        mlsysim.ureg.Quantity(1, "USD").to("count")
