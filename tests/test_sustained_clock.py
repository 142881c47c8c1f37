"""Sustained, power-capped clock (HardwareSpec.compute_units.clocks, mlsysim.core.shape_cost.sustained_clock_scale):
a GEMM rate measured in a short burst runs at sustained / boost of it in a steady-state pass; rates that were not
burst-measured (class efficiencies fitted on end-to-end runs) keep their value."""
from __future__ import annotations

import attrs
import pytest

import mlsysim
from mlsysim.core.shape_cost import sustained_clock_scale
from mlsysim.core.solver import RooflineModel
from mlsysim.errors import CatalogError
from mlsysim.specs.hardware import ClockSpec
from mlsysim.specs.provenance import Provenance


def _h200():
    return mlsysim.Hardware.get("H200")


def _without_clocks(hw):
    return attrs.evolve(hw, compute_units=attrs.evolve(hw.compute_units, clocks=None))


def test_factor_is_sustained_over_boost_for_a_burst_calibration():
    hw = _h200()
    clocks = hw.compute_units.clocks
    ratio = clocks.sustained.m_as("MHz") / clocks.boost.m_as("MHz")
    assert 0.8 < ratio < 1.0
    gemm, attention = sustained_clock_scale(hw, "bf16")
    assert gemm == pytest.approx(ratio) and attention == pytest.approx(ratio)


def test_no_clocks_or_no_burst_measurement_leaves_rates_alone():
    hw = _h200()
    assert sustained_clock_scale(_without_clocks(hw), "bf16") == (1.0, 1.0)
    # int8 has no calibration.matmul_flops on the H200: the class efficiency (sustained runs) is kept for GEMMs.
    gemm, _ = sustained_clock_scale(hw, "int8")
    assert gemm == 1.0


def _ttft(hw, seq):
    r = RooflineModel().solve("Llama3_8B", hw, 1, "bf16", prefill=True, seq_len=seq, runtime="pytorch_cuda_graph")
    return r.latency.m_as("s"), r


def test_compute_bound_prefill_slows_by_at_most_the_clock_ratio():
    hw = _h200()
    ratio = hw.compute_units.clocks.sustained.m_as("MHz") / hw.compute_units.clocks.boost.m_as("MHz")
    for seq in (512, 2048, 8192):
        capped, result = _ttft(hw, seq)
        burst, _ = _ttft(_without_clocks(hw), seq)
        # Compute time scales by 1 / ratio; launch costs and memory-bound phases do not: slower, but by <= 1/ratio.
        assert burst < capped <= burst / ratio * (1 + 1e-9)
        assert any("sustained clock" in why for why in result.reasons)
    # The longer (more compute-bound) the prompt, the closer the slowdown comes to the full clock ratio.
    slow = [_ttft(hw, s)[0] / _ttft(_without_clocks(hw), s)[0] for s in (512, 8192)]
    assert slow[0] <= slow[1]


def test_memory_bound_decode_is_unchanged():
    hw = _h200()
    run = dict(batch_size=1, precision="bf16", seq_len=1024, runtime="pytorch_cuda_graph")
    a = mlsysim.Engine.solve("Llama3_8B", hw, **run).latency.m_as("s")
    b = mlsysim.Engine.solve("Llama3_8B", _without_clocks(hw), **run).latency.m_as("s")
    assert a == pytest.approx(b, rel=1e-12)


def test_sustained_above_boost_is_a_catalog_error():
    prov = Provenance(source="test", checked="2026-12-03", kind="estimate")
    with pytest.raises(CatalogError, match="sustained clock"):
        ClockSpec(boost=1.5e9, sustained=1.6e9, provenance=prov)
