"""FlashAttention backward roof: the training attention core runs its backward (2.5 forwards' FLOPs) at the
backward kernel's rate from the H100 table (FA-3 paper fig. 6), not at the forward rate."""
from mlsysim import Hardware
from mlsysim.core.gemm_roof import training_attention_fraction
from mlsysim.core.shape_cost import _backward_fraction


def test_blend_equals_hand_calculation():
    fwd, bwd = 0.3, 0.25
    # (3 engine forwards) / (1/fwd + 2.5/bwd)
    assert abs(training_attention_fraction(fwd, bwd, 0.0) - 3.0 / (1 / 0.3 + 2.5 / 0.25)) < 1e-12
    # replaying the forward adds one forward at the forward rate
    assert abs(training_attention_fraction(fwd, bwd, 1.0) - 4.0 / (2 / 0.3 + 2.5 / 0.25)) < 1e-12


def test_equal_rates_limit():
    # with backward = forward rate, the extra 0.5 forward of recomputed Q K^T lowers the rate by 3 / 3.5
    assert abs(training_attention_fraction(0.4, 0.4, 0.0) - 0.4 * 3.0 / 3.5) < 1e-12


def test_monotone_in_backward_rate():
    vals = [training_attention_fraction(0.3, b, 0.0) for b in (0.1, 0.2, 0.3, 0.4)]
    assert vals == sorted(vals)


def test_h100_backward_table_from_paper():
    units = Hardware.H100.compute_units
    bwd = dict(units.attention_backward)
    fwd = dict(units.attention)
    assert abs(bwd[128] * 989.4 - 322) < 1 and abs(bwd[64] * 989.4 - 291) < 1
    for d in bwd:  # FA-2 backward runs below its forward on H100 (fig. 5 vs fig. 6)
        assert bwd[d] < fwd[d]


def test_backward_fraction_rises_with_sequence_and_causal_is_lower():
    from mlsysim import Models
    units = Hardware.H100.compute_units
    gpt = Models.GPT2
    fr = [_backward_fraction(gpt, units, s) for s in (512, 1024, 4096, 16384)]
    assert fr == sorted(fr)
    # causal (decoder) at 1k below the non-causal backward table value
    assert fr[1] < dict(units.attention_backward)[64]

