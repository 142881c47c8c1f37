"""The cached common-case path of Engine.solve (core/solve_plan.py) returns what the reference path returns, to
the last bit, on random inputs: every field, the text, and the same error class for inputs that fail."""
from __future__ import annotations

import math
import os
import pickle
import subprocess
import sys
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mlsysim
from mlsysim import Engine
from mlsysim.core import solve_plan

SRC = str(Path(mlsysim.__file__).resolve().parents[1])

MODELS = sorted(mlsysim.Models.names())
HARDWARE = sorted(mlsysim.Hardware.names())
PRECISIONS = (None, "fp32", "tf32", "fp16", "bf16", "fp8", "int8", "int4", "fp4", "FP16", "bogus")


def outcome(kw: dict) -> tuple:
    """Every attrs field and the summary of a solve, or the class and message of its error."""
    try:
        r = Engine.solve(**kw)
    except Exception as e:
        return ("error", type(e).__name__, str(e))
    fields = tuple((f.name, getattr(r, f.name)) for f in attrs.fields(type(r)))
    return ("ok", fields, r.summary(), r.to_dict(), r.latency.m_as("s"), str(r.throughput.units),
            r.energy.m_as("J"))


def both(kw: dict) -> tuple[tuple, tuple]:
    """(fast path, reference path) outcomes of the same call, the fast one twice (cold caches, then warm)."""
    try:
        solve_plan.clear()
        cold = outcome(kw)
        warm = outcome(kw)
        solve_plan.ENABLED = False
        ref = outcome(kw)
    finally:
        solve_plan.ENABLED = True
    assert same(cold, warm)
    return warm, ref


def same(a, b) -> bool:
    """Equal to the last bit (NaN equal to NaN, -0.0 told from 0.0)."""
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


calls = st.fixed_dictionaries(
    {"model": st.sampled_from(MODELS), "hardware": st.sampled_from(HARDWARE),
     "batch_size": st.one_of(st.integers(1, 4096), st.sampled_from([0, -1, True, 2.0]))},
    optional={"precision": st.sampled_from(PRECISIONS),
              "efficiency": st.one_of(st.none(), st.floats(0.01, 1.0), st.sampled_from([1, 0.0, 2.0, True])),
              "seq_len": st.one_of(st.integers(1, 300_000), st.sampled_from([None, 0, True])),
              "weight_only": st.booleans(), "raise_errors": st.booleans()})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(calls)
def test_fast_path_equals_reference_path(kw):
    fast, ref = both(kw)
    assert same(fast, ref), (kw, fast, ref)


@pytest.mark.parametrize("kw", [
    dict(model="Llama3_70B", hardware="H100", batch_size=8, precision="fp8"),
    dict(model="ResNet50", hardware="A100", batch_size=256, precision="int8"),
    dict(model="Mixtral_8x7B", hardware="H200", batch_size=32),
    dict(model="Llama3_70B", hardware="H100", batch_size=64, raise_errors=True),  # infeasible: the error
    dict(model="DS_CNN", hardware="STM32L4R5", batch_size=1, precision="int8"),  # microcontroller: cycles model
    dict(model="DS_CNN", hardware="STM32L4R5", batch_size=2, precision="fp32"),  # microcontroller: roofline
])
def test_named_cases(kw):
    fast, ref = both(kw)
    assert same(fast, ref)


def test_prefill_through_the_solver_class():
    from mlsysim.solvers import RooflineModel

    kw = dict(model="Llama3_8B", hardware="H100", batch_size=4, precision="bf16", seq_len=1024, prefill=True)
    solve_plan.clear()
    fast = RooflineModel().solve(**kw)
    solve_plan.ENABLED = False
    try:
        ref = RooflineModel().solve(**kw)
    finally:
        solve_plan.ENABLED = True
    assert fast == ref and fast.summary() == ref.summary()


def test_a_spec_built_in_python_and_a_catalog_reload():
    """Plans hold their specs: an evolved spec (another object) gets its own plan, and a reload of the catalog
    rebuilds plans against the new registry."""
    h = mlsysim.Hardware.H100
    slower = attrs.evolve(h, launch_overhead=h.launch_overhead * 2)
    a = Engine.solve("Llama3_8B", h, 4)
    b = Engine.solve("Llama3_8B", slower, 4)
    assert b.latency_s > a.latency_s
    # the reload runs in its own process: it replaces the registry objects other test modules imported
    code = ("import mlsysim; from mlsysim import Engine; a = Engine.solve('Llama3_8B', 'H100', 4); "
            "mlsysim.registry.reload(); c = Engine.solve('Llama3_8B', 'H100', 4); "
            "assert c == a and c.latency_s == a.latency_s and c.model is not a.model, 'plan survived the reload'")
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ, "PYTHONPATH": SRC})


def test_a_sweep_over_devices_shares_the_workload():
    solve_plan.clear()
    for hw in ("H100", "A100", "H200"):
        Engine.solve("Llama3_8B", hw, 8, "fp16")
    assert len(solve_plan._costs) == 1 and len(solve_plan._plans) == 3


def test_results_pickle_and_compare():
    r = Engine.solve("Llama3_8B", "H100", 8)
    back = pickle.loads(pickle.dumps(r))
    assert back == r and back.latency.m_as("ms") == r.latency.m_as("ms")


MCUS = [h for h in HARDWARE if mlsysim.Hardware.get(h).core is not None]
LAYER_TABLE_MODELS = [m for m in MODELS if getattr(mlsysim.Models.get(m), "layer_table", None) is not None]


@pytest.mark.parametrize("hardware", MCUS)
def test_every_microcontroller_and_layer_table_model(hardware):
    """The cycles model in the plan (core/mcu_cycles.py): every core, every model with per-layer types, the default
    library's int8, a roofline precision and an explicit efficiency, equal to the reference path to the bit."""
    assert MCUS and LAYER_TABLE_MODELS
    for model in LAYER_TABLE_MODELS + ["Llama3_8B"]:  # and a model without layer types: the roofline
        for kw in (dict(precision=None), dict(precision="int8"), dict(precision="fp32"),
                   dict(precision="int8", efficiency=0.3), dict(precision="int8", raise_errors=True)):
            for batch in (1, 3):
                call = dict(model=model, hardware=hardware, batch_size=batch, **kw)
                fast, ref = both(call)
                assert same(fast, ref), call


@pytest.mark.parametrize("model", LAYER_TABLE_MODELS)
def test_per_layer_roofline_terms_cached_per_batch(model):
    """The per-layer roofline's sums are kept per batch size: a sweep over batches, then the same batches again
    (warm terms), equals the reference on each point."""
    for hardware in ("A100", "H100", "T4" if "T4" in HARDWARE else "A100"):
        for batch in (1, 7, 64, 7):
            fast, ref = both(dict(model=model, hardware=hardware, batch_size=batch, precision="int8"))
            assert same(fast, ref), (model, hardware, batch)
