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

from ...errors import SaturationError
from .step import StepModel

# Fixed-point iterations and tolerance of the steady state (the map contracts: each pass moves the
# decode population towards Little's law). The iteration runs undamped -- the map's slope is small almost everywhere,
# so it settles in a few passes -- until a step overshoots: a step reversing the previous one's sign while keeping
# more than OSCILLATION_RATIO of its size marks a slope below -OSCILLATION_RATIO (the prefill-bound corner), where
# 0.5 damping contracts faster (factor |0.5 + 0.5 slope| < |slope|) and stops the oscillation; the point keeps it.
# Where it converges slowly and monotonically instead (a slope near +1: steps shrinking by a steady ratio r), two
# successive step ratios within AITKEN_RATIO_SPREAD of each other, both in (AITKEN_MIN_RATIO, 1), mark the geometric
# tail Aitken's delta-squared process sums: the iterate jumps by step x r / (1 - r) to the tail's limit (Aitken 1926,
# 'On Bernoulli's numerical solution of algebraic equations', Proc. R. Soc. Edinburgh 46).
MAX_ITERATIONS = 200
TOLERANCE = 1e-9
DAMPING = 0.5
OSCILLATION_RATIO = 0.5
AITKEN_MIN_RATIO = 0.5
AITKEN_RATIO_SPREAD = 0.02
# Queueing of deterministic service relative to exponential at the same load: (1 + Cs^2) / 2 with Cs = 0
# (Pollaczek-Khinchine; the M/D/1 wait is half the M/M/1 wait).
DETERMINISTIC_SERVICE_QUEUE_SHARE = 0.5


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


# Bisection steps for the median prefill tokens of a step (relative precision 2^-40 of the bracket).
MEDIAN_BISECTIONS = 40


def _compound_cdf(x: float, lam: float, mean: float) -> float:
    """P(S <= x), S the prefill tokens of a step carrying K ~ Poisson(lam) prompts of exponential lengths with
    mean `mean`: P(K = 0) + sum_k P(K = k) P(Erlang(k, mean) <= x), Erlang's cdf 1 - e^-z sum_{j<k} z^j / j!."""
    z = x / mean
    pk = math.exp(-lam)
    total, ez, acc, term, k = pk, math.exp(-z), 0.0, 1.0, 0
    while True:
        k += 1
        acc += term          # sum_{j<k} z^j / j!
        term *= z / k
        pk *= lam / k
        total += pk * (1.0 - ez * acc)
        if k > lam and pk < 1e-12:
            return total


def _median_prefill_tokens(lam: float, mean: float) -> float:
    """Median prefill tokens of a step when prompt lengths are exponential with mean `mean` (the maximum-
    entropy law given only the mean; real chat prompts run from a few tokens to thousands): 0 while
    P(K = 0) >= 1/2, else the x with P(S <= x) = 1/2 (bisection on the compound Poisson-exponential cdf)."""
    if math.exp(-lam) >= 0.5:
        return 0.0
    lo, hi = 0.0, mean * (lam + 10.0 * math.sqrt(lam) + 10.0)
    for _ in range(MEDIAN_BISECTIONS):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if _compound_cdf(mid, lam, mean) < 0.5 else (lo, mid)
    return 0.5 * (lo + hi)


def _wait_quantile(mean_wait: float, rho: float, p: float) -> float:
    if rho <= 0 or mean_wait <= 0 or rho <= 1.0 - p:
        return 0.0
    return mean_wait / rho * math.log(rho / (1.0 - p))


def steady_state(step: StepModel, prompt: int, output: int, budget: int, *, clients: int | None = None,
                 rate: float | None = None, mixed: bool = True, frontend: float = 0.0,
                 chunk_count: bool = False, varied_prompts: bool = False) -> SteadyState:
    """Closed loop of `clients` requests in flight, or an open loop at `rate` requests/s; mixed=False: prefill
    runs in its own steps between decode steps (see the module docstring); `frontend`: seconds a request
    spends outside the engine before its first token reaches the client (added to TTFT and, in the closed
    loop, to each client's cycle); chunk_count: discrete steps -- a mixed step's mean is the expectation over the
    Poisson count of whole prompt chunks it carries (expected_mixed_step), not the step at the mean prefill load
    (the fluid picture); a step holds floor(c / own) whole chunks, so the budget's utilisation is
    X ceil(P / c) t_chunk / floor(c / own); an arrival first waits out the decode step in progress; and the
    closed loop queues by approximate mean-value analysis (closed_loop_wait) instead of the capped M/D/1;
    varied_prompts: prompt lengths exponential with mean `prompt` (real chat prompts), which sets the median
    inter-token gap of mixed steps (_median_prefill_tokens) instead of a whole number of equal prompts."""
    closed = clients is not None
    cd = prompt + output / 2.0      # mean context of a decoding request (the cache grows linearly)
    cp = prompt / 2.0               # mean causal context of a prompt token
    decode_steps = output - 1
    n = float(clients) if closed else 0.0
    nd = n * decode_steps / (decode_steps + 1.0) if closed else 0.0
    x, others = (rate or 0.0), 0.0
    state = None
    damping, last_nd, last_others = 0.0, 0.0, 0.0  # undamped until a step overshoots (see DAMPING)
    ratio_nd = ratio_others = 0.0  # the last step ratios (Aitken, see AITKEN_MIN_RATIO)
    chunk_time = getattr(step, "chunk_time", step.pass_time)  # speculative steps: one real step
    for _ in range(MAX_ITERATIONS):
        chunk = max(budget - nd, 1.0) if mixed else float(budget)
        own = min(float(prompt), chunk)
        chunks = math.ceil(prompt / chunk)
        lam = others / max(own, 1.0)       # prompt chunks started per step (Poisson, see the docstring)
        share = 1.0 - math.exp(-lam)       # share of steps carrying someone else's prefill
        seen = max(nd, 1.0)  # the observed request is itself one of the decode tokens
        if mixed:
            if chunk_count:
                tpot, bare = expected_mixed_step(step, seen, cd, own, cp, lam)
            else:
                tpot = step.pass_time(seen, cd, others, cp, others * cp / max(own, 1.0), graph=1.0 - share)
            t_chunk = chunk_time(nd, cd, own + others, cp, prompt / 2.0 - own / 2.0, graph=0.0)
        else:  # a decode-only step, and with probability `share` a prefill-only step of the others' prompts
            batch_pf = others / share if share > 0 else 0.0
            t_pf = chunk_time(0.0, cd, batch_pf, cp, batch_pf * cp / max(own, 1.0), graph=0.0) if batch_pf else 0.0
            bare = step.pass_time(seen, cd, graph=1.0)
            tpot = bare + share * t_pf
            t_chunk = chunk_time(0.0, cd, own + others, cp, prompt / 2.0 - own / 2.0, graph=0.0)
        service = chunks * t_chunk
        if closed:
            ttft0 = service + frontend
            x_new = n / (ttft0 + decode_steps * tpot)
        else:
            x_new = x
        if chunk_count:  # discrete steps: one step holds floor(c / own) whole chunks of a prompt's ceil(P / c)
            per_step = max(1.0, math.floor(chunk / max(own, 1.0)))
            rho = x_new * chunks * t_chunk / per_step
        else:
            rho = x_new * prompt * t_chunk / chunk  # server time per prompt: P / c of a chunk step of t_chunk
        if rho >= 1.0:
            if not closed:
                raise _Saturated(x_new, rho)
            rho = 1.0 - 1e-9
        scale = (n - 1.0) / n if closed else 1.0
        if chunk_count and closed:
            wait = closed_loop_wait(n, chunks * t_chunk / per_step, decode_steps * tpot + frontend)
        else:
            wait = scale * rho / (2.0 * (1.0 - rho)) * service
        if closed and not chunk_count:  # a closed loop's queue is finite: at worst every other prompt is ahead
            wait = min(wait, (n - 1.0) * prompt / chunk * t_chunk)
        if chunk_count:  # schedulers admit at step boundaries: an arrival first waits out the decode step in
            # progress (its mean residual, half a step: the steps are deterministic) while no prefill is served
            wait += scale * (1.0 - rho) * bare / 2.0
        ttft = wait + service + frontend
        if closed:
            x_new = n / (ttft + decode_steps * tpot)
        nd_new = x_new * decode_steps * tpot
        others_new = x_new * prompt * tpot * scale
        step_nd, step_others = nd_new - nd, others_new - others
        done = abs(step_nd) <= TOLERANCE * max(nd, 1.0) and abs(step_others) <= TOLERANCE * max(others, 1.0)
        if damping == 0.0 and (overshoots(step_nd, last_nd) or overshoots(step_others, last_others)):
            damping = DAMPING
        nd, last_nd, ratio_nd = next_iterate(nd, nd_new, step_nd, last_nd, ratio_nd, damping)
        others, last_others, ratio_others = next_iterate(others, others_new, step_others, last_others, ratio_others,
                                                         damping)
        x = x_new
        state = (ttft, tpot, x, nd, others, chunk, rho, wait,
                 _wait_quantile(wait, rho, 0.5) + service + frontend,
                 _wait_quantile(wait, rho, 0.99) + service + frontend, seen, own, lam)
        if done:
            break
    *head, seen, own, lam = state
    if mixed:
        if varied_prompts and lam > 0 and prompt <= chunk:  # prompts of exponential length: the median tokens
            ell = _median_prefill_tokens(lam, own)
            itl_p50 = step.pass_time(seen, cd, ell, cp, cp * ell / own, graph=1.0 if ell == 0 else 0.0)
        else:
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


def next_iterate(value: float, new: float, step: float, last: float, last_ratio: float,
                 damping: float) -> tuple[float, float, float]:
    """(next iterate, the step to compare the next one with, this step's ratio to the last): the damped update, or
    undamped on a steady geometric tail Aitken's jump to its limit (kept only when non-negative: populations and
    token counts). After a jump the step history restarts, so the next step is neither an overshoot nor a ratio."""
    ratio = step / last if last != 0.0 else 0.0
    if damping == 0.0 and AITKEN_MIN_RATIO < ratio < 1.0 and abs(ratio - last_ratio) <= AITKEN_RATIO_SPREAD:
        jumped = new + step * ratio / (1.0 - ratio)
        if jumped >= 0.0:
            return jumped, 0.0, 0.0
    return damping * value + (1.0 - damping) * new, step, ratio


def overshoots(step: float, last: float) -> bool:
    """A fixed-point step that reverses the last one's sign at more than OSCILLATION_RATIO of its size."""
    return step * last < 0.0 and abs(step) > OSCILLATION_RATIO * abs(last)


def closed_loop_wait(n: float, service: float, think: float) -> float:
    """Mean queueing of a prompt for the prefill server in a closed loop of n clients, each spending `think`
    seconds outside that queue (decoding, frontend) per `service` seconds of prefill in it: Schweitzer-Bard
    approximate mean-value analysis (Schweitzer 1979; Bard 1979), Q(n - 1) ~ Q(n) (n - 1) / n, whose fixed
    point R = S (1 + (n - 1) R / (R + Z)) is the positive root of R^2 + (Z - n S) R - S Z = 0; it runs from S
    (one client) to n S - Z (saturation: X = 1 / S) with no cap. MVA's queue is that of exponential service;
    a prefill is deterministic, which halves the queueing ((1 + Cs^2) / 2 with Cs = 0: Pollaczek-Khinchine)."""
    if n <= 1.0:
        return 0.0
    gap = think - n * service
    r = 0.5 * ((n * service - think) + math.sqrt(gap * gap + 4.0 * service * think))
    return DETERMINISTIC_SERVICE_QUEUE_SHARE * max(r - service, 0.0)


def expected_mixed_step(step: StepModel, seen: float, cd: float, own: float, cp: float,
                        lam: float) -> tuple[float, float]:
    """(mean, decode-only step): the mean mixed step a decoding request sees when the step carries K ~ Poisson(lam) prompt chunks of `own`
    tokens: E[f(K)], f(k) the step with k chunks (k = 0 replayed from a CUDA graph, k >= 1 eager). f is convex
    in k (each phase is the max of two lines in k: Williams et al. 2009), so the step at the mean load,
    f(lam), understates the mean (Jensen's inequality) -- by much when chunks are whole prompts far past the
    roofline ridge and lam << 1 (one 5000-token prompt every ~20 steps). Past one chunk the phases are compute-
    bound and f is linear, so E[f(K)] = P0 f(0) + (1 - P0) f(1) + (f(2) - f(1)) (lam - (1 - P0)) (E[(K - 1)
    1{K >= 1}] = lam - (1 - P0)); each chunk brings `cp` tokens of earlier-chunk KV on average, as at the mean."""
    p0 = math.exp(-lam)
    f0 = step.pass_time(seen, cd, graph=1.0)
    if lam <= 0.0:
        return f0, f0
    f1 = step.pass_time(seen, cd, own, cp, cp, graph=0.0)
    f2 = step.pass_time(seen, cd, 2.0 * own, cp, 2.0 * cp, graph=0.0)
    return p0 * f0 + (1.0 - p0) * f1 + (f2 - f1) * (lam - (1.0 - p0)), f0


class _Saturated(Exception):
    def __init__(self, rate: float, rho: float):
        super().__init__(rate, rho)
        self.rate, self.rho = rate, rho


def saturation_error(rate_total: float, capacity_total: float, why: str) -> SaturationError:
    return SaturationError(f"arrival_rate {rate_total:.4g} requests/s is past saturation: this replica serves at "
                             f"most ~{capacity_total:.4g} requests/s ({why}); lower arrival_rate or add replicas "
                             f"(data_parallel)")
