"""MLPerf Server as what it measures (issue 10): the largest Poisson arrival rate whose TTFT p99 and (mean) TPOT stay
within the limits (core/serving/server_rate.py). Looser limits never lower the rate; the rate found meets the
limits and 1 % more does not (or saturates); the rate never exceeds the replica's closed-loop capacity; unattainable
limits fail with a clear error."""
from __future__ import annotations

import pytest

from mlsysim.core.serving import ServingModel
from mlsysim.core.serving.server_rate import max_compliant_rate
from mlsysim.errors import InvalidInputError, SaturationError
from mlsysim.validation.serving import predict

MODEL, HW, PREC = "Llama3_8B", "H100", "fp8"
OPTS = dict(prompt_len=512, output_len=256, runtime="trtllm", kv_precision="fp8")


@pytest.fixture(scope="module")
def replica():
    s = ServingModel()
    n = s.solve(MODEL, HW, 1, PREC, **OPTS).max_concurrent_sequences
    capacity = s.solve(MODEL, HW, n, PREC, **OPTS).request_rate.m_as("1/s")
    return (lambda x: s.solve(MODEL, HW, n, PREC, **OPTS, arrival_rate=x)), capacity


def _complies(solve_at, rate, ttft_s, tpot_s):
    try:
        r = solve_at(rate)
    except SaturationError:
        return False
    return r.ttft_p99.m_as("s") <= ttft_s and r.tpot.m_as("s") <= tpot_s


@pytest.mark.parametrize("ttft_s,tpot_s", [(2.0, 0.2), (0.2, 0.2), (2.0, 0.012), (0.08, 0.2)])
def test_rate_meets_the_limits_and_one_percent_more_does_not(replica, ttft_s, tpot_s):
    solve_at, capacity = replica
    found = max_compliant_rate(solve_at, capacity, ttft_s, tpot_s)
    assert found.result.ttft_p99.m_as("s") <= ttft_s and found.result.tpot.m_as("s") <= tpot_s
    assert not _complies(solve_at, 1.01 * found.rate, ttft_s, tpot_s)
    assert found.rate <= capacity * 1.001  # no open loop outruns the closed loop at the KV / batch limit


def test_looser_limits_never_lower_the_rate(replica):
    solve_at, capacity = replica
    by_ttft = [max_compliant_rate(solve_at, capacity, t, 0.2).rate for t in (0.06, 0.1, 0.3, 1.0, 2.0, 6.0)]
    by_tpot = [max_compliant_rate(solve_at, capacity, 2.0, t).rate for t in (0.011, 0.013, 0.016, 0.02, 0.05, 0.2)]
    for rates in (by_ttft, by_tpot):
        assert all(b >= a for a, b in zip(rates, rates[1:])), rates
    assert by_tpot[0] < by_tpot[-1]  # the tight TPOT limit binds below saturation


def test_unattainable_limits_fail_clearly(replica):
    solve_at, capacity = replica
    with pytest.raises(InvalidInputError, match="no arrival rate meets TTFT p99 <= 2000 ms and TPOT <= 1 ms"):
        max_compliant_rate(solve_at, capacity, 2.0, 0.001)
    with pytest.raises(InvalidInputError, match="must be positive"):
        max_compliant_rate(solve_at, capacity, 0.0, 0.2)


def test_harness_server_cell():
    row = dict(id="T1", metric="server_throughput_tok_s", model=MODEL, hardware=HW, runtime="trtllm", precision=PREC,
               kv_precision="fp8", tp="1", dp="2", ep="1", pp="1", concurrency="server:ttft=2000,tpot=200",
               prompt_len="512", output_len="256", prompt_lengths="fixed", memory_fraction="")
    tok_s, _ = predict(row)
    offline, _ = predict(dict(row, metric="throughput_tok_s", concurrency="max"))
    assert 0 < tok_s <= offline * 1.001  # a Server result never beats the Offline throughput of the same system
    with pytest.raises(ValueError, match="server:ttft=MS,tpot=MS"):
        predict(dict(row, concurrency="server:ttft=2000"))
    with pytest.raises(ValueError, match="goes with concurrency"):
        predict(dict(row, concurrency="max"))
