"""The serving tier's inner physics vectorised with numpy (optional extra `mlsysim[dse]`): StepModel.time /
pass_time over every point of a sweep at once, dense and MoE models, any layout, the runtime's attention
bandwidth share (paged attention), the host's work per step and per request (a + b n) and sliding-window
attention. The same formulas in the same order on float64
arrays; exp and pow go through Python's math per element (numpy's SIMD exp/pow differ from libm in the last
bit), so each point follows the scalar arithmetic bit for bit. The closed-loop steady state that iterates it
is serving_steady.steady_closed; property tests (tests/test_dse_serving_tier.py, tests/test_dse_serving_paged.py)
hold both to ServingModel.solve."""
from __future__ import annotations

import math

import numpy as np

from ..core.serving.comm import ALL_REDUCE_LATENCY_FLOOR, ALL_TO_ALL_LATENCY_FLOOR
from ..core.serving.step import ELEMENTWISE_HIDDEN_PASSES, StepModel

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
           "prompt_pair_scale": s.prompt_pair_scale,
           "dense_w": s.dense_w, "dense_bytes": s.dense_w * s.wb, "has_dense": 1.0 if s.dense_w else 0.0,
           "ffn_tokens_layers": s.dense_layers + (s.moe_layers if s.moe and m.shared_experts else 0.0),
           "w_ffn": 2 * d + s.gated * s.ffn_width, "w_elem": ELEMENTWISE_HIDDEN_PASSES * d + s.gated * s.ffn_width,
           "head_w": s.head_w, "head_bytes": s.head_w * s.wb, "w_head": d + m.vocab_size / lay.tp,
           "d": float(d), "ab": s.ab, "F": s.flops, "B": s.bw, "attn_bw": s.attn_bw, "tp": float(lay.tp), "pp": float(lay.pp),
           "link_bw": lay.link_bw, "a2a_bw": lay.a2a_bw, "ring": 2.0 * (lay.tp - 1) / lay.tp, "ring_latency": 2.0 * (lay.tp - 1) * lay.hop_latency,
           "pp_hops": float(lay.pp - 1), "hop": lay.hop_latency, "kernels": s.kernels, "host_pp": s.host / lay.pp,
           "host": s.host, "host_req": s.host_req,
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
    given per point (step_params gathered, then row_flags; dense and MoE models together): T > 0 everywhere;
    terms of layouts without them (tp = 1, pp = 1, no dense FFN, no experts, no CUDA graphs) are 0.0 or skipped
    when no row has them, as the scalar code adds nothing (x + 0.0 == x)."""
    ab, F, B, Ls = c["ab"], c["F"], c["B"], c["Ls"]
    T = nd + np_
    heads = nd + (np_ > 0)
    busy = np.maximum(2.0 * T * c["attn_w"] * Ls / F, (c["attn_bytes"] + Ls * T * c["w_qkvo"] * ab) / B)
    kv = c["_kv"]  # Ls x kv_el x kvb
    if c["_span"]:  # windowed layers (StepModel.read_tokens / kv_tokens / _pairs; constants per point: span_point)
        held = c["kvt_per_layer"] * (c["kvt_full"] * prior + c["kvt_win"] * np.minimum(prior, c["kvt_size"]))
        kv_read = kv * (nd * c["read_cd"] + np.where(c["span"] != 0, held / c["kvt_per_token"], prior))
        pairs = nd * c["pairs_cd"] / c["pairs_div"] + np_ * c["pairs_cp"] / c["pairs_div"]
    else:
        kv_read = kv * (nd * cd + prior)
        pairs = nd * cd + np_ * cp * c["prompt_pair_scale"]
    busy = busy + np.maximum(c["attn_flops"] * Ls * pairs / F,
                             (kv_read + kv * T + Ls * np_ * c["qkvo_width"] * ab) / c["attn_bw"])
    dense = np.maximum(2.0 * T * c["dense_w"] / F, (c["dense_bytes"] + c["ffn_tokens_layers"] * T * c["w_ffn"] * ab) / B)
    busy = busy + (dense if c["_dense_all"] else np.where(c["has_dense"] != 0, dense, 0.0))
    i = c["_moe_i"]
    if i.size:  # the routed experts of the MoE points (the others add 0.0, as the scalar code adds nothing)
        term, comm = _moe_terms(c["_moe_c"], T[i])
        extra = np.zeros_like(T)
        extra[i] = term
        busy = busy + extra
    busy = busy + Ls * T * c["w_elem"] * ab / B
    busy = busy + np.maximum(2.0 * heads * c["head_w"] / F, (c["head_bytes"] + heads * c["w_head"] * ab) / B)
    if c["_tp"] or c["_pp"]:
        nbytes = T * c["d"] * ab
    if c["_tp"]:  # tensor-parallel all-reduces (comm.tp_all_reduce; collectives.all_reduce's ring)
        ring = c["ring"] * nbytes / c["link_bw"] + c["ring_latency"]
        busy = busy + np.where(c["tp"] > 1, 2.0 * Ls * np.maximum(ALL_REDUCE_LATENCY_FLOOR, ring), 0.0)
    if i.size:
        extra = np.zeros_like(T)
        extra[i] = comm
        busy = busy + extra
    if c["_pp"]:  # comm.pp_send / pp: 0.0 when pp = 1
        busy = busy + c["pp_hops"] * (nbytes / c["link_bw"] + c["hop"]) / c["pp"]
    # host work a + b x (requests sampling a token) per step (x + 0.0 * heads == x where b = 0), over pp
    host = (c["host"] + c["host_req"] * heads) / c["pp"] if c["_host_req"] else c["host_pp"]
    if c["_graph"]:
        g = graph
        per_kernel = np.where((c["has_graph"] != 0) & (g != 0), g * c["graph_cost"] + (1.0 - g) * c["eager"],
                              c["eager"])
        return busy + c["kernels"] * per_kernel + host
    return busy + c["_launch"] + host  # kernels x eager


def row_flags(ca: dict) -> dict:
    """The per-row products of constants step_time reads, and which optional terms any row has."""
    ca["_kv"] = ca["Ls"] * ca["kv_el"] * ca["kvb"]
    ca["_launch"] = ca["kernels"] * ca["eager"]
    ca["_dense_all"] = bool((ca["has_dense"] != 0).all())
    ca["_tp"] = bool((ca["tp"] > 1).any())
    ca["_pp"] = bool((ca["pp"] > 1).any())
    ca["_graph"] = bool((ca["has_graph"] != 0).any())
    ca["_host_req"] = bool((ca["host_req"] != 0).any())
    ca["_moe_i"] = np.flatnonzero(ca["moe"] != 0)
    ca["_moe_c"] = {k: v[ca["_moe_i"]] for k, v in ca.items() if k[0] != "_"}
    ca["_span"] = bool(ca["span"].any())
    return ca


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
    if not c["_pp"]:
        return step_time(c, nd, cd, np_, cp, prior, graph)
    pp = c["pp"]
    return pp * step_time(c, nd / pp, cd, np_ / pp, cp, prior / pp, graph)


def span_point(step: StepModel, prompt: float, output: float) -> dict:
    """The per-point constants of StepModel.time's windowed-attention path (sliding windows: read tokens and
    attention pairs at the point's mean contexts, the kv_elements_at split for kv_tokens(prior)); the dense
    values (identities: x / 1.0 == x) where every layer spans the whole context."""
    cd, cp = prompt + output / 2.0, prompt / 2.0
    m = step.m
    if not step.span:
        return {"span": 0.0, "read_cd": cd, "pairs_cd": cd, "pairs_cp": cp, "pairs_div": 1.0, "kvt_per_layer": 0.0,
                "kvt_full": 0.0, "kvt_win": 0.0, "kvt_size": 0.0, "kvt_per_token": 1.0}
    from ..core.attention_span import attention_flops_per_query

    win = m.sliding_window.layers
    return {"span": 1.0, "read_cd": step.read_tokens(cd), "pairs_cd": attention_flops_per_query(m, cd),
            "pairs_cp": attention_flops_per_query(m, 2.0 * cp, causal_prompt=True),
            "pairs_div": m.attention_flops_per_token_per_context,
            # TransformerSpec.kv_elements_at(prior) of a model whose only span limit is its window
            "kvt_per_layer": m.kv_elements_per_token / m.layers, "kvt_full": float(m.layers - win),
            "kvt_win": float(win), "kvt_size": float(m.sliding_window.size),
            "kvt_per_token": float(m.kv_elements_per_token)}


def vectorisable(m) -> bool:
    """Models StepModel.time's arrays cover: whole-context attention, or sliding windows (no linear-attention
    states, no sparse top-k selection, no attention-free layers: those points iterate core.serving.scheduler per
    point)."""
    return m.linear_attention is None and m.sparse_attention is None and not m.attention_free_layers
