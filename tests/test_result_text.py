"""Every solver family's summary()/to_dict() (SolverResult) formats its Quantities through core/quantity_text.py
(the unit's name found once per units, the figure from the float; the `~C` unit text once per units) and gives
the previous implementation's text and dict: formatting.human and pint's own format on random quantities,
and the previous SolverResult code (kept below as the reference) on real results of several families."""
from __future__ import annotations

import math

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

import mlsysim
from mlsysim.core import quantity_text
from mlsysim.core.results import SolverResult, _plain
from mlsysim.formatting import human
from mlsysim.units import get_ureg, human_float, quantity

UNITS = ("s", "ms", "h", "day", "B", "GiB", "kB", "bit", "J", "kJ", "W", "token/s", "sample/s", "1/s", "1/ms",
         "flop", "flop/s", "B/s", "GB/s", "USD", "token", "param", "s/token", "J/token", "USD/h", "dimensionless",
         "degC", "m/s^2", "1/token")
values = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.floats(1e-40, 1e40),
                   st.floats(-1e40, -1e-40), st.just(0.0), st.integers(-10**12, 10**12))


@settings(max_examples=800, deadline=None)
@given(values, st.sampled_from(UNITS))
def test_human_of_a_quantity_is_formatting_human(value, unit):
    q = get_ureg().Quantity(value, unit)
    assert outcome(quantity_text.human, q) == outcome(human, q)  # an offset unit raises pint's own error in both
    assert quantity_text.unit_symbol(q) == f"{q.units:~C}"


def outcome(f, *args):
    try:
        return ("ok", f(*args))
    except Exception as e:
        return ("error", type(e))


def test_plain_values_and_foreign_quantities_go_to_human():
    import pint

    other = pint.UnitRegistry().Quantity(3.5e-3, "s")  # another registry: human() itself
    for v in (1.5, 3, "x", None, True, float("nan"), (1, 2), other):
        assert quantity_text.human(v) == human(v)


def test_reciprocal_units_at_every_power_of_a_thousand():
    """human_float replays to_compact for "1/u" with pint's exponent -1 power (ceil, not floor)."""
    for unit in ("1/s", "1/ms", "1/token"):
        for exp in range(-30, 31):
            for v in (10.0 ** exp, 0.9999 * 10.0 ** exp, 999.95 * 10.0 ** exp, 1.0001 * 10.0 ** exp):
                assert human_float(v, unit) == human(quantity(v, unit)), (v, unit)


# --- the previous SolverResult.to_dict / _rows, verbatim but for the helpers' names -------------------------

def _ref_is_quantity(value):
    return hasattr(value, "units") and hasattr(value, "magnitude")


def reference_to_dict(self):
    out = {}
    for field in attrs.fields(type(self)):
        value = getattr(self, field.name)
        out[field.name] = _plain(value)
        if _ref_is_quantity(value):
            out[f"{field.name}_unit"] = f"{value.units:~C}"
    return out


def reference_rows(self):
    rows = []
    for field in attrs.fields(type(self)):
        value = getattr(self, field.name)
        if isinstance(value, float) and not math.isfinite(value):
            shown = str(value)
        elif isinstance(value, (tuple, list)) and all(isinstance(v, str) for v in value):
            shown = "; ".join(value) if value else "none"
        elif hasattr(value, "to_dict"):
            latency = getattr(value, "latency", None)
            shown = type(value).__name__ + (f" (latency {human(latency)})" if latency is not None else "")
        elif hasattr(value, "as_dict"):
            shown = type(value).__name__
        else:
            shown = human(value)
        rows.append((field.name, shown))
    return rows


def same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    if isinstance(a, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    return a == b


def results() -> list[SolverResult]:
    from mlsysim.core.distributed import DistributedModel
    from mlsysim.solvers import ServingModel, TailLatencyModel
    from mlsysim.solvers.scaling import ScalingModel

    s = ServingModel()
    out = [s.solve("Llama3_70B", "H100", 8, prompt_len=2048, batching="static"),
           s.solve("Llama3_8B", "H100", 1, "fp8", prompt_len=128, output_len=16, batching="static"),
           s.solve("Llama3_70B", "DGX_H100", 64, "fp8", prompt_len=2048, output_len=256, tensor_parallel=4,
                   runtime="vllm"),
           s.solve("Llama3_8B", "H100", 4, prompt_len=512, output_len=64, arrival_rate=2.0),
           DistributedModel().solve("Llama3_8B", "DGX_H100", 64, "bf16", seq_len=4096, tensor_parallel=2),
           TailLatencyModel().solve(50.0, 10.0, 1), ScalingModel().solve(1e23)]
    return out


def test_summary_and_to_dict_of_real_results_as_before():
    for r in results():
        assert r._rows() == reference_rows(r), type(r).__name__
        assert same(r.to_dict(), reference_to_dict(r)), type(r).__name__
        width = max(len(k) for k, _ in reference_rows(r))
        assert r.summary() == "\n".join([type(r).__name__] + [f"  {k:<{width}}  {v}" for k, v in reference_rows(r)])


@attrs.frozen
class _Synthetic(SolverResult):
    a: object
    b: object
    c: object = None


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(values, st.tuples(values, st.sampled_from(UNITS)), st.text(max_size=5),
                          st.lists(st.text(max_size=3), max_size=2), st.none()), min_size=3, max_size=3))
def test_synthetic_results_as_before(fields):
    made = [get_ureg().Quantity(*f) if isinstance(f, tuple) else f for f in fields]
    r = _Synthetic(*made)
    assert outcome(r._rows) == outcome(reference_rows, r)  # an offset unit: pint's own error in both
    assert same(r.to_dict(), reference_to_dict(r))
    assert mlsysim  # the package (and its registry) imported
