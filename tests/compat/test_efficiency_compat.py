"""A 0.1.x-style script: how much of the H100's peak do attention layers reach, with and without FlashAttention?"""
import mlsysim
from mlsysim.solvers import EfficiencyModel


def test_efficiency_script():
    solver = EfficiencyModel()
    model, gpu = mlsysim.Models.Language.Llama3_8B, mlsysim.Hardware.Cloud.H100
    plain = solver.solve(model, gpu, workload_type="attention", use_flash_attention=False)
    flash = solver.solve(model, gpu, workload_type="attention", use_flash_attention=True)
    assert 0 < plain.mfu < flash.mfu <= 1
    assert flash.achievable_flops.to("TFLOP/s").magnitude < flash.peak_flops.to("TFLOP/s").magnitude
    assert set(flash.overhead_breakdown) >= {"occupancy_loss", "memory_stall"}
    ffn = solver.solve(model, gpu, "ffn", precision="fp16", efficiency=0.5)
    assert ffn.workload_type == "ffn" and ffn.mfu <= 0.5
