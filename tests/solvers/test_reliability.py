"""ReliabilityModel: series-system MTBF, Poisson failure count, Young's interval, Daly's goodput."""
from __future__ import annotations

import math

import pytest

import mlsysim
from mlsysim.errors import CatalogError, InvalidInputError, InvalidTypeError
from mlsysim.solvers import ReliabilityModel
from mlsysim.units import get_ureg

solve = ReliabilityModel().solve
H100_MTBF_H = 50_700  # catalog figure (Llama 3 paper, sec. 3.3.4)


def test_frontier_cluster_by_hand():
    r = solve(mlsysim.Systems.Clusters.Frontier_8K, 720, checkpoint_time_s=60, avg_recovery_time_s=300)
    m_h = H100_MTBF_H / 8192
    assert r.fleet_mtbf.m_as("hour") == pytest.approx(m_h)
    assert r.expected_failures == pytest.approx(720 / m_h)
    assert r.failure_probability == pytest.approx(1 - math.exp(-720 / m_h))
    m = m_h * 3600
    tau = math.sqrt(2 * 60 * m)
    assert r.optimal_checkpoint_interval.m_as("s") == pytest.approx(tau)
    assert r.goodput_ratio == pytest.approx(tau / (m * math.exp(300 / m) * math.expm1((tau + 60) / m)))
    assert r.expected_wall_time.m_as("hour") == pytest.approx(720 / r.goodput_ratio)
    assert r.accelerators == 8192 and r.device_mtbf.m_as("hour") == H100_MTBF_H


def test_llama3_scale_reproduces_a_failure_every_three_hours():
    # 16,384 H100s (the Llama 3 405B run): 419 interruptions in 54 days is one per ~3.09 h.
    r = solve("Research_256", 1, device_mtbf_hours=H100_MTBF_H * 256 / 16384)
    assert r.fleet_mtbf.m_as("hour") == pytest.approx(54 * 24 / 419, rel=1e-3)


def test_goodput_matches_the_first_order_waste_when_checkpoints_are_cheap():
    # Young/Daly first order: waste = C / tau + (tau / 2 + R) / M, minimised at tau = sqrt(2 C M).
    r = solve("DGX_H100", 100, checkpoint_time_s=1, avg_recovery_time_s=10)
    m = H100_MTBF_H / 8 * 3600
    first_order = math.sqrt(2 * 1 / m) + 10 / m
    assert 1 - r.goodput_ratio == pytest.approx(first_order, rel=1e-3)


def test_youngs_interval_is_the_optimum_of_the_goodput():
    r = solve("Production_2K", 500, checkpoint_time_s=120, avg_recovery_time_s=0)
    m = r.fleet_mtbf.m_as("s")
    goodput = lambda tau: tau / (m * math.expm1((tau + 120) / m))  # noqa: E731
    tau = r.optimal_checkpoint_interval.m_as("s")
    assert goodput(tau) == pytest.approx(r.goodput_ratio)
    assert goodput(tau) > goodput(0.5 * tau) and goodput(tau) > goodput(2 * tau)


def test_monotonic_in_scale_checkpoint_cost_and_recovery():
    small, large = solve("Research_256", 240), solve("Mega_100K", 240)
    assert large.fleet_mtbf < small.fleet_mtbf and large.goodput_ratio < small.goodput_ratio
    assert large.failure_probability >= small.failure_probability
    cheap, dear = solve("Frontier_8K", 240, 10), solve("Frontier_8K", 240, 600)
    assert dear.optimal_checkpoint_interval > cheap.optimal_checkpoint_interval
    assert dear.goodput_ratio < cheap.goodput_ratio
    assert solve("Frontier_8K", 240, 60, 0).goodput_ratio > solve("Frontier_8K", 240, 60, 3600).goodput_ratio
    # a short job on a small fleet rarely fails
    assert solve("DGX_H100", 1).failure_probability == pytest.approx(1 - math.exp(-8 / H100_MTBF_H))


def test_quantities_are_converted():
    ureg = get_ureg()
    a = solve("Frontier_8K", 48, 90, 600)
    b = solve("Frontier_8K", ureg.Quantity(2, "day"), ureg.Quantity(1.5, "min"), ureg.Quantity(10, "min"))
    assert b.goodput_ratio == pytest.approx(a.goodput_ratio)


def test_missing_failure_rate_names_the_field_and_the_argument():
    with pytest.raises(CatalogError, match="device_mtbf_hours") as exc:
        solve("DGX_B200", 100)
    assert exc.value.field == "economics.mtbf"
    assert solve("DGX_B200", 100, device_mtbf_hours=40_000).fleet_mtbf.m_as("hour") == pytest.approx(5_000)


@pytest.mark.parametrize("args,kwargs,error", [
    ((0,), {}, InvalidInputError),
    ((math.inf,), {}, InvalidInputError),
    ((100, 0), {}, InvalidInputError),
    ((100, 60, -1), {}, InvalidInputError),
    ((100,), {"device_mtbf_hours": -5}, InvalidInputError),
    (("100",), {}, InvalidTypeError),
    ((100, get_ureg().Quantity(1, "GB")), {}, InvalidInputError),
])
def test_bad_input_raises_mlsysim_errors(args, kwargs, error):
    with pytest.raises(error):
        solve("Frontier_8K", *args, **kwargs)
