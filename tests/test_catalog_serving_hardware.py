"""Per-GPU entries added for serving (issue 10): B300, GB200, GB300, H20, MI325X, MI355X. Checks are physical
relations between vendor figures, not copies of them."""
from __future__ import annotations

import pytest

from mlsysim import Hardware

NEW = ["B300", "GB200", "GB300", "H20", "MI325X", "MI355X"]
PRECISIONS = ("fp64", "fp32", "tf32", "fp16", "bf16", "fp8", "int8", "int4", "fp4")


def _dense(hw, p):
    return getattr(hw.peak_dense, "_" + p)


def _sparse(hw, p):
    return getattr(hw.peak_sparse, "_" + p) if hw.peak_sparse is not None else None


@pytest.mark.parametrize("name", NEW)
def test_structured_sparsity_doubles_the_dense_tensor_rate(name):
    hw = getattr(Hardware, name)
    checked = 0
    for p in PRECISIONS:
        dense, sparse = _dense(hw, p), _sparse(hw, p)
        if dense is None or sparse is None:
            continue
        checked += 1
        if p == "fp4" and name in ("B300", "GB300"):
            # Blackwell Ultra: NVIDIA prints 18/20 PF sparse over 14/15 PF dense (2:4 sparsity gains < 2x).
            assert dense < sparse < 2 * dense, (name, p)
        else:
            assert sparse == pytest.approx(2 * dense, rel=0.01), (name, p)
    assert checked >= 4, name


@pytest.mark.parametrize("name", NEW)
def test_precision_ladder_halving_width_never_lowers_peak(name):
    hw = getattr(Hardware, name)
    ladder = [_dense(hw, p) for p in ("tf32", "bf16", "fp8", "fp4")]
    present = [x for x in ladder if x is not None]
    assert present == sorted(present), name


def test_gb200_per_gpu_entry_sums_to_the_nvl72_rack_aggregate():
    gpu, rack = Hardware.GB200, Hardware.GB200_NVL72
    for p in ("fp32", "tf32", "bf16", "fp8", "fp4"):
        assert 72 * _dense(gpu, p) == pytest.approx(_dense(rack, p), rel=1e-6), p
    assert 72 * gpu.memory._capacity == pytest.approx(rack.memory._capacity, rel=1e-6)
    assert 72 * gpu.memory._bandwidth == pytest.approx(rack.memory._bandwidth, rel=1e-6)


def test_gb300_rack_totals_match_nvidias_rack_figures():
    gpu = Hardware.GB300
    assert 72 * _dense(gpu, "fp4") == pytest.approx(1080e15, rel=1e-6)   # 1,080 PF dense FP4 per rack
    assert 72 * gpu.memory._bandwidth == pytest.approx(576e12, rel=1e-6)  # 576 TB/s
    assert 72 * gpu.memory.capacity.m_as("TB") == pytest.approx(21.6, rel=0.01)  # 72 x 279 GiB (~20 TB as printed)


def test_blackwell_ultra_trades_fp64_and_int8_for_fp4():
    b200, b300 = Hardware.B200, Hardware.B300
    assert _dense(b300, "fp4") > 1.4 * _dense(b200, "fp4")
    assert _dense(b300, "fp64") < 0.05 * _dense(b200, "fp64")
    assert _dense(b300, "int8") < 0.05 * _dense(b200, "int8")
    assert _dense(b300, "bf16") == _dense(b200, "bf16")
    assert b300.memory._capacity > b200.memory._capacity


def test_superchip_gpus_outrun_their_hgx_siblings_at_higher_power():
    assert _dense(Hardware.GB200, "bf16") > _dense(Hardware.B200, "bf16")
    assert Hardware.GB200.power._tdp > Hardware.B200.power._tdp
    assert _dense(Hardware.GB300, "fp4") > _dense(Hardware.B300, "fp4")
    assert Hardware.GB300.power._tdp > Hardware.B300.power._tdp


def test_mi325x_is_mi300x_compute_with_more_and_faster_memory():
    a, b = Hardware.MI300X, Hardware.MI325X
    for p in ("fp64", "fp32", "bf16", "fp8"):
        assert _dense(a, p) == _dense(b, p), p
    assert b.memory._capacity > a.memory._capacity and b.memory._bandwidth > a.memory._bandwidth


def test_mi355x_peaks_follow_its_compute_units_and_clock():
    # 256 CUs x 2.4 GHz x 8192 FP8 FLOP/clock/CU (CDNA 4); FP16 half, FP4 twice.
    fp8 = 256 * 2.4e9 * 8192
    hw = Hardware.MI355X
    assert _dense(hw, "fp8") == pytest.approx(fp8, rel=0.001)
    assert _dense(hw, "bf16") == pytest.approx(fp8 / 2, rel=0.001)
    assert _dense(hw, "fp4") == pytest.approx(2 * fp8, rel=0.001)


def test_h20_is_bandwidth_rich_and_compute_poor_next_to_h100():
    h20, h100 = Hardware.H20, Hardware.H100
    assert _dense(h20, "bf16") < 0.2 * _dense(h100, "bf16")
    assert h20.memory._bandwidth > h100.memory._bandwidth
    assert h20.memory._capacity > h100.memory._capacity
    # Ridge point (FLOP per byte at which compute binds) far below the H100's: decode-friendly.
    assert _dense(h20, "bf16") / h20.memory._bandwidth < 0.2 * _dense(h100, "bf16") / h100.memory._bandwidth


@pytest.mark.parametrize("name", NEW)
def test_every_new_figure_has_provenance_and_an_interconnect(name):
    hw = getattr(Hardware, name)
    assert hw.provenance.source.startswith(("http", "NVIDIA", "AMD"))
    assert hw.interconnect is not None and hw.interconnect._device_link_bandwidth > 0
    assert hw.power.provenance is not None
