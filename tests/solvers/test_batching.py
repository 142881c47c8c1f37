"""BatchingOptimizer: the largest batch whose P99 (fill + queueing + ServingModel service) meets the SLA."""
from __future__ import annotations

import random

import pytest

from mlsysim.errors import InvalidInputError, InvalidTypeError
from mlsysim.solvers import BatchingOptimizer, ServingModel, TailLatencyModel
from mlsysim.solvers._queueing import Queue, Service
from mlsysim.solvers.batching import _Candidate

bo = BatchingOptimizer()
ms = lambda q: q.to("ms").magnitude  # noqa: E731
ARGS = ("Llama3_8B", "H100", 512)


def test_batch_of_one_is_the_md_c_tail():
    r = bo.solve(*ARGS, 60_000, 0.5, 1, max_search_batch=1, output_len=128)
    s = ServingModel().solve("Llama3_8B", "H100", 1, "fp16", prompt_len=512, output_len=128, batching="static")
    tail = TailLatencyModel().solve(0.5, ms(s.latency), 1, 0.0)
    assert r.best_batch_size == 1 and r.is_feasible
    assert ms(r.service_latency) == pytest.approx(ms(s.latency))
    assert ms(r.p99_latency) == pytest.approx(ms(tail.p99_latency), rel=1e-6)
    assert r.max_throughput == pytest.approx(128 / s.latency.to("s").magnitude)


def test_chosen_batch_meets_the_sla_and_the_next_larger_does_not():
    r = bo.solve(*ARGS, 20_000, 5.0)
    b = r.best_batch_size
    assert 1 < b < 256 and ms(r.p99_latency) <= 20_000
    assert r.slo_violation_probability <= 0.01 + 1e-9
    assert r.best_config == {"max_batch_size": b} and r.objective_value == r.max_throughput
    assert r.served_throughput == pytest.approx(5.0 * 512)  # output_len defaults to seq_len
    bigger = bo.solve(*ARGS, 20_000, 5.0, max_search_batch=b + 1)
    assert bigger.best_batch_size == b  # b + 1 misses: its fill time pushes the P99 past the SLA


def test_looser_sla_allows_larger_batches():
    chosen = [bo.solve(*ARGS, sla, 5.0, output_len=128).best_batch_size for sla in (6_000, 10_000, 20_000)]
    assert chosen == sorted(chosen) and chosen[0] < chosen[-1]


def test_throughput_is_the_capacity_of_the_replicas_at_that_batch():
    r = bo.solve(*ARGS, 10_000, 20.0, 2, output_len=128)
    s = ServingModel().solve("Llama3_8B", "H100", r.best_batch_size, "fp16", prompt_len=512, output_len=128, batching="static")
    assert r.max_throughput == pytest.approx(2 * r.best_batch_size * 128 / s.latency.to("s").magnitude)
    assert r.max_throughput >= r.served_throughput  # a stable system serves everything that arrives
    assert 0 < r.utilization < 1


def test_more_replicas_rescue_an_overloaded_deployment():
    one = bo.solve(*ARGS, 5_000, 200.0, 1, output_len=128)
    many = bo.solve(*ARGS, 5_000, 200.0, 8, output_len=128)
    assert not one.is_feasible and one.p99_latency is None and one.utilization >= 1
    assert many.is_feasible and many.best_batch_size > 0


def test_no_batch_meets_a_tight_sla():
    r = bo.solve(*ARGS, 100, 5.0, output_len=128)
    assert not r.is_feasible and r.best_batch_size == 0 and r.max_throughput == 0.0
    assert ms(r.p99_latency) > 100  # the lowest P99 within reach, reported
    assert "no batch size meets" in r.constraint_trace[-1]


def test_memory_ends_the_search():
    r = bo.solve("Llama3_8B", "T4", 2048, 600_000, 0.01, output_len=2048)
    assert "do not fit in memory" in r.constraint_trace[0]
    assert r.total_searched < 256


def _simulate_first_in_batch_p99(lam, b, service, servers, n, seed=7):
    rnd = random.Random(seed)
    t, free, batch, first = 0.0, [0.0] * servers, [], []
    for _ in range(n):
        t += rnd.expovariate(lam)
        batch.append(t)
        if len(batch) == b:
            k = min(range(servers), key=free.__getitem__)
            start = max(t, free[k])
            free[k] = start + service
            first.append(start + service - batch[0])
            batch = []
    first.sort()
    return first[int(0.99 * len(first))]


@pytest.mark.parametrize("lam,b,service,servers", [(5.0, 40, 4.0, 1), (20.0, 16, 0.5, 1), (12.0, 4, 0.5, 2)])
def test_model_matches_a_discrete_event_simulation(lam, b, service, servers):
    cand = _Candidate(b, service, Queue(lam / b, Service(service, 0.0), servers, 1.0 / b), lam)
    simulated = _simulate_first_in_batch_p99(lam, b, service, servers, 60_000)
    assert simulated * 0.97 <= cand.p99() <= simulated * 1.15  # Allen-Cunneen errs on the slow side


@pytest.mark.parametrize("kwargs,error", [
    (dict(sla_latency_ms=0.0, arrival_rate_qps=1.0), InvalidInputError),
    (dict(sla_latency_ms=100.0, arrival_rate_qps=-1.0), InvalidInputError),
    (dict(sla_latency_ms=100.0, arrival_rate_qps=1.0, num_replicas=0), InvalidInputError),
    (dict(sla_latency_ms=100.0, arrival_rate_qps=1.0, max_search_batch=0), InvalidInputError),
    (dict(sla_latency_ms="100", arrival_rate_qps=1.0), InvalidTypeError),
    (dict(sla_latency_ms=100.0, arrival_rate_qps=1.0, output_len=0), InvalidInputError),
])
def test_bad_input(kwargs, error):
    with pytest.raises(error):
        bo.solve("Llama3_8B", "H100", 512, **kwargs)
