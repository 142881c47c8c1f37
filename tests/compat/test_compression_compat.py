"""A 0.1.x-style script: is INT4 worth it for Llama-3 8B on an H100, and what does 2:4 pruning give?"""
import mlsysim
from mlsysim.solvers import CompressionModel


def test_compression_script():
    solver = CompressionModel()
    model, gpu = mlsysim.Models.Language.Llama3_8B, mlsysim.Hardware.Cloud.H100
    q = solver.solve(model, gpu, method="quantization", target_bitwidth=4)
    assert q.compressed_size_gb.to("GB").magnitude < q.original_size_gb.to("GB").magnitude
    assert q.compression_ratio == 8.0 and q.memory_savings_pct == 87.5
    assert q.inference_speedup > 1.0 and q.estimated_accuracy_delta < 0
    p = solver.solve(model, gpu, "pruning", 8, 0.5, "n_m")
    assert p.compression_ratio > 1.0 and p.inference_speedup >= 1.0
