"""CompressionModel: bytes per precision, roofline speedups, what sparsity actually accelerates."""
from __future__ import annotations

import pytest

import mlsysim
from mlsysim.core.inputs import resolve_hardware, resolve_model
from mlsysim.errors import InvalidInputError, InvalidTypeError
from mlsysim.solvers import CompressionModel, RooflineModel
from mlsysim.solvers.compression import _phase_latency

cm = CompressionModel()
P = mlsysim.Models.Llama3_8B.parameters.m_as("param")  # a count


def gb(q):
    return q.to("GB").magnitude


def test_quantisation_sizes_by_hand():
    r = cm.solve("Llama3_8B", "H100", "quantization", 4)
    assert gb(r.original_size_gb) == pytest.approx(4 * P / 1e9)  # fp32 reference
    assert gb(r.compressed_size_gb) == pytest.approx(0.5 * P / 1e9)
    assert r.compression_ratio == pytest.approx(8.0) and r.memory_savings_pct == pytest.approx(87.5)
    assert r.precision == "int4" and any("weight-only" in t for t in r.constraint_trace)  # H100: no int4 units


def test_speedup_is_the_roofline_ratio():
    r = cm.solve("Llama3_8B", "H100", "quantization", 8, baseline_precision="fp16")
    roof = RooflineModel()
    base, q = roof.solve("Llama3_8B", "H100", 1, "fp16"), roof.solve("Llama3_8B", "H100", 1, "int8")
    assert r.inference_speedup == pytest.approx((base.latency / q.latency).m_as(""))
    assert 1.5 < r.inference_speedup < 2.0  # memory-bound decode: about the 2x byte ratio, less the overhead


def test_memory_bound_gains_more_than_compute_bound():
    decode = cm.solve("Llama3_8B", "H100", "quantization", 4, baseline_precision="fp16", batch_size=1)
    assert decode.baseline_bottleneck == "Memory" and decode.inference_speedup > 2.0
    encoder = cm.solve("BERT_Large", "H100", "quantization", 4, baseline_precision="fp16", batch_size=64)
    assert encoder.baseline_bottleneck == "Compute"
    assert encoder.inference_speedup == pytest.approx(1.0, abs=0.02)  # int4 dequantised to bf16: same math rate
    native = cm.solve("BERT_Large", "A100", "quantization", 4, baseline_precision="fp16", batch_size=64)
    assert native.inference_speedup > 2.0  # A100 has int4 tensor cores (4x the fp16 peak)


def test_bitwidths_order_and_accuracy_is_monotone():
    runs = [cm.solve("Llama3_8B", "H100", "quantization", b) for b in (32, 16, 8, 4)]
    assert [r.compression_ratio for r in runs] == pytest.approx([1, 2, 4, 8])
    speed = [r.inference_speedup for r in runs]
    assert speed == sorted(speed) and speed[0] == pytest.approx(1.0)
    acc = [r.estimated_accuracy_delta for r in runs]
    assert acc == sorted(acc, reverse=True) and acc[0] == 0.0


def test_unstructured_pruning_saves_storage_not_time():
    r = cm.solve("Llama3_8B", "H100", "pruning", sparsity=0.5, sparsity_type="unstructured",
                 baseline_precision="fp16")
    assert gb(r.compressed_size_gb) == pytest.approx(2 * P * (0.5 + 1 / 16) / 1e9)  # values + 1-bit bitmap
    assert r.inference_speedup == 1.0
    tiny = cm.solve("Llama3_8B", "H100", "pruning", sparsity=0.02, baseline_precision="fp16")
    assert tiny.compression_ratio == 1.0  # a bitmap costs more than 2% zeros save: stays dense


def test_two_four_needs_sparse_units_and_exactly_half():
    r = cm.solve("Llama3_8B", "H100", "pruning", sparsity=0.5, sparsity_type="n_m", baseline_precision="fp16")
    assert r.compression_ratio == pytest.approx(1 / (0.5 * (1 + 2 / 16)))  # values + 2-bit index per kept
    assert 1.0 < r.inference_speedup < 2.0
    compute_bound = cm.solve("ResNet50", "H100", "pruning", sparsity=0.5, sparsity_type="n_m",
                             baseline_precision="fp16", batch_size=512)
    assert 1.0 < compute_bound.inference_speedup <= 2.0  # sparse peak is 2x dense
    no_units = cm.solve("Llama3_8B", "T4", "pruning", sparsity=0.5, sparsity_type="n_m", baseline_precision="fp16")
    assert no_units.inference_speedup == 1.0 and "no sparse" in no_units.constraint_trace[0]
    fp32 = cm.solve("Llama3_8B", "H100", "pruning", sparsity=0.5, sparsity_type="n_m")
    assert fp32.inference_speedup == 1.0  # H100 has no sparse fp32 path
    with pytest.raises(InvalidInputError, match="0.5"):
        cm.solve("Llama3_8B", "H100", "pruning", sparsity=0.6, sparsity_type="n_m")


def test_structured_pruning_shrinks_dense_work():
    half = cm.solve("Llama3_8B", "H100", "pruning", sparsity=0.5, sparsity_type="structured",
                    baseline_precision="fp16")
    quarter = cm.solve("Llama3_8B", "H100", "pruning", sparsity=0.25, sparsity_type="structured",
                       baseline_precision="fp16")
    assert half.compression_ratio == pytest.approx(2.0)
    assert 1.0 < quarter.inference_speedup < half.inference_speedup < 2.0  # KV and overhead do not shrink
    assert half.estimated_accuracy_delta < quarter.estimated_accuracy_delta < 0


def test_phase_roofline_reproduces_the_engine():
    for model, hw, batch in (("Llama3_8B", "H100", 1), ("Llama3_8B", "H100", 128), ("ResNet50", "A100", 64),
                             ("Mixtral_8x7B", "H200", 16)):
        base = RooflineModel().solve(model, hw, batch, "fp16")
        t = _phase_latency(resolve_model(model), resolve_hardware(hw), base, flops_scale=1.0, weight_scale=1.0)
        assert t == pytest.approx(base.latency.to("s").magnitude, rel=1e-12)


def test_distillation_compares_student_with_teacher():
    r = cm.solve("BERT_Large", "H100", "distillation", student="BERT_Base", baseline_precision="fp16")
    assert r.compression_ratio == pytest.approx(mlsysim.Models.BERT_Large.parameters.m_as("param")
                                                / mlsysim.Models.BERT_Base.parameters.m_as("param"))
    assert r.inference_speedup > 1.0 and r.estimated_accuracy_delta < 0
    with pytest.raises(InvalidInputError, match="student"):
        cm.solve("BERT_Large", "H100", "distillation")


@pytest.mark.parametrize("kwargs,error", [
    (dict(method="huffman"), InvalidInputError),
    (dict(target_bitwidth=3), InvalidInputError),
    (dict(target_bitwidth=8.0), InvalidTypeError),
    (dict(method="pruning", sparsity=1.0), InvalidInputError),
    (dict(method="pruning", sparsity=-0.1), InvalidInputError),
    (dict(method="pruning", sparsity=0.5, sparsity_type="blocky"), InvalidInputError),
    (dict(baseline_precision="fp12"), InvalidInputError),
])
def test_bad_input(kwargs, error):
    with pytest.raises(error):
        cm.solve("Llama3_8B", "H100", **kwargs)
