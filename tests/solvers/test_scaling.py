"""ScalingModel: Chinchilla-optimal N and D from C = 6 N D and D/N = 20."""
from __future__ import annotations

import math

import pytest

import mlsysim
from mlsysim.errors import InvalidInputError, InvalidTypeError, MlsysimError
from mlsysim.solvers import ScalingModel
from mlsysim.specs.fields import figure

ureg = mlsysim.ureg


def test_compute_optimal_split_by_hand():
    r = ScalingModel().solve(1e23)
    n = math.sqrt(1e23 / 120)  # C = 6 N x 20 N
    assert r.optimal_parameters.to("count").magnitude == pytest.approx(n)
    assert r.optimal_tokens.to("count").magnitude == pytest.approx(20 * n)
    assert r.tokens_per_parameter == pytest.approx(20.0)


def test_chinchilla_budget_gives_chinchilla():
    # Chinchilla: 70B parameters on 1.4T tokens, C = 6 x 70e9 x 1.4e12 = 5.88e23 FLOP.
    r = ScalingModel().solve(5.88e23 * ureg.flop)
    assert r.optimal_parameters.to("Bparam").magnitude == pytest.approx(70.0, rel=1e-6)
    assert r.optimal_tokens.to("count").magnitude == pytest.approx(1.4e12, rel=1e-6)


def test_budget_is_conserved_and_both_grow_as_sqrt_of_compute():
    small, big = ScalingModel().solve(1e21), ScalingModel().solve(1e23)
    for r, c in ((small, 1e21), (big, 1e23)):
        n, d = r.optimal_parameters.to("count").magnitude, r.optimal_tokens.to("count").magnitude
        assert 6 * n * d == pytest.approx(c)
        assert r.compute_budget_flops.to("flop").magnitude == pytest.approx(c)
    ratio = big.optimal_parameters / small.optimal_parameters
    assert ratio.to("dimensionless").magnitude == pytest.approx(10.0)  # 100x compute -> 10x parameters


def test_fixed_model_size_gets_the_remaining_tokens():
    r = ScalingModel().solve(1e23 * ureg.flop, 7e9 * ureg.count)
    assert r.optimal_parameters.to("count").magnitude == pytest.approx(7e9)
    assert r.optimal_tokens.to("count").magnitude == pytest.approx(1e23 / (6 * 7e9))
    assert r.tokens_per_parameter == pytest.approx(1e23 / (6 * 7e9) / 7e9)
    assert ScalingModel().solve(1e23, 8 * ureg.Bparam).optimal_parameters.to("count").magnitude == pytest.approx(8e9)


def test_other_tokens_per_parameter():
    r = ScalingModel().solve(1e23, tokens_per_parameter=40.0)
    assert r.tokens_per_parameter == pytest.approx(40.0)
    assert r.optimal_parameters.to("count").magnitude == pytest.approx(math.sqrt(1e23 / 240))


def test_device_time_budget_uses_the_reference_peak_and_mfu():
    r = ScalingModel().solve(1000 * ureg.day)
    peak = figure(mlsysim.Hardware.H100, "peak_dense.bf16")
    assert r.compute_budget_flops.to("flop").magnitude == pytest.approx(1000 * 86400 * peak * 0.40)
    b200 = ScalingModel().solve(1000 * ureg.day, reference_hardware="B200", reference_mfu=0.3)
    assert b200.compute_budget_flops.to("flop").magnitude == pytest.approx(
        1000 * 86400 * figure(mlsysim.Hardware.B200, "peak_dense.bf16") * 0.3)


def test_bad_input():
    with pytest.raises(InvalidInputError):
        ScalingModel().solve(-1e23)
    with pytest.raises(InvalidInputError):
        ScalingModel().solve(float("nan"))
    with pytest.raises(InvalidInputError, match="convertible"):
        ScalingModel().solve(5 * ureg.GB)
    with pytest.raises(InvalidTypeError):
        ScalingModel().solve("1e23")
    with pytest.raises(InvalidInputError, match="one token"):
        ScalingModel().solve(1e6, 1e9)
    with pytest.raises(InvalidInputError, match="at most 1"):
        ScalingModel().solve(10 * ureg.day, reference_mfu=1.5)
    with pytest.raises(MlsysimError):
        ScalingModel().solve(10 * ureg.day, precision="fp99")
    with pytest.raises(InvalidInputError):
        ScalingModel().solve(1e23, tokens_per_parameter=0)
