"""Shape-aware compute roofs (mlsysim.core.gemm_roof, core.shape_cost): physics of tile and wave quantisation,
the attention roof by head dimension, convolutions as implicit GEMMs, and where the solver applies them."""
from __future__ import annotations

import math

import pytest

import mlsysim
from mlsysim.core.gemm_roof import (CALIBRATION_GEMM, attention_efficiency, conv_gemm_shape, gemm_efficiency,
                                    relative_gemm_efficiency)
from mlsysim.core.solver import RooflineModel

SMS, TM, TN, RAMP = 132, 128, 256, 160.0


def eff(m, n, k, ramp=RAMP):
    return gemm_efficiency(m, n, k, SMS, TM, TN, ramp)


def test_efficiency_rises_with_size_to_a_plateau():
    sizes = [256, 512, 1024, 2048, 4096, 8192, 16384]
    values = [eff(s, s, s) for s in sizes]
    assert all(b >= a - 0.02 for a, b in zip(values, values[1:]))  # monotone up to wave-quantisation ripple
    assert values[0] < 0.5 < values[-1]
    assert values[-1] > 0.95 and abs(values[-1] - values[-2]) < 0.03  # plateau: K ramp and waves amortised


def test_efficiency_is_a_fraction():
    for m, n, k in [(1, 1, 1), (1, 4096, 4096), (8192, 8192, 8192), (3, 7, 11), (1000000, 64, 64)]:
        assert 0.0 < eff(m, n, k) <= 1.0


def test_one_tile_over_a_full_wave_costs_a_second_wave():
    # 132 tiles of 128 x 256 fill one wave exactly; one more tile needs a second wave of the same length.
    k = 8192
    full = eff(128 * 132, 256, k)
    extra = eff(128 * 133, 256, k)
    t_full = 128 * 132 * 256 * k / full
    t_extra = 128 * 133 * 256 * k / extra
    assert t_extra == pytest.approx(2.0 * t_full, rel=1e-9)
    assert extra == pytest.approx(full * 133 / 264, rel=1e-9)


def test_tile_quantisation_of_a_ragged_edge():
    # N = 257 needs two 256-column tiles (or three 128 ones): more than half of the last tile is padding.
    assert eff(128 * 66, 257, 8192) < eff(128 * 66, 256, 8192)


def test_no_pipeline_ramp_and_exact_tiles_reach_one():
    assert eff(128 * 132, 256, 4096, ramp=0.0) == pytest.approx(1.0)


def test_split_k_fills_the_sms_when_tiles_are_few():
    # 4 tiles on 132 SMs: split-K over up to 8 slices makes the GEMM ~8x faster than one slice per tile.
    one = 4 * (4096 + RAMP)
    split = 4096 / 8 + RAMP
    assert eff(256, 512, 4096) == pytest.approx((256 * 512 * 4096 / (SMS * TM * TN)) / split, rel=1e-9)
    assert one / split > 6


def test_calibration_shape_runs_at_the_measured_rate():
    assert relative_gemm_efficiency(*CALIBRATION_GEMM, SMS, TM, TN, RAMP) == pytest.approx(1.0)


def test_conv_shape_from_a_layer_table_row():
    # ResNet-50 stage-2 1x1 conv: 256 -> 64 channels at 56x56 (rows 5-6 of the catalog table).
    m, n, k = conv_gemm_shape(51380224, 200704, 16512, batch=2)
    assert (m, n, k) == (2 * 56 * 56, 64, 256)


def test_small_channel_convs_run_below_large_ones():
    small = relative_gemm_efficiency(*conv_gemm_shape(51380224, 200704, 16512, 256), SMS, TM, TN, RAMP)
    large = relative_gemm_efficiency(*conv_gemm_shape(115605504, 25088, 2360320, 256), SMS, TM, TN, RAMP)
    assert small < large


def test_attention_head_dim_64_slower_per_flop_than_128():
    table = mlsysim.Hardware.H200.compute_units.attention
    assert attention_efficiency(table, 64) < attention_efficiency(table, 128)
    assert attention_efficiency(table, 96) == pytest.approx(
        (attention_efficiency(table, 64) + attention_efficiency(table, 128)) / 2 + 0.0, abs=0.03)
    assert attention_efficiency(table, 32) == table[0][1]  # flat beyond the measured range


def test_runtime_head_dim_64_runs_the_attention_core_slower_per_flop_than_128():
    import attrs
    from mlsysim.core.shape_cost import runtime_shapes
    from mlsysim.core.precision import resolve_precision
    hw, rt = mlsysim.Hardware.H200, mlsysim.Runtimes.pytorch_eager
    prec = resolve_precision(hw, "bf16")
    fractions = []
    for heads, hd in ((32, 64), (16, 128)):  # same heads x head_dim = 2048, so the same attention FLOPs
        m = attrs.evolve(mlsysim.Models.GPT2, name=f"gpt2_hd{hd}", heads=heads, kv_heads=heads, head_dim=hd,
                         hidden_size=2048, ffn_size=8192, published_parameters=None)
        fractions.append(runtime_shapes(m, hw, rt, 8, 1024, None, True, prec).attention_fraction)
    assert fractions[0] < fractions[1]


def test_runtime_none_is_unchanged_by_the_shape_roof():
    a = mlsysim.Engine.solve("Llama3_8B", "H200", 4, "bf16")
    b = RooflineModel().solve("Llama3_8B", "H200", 4, "bf16")
    assert a.latency.m_as("s") == b.latency.m_as("s")
    assert not any("shape roof" in r for r in a.reasons)


def test_explicit_efficiency_keeps_one_rate():
    r = RooflineModel().solve("Llama3_8B", "H200", 1, "bf16", seq_len=2048, prefill=True,
                              runtime="pytorch_cuda_graph", efficiency=0.5)
    assert r.efficiency == 0.5
    t = r.compute_time_s
    assert t == pytest.approx(r.hardware_flops / (0.5 * r.dense_peak_flops))


def test_shape_roof_slows_a_wave_quantised_prefill():
    # runtime with all ops fused (TensorRT) on H100: the roof only lowers the compute rate.
    plain = RooflineModel().solve("BERT_Large", "H100", 8, "fp16", seq_len=384)
    shaped = RooflineModel().solve("BERT_Large", "H100", 8, "fp16", seq_len=384, runtime="tensorrt")
    assert shaped.compute_time_s > plain.compute_time_s
    assert any("shape roof" in r for r in shaped.reasons)


def test_device_without_compute_units_says_so():
    r = RooflineModel().solve("BERT_Large", "V100", 8, "fp16", seq_len=384, runtime="tensorrt")
    assert any("no compute_units" in x for x in r.reasons)


def test_warm_solve_with_runtime_hits_the_cache():
    from mlsysim.core import shape_cost
    RooflineModel().solve("GPT2", "H200", 8, "bf16", seq_len=1024, is_training=True, runtime="pytorch_eager")
    n = len(shape_cost._cache)
    RooflineModel().solve("GPT2", "H200", 8, "bf16", seq_len=1024, is_training=True, runtime="pytorch_eager")
    assert len(shape_cost._cache) == n
    assert math.isfinite(n)


def test_causal_short_sequences_run_attention_below_long_ones():
    import attrs  # noqa: F401
    from mlsysim.core.precision import resolve_precision
    from mlsysim.core.shape_cost import runtime_shapes
    hw, rt, m = mlsysim.Hardware.H200, mlsysim.Runtimes.pytorch_cuda_graph, mlsysim.Models.Llama3_8B
    prec = resolve_precision(hw, "bf16")
    rates = []
    for seq in (512, 2048, 8192):
        rates.append(runtime_shapes(m, hw, rt, 1, seq, None, True, prec).attention_fraction)
    assert rates[0] < rates[1] < rates[2] < attention_efficiency(hw.compute_units.attention, 128)


def test_decode_keeps_one_gemm_efficiency():
    # Decode GEMMs have M = batch rows (mat-vec kernels): the tiled-GEMM roof does not apply.
    plain = RooflineModel().solve("Llama3_8B", "H200", 8, "bf16", seq_len=1024)
    graph = RooflineModel().solve("Llama3_8B", "H200", 8, "bf16", seq_len=1024, runtime="trtllm")
    assert graph.compute_time_s == pytest.approx(plain.compute_time_s, rel=1e-12)
    assert any("no shape roof" in r for r in graph.reasons)
