"""The serving tier of a sweep without a full ServingModel.solve per point: what a solve derives from (model,
hardware, precision) alone -- the replica's layout, precisions, runtime parameters, step model, memory
budget (ServingModel.build_step) -- is built once per group, and only the per-point physics runs per point:
the KV-cache capacity (reserved whole or paged on demand), the scheduler's admission, the continuous-batching
steady state (mixed or prefill-only steps, the frontend's latency; vectorised over the points with numpy when
installed, serving_steady, else core.serving.scheduler.steady_state per point), and the six figures exactly as
ServingModel._solve_parallel forms them. The single-device reference profiles a ServingResult carries (prefill,
decode) are not built: the table does not hold them.

Covered: continuous batching in a closed loop (requests in flight = batch_size) with any layout, any runtime (host
work a + b n per step, discrete steps of whole prompt chunks -- serving.prefill_step_model = "chunk_count" -- both
vectorised; prompt_lengths, which sets only the median inter-token gap the table does not hold; the deployment's
memory_fraction and max_num_seqs, part of the group's runtime parameters) and any attention
(sliding windows vectorised; hybrid / gated attention weights as StepModel reads them from the spec; linear-attention
and sparse top-k models through the scalar steady state per point). Everything else (arrival_rate, disaggregated, speculative, static batching), a group whose
setup raises, a point whose figures fail the solver's output checks: ServingModel.solve itself, so the row and
its error are the solver's own."""
from __future__ import annotations

import math
from typing import Any

from ..core.inputs import MAX_EFFICIENCY, MFU_ROUNDING_TOLERANCE, check_positive_int
from ..core.serving.power import serving_power, step_activity
from ..core.serving.scheduler import steady_state
from .engine_tier import UNITS, _precision
from .grid import Space
from .scalar_tier import DEFAULT_OUTPUT_LEN, _serving, prompt_len

_TINY, _INF = 2.2250738585072014e-308, float("inf")  # check_outputs' bounds (sys.float_info.min)
# ServingModel.solve keywords the grouped tier reproduces (the rest take the scalar solve).
# prompt_lengths sets only the median inter-token gap (itl_p50), which the table does not hold.
GROUPED_OPTIONS = ("output_len", "tensor_parallel", "expert_parallel", "data_parallel", "pipeline_parallel",
                   "runtime", "weight_only", "kv_precision", "max_num_batched_tokens", "batching", "prompt_lengths",
                   "memory_fraction", "max_num_seqs")


def grouped_applies(space: Space) -> bool:
    opts = dict(space.options)
    return space.solver == "serving" and all(k in GROUPED_OPTIONS for k in opts) \
        and opts.get("batching", "continuous") == "continuous"


class _Group:
    """ServingModel._solve_parallel's setup for one (model, hardware, precision) of the grid."""

    def __init__(self, space: Space, mi: int, hi: int, pi: int):
        from ..core.serving import ServingModel
        from ..core.serving.model import PROMPT_LENGTHS
        from ..specs.models import TransformerSpec

        o = dict(space.options)
        m = space.models[mi]
        if not isinstance(m, TransformerSpec) or m.architecture == "encoder":
            raise ValueError("not served")  # the scalar solve words the error
        if o.get("prompt_lengths", "fixed") not in PROMPT_LENGTHS:
            raise ValueError("prompt_lengths")  # the scalar solve words the error
        self.m = m
        self.output = check_positive_int("output_len", o.get("output_len", DEFAULT_OUTPUT_LEN))
        lay, hw, rt, prec, kvb, cls, params, step = ServingModel().build_step(
            m, space.hardware[hi], _precision(space, pi), space.efficiency, o.get("tensor_parallel", 1),
            o.get("expert_parallel", 1), o.get("data_parallel", 1), o.get("pipeline_parallel", 1),
            o.get("runtime"), o.get("weight_only", False), o.get("kv_precision"), o.get("memory_fraction"),
            o.get("max_num_seqs"))
        budget = o.get("max_num_batched_tokens")
        self.budget = params.token_budget if budget is None else check_positive_int("max_num_batched_tokens", budget)
        self.lay, self.hw, self.prec, self.params, self.step = lay, hw, prec, params, step
        self.cap = hw.memory._capacity
        self.rt, self.cls = rt, cls
        self.weights = step.weight_bytes_per_gpu()
        self.kv_per_token = step.kv_bytes_per_token()
        self.idle, self.tdp = hw.power._idle, hw.power._tdp
        self.matmul_per_token = m.matmul_parameters_per_token
        self.flops_per_token = 2.0 * self.matmul_per_token
        self.mixed, self.frontend = params.mixed_prefill, params.frontend_latency
        self.chunk_count = params.chunk_count_steps  # discrete steps of whole chunks (serving.prefill_step_model)


def _steady(g: _Group, prompt: int, clients: float) -> tuple[float, float, float]:
    st = steady_state(g.step, prompt, g.output, g.budget, clients=clients, mixed=g.mixed, frontend=g.frontend,
                      chunk_count=g.chunk_count)
    return st.ttft, st.tpot, st.request_rate


def _admit(g: _Group, batch: int, prompt: int) -> tuple:
    """Memory fit, KV slots, queued and preempting requests, clients in the loop (ServingModel's admission)."""
    from ..core.serving.kv import kv_capacity, live_activations, usable_memory

    s, p = g.step, g.params
    acts = live_activations(g.budget, g.m.hidden_size, s.ffn_width, g.m.vocab_size / g.lay.tp, batch, s.ab)
    usable = usable_memory(g.cap, p, g.cls, g.rt, g.weights + acts)
    kv = kv_capacity(g.cap, usable, g.weights, acts, g.kv_per_token, s.kv_tokens(prompt + g.output),
                     p.block_tokens, on_demand=p.on_demand_kv, mean_tokens=s.kv_tokens(prompt + g.output / 2.0))
    feasible = g.weights + acts < usable
    queued = preempting = 0
    if p.max_num_seqs is not None and batch > p.max_num_seqs:
        queued = batch - p.max_num_seqs
    if 0 < kv.slots < batch - queued:
        over = batch - queued - kv.slots
        queued += over
        preempting = batch - queued + over
    return feasible, kv.slots, queued, preempting, batch - queued


def _figures(g: _Group, batch: int, prompt: int, adm: tuple, ttft: float, tpot: float, rate: float) -> tuple | None:
    """(latency, throughput, energy, mfu, feasible, compute-bound, unit, ttft, tpot) as _solve_parallel forms
    them; None when they fail check_outputs (the scalar solve then words the error)."""
    feasible, slots, queued, preempting, _ = adm
    output = g.output
    if queued:  # Little's law: the queued clients wait queued / X before admission
        ttft += queued / rate
    latency = ttft + (output - 1) * tpot
    running = preempting if preempting else batch - queued
    if slots < math.ceil(running):
        feasible = False
    rate_replica = rate * g.lay.dp
    throughput = rate_replica * output
    mfu = g.flops_per_token * (prompt + output) * rate_replica / (g.lay.gpus * g.prec.peak_flops)
    # ServingModel's utilisation power (core/serving/power.py), same operations in the same order
    n_dec = max(running, 1.0)
    kv_cd = g.step.kv_tokens(prompt + output / 2.0)
    activity = step_activity(mfu, g.prec.peak_flops, g.step.flops, g.weights + n_dec * kv_cd * g.kv_per_token,
                             g.step.bw, tpot, g.cls.memory_bound_power_fraction)
    power = serving_power(g.idle, g.tdp, activity) * g.lay.gpus
    energy = power / rate_replica if rate_replica > 0 else power * latency
    if not (_TINY <= latency < _INF and _TINY <= throughput < _INF and _TINY <= energy < _INF
            and 0.0 <= mfu <= MAX_EFFICIENCY + MFU_ROUNDING_TOLERANCE):
        return None
    # model._decode_memory_bound with the group's weight and KV bytes per GPU (built once, not per point)
    n = max(running, 1.0)
    flops = 2.0 * n * g.matmul_per_token / g.lay.tp / g.lay.pp
    compute = not ((g.weights + n * kv_cd * g.kv_per_token) / g.step.bw >= flops / g.step.flops)
    return (latency, throughput, energy, min(mfu, MAX_EFFICIENCY), feasible, compute, UNITS.index("token"),
            ttft, tpot)


def _scalar_row(space: Space, flat: int) -> tuple | str:
    try:
        r = _serving(space, *space.unravel(flat))
    except Exception as exc:  # noqa: BLE001 -- the point's error, reported in its row
        return f"{type(exc).__name__}: {exc}"
    return (r.latency.m_as("s"), r.throughput.magnitude, r.energy.m_as("J"), float(r.mfu), bool(r.feasible),
            r.bottleneck == "Compute", UNITS.index("token"), r.ttft.m_as("s"), r.tpot.m_as("s"))


def solve_grouped(space: Space, start: int, stop: int, vectorised: bool, min_points: int = 0) -> dict:
    """Flat points [start, stop) of a serving sweep, grouped by (model, hardware, precision); vectorised when
    asked and the tier takes at least `min_points` of them."""
    groups: dict[tuple[int, int, int], Any] = {}
    order: dict[tuple[int, int, int], int] = {}
    pts: list[tuple[int, int, int, int]] = []  # (flat, group, batch, prompt) of the points the tier takes
    scalar: list[int] = []
    for flat, (mi, hi, bi, pi, si) in enumerate(space.indices(start, stop), start):
        key = (mi, hi, pi)
        if key not in groups:
            try:
                groups[key] = _Group(space, mi, hi, pi)
            except Exception:  # noqa: BLE001 -- every point of the group goes to the scalar solve
                groups[key] = None
            order[key] = len(order)
        g = groups[key]
        prompt = prompt_len(space.models[mi], space.seq_lens[si])
        if g is None or (g.m.position_embedding == "learned" and prompt + g.output > g.m.context_length):
            scalar.append(flat)
            continue
        pts.append((flat, order[key], space.batch_sizes[bi], prompt))
    if vectorised and len(pts) >= min_points:
        return _vectorised(space, start, stop, list(groups.values()), pts, scalar)
    rows: dict[int, Any] = dict.fromkeys(scalar)
    by_order = list(groups.values())
    for flat, gi, batch, prompt in pts:
        g = by_order[gi]
        adm = _admit(g, batch, prompt)
        rows[flat] = _figures(g, batch, prompt, adm, *_steady(g, prompt, adm[4]))
    keys = ["latency", "throughput", "energy", "mfu", "feasible", "compute_bound", "unit", "ttft", "tpot"]
    cols: dict[str, list] = {k: [] for k in keys}
    errors: dict[int, str] = {}
    nan = float("nan")
    for flat in range(start, stop):
        row = rows[flat]
        if row is None:
            row = _scalar_row(space, flat)
        if isinstance(row, str):
            errors[flat] = row
            row = (nan, nan, nan, nan, False, False, 0, nan, nan)
        for k, v in zip(keys, row):
            cols[k].append(v)
    return {"start": start, "stop": stop, "errors": errors, **cols}


def _vectorised(space: Space, start: int, stop: int, groups: list, pts: list, scalar: list) -> dict:
    """The tier's points in one vectorised admission, steady state and figures (points of models whose attention
    the arrays do not cover run the scalar steady state per point); the rest, and any point whose figures fail
    the output checks, through the scalar solve. Columns come back as arrays."""
    import numpy as np

    from . import serving_numpy as sn
    from . import serving_steady as ss

    n = stop - start
    nan = np.nan
    cols = {k: np.full(n, nan) for k in ("latency", "throughput", "energy", "mfu", "ttft", "tpot")}
    cols["feasible"] = np.zeros(n, dtype=bool)
    cols["compute_bound"] = np.zeros(n, dtype=bool)
    cols["unit"] = np.full(n, UNITS.index("token"), dtype=np.int8)
    if pts:
        flat = np.array([p[0] for p in pts], dtype=np.int64) - start
        gidx = np.array([p[1] for p in pts], dtype=np.int64)
        batch = np.array([p[2] for p in pts], dtype=float)
        prompt = np.array([p[3] for p in pts], dtype=float)
        used = sorted(set(gidx.tolist()))
        remap = np.zeros(len(groups), dtype=np.int64)
        remap[used] = np.arange(len(used))
        at = remap[gidx]
        ug = [groups[i] for i in used]
        k = ss.gather([ss.group_constants(g) for g in ug], at)
        c = ss.gather([sn.step_params(g.step) for g in ug], at)
        span_groups = [j for j, g in enumerate(ug) if g.step.span]
        kv_seq, kv_mean = prompt + k["output"], prompt + k["output"] / 2.0  # StepModel.kv_tokens, dense layers
        cd, cp = prompt + k["output"] / 2.0, prompt / 2.0
        c.update({"span": np.zeros(len(pts)), "read_cd": cd.copy(), "pairs_cd": cd.copy(), "pairs_cp": cp.copy(),
                  "pairs_div": np.ones(len(pts)), "kvt_per_layer": np.zeros(len(pts)), "kvt_full": np.zeros(len(pts)),
                  "kvt_win": np.zeros(len(pts)), "kvt_size": np.zeros(len(pts)), "kvt_per_token": np.ones(len(pts))})
        per_point = np.ones(len(pts), dtype=bool)  # points the arrays iterate (else the scalar steady state)
        if span_groups:
            kv_seq, kv_mean = kv_seq.copy(), kv_mean.copy()
            for j in span_groups:
                g = ug[j]
                idx = np.flatnonzero(at == j)
                if not sn.vectorisable(g.m):
                    per_point[idx] = False
                for i in idx.tolist():
                    P = int(prompt[i])
                    kv_seq[i], kv_mean[i] = g.step.kv_tokens(P + g.output), g.step.kv_tokens(P + g.output / 2.0)
                    if per_point[i]:
                        for key, v in sn.span_point(g.step, P, g.output).items():
                            c[key][i] = v
        adm = ss.admit(k, batch, kv_seq, kv_mean)
        ttft = np.empty(len(pts))
        tpot, rate = np.empty(len(pts)), np.empty(len(pts))
        clients = adm[4]

        def steady(idx):  # the scalar steady state of points idx (indices into pts)
            out = [_steady(ug[at[i]], int(prompt[i]), int(clients[i])) for i in idx.tolist()]
            return tuple(np.array(col, dtype=float) for col in zip(*out)) if out else (np.empty(0),) * 3

        vec = np.flatnonzero(per_point)
        if vec.size == len(pts):
            ttft, tpot, rate = ss.steady_closed(c, prompt, k["output"], k["budget"], clients, k["mixed"],
                                                k["frontend"], steady, chunk_count=k["chunk_count"])
        else:
            if vec.size:
                sub = {key: v[vec] for key, v in c.items()}
                ttft[vec], tpot[vec], rate[vec] = ss.steady_closed(
                    sub, prompt[vec], k["output"][vec], k["budget"][vec], clients[vec], k["mixed"][vec],
                    k["frontend"][vec], lambda idx: steady(vec[idx]), chunk_count=k["chunk_count"][vec])
            rest = np.flatnonzero(~per_point)
            ttft[rest], tpot[rest], rate[rest] = steady(rest)
        latency, thr, energy, mfu, feasible, compute, ok, ttft = ss.figures(k, batch, prompt, adm, ttft, tpot, rate,
                                                                            kv_mean)
        for name, v in (("latency", latency), ("throughput", thr), ("energy", energy), ("mfu", mfu),
                        ("ttft", ttft), ("tpot", tpot), ("feasible", feasible), ("compute_bound", compute)):
            cols[name][flat[ok]] = v[ok]
        scalar = scalar + (flat[~ok] + start).tolist()
    err = np.full(n, -1, dtype=np.int64)  # the table's error codes: an index into messages, -1 for none
    messages: list[str] = []
    for f in scalar:
        row = _scalar_row(space, f)
        if isinstance(row, str):
            err[f - start] = len(messages)
            messages.append(row)
            continue
        for name, v in zip(("latency", "throughput", "energy", "mfu", "feasible", "compute_bound", "unit", "ttft",
                            "tpot"), row):
            cols[name][f - start] = v
    return {"start": start, "stop": stop, "err": err, "messages": messages, **cols}
