"""The space a sweep covers: the axes of the grid (models x hardware x batch sizes x precisions x sequence
lengths), resolved once, and the flat point numbering that chunks split (row-major, sequence length fastest).
The hardware axis holds devices, or for the serving and training tiers Systems nodes (DGX_H100: ServingModel
and DistributedModel split the model over the node's GPUs; training also takes clusters)."""
from __future__ import annotations

import itertools

from dataclasses import dataclass
from typing import Any

from ..core.inputs import check_positive_int, resolve_model, resolve_reference
from ..errors import InvalidInputError, InvalidTypeError, UnknownEntryError

SOLVERS = ("engine", "serving", "training")


def _axis(name: str, value: Any, default: tuple) -> tuple:
    if value is None:
        return default
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        value = (value,)
    out = tuple(value)
    if not out:
        raise InvalidInputError(f"{name} is empty: give at least one value")
    return out


@dataclass(frozen=True)
class Space:
    """Resolved axes of a sweep. Specs travel (pickled) to worker processes with the chunk they solve."""

    models: tuple
    hardware: tuple
    batch_sizes: tuple[int, ...]
    precisions: tuple
    seq_lens: tuple  # ints, or (None,): each model's default context
    solver: str = "engine"
    efficiency: float | None = None
    options: tuple = ()  # (keyword, value) pairs passed on to the tier's solve

    @property
    def shape(self) -> tuple[int, int, int, int, int]:
        return (len(self.models), len(self.hardware), len(self.batch_sizes), len(self.precisions),
                len(self.seq_lens))

    @property
    def size(self) -> int:
        n = 1
        for k in self.shape:
            n *= k
        return n

    def indices(self, start: int, stop: int) -> Any:
        """unravel(flat) of every flat point in [start, stop), in order (one C-level product walk, not a divmod
        chain per point)."""
        return itertools.islice(itertools.product(*(range(n) for n in self.shape)), start, stop)

    def unravel(self, flat: int) -> tuple[int, int, int, int, int]:
        """(model, hardware, batch, precision, seq) axis indices of flat point `flat` (row-major)."""
        _, nh, nb, npr, ns = self.shape
        flat, si = divmod(flat, ns)
        flat, pi = divmod(flat, npr)
        flat, bi = divmod(flat, nb)
        mi, hi = divmod(flat, nh)
        return mi, hi, bi, pi, si


def resolve_target(value: Any, solver: str) -> Any:
    """A device (HardwareSpec or Hardware name); for solver="serving" a Systems node too (NodeSpec or name: the
    replica's GPUs), for solver="training" a node or cluster (DistributedModel's system)."""
    from ..registry import registries
    from ..specs.hardware import HardwareSpec
    from ..specs.systems import ClusterSpec, NodeSpec

    if isinstance(value, HardwareSpec):
        return value
    if isinstance(value, (NodeSpec, ClusterSpec)):
        system = value
    elif isinstance(value, str):
        roots = registries().roots
        try:
            return roots["Hardware"].get(value)
        except UnknownEntryError as device_error:
            try:
                system = roots["Systems"].get(value)
            except UnknownEntryError:
                raise device_error from None
    else:
        raise InvalidTypeError(f"hardware must be a device ('H100'), a node ('DGX_H100') or their specs, got "
                               f"{type(value).__name__}")
    kinds = {"serving": (NodeSpec,), "training": (NodeSpec, ClusterSpec)}.get(solver, ())
    if not isinstance(system, kinds):
        what = {"engine": "the engine tier solves one device: use solver='serving' or solver='training' for a node",
                "serving": "a serving replica lives inside one node: give a node ('DGX_H100') or a device"}.get(
            solver, "training runs on a node or cluster of Systems")
        raise InvalidInputError(f"{system.name!r} is a Systems {type(system).__name__.replace('Spec', '').lower()}; "
                                f"{what}")
    return system


def device_of(target: Any) -> Any:
    """The accelerator of a hardware-axis entry: the device itself, a node's, a cluster's node's."""
    from ..specs.hardware import HardwareSpec
    from ..specs.systems import ClusterSpec, NodeSpec

    if isinstance(target, ClusterSpec):
        target = resolve_reference(target, "node", NodeSpec, "a node", "Systems")
    if isinstance(target, NodeSpec):
        return resolve_reference(target, "accelerator", HardwareSpec, "hardware", "Hardware")
    return target


def make_space(models: Any, hardware: Any, batch_sizes: Any = None, precisions: Any = None, seq_lens: Any = None,
               solver: str = "engine", efficiency: float | None = None, options: dict | None = None) -> Space:
    if solver not in SOLVERS:
        raise InvalidInputError(f"solver must be one of {', '.join(SOLVERS)}, got {solver!r}")
    if models is None or hardware is None:
        raise InvalidInputError("sweep needs models= and hardware= (registry names or specs, or lists of them)")
    ms = tuple(resolve_model(m) for m in _axis("models", models, ()))
    hs = tuple(resolve_target(h, solver) for h in _axis("hardware", hardware, ()))
    bs = tuple(check_positive_int("batch_size", b) for b in _axis("batch_sizes", batch_sizes, (1,)))
    ps = _axis("precisions", precisions, (None,))
    for p in ps:
        if p is not None and not isinstance(p, str):
            raise InvalidTypeError(f"precisions must be strings such as 'fp16', got {p!r}")
    ss = tuple(None if s is None else check_positive_int("seq_len", s) for s in _axis("seq_lens", seq_lens, (None,)))
    return Space(ms, hs, bs, ps, ss, solver, efficiency, tuple(sorted((options or {}).items())))


def chunks(size: int, chunk_size: int) -> list[tuple[int, int]]:
    """[start, stop) ranges of at most chunk_size flat points covering 0..size."""
    return [(s, min(s + chunk_size, size)) for s in range(0, size, chunk_size)]
