"""CheckpointModel: how big a training checkpoint is, how long it takes to write, and what that costs."""
from __future__ import annotations

from typing import Any

import attrs

from ..core.inputs import check_positive_int, resolve_hardware, resolve_model
from ..errors import CatalogError, InvalidInputError, InvalidTypeError
from ..specs.fields import figure
from ..units import quantity
from ._fleet import SECONDS_PER_HOUR, as_float
from ._result import SolverResult
from .data import DEFAULT_STORAGE_BANDWIDTH

# Bytes saved per parameter, by optimizer. A checkpoint holds the weights and the optimizer state; gradients
# are recomputed after a restart and are not saved.
# - adam / adamw, mixed precision: 16-bit weights (2) + fp32 master weights, first and second moments (4+4+4).
#   Rajbhandari et al., "ZeRO: Memory Optimizations Toward Training Trillion Parameter Models" (SC 2020),
#   sec. 3.1: model states are 2 (fp16 params) + 2 (fp16 grads) + K = 12 (fp32 optimizer states) = 16 bytes per
#   parameter; without the 2 bytes of gradients, 14 are persisted (as Megatron-LM and DeepSpeed checkpoints do).
# - adam_fp32: fp32 weights and two fp32 moments (4+4+4), no master copy.
# - sgd: fp32 weights only (plain SGD keeps no state); sgd_momentum: fp32 weights + fp32 momentum buffer.
CHECKPOINT_BYTES_PER_PARAM = {"adam": 14.0, "adamw": 14.0, "adam_fp32": 12.0, "sgd": 4.0, "sgd_momentum": 8.0}
BYTES_PER_GB = 1e9  # filesystem bandwidths are quoted in decimal GB/s
PERCENT = 100.0


@attrs.frozen(kw_only=True)
class CheckpointResult(SolverResult):
    """Checkpoint size and write time (pint Quantities) and the share of training time spent writing."""

    checkpoint_size: Any
    write_time_seconds: Any
    max_bandwidth_required: Any  # aggregate write bandwidth the checkpoint burst draws from storage
    storage_bottleneck: bool     # the filesystem limit, not the writers, sets the write rate
    mfu_penalty_pct: float       # percent of wall time spent writing checkpoints
    overhead_fraction: float = 0.0
    bytes_per_parameter: float = 0.0
    writer_bandwidth: Any = None
    write_bandwidth_source: str = ""


def _bytes_per_param(optimizer: Any) -> float:
    if not isinstance(optimizer, str):
        raise InvalidTypeError(f"optimizer must be a name, one of {', '.join(CHECKPOINT_BYTES_PER_PARAM)}; got "
                               f"{type(optimizer).__name__}")
    key = optimizer.strip().lower()
    if key not in CHECKPOINT_BYTES_PER_PARAM:
        raise InvalidInputError(f"unknown optimizer {optimizer!r}: accepted {', '.join(CHECKPOINT_BYTES_PER_PARAM)}")
    return CHECKPOINT_BYTES_PER_PARAM[key]


def _writer_bandwidth(hardware: Any, given: Any) -> tuple[float, str]:
    """Bytes/s one writer sustains: the argument, else DataModel's stated storage (one local PCIe 4.0 x4 NVMe
    drive) in series with the device's host link, over which every checkpoint byte leaves the accelerator."""
    if given is not None:
        return as_float("writer_bandwidth_gbs", given, "GB/s") * BYTES_PER_GB, "argument writer_bandwidth_gbs"
    link = figure(hardware, "interconnect.host_link_bandwidth")
    if link is None:
        raise CatalogError(f"no host link bandwidth for Hardware.{hardware.name}", entry=hardware.name,
                           field="interconnect.host_link_bandwidth",
                           expected="a host_link_bandwidth in its catalog entry, or the writer_bandwidth_gbs argument "
                                    "(GB/s one writer sustains to storage)")
    if link < DEFAULT_STORAGE_BANDWIDTH:
        return link, f"catalog Hardware.{hardware.name}.interconnect.host_link_bandwidth (below one NVMe drive)"
    return DEFAULT_STORAGE_BANDWIDTH, ("one PCIe 4.0 x4 NVMe drive per writer (solvers.data.DEFAULT_STORAGE_BANDWIDTH, "
                                      "an estimate; pass writer_bandwidth_gbs for the real storage client rate)")


class CheckpointModel:
    """Checkpoint size, write time and the training time it costs.

    Models: size = parameters x bytes per parameter of the optimizer (weights + optimizer state, see
    CHECKPOINT_BYTES_PER_PARAM); write bandwidth = min(n_writers x per-writer bandwidth, filesystem limit);
    blocking writes every `checkpoint_interval_hours` of training, so the share of wall time spent writing is
    C / (interval + C).

    Does not model: asynchronous or in-memory checkpointing (which hide most of C), compression, metadata and
    small-file overheads, storage contention with data loading, reads at restart.
    """

    def solve(self, model: Any, hardware: Any, optimizer: str = "adam", checkpoint_interval_hours: float = 4.0,
              n_writers: int = 1, filesystem_limit_gbs: float = 500.0, *,
              writer_bandwidth_gbs: float | None = None) -> CheckpointResult:
        """`model`, `hardware`: specs or registry names; `checkpoint_interval_hours`: training time between
        checkpoints; `n_writers`: ranks writing shards in parallel; `filesystem_limit_gbs`: the storage
        system's aggregate write bandwidth (GB/s); `writer_bandwidth_gbs`: one writer's rate (default: the
        local NVMe drive behind the device's host link)."""
        m, hw = resolve_model(model), resolve_hardware(hardware)
        per_param = _bytes_per_param(optimizer)
        interval_s = as_float("checkpoint_interval_hours", checkpoint_interval_hours, "hour") * SECONDS_PER_HOUR
        writers = check_positive_int("n_writers", n_writers)
        limit = as_float("filesystem_limit_gbs", filesystem_limit_gbs, "GB/s") * BYTES_PER_GB
        per_writer, source = _writer_bandwidth(hw, writer_bandwidth_gbs)

        size_b = m.parameter_count * per_param
        bandwidth = min(writers * per_writer, limit)         # parallel writers, capped by the filesystem
        write_s = size_b / bandwidth
        overhead = write_s / (interval_s + write_s)          # blocking write: C of every (interval + C)
        return CheckpointResult(
            checkpoint_size=quantity(size_b / BYTES_PER_GB, "GB"), write_time_seconds=quantity(write_s, "s"),
            max_bandwidth_required=quantity(bandwidth / BYTES_PER_GB, "GB/s"),
            storage_bottleneck=writers * per_writer > limit, mfu_penalty_pct=PERCENT * overhead,
            overhead_fraction=overhead, bytes_per_parameter=per_param,
            writer_bandwidth=quantity(per_writer / BYTES_PER_GB, "GB/s"), write_bandwidth_source=source)
