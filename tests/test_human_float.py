"""summary() formats from floats (units.human_float): the same text as mlsysim.formatting.human of the Quantity,
for every unit a profile prints, over magnitudes from subnormal to overflow."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from mlsysim.formatting import human
from mlsysim.units import human_float, quantity

UNITS = ("s", "B", "J", "token/s", "sample/s", "W")


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.floats(1e-40, 1e40)), st.sampled_from(UNITS))
def test_same_text_as_human_of_the_quantity(value, unit):
    assert human_float(value, unit) == human(quantity(value, unit))


def test_prefix_boundaries():
    for unit in UNITS:
        for exp in range(-33, 34):
            for v in (10.0 ** exp, 0.9999 * 10.0 ** exp, 999.95 * 10.0 ** exp):
                assert human_float(v, unit) == human(quantity(v, unit)), (v, unit)
