"""Issue 13 gap entries: every figure is consistent with the derivation its notes state."""
import pytest

from mlsysim import Hardware

NEW = ("Snapdragon8Elite", "TensorG4", "Hailo8L", "EPYC9755")


def _tops(spec, precision):
    return spec.compute.precision_flops[precision].m_as("TFLOP/s")


@pytest.mark.parametrize("name", NEW)
def test_entries_exist_with_dated_provenance(name):
    spec = getattr(Hardware, name)
    assert str(spec.provenance.checked) == "2026-12-03"
    assert spec.provenance.kind in {"datasheet", "measured", "estimate"}
    assert spec.memory.capacity.m_as("B") > 0 and spec.power.tdp.m_as("W") > spec.power.idle.m_as("W")


def test_epyc9755_peaks_follow_from_cores_datapath_and_base_clock():
    epyc = Hardware.EPYC9755
    cores, clock = 128, 2.7e9
    fp32 = cores * 2 * 16 * 2 * clock  # 2 FMA pipes x 16 fp32 lanes (512-bit) x 2 FLOP
    assert _tops(epyc, "fp32") == pytest.approx(fp32 / 1e12, rel=0.01)
    assert _tops(epyc, "bf16") == pytest.approx(2 * _tops(epyc, "fp32"), rel=0.01)
    assert _tops(epyc, "int8") == pytest.approx(4 * _tops(epyc, "fp32"), rel=0.01)
    assert epyc.memory.bandwidth.m_as("GB/s") == pytest.approx(12 * 6400e6 * 8 / 1e9)
    # Zen 5's 512-bit datapath at more cores and clock: 3x the Genoa entry's fp32, same kind of derivation.
    assert _tops(epyc, "fp32") == pytest.approx(3.0 * _tops(Hardware.EPYC9654, "fp32"), rel=0.01)


def test_phone_npus_are_derived_from_their_siblings():
    assert _tops(Hardware.Snapdragon8Elite, "int8") == pytest.approx(1.45 * _tops(Hardware.Snapdragon8Gen3, "int8"),
                                                                     rel=0.01)
    assert _tops(Hardware.TensorG4, "int8") == _tops(Hardware.Pixel8, "int8")  # same third-gen TPU
    assert Hardware.Snapdragon8Elite.memory.bandwidth.m_as("GB/s") == pytest.approx(10600e6 * 8 / 1e9)
    for name in ("Snapdragon8Elite", "TensorG4"):
        assert set(getattr(Hardware, name).compute.precision_flops) == {"int8"}  # no guessed float peak


def test_hailo8l_is_half_a_hailo8():
    small, big = Hardware.Hailo8L, Hardware.Hailo8
    assert _tops(small, "int8") == pytest.approx(_tops(big, "int8") / 2)
    assert small.memory.capacity.m_as("B") == pytest.approx(big.memory.capacity.m_as("B") / 2)
    # One int8 operand byte per MAC at the peak: bandwidth = TOPS / 2 (bytes/s).
    assert small.memory.bandwidth.m_as("B/s") == pytest.approx(_tops(small, "int8") * 1e12 / 2)
