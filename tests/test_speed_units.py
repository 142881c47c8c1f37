"""Converting our quantities by unit name (cached factor, no parsing) gives exactly pint's own answer."""
from __future__ import annotations

import random

import pint
import pytest

from mlsysim import units

PAIRS = [("s", "ms"), ("s", "us"), ("s", "h"), ("J", "mJ"), ("J", "kWh"), ("B", "GiB"), ("B", "GB"),
         ("flop/s", "TFLOP/s"), ("token/s", "1/s"), ("sample/s", "1/s"), ("W", "kW"), ("B/s", "TB/s")]


@pytest.mark.parametrize("src,dst", PAIRS)
def test_same_as_pint(src, dst):
    rng = random.Random(hash((src, dst)) & 0xFFFF)
    for _ in range(200):
        value = rng.lognormvariate(0.0, 20.0)
        q = units.quantity(value, src)
        fast, slow = q.to(dst), units._ORIG_TO(q, dst)
        assert fast.magnitude == slow.magnitude  # bit for bit
        assert fast.units == slow.units and str(fast) == str(slow)
        assert q.m_as(dst) == units._ORIG_M_AS(q, dst)


def test_offset_units_and_errors_keep_pint_behaviour():
    ureg = units.get_ureg()
    t = ureg.Quantity(25.0, "degC")
    assert t.to("K").magnitude == pytest.approx(298.15)
    with pytest.raises(pint.DimensionalityError):
        units.quantity(1.0, "s").to("J")
    with pytest.raises(pint.UndefinedUnitError):
        units.quantity(1.0, "s").to("no_such_unit")


def test_pint_application_registry_untouched():
    assert pint.Quantity.to is not units.get_ureg().Quantity.to
