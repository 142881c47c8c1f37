"""The largest static batch whose P99 request latency meets an SLA at a given arrival rate.

Requests (a prompt of `seq_len` tokens, then `output_len` generated tokens) arrive as a Poisson stream of
`arrival_rate_qps` and are grouped into batches of b; a batch is dispatched once its b-th request arrives and
is served by one of `num_replicas` replicas in ServingModel's time S_b = TTFT + (output_len - 1) x TPOT
(deterministic: every request has the same lengths). A request's latency is
    fill + queue wait + S_b
where fill is the wait for the rest of its batch to arrive: the first request of a batch waits for b - 1 more
arrivals, Gamma(b - 1, 1 / lambda). The P99 is that of this slowest position, so a batch that meets the SLA
meets it for every request. Batches queue as a GI/D/c queue: one arrives every b Poisson arrivals
(inter-arrival CV^2 = 1 / b), waits with the Erlang C probability and the Allen-Cunneen mean (ca^2 + cs^2) / 2
= 1 / (2 b) of the M/M/c wait. Fill and queueing are taken as independent (a long fill leaves the queue
emptier, so this errs on the slow side). Every b from 1 to max_search_batch is evaluated (the P99 need not be
monotone in b: fill grows with b while queueing shrinks).

Not modelled: dynamic batching with a timeout (a partial batch leaves early), continuous batching (see
ContinuousBatchingModel), length variability of real requests, prefill/decode disaggregation.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import attrs

from ..core.inputs import check_positive_int, resolve_hardware, resolve_model
from ..core.serving import ServingModel
from ..units import quantity
from ._queueing import (Queue, Service, check_servers, gamma_plus_cdf, gamma_quantile, positive_float,
                        quantile_between)
from ._result import SolverResult

_SERVING = ServingModel()
P99 = 0.99
# The union bound P(X + Y > x_a + y_a) <= P(X > x_a) + P(Y > y_a) brackets the P99 of fill + response from
# above with each term at this quantile (half the 1% tail each).
_HALF_TAIL = 1.0 - (1.0 - P99) / 2.0


@attrs.frozen(kw_only=True)
class BatchingOptimizerResult(SolverResult):
    objective_value: float          # max_throughput of the chosen batch (0 when none meets the SLA)
    best_config: dict[str, int]     # {"max_batch_size": b}
    total_searched: int             # batch sizes evaluated
    best_batch_size: int            # 0 when no batch meets the SLA
    max_throughput: float           # generated tokens/s the replicas sustain at that batch: c x b x out / S_b
    p99_latency: Any                # P99 latency of a batch's first request (the slowest position, so the P99
                                    # over all requests is at most this); the lowest found when none meets it
    slo_violation_probability: float  # P(latency > SLA) at that batch
    is_feasible: bool
    served_throughput: float        # generated tokens/s actually served: arrival rate x output_len
    utilization: float | None       # of the replicas at that batch (None when no batch fits in memory)
    service_latency: Any            # S_b: one batch from prefill to its last token
    sla_latency: Any
    constraint_trace: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Candidate:
    batch: int
    service_s: float
    queue: Queue
    lam: float

    def cdf(self, t: float) -> float:
        """P(fill + wait + S_b <= t)."""
        if self.batch == 1:
            return self.queue.response_cdf(t)
        return gamma_plus_cdf(t, self.batch - 1.0, 1.0 / self.lam, self.queue.response_cdf, self.service_s)

    @cached_property
    def bounds(self) -> tuple[float, float]:
        """Lower and upper bounds on the P99: fill + S_b and the response alone bound it from below, the union
        bound from above."""
        response = self.queue.response_quantile(P99)
        if self.batch == 1:
            return response, response
        fill = gamma_quantile(self.batch - 1.0, 1.0 / self.lam, P99)
        upper = gamma_quantile(self.batch - 1.0, 1.0 / self.lam, _HALF_TAIL) + self.queue.response_quantile(_HALF_TAIL)
        return max(fill + self.service_s, response), upper

    def p99(self) -> float:
        lo, hi = self.bounds
        return hi if hi <= lo else quantile_between(self.cdf, P99, lo, hi)


class BatchingOptimizer:
    """Largest batch size whose P99 latency (batch fill + queueing across replicas + service) meets the SLA."""

    def solve(self, model: Any, hardware: Any, seq_len: int, sla_latency_ms: float, arrival_rate_qps: float,
              num_replicas: int = 1, precision: str = "fp16", efficiency: float | None = None,
              max_search_batch: int = 256, *, output_len: int | None = None) -> BatchingOptimizerResult:
        """seq_len: prompt tokens; output_len: generated tokens per request (default seq_len, 0.1.x's reading);
        sla_latency_ms: the P99 objective (ms or a time Quantity); arrival_rate_qps: requests/s over all
        replicas; efficiency None uses the device calibration."""
        m, hw = resolve_model(model), resolve_hardware(hardware)
        prompt = check_positive_int("seq_len", seq_len)
        out = prompt if output_len is None else check_positive_int("output_len", output_len)
        sla = positive_float("sla_latency_ms", sla_latency_ms, "ms") / 1e3
        lam = positive_float("arrival_rate_qps", arrival_rate_qps, "1/s")
        servers = check_servers(num_replicas)
        top = check_positive_int("max_search_batch", max_search_batch)

        best: tuple[_Candidate, float] | None = None  # the largest batch meeting the SLA and its P99
        fastest: tuple[_Candidate, float] | None = None  # the lowest P99 seen (reported when none meets it)
        stable: list[_Candidate] = []
        unstable = no_fit = searched = 0
        least_load: float | None = None  # lowest utilisation seen (>= 1 when nothing is stable)
        for b in range(1, top + 1):
            searched += 1
            s = _SERVING.solve(m, hw, b, precision, efficiency, prompt_len=prompt, output_len=out, batching="static")
            if not s.feasible:  # the KV cache only grows with b: no larger batch fits either
                no_fit = top - b + 1
                break
            service = s.latency.to("s").magnitude
            q = Queue(lam / b, Service(service, 0.0), servers, 1.0 / b)
            least_load = q.utilisation if least_load is None else min(least_load, q.utilisation)
            if not q.stable:
                unstable += 1
                continue
            cand = _Candidate(b, service, q, lam)
            stable.append(cand)
            lo, hi = cand.bounds
            if lo > sla:
                continue
            if hi <= sla or cand.p99() <= sla:
                best = (cand, hi)

        trace = [f"searched batch 1..{searched}: {len(stable)} stable, {unstable} overloaded (utilisation >= 1)"
                 + (f", {no_fit} do not fit in memory from batch {top - no_fit + 1}" if no_fit else "")]
        if best is None:
            # None meets the SLA: report the lowest P99 within reach, trying candidates by their lower bound.
            for low, cand in sorted(((c.bounds[0], c) for c in stable), key=lambda lc: lc[0]):
                if fastest is not None and low >= fastest[1]:
                    break
                p99 = cand.p99()
                if fastest is None or p99 < fastest[1]:
                    fastest = (cand, p99)
            chosen = fastest
            trace.append(f"no batch size meets the {sla * 1e3:.4g} ms P99 SLA"
                         + (f"; the lowest P99 is {fastest[1] * 1e3:.4g} ms at batch {fastest[0].batch}" if fastest
                            else "; no batch size is both stable and fits"))
        else:
            chosen = best = (best[0], best[0].p99())  # the exact P99 of the chosen batch, not its bound
            trace.append(f"batch {best[0].batch}: P99 {best[1] * 1e3:.4g} ms <= SLA {sla * 1e3:.4g} ms")
        ok = best is not None
        if chosen is None:
            return BatchingOptimizerResult(
                objective_value=0.0, best_config={"max_batch_size": 0}, total_searched=searched, best_batch_size=0,
                max_throughput=0.0, p99_latency=None, slo_violation_probability=1.0, is_feasible=False,
                served_throughput=lam * out, utilization=least_load, service_latency=None,
                sla_latency=quantity(sla * 1e3, "ms"), constraint_trace=tuple(trace))
        cand, p99 = chosen
        capacity = servers * cand.batch * out / cand.service_s  # tokens/s with every replica busy
        late = max(0.0, 1.0 - cand.cdf(sla))
        return BatchingOptimizerResult(
            objective_value=capacity if ok else 0.0, best_config={"max_batch_size": cand.batch if ok else 0},
            total_searched=searched, best_batch_size=cand.batch if ok else 0,
            max_throughput=capacity if ok else 0.0, p99_latency=quantity(p99 * 1e3, "ms"),
            slo_violation_probability=late, is_feasible=ok, served_throughput=lam * out,
            utilization=cand.queue.utilisation, service_latency=quantity(cand.service_s * 1e3, "ms"),
            sla_latency=quantity(sla * 1e3, "ms"), constraint_trace=tuple(trace))


__all__ = ["BatchingOptimizer", "BatchingOptimizerResult"]
