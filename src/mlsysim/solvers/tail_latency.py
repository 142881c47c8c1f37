"""Tail latency of a replicated inference service: queueing delay on top of the service time.

Requests arrive as a Poisson stream (or, with `arrival_cv`, a renewal stream of that variability) and are
served first come first served by `num_replicas` identical replicas, one request at a time each. The
probability of waiting is Erlang C; the conditional wait is exponential with the Allen-Cunneen mean
W_q ~ W_q(M/M/c) x (ca^2 + cs^2) / 2 (exact for M/M/c); service time is gamma with the given mean and CV.
Reported latencies are quantiles of the response time (wait + own service), not the wait quantile plus the
mean service.

Not modelled: batching inside a replica (see BatchingOptimizer), priorities, timeouts and retries, load
balancers that pick a replica (join-shortest-queue), time-varying load. An unstable queue (utilisation >= 1:
the backlog grows without bound and no quantile exists) is refused with an InvalidInputError that says how
many replicas the load needs.
"""
from __future__ import annotations

import math
from typing import Any

import attrs

from ..errors import InvalidInputError
from ..units import quantity
from ._queueing import Queue, Service, check_servers, positive_float
from ._result import SolverResult

# 0.1.x's SLO convention: a request is late when its latency exceeds this multiple of the mean service time
# (used only when no `slo_ms` is given).
DEFAULT_SLO_MULTIPLE = 5.0
P50, P99 = 0.5, 0.99


@attrs.frozen(kw_only=True)
class TailLatencyResult(SolverResult):
    p50_latency: Any                 # median response time (wait + service)
    p99_latency: Any                 # 99th-percentile response time
    queue_utilization: float         # rho = lambda x S / c
    is_stable: bool                  # always True: an unstable queue raises
    slo_violation_probability: float  # P(response time > slo)
    slo: Any                         # the latency objective the probability refers to
    p50_wait: Any
    p99_wait: Any
    mean_wait: Any                   # Allen-Cunneen W_q
    probability_of_wait: float       # Erlang C: share of requests that queue at all
    service_latency: Any
    num_replicas: int
    constraint_trace: tuple[str, ...] = ()


class TailLatencyModel:
    """P50/P99 latency of `num_replicas` replicas at `arrival_rate_qps` (M/M/c, or M/G/c via Allen-Cunneen)."""

    def solve(self, arrival_rate_qps: float, service_latency_ms: float, num_replicas: int = 1,
              service_time_cv: float = 1.0, *, arrival_cv: float = 1.0,
              slo_ms: float | None = None) -> TailLatencyResult:
        """arrival_rate_qps: requests/s (or a rate Quantity); service_latency_ms: mean service time of one
        request in ms (or a time Quantity); service_time_cv: its coefficient of variation (0 deterministic,
        1 exponential); arrival_cv: CV of inter-arrival times (1 Poisson); slo_ms: latency objective for
        slo_violation_probability (default 5 x the service time)."""
        lam = positive_float("arrival_rate_qps", arrival_rate_qps, "1/s")
        service_s = positive_float("service_latency_ms", service_latency_ms, "ms") / 1e3
        servers = check_servers(num_replicas)
        cs = positive_float("service_time_cv", service_time_cv, "", allow_zero=True)
        ca = positive_float("arrival_cv", arrival_cv, "", allow_zero=True)
        slo = service_s * DEFAULT_SLO_MULTIPLE if slo_ms is None else positive_float("slo_ms", slo_ms, "ms") / 1e3
        q = Queue(lam, Service(service_s, cs), servers, ca * ca)
        check_stable(q)
        p50, p99 = q.response_quantile(P50), q.response_quantile(P99)
        late = 1.0 - q.response_cdf(slo)
        trace = [f"utilisation {q.utilisation:.3f} over {servers} replica(s); {q.p_wait:.1%} of requests queue"]
        if cs not in (0.0, 1.0) or ca != 1.0:
            trace.append(f"Allen-Cunneen: M/M/c wait x (ca^2 + cs^2)/2 = {q.variability:.3g}")
        return TailLatencyResult(
            p50_latency=quantity(p50 * 1e3, "ms"), p99_latency=quantity(p99 * 1e3, "ms"),
            queue_utilization=q.utilisation, is_stable=True, slo_violation_probability=max(late, 0.0),
            slo=quantity(slo * 1e3, "ms"), p50_wait=quantity(q.wait_quantile(P50) * 1e3, "ms"),
            p99_wait=quantity(q.wait_quantile(P99) * 1e3, "ms"), mean_wait=quantity(q.mean_wait * 1e3, "ms"),
            probability_of_wait=q.p_wait, service_latency=quantity(service_s * 1e3, "ms"), num_replicas=servers,
            constraint_trace=tuple(trace))


def check_stable(q: Queue) -> None:
    """Refuse utilisation >= 1: arrivals outpace service and the queue grows without bound."""
    if q.stable:
        return
    needed = math.floor(q.offered_load) + 1
    raise InvalidInputError(
        f"unstable queue: {q.arrival_rate:.4g} requests/s x {q.service.mean * 1e3:.4g} ms service = "
        f"{q.offered_load:.4g} Erlangs on {q.servers} replica(s) (utilisation {q.utilisation:.3g} >= 1); "
        f"use at least {needed} replicas or an arrival rate below {q.servers / q.service.mean:.4g} requests/s")


__all__ = ["TailLatencyModel", "TailLatencyResult"]
