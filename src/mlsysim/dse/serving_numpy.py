"""The serving tier's inner physics vectorised with numpy (optional extra `mlsysim[dse]`): StepModel.time /
pass_time and the closed-loop steady state of core.serving.scheduler over every (prompt, clients) point of one
replica at once. The same formulas in the same order on float64 arrays; exp and pow go through Python's math
per element (numpy's SIMD exp/pow differ from libm in the last bit), so each point follows the scalar
iteration bit for bit. A point stops iterating when its own fixed point converges, as the scalar loop does;
property tests (tests/test_dse_serving_tier.py) hold it to ServingModel.solve."""
from __future__ import annotations

import math

import numpy as np

from ..core.serving.comm import ALL_REDUCE_LATENCY_FLOOR, ALL_TO_ALL_LATENCY_FLOOR
from ..core.serving.scheduler import DAMPING, MAX_ITERATIONS, TOLERANCE
from ..core.serving.step import ELEMENTWISE_HIDDEN_PASSES, StepModel

RHO_CAP = 1.0 - 1e-9  # scheduler.steady_state's closed-loop cap on the prefill budget's utilisation


def _exp(x: np.ndarray) -> np.ndarray:
    return np.fromiter(map(math.exp, x.tolist()), dtype=float, count=x.size)


def _pow(base: np.ndarray, exps: np.ndarray) -> np.ndarray:
    return np.fromiter(map(pow, base.tolist(), exps.tolist()), dtype=float, count=exps.size)


def step_params(s: StepModel) -> dict:
    """The constants of one StepModel that StepModel.time reads, as floats (sub-expressions of constants only,
    in the order time() forms them, so the per-point arithmetic is unchanged)."""
    m, lay = s.m, s.lay
    d = m.hidden_size
    out = {"Ls": s.Ls, "attn_w": s.attn_w, "attn_bytes": s.attn_w * s.Ls * s.wb, "w_qkvo": 2 * d + s.qkvo_width,
           "kv_el": s.kv_el, "kvb": s.kvb, "qkvo_width": s.qkvo_width, "attn_flops": s.attn_flops,
           "dense_w": s.dense_w, "dense_bytes": s.dense_w * s.wb, "has_dense": 1.0 if s.dense_w else 0.0,
           "ffn_tokens_layers": s.dense_layers + (s.moe_layers if s.moe and m.shared_experts else 0.0),
           "w_ffn": 2 * d + s.gated * s.ffn_width, "w_elem": ELEMENTWISE_HIDDEN_PASSES * d + s.gated * s.ffn_width,
           "head_w": s.head_w, "head_bytes": s.head_w * s.wb, "w_head": d + m.vocab_size / lay.tp,
           "d": float(d), "ab": s.ab, "F": s.flops, "B": s.bw, "tp": float(lay.tp), "pp": float(lay.pp),
           "link_bw": lay.link_bw, "a2a_bw": lay.a2a_bw, "ring": 2.0 * (lay.tp - 1) / lay.tp, "ring_latency": 2.0 * (lay.tp - 1) * lay.hop_latency,
           "pp_hops": float(lay.pp - 1), "hop": lay.hop_latency, "kernels": s.kernels, "host_pp": s.host / lay.pp,
           "eager": s.per_kernel_eager, "graph_cost": s.per_kernel_graph or 0.0,
           "has_graph": 1.0 if s.per_kernel_graph is not None else 0.0, "moe": 1.0 if s.moe else 0.0}
    if s.moe:
        k, E, ep = m.experts_per_token, m.experts, lay.ep
        out.update({"moe_layers": s.moe_layers, "dp": float(lay.dp), "k": float(k), "ep": float(ep),
                    "inv_ep": 1.0 / ep, "spread": 1.0 - 1.0 / ep,
                    "sqrt2lnep": math.sqrt(2.0 * math.log(ep)) if ep > 1 else 0.0, "E_ep": E / ep,
                    "miss": 1.0 - k / E, "expert_w": s.expert_w, "wb": s.wb,
                    "w_expert": 2 * d + s.gated * m.expert_ffn_size / lay.expert_tp,
                    "router_bytes": m.router_parameters_per_layer * s.wb, "ep_remote": float(ep - 1)})
    return out


def step_time(c: dict, nd, cd, np_, cp, prior, graph) -> np.ndarray:
    """StepModel.time(nd, cd, np_, cp, prior, out_tokens=None, graph) on arrays, with the step's constants `c`
    given per point (step_params gathered; dense and MoE models together): T > 0 everywhere; terms of layouts
    without them (tp = 1, ep = 1, no dense FFN, no experts) are 0.0, as the scalar code adds nothing."""
    ab, d, F, B, Ls = c["ab"], c["d"], c["F"], c["B"], c["Ls"]
    T = nd + np_
    heads = nd + np.where(np_ > 0, 1.0, 0.0)
    busy = np.maximum(2.0 * T * c["attn_w"] * Ls / F, (c["attn_bytes"] + Ls * T * c["w_qkvo"] * ab) / B)
    kv = Ls * c["kv_el"] * c["kvb"]
    kv_read = kv * (nd * cd + prior)
    kv_write = kv * T
    busy = busy + np.maximum(c["attn_flops"] * Ls * (nd * cd + np_ * cp) / F,
                             (kv_read + kv_write + Ls * np_ * c["qkvo_width"] * ab) / B)
    dense = np.maximum(2.0 * T * c["dense_w"] / F, (c["dense_bytes"] + c["ffn_tokens_layers"] * T * c["w_ffn"] * ab) / B)
    busy = busy + np.where(c["has_dense"] != 0, dense, 0.0)
    a2a = 0.0
    i = c["_moe_i"]
    if i.size:  # the routed experts of the MoE points (the others add 0.0, as the scalar code adds nothing)
        term, comm = _moe_terms(c["_moe_c"], T[i])
        extra = np.zeros_like(T)
        extra[i] = term
        busy = busy + extra
        a2a = np.zeros_like(T)
        a2a[i] = comm
    busy = busy + Ls * T * c["w_elem"] * ab / B
    busy = busy + np.maximum(2.0 * heads * c["head_w"] / F, (c["head_bytes"] + heads * c["w_head"] * ab) / B)
    nbytes = T * d * ab
    ring = c["ring"] * nbytes / c["link_bw"] + c["ring_latency"]  # collectives.all_reduce
    tp_comm = np.where(c["tp"] > 1, 2.0 * Ls * np.maximum(ALL_REDUCE_LATENCY_FLOOR, ring), 0.0)
    sends = c["pp_hops"] * (nbytes / c["link_bw"] + c["hop"]) / c["pp"]  # comm.pp_send / pp: 0.0 when pp = 1
    g = graph
    per_kernel = np.where((c["has_graph"] != 0) & (g != 0), g * c["graph_cost"] + (1.0 - g) * c["eager"], c["eager"])
    return busy + tp_comm + a2a + sends + c["kernels"] * per_kernel + c["host_pp"]


def _moe_terms(c: dict, T: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """StepModel.time's routed-expert phase and its all-to-all (comm.max_expert_load, comm.ep_all_to_all)."""
    ab, d, F, B = c["ab"], c["d"], c["F"], c["B"]
    ep = c["ep"]
    routed = T * c["dp"] * c["k"]
    mean = routed / ep
    sigma = np.sqrt(routed * c["inv_ep"] * c["spread"])
    load = np.where(ep <= 1, routed, np.minimum(routed, mean + sigma * c["sqrt2lnep"]))
    hit = c["E_ep"] * (1.0 - _pow(c["miss"], np.maximum(T * c["dp"], 1.0)))
    term = c["moe_layers"] * np.maximum(
        2.0 * load * c["expert_w"] / F,
        (hit * c["expert_w"] * c["wb"] + load * c["w_expert"] * ab + c["router_bytes"]) / B)
    sent = T * c["k"] * d * ab * c["ep_remote"] / ep
    comm = np.where(ep > 1, 2.0 * c["moe_layers"] * np.maximum(ALL_TO_ALL_LATENCY_FLOOR, sent / c["a2a_bw"]), 0.0)
    return term, comm


def pass_time(c: dict, nd, cd, np_, cp, prior, graph) -> np.ndarray:
    """StepModel.pass_time: pp x the stage time of a 1/pp micro-batch (exactly time() itself when pp = 1)."""
    pp = c["pp"]
    return pp * step_time(c, nd / pp, cd, np_ / pp, cp, prior / pp, graph)


def steady_closed(c: dict, prompt: np.ndarray, output: np.ndarray, budget: np.ndarray,
                  clients: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ttft, tpot, request rate) of scheduler.steady_state(step, prompt, output, budget, clients=clients) for
    each point (`c`: its step's constants, arrays over the points): the closed loop's damped fixed point, each
    point iterated until it converges."""
    prompt = prompt.astype(float)
    n = clients.astype(float)
    cd_all = prompt + output / 2.0
    cp_all = prompt / 2.0
    steps_all = output - 1.0
    nd_all = n * steps_all / (steps_all + 1.0)
    others_all = np.zeros_like(n)
    ttft_out, tpot_out, x_out = np.empty_like(n), np.empty_like(n), np.empty_like(n)
    active = np.arange(n.size)
    size = -1
    for _ in range(MAX_ITERATIONS):
        if not active.size:
            break
        if active.size != size:  # gather the constants of the points still iterating (only when that set shrank)
            size = active.size
            both = np.concatenate([active, active])  # the TPOT step and the chunk step in one call
            ca = {k: v[both] for k, v in c.items()}
            ca["_moe_i"] = np.flatnonzero(ca["moe"] != 0)
            ca["_moe_c"] = {k: v[ca["_moe_i"]] for k, v in ca.items() if k != "_moe_i"}
            graph_i = np.flatnonzero(c["has_graph"][active] != 0)  # only CUDA-graph steps read the prefill share
            P, N, cd, cp, steps = prompt[active], n[active], cd_all[active], cp_all[active], steps_all[active]
            bud = budget[active]
            cd2, cp2, zero = cd_all[both], cp_all[both], np.zeros(size)
        nd, others = nd_all[active], others_all[active]
        chunk = np.maximum(bud - nd, 1.0)
        own = np.minimum(P, chunk)
        chunks = np.ceil(P / chunk)
        own1 = np.maximum(own, 1.0)
        share = np.zeros_like(own1)  # share of steps with others' prefill: read only by a CUDA-graph runtime
        if graph_i.size:
            lam = others[graph_i] / own1[graph_i]
            share[graph_i] = 1.0 - _exp(-lam)
        seen = np.maximum(nd, 1.0)
        # the step a decoding request sees (TPOT) and the step carrying a prompt's chunk, stacked
        t = pass_time(ca, np.concatenate([seen, nd]), cd2, np.concatenate([others, own + others]), cp2,
                      np.concatenate([others * cp / own1, P / 2.0 - own / 2.0]), np.concatenate([1.0 - share, zero]))
        tpot, t_chunk = t[:size], t[size:]
        service = chunks * t_chunk
        x_new = N / (service + steps * tpot)
        rho = x_new * P * t_chunk / chunk
        rho = np.where(rho >= 1.0, RHO_CAP, rho)
        scale = (N - 1.0) / N
        wait = scale * rho / (2.0 * (1.0 - rho)) * service
        wait = np.minimum(wait, (N - 1.0) * P / chunk * t_chunk)
        ttft = wait + service
        x_new = N / (ttft + steps * tpot)
        nd_new = x_new * steps * tpot
        others_new = x_new * P * tpot * scale
        done = (np.abs(nd_new - nd) <= TOLERANCE * np.maximum(nd, 1.0)) \
            & (np.abs(others_new - others) <= TOLERANCE * np.maximum(others, 1.0))
        nd_all[active] = DAMPING * nd + (1.0 - DAMPING) * nd_new
        others_all[active] = DAMPING * others + (1.0 - DAMPING) * others_new
        ttft_out[active], tpot_out[active], x_out[active] = ttft, tpot, x_new
        active = active[~done]
    return ttft_out, tpot_out, x_out


def gather(params: list[dict], index: np.ndarray) -> dict:
    """Per-point arrays of the step constants: params[i] for each point's group index (the MoE constants 0.0
    on dense models' points, where no term reads them)."""
    keys = dict.fromkeys(k for p in params for k in p)
    return {k: np.array([p.get(k, 0.0) for p in params], dtype=float)[index] for k in keys}


def group_constants(g) -> dict:
    """What ServingModel._solve_parallel's admission and figures read of one group (serving_tier._Group)."""
    from ..core.serving.kv import LIVE_FFN, LIVE_HIDDEN, usable_memory

    s, p, lay, m = g.step, g.params, g.lay, g.m
    vocab_gpu = m.vocab_size / lay.tp
    reserve = g.rt.memory_reserve if g.rt is not None else None
    held0, share = reserve.parts(g.cap, g.cls.name) if reserve is not None else (0.0, 0.0)
    return {"usable_fixed": usable_memory(g.cap, p, g.cls, None, 0.0), "reserve_on": float(reserve is not None),
            "cap": g.cap, "reserve_held": held0, "reserve_share": share, "weights": g.weights, "kv_per_token": g.kv_per_token, "block": float(p.block_tokens),
            "max_seqs": float(p.max_num_seqs) if p.max_num_seqs is not None else math.inf,
            # kv.live_activations(budget, d, ffn, vocab/tp, batch, ab): the budget's part, then batch x logits
            "acts_budget": g.budget * (LIVE_HIDDEN * m.hidden_size + LIVE_FFN * s.ffn_width) * s.ab,
            "vocab_gpu": vocab_gpu, "output": float(g.output), "dp": float(lay.dp), "tp": float(lay.tp),
            "pp": float(lay.pp), "idle": g.idle, "tdp": g.tdp, "peak": g.prec.peak_flops, "gpus": float(lay.gpus), "flops_per_token": g.flops_per_token,
            "mfu_denominator": lay.gpus * g.prec.peak_flops, "matmul_per_token": g.matmul_per_token,
            "bw": s.bw, "F": s.flops, "budget": float(g.budget)}


def admit(k: dict, batch: np.ndarray, prompt: np.ndarray) -> tuple:
    """serving_tier._admit on arrays: (fits, KV slots, queued, preempting, clients)."""
    acts = k["acts_budget"] + batch * k["vocab_gpu"] * 4.0
    # kv.usable_memory: the runtime's reserve (MemoryReserve.bytes_on on arrays) or the fixed usable bytes
    free = k["cap"] - k["reserve_held"] - (k["weights"] + acts)
    reserved = k["reserve_held"] + k["reserve_share"] * (free + np.abs(free)) / 2.0
    usable = np.where(k["reserve_on"] > 0, k["cap"] - reserved, k["usable_fixed"])
    pool = usable - k["weights"] - acts  # kv.kv_capacity
    per_seq = np.ceil((prompt + k["output"]) / k["block"]) * k["block"]
    with np.errstate(divide="ignore", invalid="ignore"):
        slots = np.where((pool > 0) & (k["kv_per_token"] > 0), np.floor_divide(pool, per_seq * k["kv_per_token"]), 0.0)
    slots = np.maximum(slots, 0.0)
    fits = k["weights"] + acts < usable
    queued = np.where(batch > k["max_seqs"], batch - k["max_seqs"], 0.0)
    full = (0 < slots) & (slots < batch - queued)  # a full cache admits no more: the rest wait
    over = batch - queued - slots
    queued = np.where(full, queued + over, queued)
    preempting = np.where(full, batch - queued + over, 0.0)
    return fits, slots, queued, preempting, batch - queued


def figures(k: dict, batch, prompt, adm, ttft, tpot, rate) -> tuple:
    """serving_tier._figures on arrays: (latency, throughput, energy, mfu, feasible, compute-bound, ok) where ok
    marks the points whose figures pass check_outputs' common case (the others go to the scalar solve)."""
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
        step_bytes = k["weights"] + np.maximum(running, 1.0) * (prompt + output / 2.0) * k["kv_per_token"]
        activity = np.minimum(1.0, np.maximum(mfu * k["peak"] / k["F"], step_bytes / k["bw"] / tpot))
        power = (k["idle"] + (k["tdp"] - k["idle"]) * activity) * k["gpus"]
        energy = np.where(rate_replica > 0, power / rate_replica, power * latency)
        ok = (_TINY <= latency) & (latency < np.inf) & (_TINY <= throughput) & (throughput < np.inf) \
            & (_TINY <= energy) & (energy < np.inf) & (mfu >= 0.0) & (mfu <= MAX_EFFICIENCY + MFU_ROUNDING_TOLERANCE)
        cd = prompt + output / 2.0
        n = np.maximum(running, 1.0)  # model._decode_memory_bound
        flops = 2.0 * n * k["matmul_per_token"] / k["tp"] / k["pp"]
        compute = ~((k["weights"] + n * cd * k["kv_per_token"]) / k["bw"] >= flops / k["F"])
    return latency, throughput, energy, np.minimum(mfu, MAX_EFFICIENCY), feasible, compute, ok, ttft


_TINY = 2.2250738585072014e-308  # check_outputs' smallest normal result (sys.float_info.min)
