"""The largest open-loop arrival rate a serving replica sustains within latency limits: what an MLPerf Inference
Server result is (the highest Poisson query rate whose p99 TTFT and p99 TPOT stay within the benchmark's limits,
github mlcommons/inference loadgen/mlperf.conf <benchmark>.Server.ttft_latency / tpot_latency; loadgen reports the
run as completed samples and tokens per second).

Approximation: ServingModel gives the TTFT tail (ttft_p99: the M/D/1 prefill-budget wait, 0 with probability
1 - rho, else exponential; scheduler.py) but no distribution of TPOT -- result.tpot is the MEAN step a decoding
request sees. The TPOT test therefore uses the mean: MLPerf's per-request TPOT is itself an average over that
request's output tokens, so its spread across requests is narrower than the per-step spread, yet its p99 is >= its
mean, so this criterion admits rates a p99 test would refuse where TPOT binds (no sourced tail factor was found to
scale it by). A rate past the replica's capacity (SaturationError: the queue grows without bound) is non-compliant.
Compliance is taken as monotone in the rate (TTFT p99 and mean TPOT grow with load), so the boundary is bisected.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ...errors import InvalidInputError, SaturationError

# Bisection stops when the bracket [compliant, non-compliant] is narrower than this share of the upper end
# (1e-4: the returned rate is within 0.01 % of the boundary, well inside MLPerf's reported 4 significant digits).
RATE_REL_TOLERANCE = 1e-4
# The lowest rate tried, as a share of the capacity estimate: a near-idle replica (one request at a time).
IDLE_RATE_SHARE = 1e-6
# Doublings of the capacity estimate allowed while the upper end still complies (the estimate is the closed loop's
# rate at the KV/batch limit, the open loop's saturation point; it should already be non-compliant).
MAX_EXPANSIONS = 8


@dataclass(frozen=True)
class CompliantRate:
    rate: float    # requests/s offered to the whole replica (all DP ranks), the largest compliant one
    result: Any    # the ServingResult at that rate


def _complies(result: Any, ttft_limit_s: float, tpot_limit_s: float) -> bool:
    if result.ttft_p99 is None:
        raise InvalidInputError("max_compliant_rate needs open-loop results (solve with arrival_rate): "
                                "ttft_p99 is None")
    return bool(result.feasible) and result.ttft_p99.m_as("s") <= ttft_limit_s and result.tpot.m_as("s") <= tpot_limit_s


def max_compliant_rate(solve_at: Callable[[float], Any], capacity: float, ttft_limit_s: float,
                       tpot_limit_s: float) -> CompliantRate:
    """Largest arrival rate X (requests/s) with ttft_p99(X) <= ttft_limit_s and mean tpot(X) <= tpot_limit_s.

    solve_at(X): the replica's ServingResult at Poisson arrival rate X (raising SaturationError past capacity).
    capacity: an estimate of the saturation rate (requests/s), the bisection's upper end (doubled while it still
    complies). Raises InvalidInputError when even a near-idle rate misses the limits."""
    if not (capacity > 0 and ttft_limit_s > 0 and tpot_limit_s > 0):
        raise InvalidInputError(f"capacity ({capacity}) and the TTFT/TPOT limits ({ttft_limit_s}, {tpot_limit_s} s) "
                                f"must be positive")

    def attempt(rate: float):
        try:
            r = solve_at(rate)
        except SaturationError:
            return False, None
        return _complies(r, ttft_limit_s, tpot_limit_s), r

    lo = capacity * IDLE_RATE_SHARE
    ok, best = attempt(lo)
    if not ok:
        detail = ("it saturates" if best is None else
                  f"TTFT p99 {best.ttft_p99.m_as('ms'):.1f} ms, mean TPOT {best.tpot.m_as('ms'):.1f} ms"
                  + ("" if best.feasible else f", infeasible: {'; '.join(best.reasons)}"))
        raise InvalidInputError(f"no arrival rate meets TTFT p99 <= {ttft_limit_s * 1e3:g} ms and TPOT <= "
                                f"{tpot_limit_s * 1e3:g} ms: at a near-idle {lo:.3g} requests/s {detail}; "
                                f"loosen the limits or add parallelism")
    hi = capacity
    for _ in range(MAX_EXPANSIONS):
        ok, r = attempt(hi)
        if not ok:
            break
        lo, best, hi = hi, r, 2.0 * hi
    else:
        raise InvalidInputError(f"arrival rate {hi:.4g} requests/s still meets the limits after {MAX_EXPANSIONS} "
                                f"doublings of the capacity estimate {capacity:.4g}: the estimate is wrong")
    while hi - lo > RATE_REL_TOLERANCE * hi:
        mid = 0.5 * (lo + hi)
        ok, r = attempt(mid)
        if ok:
            lo, best = mid, r
        else:
            hi = mid
    return CompliantRate(lo, best)
