"""OrchestrationModel: M/M/c (Erlang C) job queue over the fleet's slots, Allen-Cunneen CV, Little's law."""
from __future__ import annotations

import math

import pytest

import mlsysim
from mlsysim.errors import InvalidInputError, InvalidTypeError, MlsysimError
from mlsysim.solvers import OrchestrationModel
from mlsysim.units import get_ureg

solve = OrchestrationModel().solve
days = lambda q: q.m_as("day")  # noqa: E731


def test_whole_cluster_jobs_are_an_mm1_queue():
    # lambda = 2/day, S = 0.4 day: rho = 0.8, W_q = rho S / (1 - rho) = 1.6 days, L_q = lambda W_q = 3.2.
    r = solve(mlsysim.Systems.Clusters.Research_256, 2.0, 0.4)
    assert (r.job_slots, r.is_stable) == (1, True)
    assert r.cluster_utilization == pytest.approx(0.8)
    assert r.wait_probability == pytest.approx(0.8)          # M/M/1: P(wait) = rho
    assert days(r.avg_wait_time_days) == pytest.approx(1.6)
    assert r.avg_queue_length == pytest.approx(3.2)
    assert days(r.avg_turnaround_days) == pytest.approx(2.0)


def test_deterministic_jobs_halve_the_wait_pollaczek_khinchine():
    # M/D/1 (0.1.x's model): W_q = rho S / (2 (1 - rho)) = 0.8 day, L_q = rho^2 / (2 (1 - rho)) = 1.6.
    r = solve("Research_256", 2.0, 0.4, job_duration_cv=0.0)
    assert days(r.avg_wait_time_days) == pytest.approx(0.8)
    assert r.avg_queue_length == pytest.approx(0.8 ** 2 / (2 * 0.2))


def test_mmc_by_hand_with_two_slots():
    # c = 2 (128 GPUs per job on 256), a = 1.5 Erlangs: B(2, 1.5) = 0.3103, C = 0.6429,
    # W_q = C S / (c (1 - rho)) with S = 1 day, rho = 0.75.
    r = solve("Research_256", 1.5, 1.0, accelerators_per_job=128)
    b1 = 1.5 / (1 + 1.5)
    b2 = 1.5 * b1 / (2 + 1.5 * b1)
    c = b2 / (1 - 0.75 * (1 - b2))
    assert r.job_slots == 2 and r.wait_probability == pytest.approx(c)
    assert days(r.avg_wait_time_days) == pytest.approx(c * 1.0 / (2 * 0.25))
    assert r.avg_queue_length == pytest.approx(1.5 * days(r.avg_wait_time_days))  # Little's law


def test_more_slots_at_the_same_load_wait_less():
    # Same utilisation 0.9 on 1, 4 and 32 slots: pooling shortens the queue (economies of scale).
    waits = [days(solve("Research_256", 0.9 * c, 1.0, accelerators_per_job=256 // c).avg_wait_time_days)
             for c in (1, 4, 32)]
    assert waits == sorted(waits, reverse=True)


def test_wait_grows_with_load_and_diverges_at_saturation():
    waits = [days(solve("Research_256", lam, 1.0).avg_wait_time_days) for lam in (0.1, 0.5, 0.9, 0.99)]
    assert waits == sorted(waits)
    full = solve("Research_256", 1.0, 1.0)
    assert not full.is_stable and math.isinf(days(full.avg_wait_time_days)) and math.isinf(full.avg_queue_length)
    assert solve("Research_256", 5.0, 1.0).cluster_utilization == pytest.approx(5.0)


def test_slots_from_job_size_and_quantities():
    assert solve("Frontier_8K", 10, 1, accelerators_per_job=1000).job_slots == 8   # floor(8192 / 1000)
    assert solve("DGX_H100", 0.5, 1, accelerators_per_job=8).job_slots == 1
    ureg = get_ureg()
    a = solve("Research_256", 2.0, 0.4)
    b = solve("Research_256", ureg.Quantity(14, "1/week"), ureg.Quantity(9.6, "hour"))
    assert days(b.avg_wait_time_days) == pytest.approx(days(a.avg_wait_time_days))


@pytest.mark.parametrize("args,kwargs,error", [
    ((0, 1), {}, InvalidInputError),
    ((1, -1), {}, InvalidInputError),
    ((math.nan, 1), {}, InvalidInputError),
    (("2", 1), {}, InvalidTypeError),
    ((1, 1), {"accelerators_per_job": 0}, InvalidInputError),
    ((1, 1), {"accelerators_per_job": 512}, InvalidInputError),   # bigger than the 256-GPU fleet
    ((1, 1), {"accelerators_per_job": 8.0}, InvalidTypeError),
    ((1, 1), {"job_duration_cv": -0.5}, InvalidInputError),
])
def test_bad_input_raises_mlsysim_errors(args, kwargs, error):
    with pytest.raises(error):
        solve("Research_256", *args, **kwargs)


def test_unknown_fleet():
    with pytest.raises(MlsysimError):
        solve("NoSuchCluster", 1, 1)
