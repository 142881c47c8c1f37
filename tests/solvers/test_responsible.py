"""ResponsibleEngineeringModel: DP-SGD step overhead and noise multiplier; samples for a minority subgroup."""
from __future__ import annotations

import math
from statistics import NormalDist

import pytest

import mlsysim
from mlsysim.errors import InvalidInputError, InvalidTypeError
from mlsysim.solvers import ResponsibleEngineeringModel
from mlsysim.solvers.responsible import DP_SGD_THROUGHPUT_PENALTY, MIN_SUBGROUP_SAMPLES

ureg = mlsysim.ureg
rem = ResponsibleEngineeringModel()


def test_default_subgroup_need_is_cochran_385():
    assert MIN_SUBGROUP_SAMPLES == 385  # 1.96^2 x 0.25 / 0.05^2 = 384.1


def test_dp_overhead_is_the_measured_step_penalty_in_the_callers_unit():
    r = rem.solve(10 * ureg.day)
    assert r.dp_slowdown_factor == r.privacy_cost_ratio == DP_SGD_THROUGHPUT_PENALTY
    assert r.effective_training_time.to("day").magnitude == pytest.approx(10 * DP_SGD_THROUGHPUT_PENALTY)
    assert r.effective_training_time.units == ureg.day
    jax = rem.solve(3600.0, clipping_overhead=1.2)
    assert jax.effective_training_time.to("s").magnitude == pytest.approx(4320.0)


def test_step_cost_does_not_depend_on_epsilon_but_noise_does():
    loose = rem.solve(1.0, epsilon=8.0, sampling_rate=0.01, steps=10_000)
    tight = rem.solve(1.0, epsilon=1.0, sampling_rate=0.01, steps=10_000)
    assert loose.dp_slowdown_factor == tight.dp_slowdown_factor
    assert tight.noise_multiplier > loose.noise_multiplier
    assert rem.solve(1.0).noise_multiplier is None


def test_noise_multiplier_satisfies_the_moments_bound_by_hand():
    eps, delta, q, steps = 2.0, 1e-5, 0.01, 10_000
    sigma = rem.solve(1.0, eps, delta, sampling_rate=q, steps=steps).noise_multiplier
    a = steps * q * q / ((1 - q) * sigma ** 2)
    assert a + 2 * math.sqrt(a * math.log(1 / delta)) == pytest.approx(eps)  # the tail bound at the best order
    # More steps or more sampling cost privacy: sigma grows as q sqrt(T).
    more = rem.solve(1.0, eps, delta, sampling_rate=q, steps=4 * steps).noise_multiplier
    assert more == pytest.approx(2 * sigma)


def test_subgroup_samples_by_hand_and_limits():
    r = rem.solve(1.0, min_subgroup_prevalence=0.01)
    z, p, n = NormalDist().inv_cdf(0.95), 0.01, 385
    x = (z * math.sqrt(p * (1 - p)) + math.sqrt(z * z * p * (1 - p) + 4 * p * n)) / (2 * p)
    assert r.required_samples == math.ceil(x * x)
    assert r.required_samples * p - z * math.sqrt(r.required_samples * p * (1 - p)) >= n - 1e-6
    assert r.additional_data_requirement == pytest.approx(r.required_samples / 385)
    assert r.additional_data_requirement > 1 / p  # more than n_min / p: the sample must hold them w.p. 0.95
    assert r.fairness_data_ratio == r.additional_data_requirement
    everyone = rem.solve(1.0, min_subgroup_prevalence=1.0)
    assert everyone.required_samples == 385 and everyone.additional_data_requirement == 1.0
    ratios = [rem.solve(1.0, min_subgroup_prevalence=p).additional_data_requirement for p in (0.5, 0.1, 0.01, 0.001)]
    assert ratios == sorted(ratios)
    surer = rem.solve(1.0, min_subgroup_prevalence=0.01, confidence=0.999)
    assert surer.required_samples > r.required_samples


def test_bad_input():
    with pytest.raises(InvalidInputError):
        rem.solve(-1.0)
    with pytest.raises(InvalidInputError, match="convertible"):
        rem.solve(3 * ureg.GB)
    with pytest.raises(InvalidInputError):
        rem.solve(1.0, epsilon=0.0)
    with pytest.raises(InvalidInputError):
        rem.solve(1.0, delta=1.0)
    with pytest.raises(InvalidInputError):
        rem.solve(1.0, min_subgroup_prevalence=0.0)
    with pytest.raises(InvalidInputError):
        rem.solve(1.0, min_subgroup_prevalence=1.5)
    with pytest.raises(InvalidTypeError):
        rem.solve(1.0, epsilon="1")
    with pytest.raises(InvalidInputError, match=">= 1"):
        rem.solve(1.0, clipping_overhead=0.5)
    with pytest.raises(InvalidInputError, match="both"):
        rem.solve(1.0, sampling_rate=0.01)
    with pytest.raises(InvalidInputError, match="below 1"):
        rem.solve(1.0, sampling_rate=1.0, steps=10)
    with pytest.raises(InvalidInputError, match="confidence"):
        rem.solve(1.0, confidence=1.0)
