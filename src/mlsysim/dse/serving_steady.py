"""The serving tier's per-point physics on numpy arrays (optional extra `mlsysim[dse]`): ServingModel's admission
(KV slots reserved whole or paged on demand, the runtime's queue), the closed-loop steady state of
core.serving.scheduler.steady_state (chunked prefill mixed into decode steps, or prefill-only steps between
them; the frontend's latency; discrete steps of whole chunks, serving.prefill_step_model = "chunk_count") and the
six figures, for every point of a sweep at once. The same operations in
the same order as the scalar code, so each point follows the scalar iteration; points still iterating once few
are left (the closed loop that does not settle within its iteration cap) are handed to the scalar
steady_state itself. Step times: serving_numpy.pass_time."""
from __future__ import annotations

import math

import numpy as np

from ..core.serving.scheduler import (AITKEN_MIN_RATIO, AITKEN_RATIO_SPREAD, DAMPING, DETERMINISTIC_SERVICE_QUEUE_SHARE,
                                      MAX_ITERATIONS, OSCILLATION_RATIO, TOLERANCE)
from . import serving_numpy as sn

RHO_CAP = 1.0 - 1e-9  # scheduler.steady_state's closed-loop cap on the prefill budget's utilisation
_TINY = 2.2250738585072014e-308  # check_outputs' smallest normal result (sys.float_info.min)
# Hand the points still iterating to the scalar steady_state when each costs ~this many vectorised iterations
# (a scalar iteration ~10 us, a vectorised one ~100 us of numpy calls whatever the few points it carries).
HANDOFF_ITERATIONS = 30
HANDOFF_AFTER = 50  # ... and not before this iteration (most points settle in 30-40)


def gather(params: list[dict], index: np.ndarray) -> dict:
    """Per-point arrays of per-group constants: params[i] for each point's group index (the MoE constants 0.0
    on dense models' points, where no term reads them)."""
    keys = dict.fromkeys(k for p in params for k in p)
    return {k: np.array([p.get(k, 0.0) for p in params], dtype=float)[index] for k in keys}


def group_constants(g) -> dict:
    """What ServingModel._solve_parallel's admission, steady state and figures read of one group
    (serving_tier._Group)."""
    from ..core.serving.kv import LIVE_FFN, LIVE_HIDDEN, usable_memory

    s, p, lay, m = g.step, g.params, g.lay, g.m
    vocab_gpu = m.vocab_size / lay.tp
    # the runtime's reserve, unless the deployment's memory_fraction replaces it (kv.usable_memory's order)
    reserve = g.rt.memory_reserve if g.rt is not None and p.memory_limit_fraction is None else None
    held0, share = reserve.parts(g.cap, g.cls.name) if reserve is not None else (0.0, 0.0)
    return {"usable_fixed": usable_memory(g.cap, p, g.cls, None, 0.0), "reserve_on": float(reserve is not None),
            "cap": g.cap, "reserve_held": held0, "reserve_share": share, "weights": g.weights,
            "kv_per_token": g.kv_per_token, "block": float(p.block_tokens), "on_demand": float(p.on_demand_kv),
            "max_seqs": float(p.max_num_seqs) if p.max_num_seqs is not None else math.inf,
            # kv.live_activations(budget, d, ffn, vocab/tp, batch, ab): the budget's part, then batch x logits
            "acts_budget": g.budget * (LIVE_HIDDEN * m.hidden_size + LIVE_FFN * s.ffn_width) * s.ab,
            "vocab_gpu": vocab_gpu, "output": float(g.output), "dp": float(lay.dp), "tp": float(lay.tp),
            "pp": float(lay.pp), "idle": g.idle, "tdp": g.tdp, "mem_power": g.cls.memory_bound_power_fraction, "peak": g.prec.peak_flops, "gpus": float(lay.gpus),
            "flops_per_token": g.flops_per_token, "mfu_denominator": lay.gpus * g.prec.peak_flops,
            "matmul_per_token": g.matmul_per_token, "bw": s.bw, "F": s.flops, "budget": float(g.budget),
            "mixed": float(p.mixed_prefill), "frontend": p.frontend_latency,
            "chunk_count": float(p.chunk_count_steps)}


def admit(k: dict, batch: np.ndarray, seq_tokens: np.ndarray, mean_tokens: np.ndarray) -> tuple:
    """serving_tier._admit on arrays: (fits, KV slots, queued, preempting, clients). seq_tokens, mean_tokens:
    StepModel.kv_tokens of prompt + output and of prompt + output / 2 (kv.kv_capacity's sequence and mean)."""
    acts = k["acts_budget"] + batch * k["vocab_gpu"] * 4.0
    # kv.usable_memory: the runtime's reserve (MemoryReserve.bytes_on on arrays) or the fixed usable bytes
    free = k["cap"] - k["reserve_held"] - (k["weights"] + acts)
    reserved = k["reserve_held"] + k["reserve_share"] * (free + np.abs(free)) / 2.0
    usable = np.where(k["reserve_on"] > 0, k["cap"] - reserved, k["usable_fixed"])
    pool = usable - k["weights"] - acts  # kv.kv_capacity
    kvpt, block = k["kv_per_token"], k["block"]
    per_seq = np.ceil(seq_tokens / block) * block
    with np.errstate(divide="ignore", invalid="ignore"):
        reserved_slots = np.floor_divide(pool, per_seq * kvpt)
        # on demand: the mean a running sequence holds plus half a block, while one whole sequence fits
        mean = np.minimum(mean_tokens + block / 2.0, per_seq)
        paged = np.where(pool >= per_seq * kvpt, np.floor_divide(pool, mean * kvpt), 0.0)
        slots = np.where((pool > 0) & (kvpt > 0), np.where(k["on_demand"] != 0, paged, reserved_slots), 0.0)
    slots = np.maximum(slots, 0.0)
    fits = k["weights"] + acts < usable
    queued = np.where(batch > k["max_seqs"], batch - k["max_seqs"], 0.0)
    full = (0 < slots) & (slots < batch - queued)  # a full cache admits no more: the rest wait
    over = batch - queued - slots
    queued = np.where(full, queued + over, queued)
    preempting = np.where(full, batch - queued + over, 0.0)
    return fits, slots, queued, preempting, batch - queued


def figures(k: dict, batch, prompt, adm, ttft, tpot, rate, kv_cd) -> tuple:
    """serving_tier._figures on arrays: (latency, throughput, energy, mfu, feasible, compute-bound, ok, ttft) where
    ok marks the points whose figures pass check_outputs' common case (the others go to the scalar solve).
    kv_cd: StepModel.kv_tokens(prompt + output / 2), the mean KV tokens a decoding sequence reads."""
    from ..core.inputs import MAX_EFFICIENCY, MFU_ROUNDING_TOLERANCE

    fits, slots, queued, preempting, _ = adm
    output = k["output"]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ttft = np.where(queued != 0, ttft + queued / rate, ttft)
        latency = ttft + (output - 1.0) * tpot
        running = np.where(preempting != 0, preempting, batch - queued)
        feasible = fits & ~(slots < np.ceil(running))
        rate_replica = rate * k["dp"]
        throughput = rate_replica * output
        mfu = k["flops_per_token"] * (prompt + output) * rate_replica / k["mfu_denominator"]
        # core/serving/power.py's step_activity and serving_power on arrays, same operations in the same order
        step_bytes = k["weights"] + np.maximum(running, 1.0) * kv_cd * k["kv_per_token"]
        u_compute = np.minimum(mfu * k["peak"] / k["F"], 1.0)
        u_memory = np.minimum(step_bytes / k["bw"] / tpot, 1.0)
        activity = np.minimum(1.0, u_compute + k["mem_power"] * u_memory)
        power = (k["idle"] + (k["tdp"] - k["idle"]) * activity) * k["gpus"]
        energy = np.where(rate_replica > 0, power / rate_replica, power * latency)
        ok = (_TINY <= latency) & (latency < np.inf) & (_TINY <= throughput) & (throughput < np.inf) \
            & (_TINY <= energy) & (energy < np.inf) & (mfu >= 0.0) & (mfu <= MAX_EFFICIENCY + MFU_ROUNDING_TOLERANCE)
        n = np.maximum(running, 1.0)  # model._decode_memory_bound
        flops = 2.0 * n * k["matmul_per_token"] / k["tp"] / k["pp"]
        compute = ~((k["weights"] + n * kv_cd * k["kv_per_token"]) / k["bw"] >= flops / k["F"])
    return latency, throughput, energy, np.minimum(mfu, MAX_EFFICIENCY), feasible, compute, ok, ttft


def _rows(c: dict, rows: np.ndarray) -> dict:
    """The step constants of the stacked rows (the per-point arrays of c taken at `rows`)."""
    return sn.row_flags({k: v[rows] for k, v in c.items() if k[0] != "_"})


def _next_iterate(value: np.ndarray, new: np.ndarray, step: np.ndarray, last: np.ndarray, last_ratio: np.ndarray,
                  damp: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """scheduler.next_iterate on arrays: the damped update, or Aitken's jump on a steady geometric tail (same
    operations in the same order, per point)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratio = np.where(last != 0.0, step / last, 0.0)
        jumped = new + step * ratio / (1.0 - ratio)
    jump = (damp == 0.0) & (ratio > AITKEN_MIN_RATIO) & (ratio < 1.0) \
        & (np.abs(ratio - last_ratio) <= AITKEN_RATIO_SPREAD) & (jumped >= 0.0)
    return (np.where(jump, jumped, damp * value + (1.0 - damp) * new), np.where(jump, 0.0, step),
            np.where(jump, 0.0, ratio))


def _closed_loop_wait(n: np.ndarray, service: np.ndarray, think: np.ndarray) -> np.ndarray:
    """scheduler.closed_loop_wait on arrays (Schweitzer-Bard mean-value analysis; the square as a product and sqrt,
    both correctly rounded, as in the scalar)."""
    ns = n * service
    gap = think - ns
    r = 0.5 * ((ns - think) + np.sqrt(gap * gap + 4.0 * service * think))
    return np.where(n <= 1.0, 0.0, DETERMINISTIC_SERVICE_QUEUE_SHARE * np.maximum(r - service, 0.0))


def steady_closed(c: dict, prompt: np.ndarray, output: np.ndarray, budget: np.ndarray, clients: np.ndarray,
                  mixed: np.ndarray, frontend: np.ndarray, scalar=None,
                  chunk_count: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ttft, tpot, request rate) of scheduler.steady_state(step, prompt, output, budget, clients=clients,
    mixed=, frontend=, chunk_count=) for each point (`c`: its step's constants, arrays over the points): the closed
    loop's fixed point (damped once a step overshoots, as the scalar loop), each point iterated until it converges.
    scalar(indices) -> (ttft, tpot, rate) of those points from the scalar steady_state: the few points still iterating
    late are handed to it. chunk_count
    (non-zero per point: discrete steps): the mean mixed step over the Poisson count of whole chunks
    (scheduler.expected_mixed_step: two more step rows, no chunk and two chunks), floor(c / own) chunks per step,
    the Schweitzer-Bard closed-loop wait plus the step-boundary residual."""
    n = clients.astype(float)
    cd_all = prompt + output / 2.0
    cp_all = prompt / 2.0
    steps_all = output - 1.0
    nd_all = n * steps_all / (steps_all + 1.0)
    others_all = np.zeros_like(n)
    # scheduler.steady_state's per-point damping (0 until a step overshoots), last steps and step ratios
    damp_all, last_nd_all, last_o_all = np.zeros_like(n), np.zeros_like(n), np.zeros_like(n)
    ratio_nd_all, ratio_o_all = np.zeros_like(n), np.zeros_like(n)
    counted = np.zeros(n.size, dtype=bool) if chunk_count is None else chunk_count != 0
    ttft_out, tpot_out, x_out = np.empty_like(n), np.empty_like(n), np.empty_like(n)
    # The working set: the points iterated together. A point that converged stays in it (its figures were kept
    # when it converged; what it computes after is not read) until fewer than half of the set still iterate:
    # re-gathering every constant costs more numpy calls than carrying the settled points along.
    work = np.arange(n.size)
    live = np.ones(n.size, dtype=bool)  # over the working set: still iterating
    size = -1
    for it in range(MAX_ITERATIONS):
        left = int(live.sum()) if size >= 0 else n.size
        if not left:
            break
        if scalar is not None and it >= HANDOFF_AFTER and left * HANDOFF_ITERATIONS <= MAX_ITERATIONS - it:
            idx = work[live]
            ttft_out[idx], tpot_out[idx], x_out[idx] = scalar(idx)
            break
        if size < 0 or 2 * left < size:  # (re)gather the constants of the working set
            if size >= 0:
                work = work[live]
            size = work.size
            live = np.ones(size, dtype=bool)
            mix = mixed[work] != 0
            sep = np.flatnonzero(~mix)  # prefill-only steps: a third row, the others' prefill step
            all_mixed = not sep.size
            cc = counted[work]
            cc_any = bool(cc.any())
            ccm = np.flatnonzero(cc & mix)  # mixed steps of whole chunks: rows with no chunk and with two chunks
            # rows: the step a decoding request sees (one chunk's step where ccm), the step carrying a prompt's
            # chunk, the prefill-only step, then the ccm points' decode-only and two-chunk steps
            rows = np.concatenate([work, work, work[sep], work[ccm], work[ccm]])
            ca = _rows(c, rows)
            graph = c["has_graph"][work] != 0
            # share read by CUDA-graph mean-load steps and by sep steps
            need_share = np.flatnonzero((graph & mix & ~cc) | ~mix)
            P, N, cd, cp, steps = prompt[work], n[work], cd_all[work], cp_all[work], steps_all[work]
            bud, fe = budget[work], frontend[work]
            fe_any = bool(fe.any())
            cd3, cp3 = cd_all[rows], cp_all[rows]
            zero, zsep = np.zeros(size), np.zeros(sep.size)
            zcc, ocp = np.zeros(ccm.size), np.ones(ccm.size)
            at_cc = 2 * size + sep.size  # where the ccm rows start
            scale = (N - 1.0) / N
            nd, others = nd_all[work], others_all[work]
            damp, last_nd, last_o = damp_all[work], last_nd_all[work], last_o_all[work]
            ratio_nd, ratio_o = ratio_nd_all[work], ratio_o_all[work]
            ttft_w, tpot_w, x_w = np.empty(size), np.empty(size), np.empty(size)
        chunk = np.maximum(bud - nd, 1.0) if all_mixed else np.where(mix, np.maximum(bud - nd, 1.0), bud)
        own = np.minimum(P, chunk)
        chunks = np.ceil(P / chunk)
        own1 = np.maximum(own, 1.0)
        share = np.zeros(size)  # share of steps with others' prefill
        if need_share.size:
            share[need_share] = 1.0 - sn._exp(-(others[need_share] / own1[need_share]))
        seen = np.maximum(nd, 1.0)
        # the first row: the step at the mean prefill load, or (chunk_count) the step with one whole chunk
        np1, prior1, g1 = others, others * cp / own1, 1.0 - share
        if ccm.size:
            np1, prior1, g1 = np.where(cc, own, np1), np.where(cc, cp, prior1), np.where(cc, 0.0, g1)
        cc_nd = np.concatenate([seen[ccm], seen[ccm]])
        cc_np = np.concatenate([zcc, 2.0 * own[ccm]])
        cc_prior = np.concatenate([zcc, 2.0 * cp[ccm]])
        cc_graph = np.concatenate([ocp, zcc])
        if all_mixed:  # the decoding request's step carries the others' prefill
            t = sn.pass_time(ca, np.concatenate([seen, nd, cc_nd]), cd3, np.concatenate([np1, own + others, cc_np]),
                             cp3, np.concatenate([prior1, P / 2.0 - own / 2.0, cc_prior]),
                             np.concatenate([g1, zero, cc_graph]))
            tpot, t_chunk = t[:size].copy() if ccm.size else t[:size], t[size:2 * size]
            bare = None
        else:  # separate prefill: a decode-only step and, with probability share, the others' prefill-only step
            sh = share[sep]
            with np.errstate(divide="ignore", invalid="ignore"):
                batch_pf = np.where(sh > 0, others[sep] / sh, 0.0)
            t = sn.pass_time(ca, np.concatenate([seen, np.where(mix, nd, 0.0), zsep, cc_nd]), cd3,
                             np.concatenate([np.where(mix, np1, 0.0), own + others, batch_pf, cc_np]), cp3,
                             np.concatenate([np.where(mix, prior1, 0.0), P / 2.0 - own / 2.0,
                                             batch_pf * cp[sep] / own1[sep], cc_prior]),
                             np.concatenate([np.where(mix, g1, 1.0), zero, zsep, cc_graph]))
            tpot, t_chunk = t[:size].copy(), t[size:2 * size]
            bare = t[:size].copy() if cc_any else None  # the decode-only step of the sep points
            tpot[sep] = tpot[sep] + sh * np.where(batch_pf != 0, t[2 * size:at_cc], 0.0)
        if ccm.size:  # scheduler.expected_mixed_step: E[f(K)], K ~ Poisson(lam) whole chunks
            f1 = tpot[ccm]
            f0, f2 = t[at_cc:at_cc + ccm.size], t[at_cc + ccm.size:]
            lam = others[ccm] / own1[ccm]
            p0 = sn._exp(-lam)
            mean = p0 * f0 + (1.0 - p0) * f1 + (f2 - f1) * (lam - (1.0 - p0))
            tpot[ccm] = np.where(lam <= 0.0, f0, mean)
            if bare is None:
                bare = np.zeros(size)
            bare[ccm] = f0
        service = chunks * t_chunk
        x_new = N / ((service + fe if fe_any else service) + steps * tpot)
        rho = x_new * P * t_chunk / chunk
        if cc_any:  # discrete steps: one step holds floor(c / own) whole chunks of a prompt's ceil(P / c)
            per_step = np.maximum(1.0, np.floor(chunk / own1))
            rho = np.where(cc, x_new * chunks * t_chunk / per_step, rho)
        rho = np.where(rho >= 1.0, RHO_CAP, rho)
        wait = scale * rho / (2.0 * (1.0 - rho)) * service
        wait = np.minimum(wait, (N - 1.0) * P / chunk * t_chunk)
        if cc_any:  # Schweitzer-Bard queueing, then the residual of the decode step in progress (no cap)
            w = _closed_loop_wait(N, service / per_step, steps * tpot + fe)
            w = w + scale * (1.0 - rho) * bare / 2.0
            wait = np.where(cc, w, wait)
        ttft = wait + service + fe if fe_any else wait + service
        x_new = N / (ttft + steps * tpot)
        nd_new = x_new * steps * tpot
        others_new = x_new * P * tpot * scale
        step_nd, step_o = nd_new - nd, others_new - others
        done = (np.abs(step_nd) <= TOLERANCE * np.maximum(nd, 1.0)) \
            & (np.abs(step_o) <= TOLERANCE * np.maximum(others, 1.0))
        np.copyto(ttft_w, ttft, where=live)
        np.copyto(tpot_w, tpot, where=live)
        np.copyto(x_w, x_new, where=live)
        # scheduler.overshoots on arrays: the point damps from this pass on
        over = ((step_nd * last_nd < 0.0) & (np.abs(step_nd) > OSCILLATION_RATIO * np.abs(last_nd))) \
            | ((step_o * last_o < 0.0) & (np.abs(step_o) > OSCILLATION_RATIO * np.abs(last_o)))
        damp = np.where(over, DAMPING, damp)
        nd, last_nd, ratio_nd = _next_iterate(nd, nd_new, step_nd, last_nd, ratio_nd, damp)
        others, last_o, ratio_o = _next_iterate(others, others_new, step_o, last_o, ratio_o, damp)
        settled = live & done
        if settled.any():
            idx = np.flatnonzero(settled)
            w = work[idx]
            ttft_out[w], tpot_out[w], x_out[w] = ttft_w[idx], tpot_w[idx], x_w[idx]
            live &= ~done
        if 2 * int(live.sum()) < size:  # the next pass re-gathers: keep the state of the points still iterating
            nd_all[work], others_all[work] = nd, others
            damp_all[work], last_nd_all[work], last_o_all[work] = damp, last_nd, last_o
            ratio_nd_all[work], ratio_o_all[work] = ratio_nd, ratio_o
    else:  # the iteration cap: the last pass's figures, as the scalar loop returns them
        w = work[live]
        ttft_out[w], tpot_out[w], x_out[w] = ttft_w[live], tpot_w[live], x_w[live]
    return ttft_out, tpot_out, x_out
