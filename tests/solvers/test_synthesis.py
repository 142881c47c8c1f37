"""SynthesisSolver: the roofline inverted for a latency target, checked against Engine.solve per device."""
from __future__ import annotations

import pytest

import mlsysim
from mlsysim.errors import InvalidInputError, InvalidTypeError, MlsysimError
from mlsysim.solvers import SynthesisSolver
from mlsysim.specs.fields import figure

ureg = mlsysim.ureg
syn = SynthesisSolver()
CLOUD = ["H100", "H200", "A100", "B200", "MI300X", "L4", "T4", "V100", "RTX4090"]


def test_requirements_by_hand_from_the_workload():
    r = syn.solve("Llama3_8B", 20 * ureg.ms, "fp16", 0.5)
    p = mlsysim.Engine.solve("Llama3_8B", "H100", 1, "fp16", 0.5)  # the same pass, costed on a device
    assert r.required_bw.to("B/s").magnitude == pytest.approx(p.bytes_moved / 0.020)
    assert r.required_flops.to("flop/s").magnitude == pytest.approx(p.hardware_flops / (0.020 * 0.5))
    assert r.total_ops.to("flop").magnitude == pytest.approx(p.hardware_flops)
    assert r.model_size.to("B").magnitude == pytest.approx(
        mlsysim.Models.Llama3_8B.size_in_bytes("fp16").to("B").magnitude)
    assert r.required_memory.to("B").magnitude >= r.model_size.to("B").magnitude
    assert r.compute_memory_ratio.to("flop/B").magnitude == pytest.approx(
        r.required_flops.to("flop/s").magnitude / r.required_bw.to("B/s").magnitude)
    assert r.target_latency.to("ms").magnitude == pytest.approx(20.0)


def test_requirements_scale_inversely_with_the_target_and_the_set_shrinks():
    loose, tight = syn.solve("Llama3_8B", 0.040), syn.solve("Llama3_8B", 0.010)
    assert tight.required_bw.to("B/s").magnitude == pytest.approx(4 * loose.required_bw.to("B/s").magnitude)
    assert tight.required_flops.to("flop/s").magnitude == pytest.approx(
        4 * loose.required_flops.to("flop/s").magnitude)
    assert tight.required_memory == loose.required_memory
    assert set(tight.meeting_hardware) < set(loose.meeting_hardware)
    assert syn.solve("Llama3_8B", 1e-6).meeting_hardware == ()  # 15 GB in a microsecond: nothing


def test_meeting_devices_are_verified_and_meet_each_requirement():
    target = 0.015
    r = syn.solve("Llama3_8B", target, "fp16", 0.5, candidates=CLOUD)
    assert r.meeting_hardware  # H100-class devices do it
    for name in CLOUD:
        p = mlsysim.Engine.solve("Llama3_8B", name, 1, "fp16", 0.5)
        meets = p.feasible and p.latency.to("s").magnitude <= target
        assert meets == (name in r.meeting_hardware)
        if meets:  # the requirements are necessary conditions
            assert figure(mlsysim.Hardware.get(name), "peak_dense.fp16") >= r.required_flops.to("flop/s").magnitude
            assert p.bandwidth_used >= r.required_bw.to("B/s").magnitude
    latencies = [mlsysim.Engine.solve("Llama3_8B", n, 1, "fp16", 0.5).latency for n in r.meeting_hardware]
    assert latencies == sorted(latencies)  # fastest first


def test_lower_precision_halves_the_bytes():
    fp16, fp8 = syn.solve("Llama3_70B", 0.05, "fp16"), syn.solve("Llama3_70B", 0.05, "fp8")
    assert fp8.model_size.to("B").magnitude == pytest.approx(fp16.model_size.to("B").magnitude / 2)
    assert fp8.required_bw.to("B/s").magnitude < 0.55 * fp16.required_bw.to("B/s").magnitude


def test_devices_without_the_precision_are_skipped_not_errors():
    r = syn.solve("Llama3_8B", 1.0, "bf16", candidates=["V100", "H100"])  # V100 has no bf16 units
    assert r.meeting_hardware == ("H100",)


def test_bad_input():
    with pytest.raises(InvalidInputError):
        syn.solve("Llama3_8B", 0)
    with pytest.raises(InvalidInputError, match="convertible"):
        syn.solve("Llama3_8B", 3 * ureg.GB)
    with pytest.raises(MlsysimError):
        syn.solve("Llama3_8B", 0.02, "fp99")
    with pytest.raises(MlsysimError):
        syn.solve("Llama3_8B", 0.02, efficiency=0)
    with pytest.raises(MlsysimError):
        syn.solve("NoSuchModel", 0.02)
    with pytest.raises(InvalidTypeError):
        syn.solve("Llama3_8B", 0.02, candidates="H100")
