"""What runtime=None stands for, per hardware class (catalog/calibration default_runtime / default_stack): named in
every result's reasons, pointing at a runtime of the class, and within DEFAULT_RUNTIME_TOLERANCE of it."""
from __future__ import annotations

import pytest

import mlsysim
from mlsysim import Engine
from mlsysim.errors import UnsupportedPrecisionError
from mlsysim.registry import registries
from mlsysim.specs.calibration import DEFAULT_RUNTIME_TOLERANCE

CLASSES = sorted(registries().calibration.values(), key=lambda c: c.name)
# Transformer passes per class, launch-bound (batch 1 decode) to compute-bound (encoder at batch 256).
CASES = {
    "datacenter_gpu": [("Llama3_8B", "H100", 1, "bf16"), ("Llama3_8B", "H100", 32, "bf16"),
                       ("Llama3_70B", "H200", 8, "fp8"), ("BERT_Large", "H100", 256, "int8")],
    "workstation_gpu": [("Llama3_8B", "RTX4090", 1, "fp16"), ("Llama3_8B", "RTX4090", 16, "fp16")],
    "apple_soc": [("Llama3_8B", "M2Ultra", 1, "fp16"), ("Llama3_8B", "M1Max", 8, "fp16")],
    "edge_soc": [("Llama3_8B", "JetsonAGXOrin", 1, "fp16"), ("BERT_Large", "JetsonAGXOrin", 64, "int8")],
}


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.name)
def test_every_class_names_its_default_stack(cls):
    assert cls.default_stack, f"{cls.name}: default_stack says which real stack runtime=None stands for"
    if cls.default_runtime is not None:
        rt = mlsysim.Runtimes.get(cls.default_runtime)
        assert cls.name in rt.hardware_classes, f"{cls.default_runtime} does not run on {cls.name}"


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.name)
def test_runtime_none_results_name_the_stack(cls):
    hw = next((h for h in mlsysim.Hardware if h.calibration_class == cls.name), None)
    if hw is None:
        pytest.skip(f"no device of class {cls.name}")
    precision = "int8" if cls.name in ("microcontroller", "edge_accelerator") else "fp16"
    try:
        r = Engine.solve("DS_CNN" if cls.name == "microcontroller" else "MobileNetV2", hw, 1, precision)
    except UnsupportedPrecisionError:
        r = Engine.solve("MobileNetV2", hw, 1, "int8")
    core = getattr(hw, "core", None)
    if core is not None and core.default_runtime is not None:
        # a core with a default kernel library names that library (mlsysim.core.mcu_cycles)
        assert any(line.startswith(f"runtime=None on {core.name}: default kernel library") for line in r.reasons)
    else:
        assert f"runtime: engine default ({cls.default_stack})" in r.reasons


@pytest.mark.parametrize("case", [(c, k) for k, v in CASES.items() for c in v], ids=lambda c: f"{c[0][0]}-{c[0][1]}-b{c[0][2]}")
def test_runtime_none_is_within_the_tolerance_of_its_default_runtime(case):
    (model, hw, batch, precision), cls_name = case
    cls = registries().calibration[cls_name]
    assert mlsysim.Hardware.get(hw).calibration_class == cls_name
    default = Engine.solve(model, hw, batch, precision)
    real = Engine.solve(model, hw, batch, precision, runtime=cls.default_runtime)
    gap = abs(default.throughput.m_as("1/s") / real.throughput.m_as("1/s") - 1.0)
    assert gap <= DEFAULT_RUNTIME_TOLERANCE, f"{model} on {hw}: runtime=None is {gap:.0%} from {cls.default_runtime}"
    # Compute-bound passes agree closely where the runtimes differ in fixed per-kernel cost only (a device with
    # compute_units also runs a runtime's phases at their GEMM shape's rate: core.shape_cost).
    if default.bottleneck == "Compute" and batch >= 64 and mlsysim.Hardware.get(hw).compute_units is None:
        assert gap < 0.02


def test_runtime_none_numbers_do_not_read_the_default_runtime():
    """default_runtime is documentation: runtime=None's overhead is the engine's own 8 kernels per layer x the
    device's launch overhead, not the named runtime's kernels."""
    from mlsysim.core.workload import KERNELS_PER_TRANSFORMER_LAYER
    from mlsysim.specs.fields import figure

    r = Engine.solve("Llama3_8B", "H100", 1, "bf16")
    m = mlsysim.Models.Llama3_8B
    assert r.overhead_s == pytest.approx((m.layers * KERNELS_PER_TRANSFORMER_LAYER + 2)
                                         * figure(mlsysim.Hardware.H100, "launch_overhead"))
