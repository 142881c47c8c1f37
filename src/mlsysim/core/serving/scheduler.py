"""Continuous batching with chunked prefill (Orca's iteration-level scheduling, Yu et al. 2022; vLLM/SGLang/
TRT-LLM chunked prefill, Agrawal et al. 2024 Sarathi-Serve): the steady state of one DP rank.

Every step carries one decode token of each running request plus prefill tokens, up to the token budget
B (max_num_batched_tokens). A prompt of P tokens is prefilled in ceil(P / c) chunks, c = B - n_d the budget
the decode tokens leave; its first token comes with its last chunk. Steady state (Little's law twice):
  closed loop of N clients:  X = N / (TTFT + (O - 1) TPOT),  n_d = X (O - 1) TPOT
  open loop, Poisson rate X: n_d = X (O - 1) TPOT
TPOT is the mean step a decoding request sees: decode tokens plus the prefill tokens of *other* requests
per step, X P TPOT -- x (N - 1)/N in the closed loop (the arrival theorem of mean-value analysis: a
request sees the system with itself removed; Reiser & Lavenberg 1980), x 1 in the open loop (PASTA).
Queueing for the prefill budget: an M/D/1 queue whose server is the budget, serving c prompt tokens per
chunk step (t_chunk, the step that carries a prompt's chunk beside the mean others), so utilisation
rho = X (P / c) t_chunk: lambda E[S] with the step S is made of (a mean step TPOT here would count the
short decode-only steps as prefill capacity), mean wait
rho / (2 (1 - rho)) x S (Pollaczek-Khinchine), S = ceil(P / c) own chunk steps; the closed loop
scales it by (N - 1)/N and bounds it by the N - 1 other prompts served back to back (a finite population). Quantiles: the wait is 0 with probability 1 - rho, else exponential with the mean
E[W] / rho (the usual M/G/1 exponential-tail approximation, Kingman 1962). Decode-only steps replay CUDA
graphs where the runtime captures decode; steps with prefill run eagerly.
Which steps carry prefill: the schedulers admit a waiting prompt at the very next step while the budget has
room (vLLM v1 Scheduler.schedule(): running requests first, then waiting ones up to max_num_batched_tokens;
SGLang and TRT-LLM's in-flight batching alike), so prompt chunks are not held back to fill the budget. The
chunks started per step are then Poisson with mean lam = (prefill tokens per step) / (tokens per chunk)
(many independent clients: the Palm-Khintchine superposition limit), a share 1 - exp(-lam) of steps carries
prefill and runs eagerly, and the median inter-token gap (what median-ITL benchmarks report) is the step
with the median Poisson count of chunks, k50 (the step time grows with k).
Separate prefill steps (SGLang without --enable-mixed-chunk: Scheduler.get_next_batch_to_run runs a prefill
batch first whenever one can be formed, else the decode batch): the prompts that arrive during a decode step
are prefilled together in one prefill-only step (up to the whole budget, no decode tokens in it) before the
next decode step, so a decoding request's gap is a decode-only step plus, with probability 1 - exp(-lam),
a prefill step of the others' prompts (weights read again: no riding on the decode step's weight stream);
its median gap is the bare decode step while that probability is under one half.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from ...errors import InvalidInputError
from .step import StepModel

# Fixed-point iterations and tolerance of the steady state (the map contracts: each pass moves the
# decode population towards Little's law; 0.5 damping avoids oscillation at the prefill-bound corner).
MAX_ITERATIONS = 200
TOLERANCE = 1e-9
DAMPING = 0.5


@dataclass(frozen=True)
class SteadyState:
    ttft: float
    tpot: float
    request_rate: float      # requests/s completed by the rank
    decoding: float          # mean requests in decode
    prefill_per_step: float  # mean prefill tokens per step seen by a decoding request
    chunk: float             # prefill tokens per step the budget leaves beside the decode tokens
    utilisation: float       # rho of the prefill budget
    wait: float              # mean queueing before the first chunk
    ttft_p50: float
    ttft_p99: float
    itl_p50: float           # median inter-token gap: the step with the median count of prefill chunks


def _poisson_median(lam: float) -> int:
    """Smallest k with P(K <= k) >= 1/2 for K ~ Poisson(lam)."""
    k, term = 0, math.exp(-lam)
    cdf = term
    while cdf < 0.5:
        k += 1
        term *= lam / k
        cdf += term
    return k


def _wait_quantile(mean_wait: float, rho: float, p: float) -> float:
    if rho <= 0 or mean_wait <= 0 or rho <= 1.0 - p:
        return 0.0
    return mean_wait / rho * math.log(rho / (1.0 - p))


def steady_state(step: StepModel, prompt: int, output: int, budget: int, *, clients: int | None = None,
                 rate: float | None = None, mixed: bool = True, frontend: float = 0.0) -> SteadyState:
    """Closed loop of `clients` requests in flight, or an open loop at `rate` requests/s; mixed=False: prefill
    runs in its own steps between decode steps (see the module docstring); `frontend`: seconds a request
    spends outside the engine before its first token reaches the client (added to TTFT and, in the closed
    loop, to each client's cycle)."""
    closed = clients is not None
    cd = prompt + output / 2.0      # mean context of a decoding request (the cache grows linearly)
    cp = prompt / 2.0               # mean causal context of a prompt token
    decode_steps = output - 1
    n = float(clients) if closed else 0.0
    nd = n * decode_steps / (decode_steps + 1.0) if closed else 0.0
    x, others = (rate or 0.0), 0.0
    state = None
    chunk_time = getattr(step, "chunk_time", step.pass_time)  # speculative steps: one real step
    for _ in range(MAX_ITERATIONS):
        chunk = max(budget - nd, 1.0) if mixed else float(budget)
        own = min(float(prompt), chunk)
        chunks = math.ceil(prompt / chunk)
        lam = others / max(own, 1.0)       # prompt chunks started per step (Poisson, see the docstring)
        share = 1.0 - math.exp(-lam)       # share of steps carrying someone else's prefill
        seen = max(nd, 1.0)  # the observed request is itself one of the decode tokens
        if mixed:
            tpot = step.pass_time(seen, cd, others, cp, others * cp / max(own, 1.0), graph=1.0 - share)
            t_chunk = chunk_time(nd, cd, own + others, cp, prompt / 2.0 - own / 2.0, graph=0.0)
        else:  # a decode-only step, and with probability `share` a prefill-only step of the others' prompts
            batch_pf = others / share if share > 0 else 0.0
            t_pf = chunk_time(0.0, cd, batch_pf, cp, batch_pf * cp / max(own, 1.0), graph=0.0) if batch_pf else 0.0
            tpot = step.pass_time(seen, cd, graph=1.0) + share * t_pf
            t_chunk = chunk_time(0.0, cd, own + others, cp, prompt / 2.0 - own / 2.0, graph=0.0)
        service = chunks * t_chunk
        if closed:
            ttft0 = service + frontend
            x_new = n / (ttft0 + decode_steps * tpot)
        else:
            x_new = x
        rho = x_new * prompt * t_chunk / chunk  # server time per prompt: P / c of a chunk step of t_chunk
        if rho >= 1.0:
            if not closed:
                raise _Saturated(x_new, rho)
            rho = 1.0 - 1e-9
        scale = (n - 1.0) / n if closed else 1.0
        wait = scale * rho / (2.0 * (1.0 - rho)) * service
        if closed:  # a closed loop's queue is finite: at worst every other client's prompt is ahead
            wait = min(wait, (n - 1.0) * prompt / chunk * t_chunk)
        ttft = wait + service + frontend
        if closed:
            x_new = n / (ttft + decode_steps * tpot)
        nd_new = x_new * decode_steps * tpot
        others_new = x_new * prompt * tpot * scale
        done = abs(nd_new - nd) <= TOLERANCE * max(nd, 1.0) and abs(others_new - others) <= TOLERANCE * max(others, 1.0)
        nd = DAMPING * nd + (1.0 - DAMPING) * nd_new
        others = DAMPING * others + (1.0 - DAMPING) * others_new
        x = x_new
        state = (ttft, tpot, x, nd, others, chunk, rho, wait,
                 _wait_quantile(wait, rho, 0.5) + service + frontend,
                 _wait_quantile(wait, rho, 0.99) + service + frontend, seen, own, lam)
        if done:
            break
    *head, seen, own, lam = state
    if mixed:
        k50 = _poisson_median(lam)
        itl_p50 = step.pass_time(seen, cd, k50 * own, cp, k50 * cp,
                                 graph=1.0 if k50 == 0 else 0.0)
    else:  # the median gap holds a prefill step once more than half the gaps do (share >= 1/2)
        share = 1.0 - math.exp(-lam)
        itl_p50 = step.pass_time(seen, cd, graph=1.0)
        if share >= 0.5:
            batch_pf = head[4] / share
            itl_p50 += chunk_time(0.0, cd, batch_pf, cp, batch_pf * cp / max(own, 1.0), graph=0.0)
    return SteadyState(*head, itl_p50)


class _Saturated(Exception):
    def __init__(self, rate: float, rho: float):
        super().__init__(rate, rho)
        self.rate, self.rho = rate, rho


def saturation_error(rate_total: float, capacity_total: float, why: str) -> InvalidInputError:
    return InvalidInputError(f"arrival_rate {rate_total:.4g} requests/s is past saturation: this replica serves at "
                             f"most ~{capacity_total:.4g} requests/s ({why}); lower arrival_rate or add replicas "
                             f"(data_parallel)")
