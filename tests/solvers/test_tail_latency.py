"""TailLatencyModel: Erlang C queueing with Allen-Cunneen variability; response-time quantiles."""
from __future__ import annotations

import math

import pytest

import mlsysim
from mlsysim.errors import InvalidInputError, InvalidTypeError
from mlsysim.solvers import TailLatencyModel
from mlsysim.solvers._queueing import Queue, Service, _exp_plus, erlang_c, gamma_cdf

ms = lambda q: q.to("ms").magnitude  # noqa: E731


def test_mm1_response_time_is_exponential_with_rate_mu_minus_lambda():
    # M/M/1: T ~ Exp(mu - lambda); mu = 100/s, lambda = 50/s -> rate 50/s.
    r = TailLatencyModel().solve(50.0, 10.0, 1)
    assert r.queue_utilization == pytest.approx(0.5)
    assert r.probability_of_wait == pytest.approx(0.5)  # M/M/1: P(wait) = rho
    assert ms(r.p50_latency) == pytest.approx(1e3 * math.log(2) / 50)
    assert ms(r.p99_latency) == pytest.approx(1e3 * math.log(100) / 50)
    assert ms(r.mean_wait) == pytest.approx(10.0)  # rho / (mu - lambda) = 0.5 / 50 s
    assert r.slo_violation_probability == pytest.approx(math.exp(-50 * 0.05))  # default SLO 5 x 10 ms


def test_erlang_c_by_hand_and_limits():
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)  # B(2,1) = 1/5; C = B / (1 - rho (1 - B))
    assert erlang_c(1, 0.7) == pytest.approx(0.7)
    assert erlang_c(1000, 1.0) < 1e-12  # a lightly loaded large pool almost never queues
    assert 0.0 < erlang_c(500, 499.0) < 1.0  # stable recursion where factorials overflow


def test_md1_mean_wait_is_pollaczek_khinchine():
    # M/D/1: W_q = rho S / (2 (1 - rho)); Allen-Cunneen is exact for the M/G/1 mean.
    r = TailLatencyModel().solve(80.0, 10.0, 1, 0.0)
    assert ms(r.mean_wait) == pytest.approx(0.8 * 10 / (2 * 0.2))
    # Deterministic service: the response time is the wait shifted by S exactly.
    assert ms(r.p99_latency) == pytest.approx(ms(r.p99_wait) + 10.0)


def test_tail_grows_with_load_and_variability_and_shrinks_with_replicas():
    t = TailLatencyModel()
    p99 = [ms(t.solve(rate, 10.0, 1).p99_latency) for rate in (10, 40, 70, 95)]
    assert p99 == sorted(p99) and p99[-1] > 10 * p99[0]
    by_cv = [ms(t.solve(70.0, 10.0, 1, cv).p99_latency) for cv in (0.0, 0.5, 1.0, 2.0)]
    assert by_cv == sorted(by_cv)
    by_c = [ms(t.solve(70.0 * c / 2, 10.0, c).p99_latency) for c in (2, 4, 8)]  # same utilisation 0.35
    assert by_c == sorted(by_c, reverse=True)  # pooling: more servers at equal load wait less
    assert ms(t.solve(1e-3, 10.0, 1).p99_latency) == pytest.approx(1e3 * 0.01 * math.log(100), rel=1e-3)


def test_p50_below_p99_and_waits_below_latencies():
    r = TailLatencyModel().solve(300.0, 20.0, 8, 0.7)
    assert ms(r.p50_latency) < ms(r.p99_latency)
    assert ms(r.p99_wait) < ms(r.p99_latency)
    assert 0.0 <= r.slo_violation_probability <= 1.0


def test_numeric_convolution_matches_closed_forms():
    q = Queue(150.0, Service(0.01, 1.0), 2)
    for t in (0.002, 0.01, 0.03, 0.08):
        numeric = (1 - q.p_wait) * q.service.cdf(t) + q.p_wait * _exp_plus(q.wait_rate, q.service, t)
        assert numeric == pytest.approx(q.response_cdf(t), abs=1e-9)
    assert gamma_cdf(1.0, 0.7) == pytest.approx(1 - math.exp(-0.7))
    assert gamma_cdf(0.5, 2.0) == pytest.approx(math.erf(math.sqrt(2.0)))
    assert gamma_cdf(50.0, 50.0) == pytest.approx(0.5188, abs=1e-4)


def test_slo_probability_is_the_survival_at_the_slo():
    r = TailLatencyModel().solve(50.0, 10.0, 1, slo_ms=ms(TailLatencyModel().solve(50.0, 10.0).p99_latency))
    assert r.slo_violation_probability == pytest.approx(0.01, rel=1e-6)


def test_unstable_queue_is_refused_with_the_replicas_needed():
    with pytest.raises(InvalidInputError, match="at least 3 replicas"):
        TailLatencyModel().solve(200.0, 10.0, 1)
    with pytest.raises(InvalidInputError, match="unstable"):
        TailLatencyModel().solve(100.0, 10.0, 1)  # rho = 1 exactly


def test_quantities_are_accepted():
    ureg = mlsysim.ureg
    r = TailLatencyModel().solve(ureg.Quantity(50, "1/s"), ureg.Quantity(0.01, "s"))
    assert ms(r.p99_latency) == pytest.approx(1e3 * math.log(100) / 50)


@pytest.mark.parametrize("kwargs,error", [
    (dict(arrival_rate_qps=0.0, service_latency_ms=10.0), InvalidInputError),
    (dict(arrival_rate_qps=-1.0, service_latency_ms=10.0), InvalidInputError),
    (dict(arrival_rate_qps=math.nan, service_latency_ms=10.0), InvalidInputError),
    (dict(arrival_rate_qps=10.0, service_latency_ms=math.inf), InvalidInputError),
    (dict(arrival_rate_qps="10", service_latency_ms=10.0), InvalidTypeError),
    (dict(arrival_rate_qps=10.0, service_latency_ms=10.0, num_replicas=0), InvalidInputError),
    (dict(arrival_rate_qps=10.0, service_latency_ms=10.0, num_replicas=2.0), InvalidTypeError),
    (dict(arrival_rate_qps=10.0, service_latency_ms=10.0, service_time_cv=-0.1), InvalidInputError),
    (dict(arrival_rate_qps=10.0, service_latency_ms=10.0, slo_ms=0.0), InvalidInputError),
])
def test_bad_input_raises_mlsysim_errors(kwargs, error):
    with pytest.raises(error):
        TailLatencyModel().solve(**kwargs)


def test_result_serialises():
    r = TailLatencyModel().solve(50.0, 10.0, 2, 0.5)
    assert '"p99_latency_unit": "ms"' in r.to_json()
    assert "p99_latency" in r.summary()
