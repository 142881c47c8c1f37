"""A 0.1.x-style script: which H100 figure limits Llama-3 8B decoding?"""
import mlsysim
from mlsysim.solvers import SensitivitySolver


def test_sensitivity_script():
    r = SensitivitySolver().solve(mlsysim.Models.Llama3_8B, mlsysim.Hardware.H100, precision="fp16")
    assert r.binding_constraint == "memory_bandwidth"
    assert set(r.sensitivities) >= {"peak_flops", "memory_bandwidth", "memory_capacity"}
    assert r.sensitivities["memory_bandwidth"] < 0  # more bandwidth, less latency
    assert r.baseline_latency.to("ms").magnitude > 0
    assert r.perturbation_pct == 10.0
    print(r)
