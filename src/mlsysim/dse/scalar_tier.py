"""The serving and training tiers of a sweep: one solve per point (ServingModel.solve; Engine.solve with
is_training=True on a device, DistributedModel.solve on a Systems node or cluster), the same chunk format as the
engine tier. Serving rows add ttft and tpot (seconds)."""
from __future__ import annotations

from typing import Any

from .engine_tier import UNITS, _precision
from .grid import Space

DEFAULT_OUTPUT_LEN = 256  # ServingModel.solve's own default output_len


def prompt_len(m: Any, seq: int | None) -> int:
    """The prompt a serving point runs: its seq_len, else the model's default context, else DEFAULT_SEQ_LEN
    capped at the model's context."""
    prompt = seq if seq is not None else (m.default_seq_len or None)
    if prompt is None:
        from ..core.solver import DEFAULT_SEQ_LEN
        prompt = min(DEFAULT_SEQ_LEN, getattr(m, "context_length", DEFAULT_SEQ_LEN))
    return prompt


def _serving(space: Space, mi: int, hi: int, bi: int, pi: int, si: int) -> Any:
    from ..core.serving import ServingModel

    opts = dict(space.options)
    m = space.models[mi]
    prompt = prompt_len(m, space.seq_lens[si])
    opts.setdefault("output_len", DEFAULT_OUTPUT_LEN)
    return ServingModel().solve(m, space.hardware[hi], space.batch_sizes[bi], _precision(space, pi),
                                space.efficiency, prompt_len=prompt, **opts)


def _training(space: Space, mi: int, hi: int, bi: int, pi: int, si: int) -> Any:
    from ..core.engine import Engine
    from ..specs.hardware import HardwareSpec

    target = space.hardware[hi]
    if not isinstance(target, HardwareSpec):  # a node or cluster: the step split over its devices
        from ..core.distributed import DistributedModel
        from ..core.precision import default_precision
        from .grid import device_of

        p = space.precisions[pi]
        if p is None:  # the device's training default, as Engine.solve picks it on one device
            p = default_precision(device_of(target), True)[0]
        return DistributedModel().solve(space.models[mi], target, space.batch_sizes[bi], p, space.efficiency,
                                        seq_len=space.seq_lens[si], **dict(space.options))
    return Engine.solve(space.models[mi], space.hardware[hi], space.batch_sizes[bi], _precision(space, pi),
                        space.efficiency, is_training=True, seq_len=space.seq_lens[si], **dict(space.options))


def solve_scalar(space: Space, start: int, stop: int) -> dict:
    solve = _serving if space.solver == "serving" else _training
    keys = ["latency", "throughput", "energy", "mfu", "feasible", "compute_bound", "unit"]
    if space.solver == "serving":
        keys += ["ttft", "tpot"]
    cols: dict[str, list] = {k: [] for k in keys}
    errors: dict[int, str] = {}
    nan = float("nan")
    for flat in range(start, stop):
        try:
            r = solve(space, *space.unravel(flat))
            unit = str(r.throughput.units)
            row = [r.latency.m_as("s"), r.throughput.magnitude, r.energy.m_as("J"), float(r.mfu), bool(r.feasible),
                   r.bottleneck == "Compute", UNITS.index("sample" if "sample" in unit else "token")]
            if space.solver == "serving":
                row += [r.ttft.m_as("s"), r.tpot.m_as("s")]
        except Exception as exc:  # noqa: BLE001 -- the point's error, reported in its row
            errors[flat] = f"{type(exc).__name__}: {exc}"
            row = [nan, nan, nan, nan, False, False, 0] + ([nan, nan] if space.solver == "serving" else [])
        for k, v in zip(keys, row):
            cols[k].append(v)
    return {"start": start, "stop": stop, "errors": errors, **cols}
