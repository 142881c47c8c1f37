"""The engine tier vectorised with numpy (optional extra `mlsysim[dse]`): the arithmetic of
engine_tier.point_python over a whole chunk -- per-phase roofline, launch overhead, power, MFU, memory fit --
with device figures broadcast from one row per hardware x precision and workload phases from one row per
distinct (model, batch, seq_len, bytes). Phases are grouped by their count (5 for a transformer, one per layer
for a CNN with a layer table) so no workload is padded to another's length."""
from __future__ import annotations

import numpy as np

from . import prepare as _p
from .engine_tier import _INF, _MFU_MAX, _TINY, UNITS, Prepared, scalar_point
from .grid import Space

_DEVICE_FIELDS = ("achieved", "peak", "weight_bw", "bandwidth", "launch", "tdp", "idle", "memory_power_fraction",
                  "capacity", "reserve")
_OK, _SCALAR, _ERROR = 0, 1, 2


def _device_table(prep: Prepared) -> tuple[dict, np.ndarray, np.ndarray]:
    n = len(prep.devices)
    cols = {f: np.ones(n) for f in _DEVICE_FIELDS}
    status = np.full(n, _OK, dtype=np.int8)
    kidx = np.zeros(n, dtype=np.int64)
    for i, d in enumerate(prep.devices):
        if isinstance(d, tuple):
            status[i] = _ERROR if d[0] == _p.ERROR else _SCALAR
            continue
        for f in _DEVICE_FIELDS:
            cols[f][i] = getattr(d, f)
        kidx[i] = prep.bytes_index[d.bytes_key]
    return cols, status, kidx


def solve_numpy(space: Space, start: int, stop: int) -> dict:
    prep = Prepared(space)
    nm, nh, nb, npr, ns = space.shape
    n = stop - start
    mi, hi, bi, pi, si = np.unravel_index(np.arange(start, stop, dtype=np.int64), space.shape)
    dev, dstat, dk = _device_table(prep)
    di = hi * npr + pi
    ok = dstat[di] == _OK
    nk = max(len(prep.bytes_index), 1)
    code = ((mi * nb + bi) * ns + si) * nk + dk[di]
    # Workloads present in this chunk, each costed once (core.workload.workload_cost).
    present = np.zeros(nm * nb * ns * nk, dtype=bool)
    present[code[ok]] = True
    agg = np.full((6, present.size), np.nan)  # hardware_flops, weight, other, model_flops, kernels, items
    held = np.full(present.size, np.nan)
    unit = np.zeros(present.size, dtype=np.int8)
    wstat = np.full(present.size, _ERROR, dtype=np.int8)
    groups: dict[int, tuple[list, list]] = {}  # phase count -> (codes, phase rows)
    werr: dict[int, str] = {}
    for c in np.flatnonzero(present).tolist():
        w = prep.workload(c)
        if isinstance(w, tuple):
            werr[c] = w[1]
            continue
        wstat[c] = _OK
        agg[:, c] = (w.hardware_flops, w.weight_traffic, w.other_traffic, w.model_flops, w.kernels, w.items)
        held[c], unit[c] = w.held, UNITS.index(w.unit)
        g = groups.setdefault(len(w.phases), ([], []))
        g[0].append(c)
        g[1].append(w.phases)
    ok &= wstat[code] == _OK
    busy = np.full(n, np.nan)
    compute_bound = np.zeros(n, dtype=bool)
    for codes, rows in groups.values():
        local = np.full(present.size, -1, dtype=np.int64)
        local[np.asarray(codes)] = np.arange(len(codes))
        sel = np.flatnonzero(ok & (local[code] >= 0))
        if not sel.size:
            continue
        ph = np.asarray(rows, dtype=float)[local[code[sel]]]  # (points, phases, 3)
        d = di[sel]
        c = ph[:, :, 0] / dev["achieved"][d][:, None]
        mem = ph[:, :, 1] / dev["weight_bw"][d][:, None] + ph[:, :, 2] / dev["bandwidth"][d][:, None]
        on_compute = c >= mem
        bc = np.where(on_compute, c, 0.0).sum(axis=1)
        bm = np.where(on_compute, 0.0, mem).sum(axis=1)
        busy[sel] = bc + bm
        compute_bound[sel] = bc >= bm
    with np.errstate(all="ignore"):
        w = agg[:, code]
        ach = dev["achieved"][di]
        compute_time = w[0] / ach
        memory_time = w[1] / dev["weight_bw"][di] + w[2] / dev["bandwidth"][di]
        latency = busy + w[4] * dev["launch"][di]
        u = np.minimum(1.0, np.minimum(compute_time / latency, 1.0)
                       + dev["memory_power_fraction"][di] * np.minimum(memory_time / latency, 1.0))
        idle = dev["idle"][di]
        power = idle + (dev["tdp"][di] - idle) * u
        throughput = w[5] / latency
        energy = power * latency
        mfu = w[3] / (latency * dev["peak"][di])
        feasible = held[code] + dev["reserve"][di] <= dev["capacity"][di]
        good = ok & (latency >= _TINY) & (latency < _INF) & (throughput >= _TINY) & (throughput < _INF) \
            & (energy >= _TINY) & (energy < _INF) & (mfu >= 0.0) & (mfu <= _MFU_MAX)
    mfu = np.minimum(mfu, 1.0)
    units = unit[code]
    errors: dict[int, str] = {}
    bad = np.flatnonzero(~good)
    if bad.size:
        dstat_pt, code_pt = dstat[di[bad]], code[bad]
        for j, i in enumerate(bad.tolist()):
            flat = start + i
            seq = prep.seqs[int(mi[i]) * ns + int(si[i])]
            if isinstance(seq, tuple):  # the scalar solver checks the context before the precision
                errors[flat] = seq[1]
                continue
            if dstat_pt[j] == _ERROR:
                errors[flat] = prep.devices[int(di[i])][1]
                continue
            if dstat_pt[j] == _OK and int(code_pt[j]) in werr:
                errors[flat] = werr[int(code_pt[j])]
                continue
            out = scalar_point(space, flat)  # special path, or the solver's own error for an unphysical result
            if isinstance(out, str):
                errors[flat] = out
                continue
            latency[i], throughput[i], energy[i], mfu[i], feasible[i], compute_bound[i], units[i] = out
    if errors:
        idx = np.fromiter(errors, dtype=np.int64) - start
        for arr in (latency, throughput, energy, mfu):
            arr[idx] = np.nan
        feasible[idx] = False
        compute_bound[idx] = False
    return {"start": start, "stop": stop, "errors": errors, "latency": latency, "throughput": throughput,
            "energy": energy, "mfu": mfu, "feasible": feasible, "compute_bound": compute_bound, "unit": units}
