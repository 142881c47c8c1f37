"""EfficiencyModel: MFU of a kernel class from its roofline; FlashAttention's bytes against standard attention."""
from __future__ import annotations

import pytest

import mlsysim
from mlsysim.errors import InvalidInputError, InvalidTypeError, UnsupportedModelError
from mlsysim.solvers import EfficiencyModel, RooflineModel

em = EfficiencyModel()


def test_ffn_flops_by_hand_and_roofline_mfu():
    r = em.solve("Llama3_8B", "H100", "ffn", batch_size=2, seq_len=1024)
    tokens, layers, d, f = 2 * 1024, 32, 4096, 14336
    # gated: up, gate, down (the engine's FFN phase also carries the norm weights, 2 d per layer: < 1e-4)
    assert r.flops.to("flop").magnitude == pytest.approx(2 * tokens * layers * 3 * d * f, rel=1e-4)
    base = RooflineModel().solve("Llama3_8B", "H100", 2, "fp16", seq_len=1024)
    ridge = base.peak_flops_used / base.bandwidth_used
    ai = r.arithmetic_intensity.to("flop/B").magnitude
    assert ai > ridge and r.bottleneck == "Compute"
    assert r.mfu == pytest.approx(base.efficiency)  # compute-bound: the matmul efficiency itself


def test_ffn_is_memory_bound_for_few_tokens_and_saturates():
    mfus = [em.solve("Llama3_8B", "H100", "ffn", seq_len=s).mfu for s in (1, 16, 128, 1024, 4096)]
    assert mfus == sorted(mfus) and mfus[0] < 0.01
    assert mfus[-1] == pytest.approx(mfus[-2])
    low = em.solve("Llama3_8B", "H100", "ffn", seq_len=16)
    assert low.bottleneck == "Memory"
    base = RooflineModel().solve("Llama3_8B", "H100", 1, "fp16", seq_len=16)
    assert low.mfu == pytest.approx(low.arithmetic_intensity.to("flop/B").magnitude * base.bandwidth_used
                                    / base.dense_peak_flops)


def test_attention_bytes_by_hand():
    r = em.solve("BERT_Base", "A100", "attention", False, seq_len=512)
    L, h, dh, s, e = 12, 12, 64, 512, 2
    standard = L * e * (s * (2 * h * dh + 2 * h * dh) + 4 * h * s * s)  # Q, K, V, O + S and P written and read
    tiled = L * e * (s * 2 * h * dh + 4 * s * 2 * h * dh)               # 4 query blocks of 128 re-read K, V
    assert r.attention_bytes_standard.to("B").magnitude == pytest.approx(standard)
    assert r.attention_bytes_flash.to("B").magnitude == pytest.approx(tiled)
    assert r.hbm_bytes == r.attention_bytes_standard
    assert r.flops.to("flop").magnitude == pytest.approx(L * 4 * h * dh * s * s)  # QK^T and PV, no mask


def test_flash_attention_moves_fewer_bytes_and_reaches_higher_mfu():
    ratios = []
    for seq in (512, 2048, 8192):
        std = em.solve("Llama3_8B", "H100", "attention", False, seq_len=seq)
        fa = em.solve("Llama3_8B", "H100", "attention", True, seq_len=seq)
        assert fa.hbm_bytes < std.hbm_bytes and fa.mfu > std.mfu
        assert fa.flops == std.flops  # same useful work
        ratios.append(std.hbm_bytes / fa.hbm_bytes)
    assert ratios == sorted(ratios)  # the seq^2 matrices dominate more at long context
    causal = em.solve("Llama3_8B", "H100", "attention", False, seq_len=2048)
    assert causal.overhead_breakdown["wasted_flops"] > 0  # masked scores computed anyway


def test_breakdown_adds_up_to_the_lost_fraction():
    for args in (("Llama3_8B", "H100", "ffn"), ("Llama3_8B", "H100", "attention", True),
                 ("Llama3_8B", "H100", "attention", False), ("ResNet50", "A100", "conv")):
        r = em.solve(*args)
        assert sum(r.overhead_breakdown.values()) == pytest.approx(1.0 - r.mfu)
        assert all(v >= -1e-12 for v in r.overhead_breakdown.values())
        assert r.achievable_flops.to("flop/s").magnitude == pytest.approx(r.mfu * r.peak_flops.to("flop/s").magnitude)


def test_conv_is_the_cnn_roofline():
    r = em.solve("ResNet50", "H100", "conv", batch_size=128)
    base = RooflineModel().solve("ResNet50", "H100", 128, "fp16")
    assert r.mfu == pytest.approx(base.mfu)
    assert em.solve("ResNet50", "H100", "conv", batch_size=128, efficiency=0.4).mfu <= r.mfu


def test_efficiency_caps_mfu():
    for eff in (0.3, 0.6, 0.9):
        assert em.solve("Llama3_8B", "H100", "ffn", efficiency=eff, seq_len=4096).mfu == pytest.approx(eff)


def test_bad_input():
    with pytest.raises(UnsupportedModelError):
        em.solve("Llama3_8B", "H100", "conv")
    with pytest.raises(UnsupportedModelError):
        em.solve("ResNet50", "H100", "attention")
    with pytest.raises(InvalidInputError):
        em.solve("Llama3_8B", "H100", "softmax")
    with pytest.raises(InvalidTypeError):
        em.solve("Llama3_8B", "H100", "attention", "yes")
    with pytest.raises(InvalidInputError):
        em.solve("Llama3_8B", "H100", "ffn", efficiency=0.0)
    assert "ignored" in em.solve(mlsysim.Models.Llama3_8B, "H100", "ffn", True).constraint_trace[0]
