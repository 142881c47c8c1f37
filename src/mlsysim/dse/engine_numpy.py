"""The engine tier vectorised with numpy (optional extra `mlsysim[dse]`): the arithmetic of
engine_tier.point_python over a whole chunk -- per-phase roofline, launch overhead, power, MFU, memory fit --
with device figures broadcast from one row per hardware x precision and workload phases from one row per
distinct (model, precision bytes, batch, context). Dense transformers cost all their (batch, context) pairs in one
vectorised call (workload_numpy); other models one scalar workload_cost each. Phases are grouped by count (5 for
a transformer, one per layer for a CNN with a layer table), so no workload is padded to another's length."""
from __future__ import annotations

import numpy as np

from . import prepare as _p
from .engine_tier import _INF, _MFU_MAX, _TINY, UNITS, Prepared, scalar_point
from .grid import Space
from .workload_numpy import transformer_inference, transformer_training, vectorisable

_DEVICE_FIELDS = ("achieved", "peak", "weight_bw", "bandwidth", "launch", "tdp", "idle", "memory_power_fraction",
                  "capacity", "reserve")
_AGG = ("hardware_flops", "weight_traffic", "other_traffic", "model_flops", "kernels", "items", "held")
_OK, _SCALAR, _ERROR = 0, 1, 2


class _Messages:
    def __init__(self) -> None:
        self.text: list[str] = []
        self._index: dict[str, int] = {}

    def __call__(self, msg: str) -> int:
        i = self._index.get(msg)
        if i is None:
            i = self._index[msg] = len(self.text)
            self.text.append(msg)
        return i


def _devices(prep: Prepared, msgs: _Messages) -> tuple[dict, np.ndarray, np.ndarray, np.ndarray]:
    n = len(prep.devices)
    cols = {f: np.ones(n) for f in _DEVICE_FIELDS}
    status = np.full(n, _OK, dtype=np.int8)
    kidx = np.zeros(n, dtype=np.int64)
    err = np.full(n, -1, dtype=np.int64)
    for i, d in enumerate(prep.devices):
        if isinstance(d, tuple):
            status[i] = _ERROR if d[0] == _p.ERROR else _SCALAR
            if d[0] == _p.ERROR:
                err[i] = msgs(d[1])
            continue
        for f in _DEVICE_FIELDS:
            cols[f][i] = getattr(d, f)
        kidx[i] = prep.bytes_index[d.bytes_key]
    return cols, status, kidx, err


def _sequences(prep: Prepared, msgs: _Messages) -> tuple[np.ndarray, np.ndarray, list]:
    """Per (model, seq_len): the slot of the first seq_len giving the same context (a CNN ignores seq_len, so all
    share one workload), the error index or -1, and the contexts."""
    ns = prep.space.shape[4]
    slot = np.zeros(len(prep.seqs), dtype=np.int64)
    err = np.full(len(prep.seqs), -1, dtype=np.int64)
    for mi in range(prep.space.shape[0]):
        first: dict = {}
        for si in range(ns):
            s = prep.seqs[mi * ns + si]
            if isinstance(s, tuple):
                err[mi * ns + si] = msgs(s[1])
                continue
            slot[mi * ns + si] = first.setdefault(s, si)
    return slot, err, prep.seqs


def solve_numpy(space: Space, start: int, stop: int) -> dict:
    prep = Prepared(space)
    msgs = _Messages()
    nm, nh, nb, npr, ns = space.shape
    n = stop - start
    mi, hi, bi, pi, si = np.unravel_index(np.arange(start, stop, dtype=np.int64), space.shape)
    dev, dstat, dk, derr = _devices(prep, msgs)
    slot, serr, seqs = _sequences(prep, msgs)
    di = hi * npr + pi
    ms = mi * ns + si
    nk = max(len(prep.bytes_index), 1)
    code = ((mi * nk + dk[di]) * nb + bi) * ns + slot[ms]
    # Error index per point: the context first (the scalar solver checks it first), then the device.
    err = np.where(serr[ms] >= 0, serr[ms], derr[di])
    ok = (err < 0) & (dstat[di] == _OK)
    present = np.zeros(nm * nk * nb * ns, dtype=bool)
    present[code[ok]] = True
    agg = {k: np.full(present.size, np.nan) for k in _AGG}
    unit = np.zeros(present.size, dtype=np.int8)
    werr = np.full(present.size, -1, dtype=np.int64)
    groups: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}
    keys = list(prep.bytes_index)
    block = nb * ns
    for mk in np.unique(np.flatnonzero(present) // block).tolist():
        m_i, k_i = divmod(mk, nk)
        model, (wb, ab, _) = space.models[m_i], keys[k_i]
        codes = mk * block + np.flatnonzero(present[mk * block:(mk + 1) * block])
        b_i, s_i = np.divmod(codes - mk * block, ns)
        if vectorisable(model):
            ctx = np.array([seqs[m_i * ns + s] for s in s_i.tolist()], dtype=float)
            bat = np.asarray(space.batch_sizes, dtype=float)[b_i]
            w = transformer_inference(model, bat, ctx, wb, ab) if prep.training is None else \
                transformer_training(model, bat, ctx, prep.precs[keys[k_i]], prep.training)
            for k in _AGG:
                agg[k][codes] = w[k]
            unit[codes] = UNITS.index(w["unit"])
            groups.setdefault(w["phases"].shape[1], []).append((codes, w["phases"]))
            continue
        rows, good = [], []
        for c, b, s in zip(codes.tolist(), b_i.tolist(), s_i.tolist()):
            w = _p.workload(model, space.batch_sizes[b], seqs[m_i * ns + s], prep.precs[keys[k_i]], prep.training)
            if isinstance(w, tuple):
                werr[c] = msgs(w[1])
                continue
            for k in _AGG:
                agg[k][c] = getattr(w, k)
            unit[c] = UNITS.index(w.unit)
            rows.append(w.phases)
            good.append(c)
        by_len: dict[int, tuple[list, list]] = {}
        for c, r in zip(good, rows):
            g = by_len.setdefault(len(r), ([], []))
            g[0].append(c)
            g[1].append(r)
        for p_len, (cs, rs) in by_len.items():
            groups.setdefault(p_len, []).append((np.asarray(cs), np.asarray(rs, dtype=float)))
    err = np.where((err < 0) & ok, werr[code], err)
    ok &= err < 0
    busy = np.full(n, np.nan)
    compute_bound = np.zeros(n, dtype=bool)
    for parts in groups.values():
        codes = np.concatenate([c for c, _ in parts])
        table = np.concatenate([t for _, t in parts])
        local = np.full(present.size, -1, dtype=np.int64)
        local[codes] = np.arange(codes.size)
        sel = np.flatnonzero(ok & (local[code] >= 0))
        if not sel.size:
            continue
        ph = table[local[code[sel]]]  # (points, phases, 3)
        d = di[sel]
        c = ph[:, :, 0] / dev["achieved"][d][:, None]
        mem = ph[:, :, 1] / dev["weight_bw"][d][:, None] + ph[:, :, 2] / dev["bandwidth"][d][:, None]
        on_compute = c >= mem
        bc = np.where(on_compute, c, 0.0).sum(axis=1)
        bm = np.where(on_compute, 0.0, mem).sum(axis=1)
        busy[sel] = bc + bm
        compute_bound[sel] = bc >= bm
    with np.errstate(all="ignore"):
        w = {k: agg[k][code] for k in _AGG}
        compute_time = w["hardware_flops"] / dev["achieved"][di]
        memory_time = w["weight_traffic"] / dev["weight_bw"][di] + w["other_traffic"] / dev["bandwidth"][di]
        latency = busy + w["kernels"] * dev["launch"][di]
        u = np.minimum(1.0, np.minimum(compute_time / latency, 1.0)
                       + dev["memory_power_fraction"][di] * np.minimum(memory_time / latency, 1.0))
        idle = dev["idle"][di]
        power = idle + (dev["tdp"][di] - idle) * u
        throughput = w["items"] / latency
        energy = power * latency
        mfu = w["model_flops"] / (latency * dev["peak"][di])
        feasible = w["held"] + dev["reserve"][di] <= dev["capacity"][di]
        good = ok & (latency >= _TINY) & (latency < _INF) & (throughput >= _TINY) & (throughput < _INF) \
            & (energy >= _TINY) & (energy < _INF) & (mfu >= 0.0) & (mfu <= _MFU_MAX)
    mfu = np.minimum(mfu, 1.0)
    units = unit[code]
    # Special paths (microcontrollers) and results the solver's own output checks must word: Engine.solve.
    for i in np.flatnonzero(~good & (err < 0)).tolist():
        out = scalar_point(space, start + i)
        if isinstance(out, str):
            err[i] = msgs(out)
        else:
            latency[i], throughput[i], energy[i], mfu[i], feasible[i], compute_bound[i], units[i] = out
    bad = err >= 0
    for arr in (latency, throughput, energy, mfu):
        arr[bad] = np.nan
    feasible[bad] = False
    compute_bound[bad] = False
    return {"start": start, "stop": stop, "err": err, "messages": msgs.text, "latency": latency,
            "throughput": throughput, "energy": energy, "mfu": mfu, "feasible": feasible,
            "compute_bound": compute_bound, "unit": units}
