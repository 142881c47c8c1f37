"""SensitivitySolver: elasticities of the roofline latency to each hardware figure."""
from __future__ import annotations

import math

import attrs
import pytest

import mlsysim
from mlsysim.errors import InvalidInputError, MlsysimError
from mlsysim.solvers import SensitivitySolver
from mlsysim.solvers.sensitivity import _scale
from mlsysim.specs.fields import figure

sens = SensitivitySolver()


def euler(s):
    return s["peak_flops"] + s["memory_bandwidth"] + s.get("flash_bandwidth", 0.0) - s["launch_overhead"]


def test_memory_bound_decode_binds_on_bandwidth():
    r = sens.solve("Llama3_70B", "H100", "fp8", batch_size=8)
    s = r.sensitivities
    assert r.bottleneck == "Memory" and r.binding_constraint == "memory_bandwidth"
    assert -1.0 <= s["memory_bandwidth"] < -0.8  # the rest is launch overhead
    assert abs(s["peak_flops"]) < 1e-6
    assert s["memory_capacity"] == 0.0  # latency does not depend on capacity
    assert s["launch_overhead"] == pytest.approx(1.0 + s["memory_bandwidth"], abs=1e-6)


def test_compute_bound_training_binds_on_peak():
    r = sens.solve("Llama3_8B", "H100", "bf16", efficiency=None, batch_size=8, seq_len=4096, is_training=True)
    assert r.binding_constraint == "peak_flops" and r.sensitivities["peak_flops"] < -0.8


def test_launch_bound_small_model_binds_on_overhead():
    r = sens.solve("MobileNetV2", "H100", "fp16")
    assert r.binding_constraint == "launch_overhead" and r.sensitivities["launch_overhead"] > 0.9


@pytest.mark.parametrize("model,hw,precision,kw", [
    ("Llama3_8B", "H100", "fp16", {}),
    ("ResNet50", "A100", "fp16", {"batch_size": 64}),
    ("Llama3_8B", "H200", "bf16", {"batch_size": 4, "seq_len": 2048, "is_training": True, "efficiency": None}),
    ("DS_CNN", "STM32H7A3", "int8", {"efficiency": None}),
])
def test_elasticities_obey_homogeneity(model, hw, precision, kw):
    # Latency is homogeneous of degree -1 in the rates and +1 in the overhead: Euler's theorem.
    s = sens.solve(model, hw, precision, **kw).sensitivities
    assert euler(s) == pytest.approx(-1.0, abs=0.02)
    assert all(-1.0 - 1e-9 <= s[k] <= 1e-9 for k in s if k != "launch_overhead")


def test_one_elasticity_by_hand_on_a_pure_bandwidth_device():
    # Without launch overhead a memory-bound pass is bytes / bandwidth: elasticity exactly -1.
    hw = attrs.evolve(mlsysim.Hardware.H100, launch_overhead=1e-11)
    r = sens.solve("Llama3_70B", hw, "fp8", perturbation_pct=20)
    assert r.sensitivities["memory_bandwidth"] == pytest.approx(-1.0, abs=1e-6)


def test_perturbation_scales_the_figure_and_its_measured_twin():
    hw = mlsysim.Hardware.H100  # has measured bf16 matmul and memory bandwidth
    up = _scale(hw, "memory_bandwidth", 1.1)
    assert figure(up, "memory.bandwidth") == pytest.approx(1.1 * figure(hw, "memory.bandwidth"))
    assert figure(up, "calibration.memory_bandwidth") == pytest.approx(1.1 * figure(hw, "calibration.memory_bandwidth"))
    fast = _scale(hw, "peak_flops", 1.1)
    assert figure(fast, "peak_dense.fp8") == pytest.approx(1.1 * figure(hw, "peak_dense.fp8"))
    assert figure(fast, "calibration.matmul_flops.bf16") == pytest.approx(
        1.1 * figure(hw, "calibration.matmul_flops.bf16"))
    assert figure(fast, "memory.bandwidth") == figure(hw, "memory.bandwidth")


def test_baseline_matches_engine_and_step_size_barely_matters():
    r = sens.solve("Llama3_8B", "H100")
    base = mlsysim.Engine.solve("Llama3_8B", "H100", 1, "fp16", 0.5)
    assert r.baseline_latency.to("s").magnitude == pytest.approx(base.latency.to("s").magnitude)
    small = sens.solve("Llama3_8B", "H100", perturbation_pct=1.0).sensitivities
    for k, v in r.sensitivities.items():
        assert math.isclose(v, small[k], abs_tol=0.01)


def test_bad_input():
    with pytest.raises(InvalidInputError):
        sens.solve("Llama3_8B", "H100", perturbation_pct=0)
    with pytest.raises(InvalidInputError):
        sens.solve("Llama3_8B", "H100", perturbation_pct=80)
    with pytest.raises(MlsysimError):
        sens.solve("Llama3_8B", "H100", "fp99")
    with pytest.raises(MlsysimError):
        sens.solve("NoSuchModel", "H100")
    with pytest.raises(MlsysimError):
        sens.solve("Llama3_8B", "H100", efficiency=2.0)
