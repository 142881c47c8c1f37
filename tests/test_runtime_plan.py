"""The cached runtime path of Engine.solve (core/runtime_plan.py) returns what the reference path returns, to the
last bit, on random runtimes x models x devices x batch/sequence/precision: every field, the text, and for inputs
that fail the same exception class and message. Calls outside its case (ragged batches, training, LoRA,
microcontroller runtimes) must reach the reference path unchanged."""
from __future__ import annotations

import os
import subprocess
import sys

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mlsysim
from mlsysim import Engine
from mlsysim.core import runtime_plan, solve_plan
from test_solve_plan import SRC, both, same  # the comparison of fast and reference outcomes

MODELS = sorted(mlsysim.Models.names())
HARDWARE = sorted(mlsysim.Hardware.names())
RUNTIMES = sorted(mlsysim.Runtimes.names())
# Devices each runtime runs on (its hardware classes): most draws pick one, the rest any device (the class error).
RUNS_ON = {r: sorted(h for h in HARDWARE if mlsysim.Hardware.get(h).calibration_class
                     in mlsysim.Runtimes.get(r).hardware_classes) for r in RUNTIMES}
FORMATS = sorted({f.name for r in RUNTIMES for f in mlsysim.Runtimes.get(r).quantization})
PRECISIONS = (None, "fp32", "tf32", "fp16", "bf16", "fp8", "int8", "int4", "fp4", "FP16", "Q4_0", "bogus",
              *FORMATS)


@st.composite
def runtime_calls(draw, ragged: bool = False, training: bool = False) -> dict:
    rt = draw(st.sampled_from(RUNTIMES))
    hw = draw(st.sampled_from(RUNS_ON[rt] or HARDWARE) if draw(st.integers(0, 9)) else st.sampled_from(HARDWARE))
    kw = {"model": draw(st.sampled_from(MODELS)), "hardware": hw,
          "runtime": mlsysim.Runtimes.get(rt) if draw(st.integers(0, 3)) == 0 else rt,
          "batch_size": draw(st.sampled_from([0, -1, True]) if draw(st.integers(0, 9)) == 0
                             else st.one_of(st.integers(1, 512), st.integers(513, 4096)))}
    if draw(st.booleans()):  # mostly one the runtime has (a plain precision or one of its formats)
        spec = mlsysim.Runtimes.get(rt)
        own = (*spec.precisions, *(f.name for f in spec.quantization))
        kw["precision"] = draw(st.sampled_from(own if draw(st.integers(0, 3)) else PRECISIONS))
    if draw(st.integers(0, 3)) == 0:
        kw["efficiency"] = draw(st.one_of(st.none(), st.floats(0.01, 1.0), st.sampled_from([1, 0.0, 2.0, True])))
    if draw(st.booleans()):
        kw["seq_len"] = draw(st.sampled_from([None, 0]) if draw(st.integers(0, 9)) == 0
                             else st.one_of(st.integers(1, 300_000), st.integers(1, 4096)))
    for flag in ("weight_only", "raise_errors"):
        if draw(st.booleans()):
            kw[flag] = draw(st.booleans())
    if ragged:
        kw.pop("seq_len", None)
        kw["seq_lens"] = draw(st.lists(st.integers(1, 8192), min_size=1, max_size=8))
        kw["batch_size"] = len(kw["seq_lens"])
    if training:
        kw["is_training"] = True
        if draw(st.booleans()):
            kw["activation_recomputation"] = draw(st.sampled_from(["none", "selective", "full"]))
    return kw


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(runtime_calls())
def test_runtime_fast_path_equals_reference_path(kw):
    fast, ref = both(kw)
    assert same(fast, ref), (kw, fast, ref)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(runtime_calls(ragged=True), runtime_calls(training=True)))
def test_ragged_and_training_calls_are_the_reference_paths(kw):
    fast, ref = both(kw)
    assert same(fast, ref), (kw, fast, ref)


@pytest.mark.parametrize("kw", [
    dict(model="Llama3_70B", hardware="H100", batch_size=8, precision="fp8", runtime="vllm"),
    dict(model="Llama3_8B", hardware="H200", batch_size=1, precision="bf16", runtime="pytorch_eager"),
    dict(model="Llama3_8B", hardware="H200", batch_size=1, precision="bf16", runtime="pytorch_cuda_graph"),
    dict(model="ResNet50", hardware="H200", batch_size=256, precision="bf16", runtime="pytorch_eager"),
    dict(model="Llama3_8B", hardware="A100", batch_size=1, precision="fp16", runtime="llamacpp"),
    dict(model="Llama3_8B", hardware="A100", batch_size=1, precision="q4_0", runtime="llamacpp"),  # dequant stream
    dict(model="Llama3_8B", hardware="A100", batch_size=1, precision="q4_0", runtime="llamacpp", weight_only=True),
    dict(model="Llama3_8B", hardware="H100", batch_size=4, precision="nvfp4", runtime="vllm"),  # weight-only format
    dict(model="Llama3_70B", hardware="H100", batch_size=8, runtime="vllm", efficiency=0.5),  # one rate
    dict(model="Llama3_70B", hardware="A100", batch_size=64, runtime="trtllm", raise_errors=True),  # infeasible
    dict(model="Llama3_8B", hardware="H100", batch_size=4, runtime="vllm", seq_lens=[100, 2000, 30, 512]),
    dict(model="Llama3_8B", hardware="H100", batch_size=4, runtime="pytorch_eager", is_training=True),
    dict(model="Llama3_8B", hardware="H100", batch_size=4, runtime="deepspeed", is_training=True, is_lora=True),
    dict(model="DS_CNN", hardware="STM32L4R5", batch_size=1, precision="int8", runtime="cmsis_nn"),  # MCU: cycles model
    dict(model="DS_CNN", hardware="STM32L4R5", batch_size=1, precision="int8", runtime="tflite_micro"),
    dict(model="Llama3_8B", hardware="STM32L4R5", batch_size=1, runtime="vllm"),  # wrong class: the error
    dict(model="Llama3_8B", hardware="H100", batch_size=1, runtime="no_such_runtime"),  # unknown name
    dict(model="Llama3_8B", hardware="H100", batch_size=1, runtime=3),  # wrong type
    dict(model="Llama3_8B", hardware="H100", batch_size=1, runtime="vllm", precision="q4_0"),  # not its format
    dict(model="GPT2", hardware="H100", batch_size=1, runtime="vllm", seq_len=5000),  # past learned positions
])
def test_named_runtime_cases(kw):
    fast, ref = both(kw)
    assert same(fast, ref), (kw, fast, ref)


def test_the_named_cases_take_the_fast_path():
    solve_plan.clear()
    Engine.solve("Llama3_8B", "H200", 1, "bf16", runtime="pytorch_eager")
    Engine.solve("ResNet50", "H200", 256, "bf16", runtime="pytorch_eager")
    assert len(runtime_plan._plans) == 2 and all(len(p.batches) == 1 for p in runtime_plan._plans.values())
    Engine.solve("DS_CNN", "STM32L4R5", 1, "int8", runtime="cmsis_nn")  # a microcontroller's cycles model too
    assert len(runtime_plan._plans) == 3
    # outside the case nothing is planned: a ragged batch, a training step
    Engine.solve("Llama3_8B", "H100", 2, runtime="vllm", seq_lens=[10, 20])
    Engine.solve("Llama3_8B", "H100", 2, runtime="pytorch_eager", is_training=True)
    assert len(runtime_plan._plans) == 3


MCU_RUNTIMES = [r for r in RUNTIMES if "microcontroller" in mlsysim.Runtimes.get(r).hardware_classes]
MCUS = [h for h in HARDWARE if mlsysim.Hardware.get(h).core is not None]


@pytest.mark.parametrize("runtime", MCU_RUNTIMES)
def test_every_microcontroller_runtime_core_and_layer_table_model(runtime):
    """The cycles model in a runtime plan: every microcontroller library on every core (a core it has no kernels
    for: the reference path's error), every model with per-layer types and one without, int8 (the cycles model),
    fp32 (the roofline) and an explicit efficiency: equal to the reference path to the bit."""
    assert MCU_RUNTIMES and MCUS
    models = [m for m in MODELS if getattr(mlsysim.Models.get(m), "layer_table", None) is not None] + ["Llama3_8B"]
    for hardware in MCUS:
        for model in models:
            for kw in (dict(precision="int8"), dict(precision="fp32"), dict(precision="int8", efficiency=0.3)):
                call = dict(model=model, hardware=hardware, batch_size=2, runtime=runtime, **kw)
                fast, ref = both(call)
                assert same(fast, ref), call


def test_a_runtime_spec_built_in_python_gets_its_own_plan():
    """Plans hold their runtime: an evolved RuntimeSpec (another object) is planned on its own, a subclass of
    RuntimeSpec takes the reference path, and the name and the registry's own spec agree."""
    rt = mlsysim.Runtimes.get("vllm")
    launch = attrs.evolve(rt.launch, kernel_cost=rt.launch.kernel_cost * 10,
                          graph_kernel_cost=rt.launch.graph_kernel_cost * 10)
    slower = attrs.evolve(rt, launch=launch)
    a = Engine.solve("Llama3_8B", "H100", 4, runtime="vllm")
    b = Engine.solve("Llama3_8B", "H100", 4, runtime=rt)
    c = Engine.solve("Llama3_8B", "H100", 4, runtime=slower)
    assert a == b and c.latency_s > a.latency_s and c.overhead_s > a.overhead_s
    solve_plan.ENABLED = False
    try:
        ref = Engine.solve("Llama3_8B", "H100", 4, runtime=slower)
    finally:
        solve_plan.ENABLED = True
    assert same(attrs.astuple(c), attrs.astuple(ref))

    class Custom(type(rt)):
        pass

    custom = Custom(**{f.name: getattr(rt, f.name) for f in attrs.fields(type(rt))})
    solve_plan.clear()
    Engine.solve("Llama3_8B", "H100", 4, runtime=custom)
    assert not runtime_plan._plans


def test_prefill_through_the_solver_class():
    from mlsysim.solvers import RooflineModel

    for rt in ("vllm", "pytorch_eager", "tensorrt"):
        kw = dict(model="Llama3_8B", hardware="H100", batch_size=4, precision="bf16", seq_len=1024, prefill=True,
                  runtime=rt)
        solve_plan.clear()
        fast = RooflineModel().solve(**kw)
        solve_plan.ENABLED = False
        try:
            ref = RooflineModel().solve(**kw)
        finally:
            solve_plan.ENABLED = True
        assert same(attrs.astuple(fast), attrs.astuple(ref)) and fast.summary() == ref.summary()


def test_the_caches_are_bounded(monkeypatch):
    monkeypatch.setattr(runtime_plan, "PLAN_CACHE_SIZE", 3)
    monkeypatch.setattr(runtime_plan, "BATCH_CACHE_SIZE", 2)
    solve_plan.clear()
    for hw in ("H100", "A100", "H200", "L40S", "H100"):
        for batch in (1, 2, 3):
            Engine.solve("Llama3_8B", hw, batch, runtime="vllm")
    assert len(runtime_plan._plans) <= 3
    assert all(len(p.batches) <= 2 for p in runtime_plan._plans.values())


def test_a_catalog_reload_rebuilds_runtime_plans():
    # in its own process: a reload replaces the registry objects other test modules imported
    code = ("import mlsysim; from mlsysim import Engine; a = Engine.solve('Llama3_8B', 'H100', 4, runtime='vllm'); "
            "mlsysim.registry.reload(); c = Engine.solve('Llama3_8B', 'H100', 4, runtime='vllm'); "
            "from mlsysim.core import runtime_plan; "
            "p, = [p for p in runtime_plan._plans.values() if p.reg is mlsysim.registry._loaded]; "
            "assert p.rt is mlsysim.Runtimes.get('vllm') and p.model is mlsysim.Models.get('Llama3_8B'); "
            "assert c == a and c.latency_s == a.latency_s and c.model is not a.model, 'plan survived the reload'")
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ, "PYTHONPATH": SRC})
