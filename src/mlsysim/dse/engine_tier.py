"""The engine tier of a sweep: RooflineModel.solve (runtime=None) over a whole chunk of the grid at once.

Per point the arithmetic is that of RooflineModel.solve, in the same order (so results agree to float
rounding): each kernel phase waits on the slower of its compute time (FLOPs / (peak x efficiency)) and its
memory time (weight bytes / weight bandwidth + other bytes / bandwidth) -- the per-phase roofline of Williams
et al. 2009 -- plus launch overhead per kernel; power between idle and TDP from the busy fractions
(core/power.py); MFU = model FLOPs / (latency x dense peak) (PaLM, appendix B). Points the scalar solver runs on
special paths, or whose figures fail its output checks, are solved by Engine.solve itself.
numpy (the `dse` extra) vectorises the chunk; without it a plain loop does the same arithmetic.
"""
from __future__ import annotations

from typing import Any

from ..core.inputs import MAX_EFFICIENCY, MFU_ROUNDING_TOLERANCE
from . import prepare as _p
from .grid import Space

UNITS = ("token", "sample")
_TINY, _INF = 2.2250738585072014e-308, float("inf")  # sys.float_info.min: check_outputs' smallest normal result
_MFU_MAX = MAX_EFFICIENCY + MFU_ROUNDING_TOLERANCE


class Prepared:
    """Device figures per hardware x precision, contexts per model x seq_len, workloads on demand."""

    def __init__(self, space: Space):
        self.space = space
        self.training = training_options(space)
        train = self.training is not None
        self.devices = [_p.device(h, p, space.efficiency, train) for h in space.hardware for p in space.precisions]
        self.seqs = [_p.sequence(m, s) for m in space.models for s in space.seq_lens]
        keys = sorted({d.bytes_key for d in self.devices if isinstance(d, _p.Device)})
        self.bytes_index = {k: i for i, k in enumerate(keys)}
        self.precs = {d.bytes_key: d.prec for d in self.devices if isinstance(d, _p.Device)}
        self.workloads: dict[int, Any] = {}

    def workload_code(self, mi: int, bi: int, si: int, ki: int) -> int:
        _, _, nb, _, ns = self.space.shape
        return ((mi * nb + bi) * ns + si) * len(self.bytes_index) + ki

    def workload(self, code: int) -> Any:
        w = self.workloads.get(code)
        if w is None:
            nk, ns, nb = len(self.bytes_index), self.space.shape[4], self.space.shape[2]
            rest, ki = divmod(code, nk)
            rest, si = divmod(rest, ns)
            mi, bi = divmod(rest, nb)
            seq = self.seqs[mi * ns + si]
            if isinstance(seq, tuple):
                w = seq
            else:
                key = list(self.bytes_index)[ki]
                w = _p.workload(self.space.models[mi], self.space.batch_sizes[bi], seq, self.precs[key], self.training)
            self.workloads[code] = w
        return w


# Engine.solve keywords of a training step the engine tier handles itself (core.workload.TrainingOptions).
TRAINING_OPTIONS = ("zero_stage", "dp_size", "activation_recomputation")


def engine_tier_applies(space: Space) -> bool:
    """The engine tier covers Engine.solve at its defaults, and training steps with only TrainingOptions."""
    if space.solver == "engine":
        return not space.options
    from ..specs.hardware import HardwareSpec

    return space.solver == "training" and all(k in TRAINING_OPTIONS for k, _ in space.options) \
        and all(isinstance(h, HardwareSpec) for h in space.hardware)  # nodes: DistributedModel per point


def training_options(space: Space) -> Any:
    if space.solver != "training":
        return None
    from ..core.workload import check_training_options
    o = dict(space.options)
    return check_training_options(o.get("zero_stage", 0), o.get("dp_size", 1), o.get("activation_recomputation", "none"))


def scalar_point(space: Space, flat: int) -> tuple[float, float, float, float, bool, bool, int] | str:
    """One point through Engine.solve: (latency, throughput, energy, mfu, feasible, compute-bound, unit) or the
    error message."""
    from ..core.engine import Engine

    mi, hi, bi, pi, si = space.unravel(flat)
    try:
        r = Engine.solve(space.models[mi], space.hardware[hi], space.batch_sizes[bi], _precision(space, pi),
                         space.efficiency, seq_len=space.seq_lens[si], is_training=space.solver == "training",
                         **dict(space.options))
    except Exception as exc:  # noqa: BLE001 -- the point's error, reported in its row
        return f"{type(exc).__name__}: {exc}"
    return (r.latency.magnitude, r.throughput.magnitude, r.energy.magnitude, r.mfu, r.feasible,
            r.bottleneck == "Compute", UNITS.index(r.throughput_unit))


def _precision(space: Space, pi: int) -> Any:
    from ..core.precision import DEFAULT_PRECISION

    p = space.precisions[pi]
    return DEFAULT_PRECISION if p is None else p


def point_python(prep: Prepared, flat: int) -> tuple | str | None:
    """The roofline of one point in plain Python; None: the scalar solver must take it."""
    space = prep.space
    mi, hi, bi, pi, si = space.unravel(flat)
    seq = prep.seqs[mi * space.shape[4] + si]
    if isinstance(seq, tuple):  # the scalar solver checks the context before the precision
        return seq[1]
    d = prep.devices[hi * space.shape[3] + pi]
    if isinstance(d, tuple):
        return d[1] if d[0] == _p.ERROR else None
    w = prep.workload(prep.workload_code(mi, bi, si, prep.bytes_index[d.bytes_key]))
    if isinstance(w, tuple):
        return w[1]
    bound_compute = bound_memory = 0.0
    for flops, w_bytes, o_bytes in w.phases:
        c = flops / d.achieved
        mem = w_bytes / d.weight_bw + o_bytes / d.bandwidth
        if c >= mem:
            bound_compute += c
        else:
            bound_memory += mem
    compute_time = w.hardware_flops / d.achieved
    memory_time = w.weight_traffic / d.weight_bw + w.other_traffic / d.bandwidth
    latency = bound_compute + bound_memory + w.kernels * d.launch
    u_c, u_m = min(compute_time / latency, 1.0), min(memory_time / latency, 1.0)
    power = d.idle + (d.tdp - d.idle) * min(1.0, u_c + d.memory_power_fraction * u_m)
    throughput, energy = w.items / latency, power * latency
    mfu = w.model_flops / (latency * d.peak)
    if not (_TINY <= latency < _INF and _TINY <= throughput < _INF and _TINY <= energy < _INF
            and 0.0 <= mfu <= _MFU_MAX):
        return None  # the scalar solver words the error
    return (latency, throughput, energy, min(mfu, MAX_EFFICIENCY), w.held + d.reserve <= d.capacity,
            bound_compute >= bound_memory, UNITS.index(w.unit))


def solve_python(space: Space, start: int, stop: int, scalar: bool = False) -> dict:
    """A chunk in plain Python. Engine options (weight_only, runtime, ...) leave the default path: every point of
    such a sweep goes through Engine.solve itself (as every point does with scalar=True)."""
    prep = Prepared(space) if engine_tier_applies(space) and not scalar else None
    cols: dict[str, list] = {k: [] for k in ("latency", "throughput", "energy", "mfu", "feasible", "compute_bound",
                                             "unit")}
    errors: dict[int, str] = {}
    nan = float("nan")
    for flat in range(start, stop):
        out = None if prep is None else point_python(prep, flat)
        if out is None:
            out = scalar_point(space, flat)
        if isinstance(out, str):
            errors[flat] = out
            out = (nan, nan, nan, nan, False, False, 0)
        for k, v in zip(cols, out):
            cols[k].append(v)
    return {"start": start, "stop": stop, "errors": errors, **cols}
