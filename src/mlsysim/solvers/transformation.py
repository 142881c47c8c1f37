"""CPU input pipeline: does preprocessing (decode, tokenise, augment) keep up with the accelerator?

Preparing one batch of B samples of S bytes at an aggregate CPU preprocessing rate R takes
  t_transform = B x S / R.
With prefetching (tf.data prefetch, PyTorch DataLoader workers) the two stages overlap as a producer-consumer
pipeline, whose rate is set by its slower stage: effective step = max(t_transform, t_step) (Murray et al.
2021, "tf.data", sec. 3.3). Without overlap they run one after the other: t_transform + t_step. The accelerator
then waits the difference: stall fraction = 1 - t_step / effective step.

Not modelled: worker start-up, queue depth too small to absorb jitter, GPU-side decoding (DALI), reading the
bytes from storage (see DataModel), CPU contention with the training process.
"""
from __future__ import annotations

from typing import Any

import attrs

from ..core.inputs import check_bool, check_positive_int
from ..units import quantity
from ._design import as_figure
from ._result import SolverResult


@attrs.frozen(kw_only=True)
class TransformationResult(SolverResult):
    transform_time: Any            # B x S / R for one batch
    accelerator_step_time: Any
    is_bottleneck: bool            # preprocessing slower than the step
    accelerator_utilization: float  # t_step / effective step
    slowdown_factor: float         # effective step / t_step
    effective_step_time: Any
    stall_fraction: float          # share of each effective step the accelerator waits
    overlap: bool
    constraint_trace: tuple[str, ...] = ()


class TransformationModel:
    """Preprocessing time of a batch against the accelerator step it feeds."""

    def solve(self, batch_size: int, sample_size_bytes: Any, cpu_throughput: Any, accelerator_step_time: Any,
              *, overlap: bool = True) -> TransformationResult:
        """batch_size: samples per step; sample_size_bytes: bytes per sample as preprocessed (a Quantity such
        as 500 kB, or a number of bytes); cpu_throughput: aggregate preprocessing rate (a Quantity such as
        2 GB/s, or B/s); accelerator_step_time: one step (a time Quantity, or seconds). overlap: prefetching
        runs preprocessing of the next batch during the current step (default True)."""
        batch = check_positive_int("batch_size", batch_size)
        sample = as_figure("sample_size_bytes", sample_size_bytes, "B")
        rate = as_figure("cpu_throughput", cpu_throughput, "B/s")
        step = as_figure("accelerator_step_time", accelerator_step_time, "s")
        check_bool("overlap", overlap)
        transform = batch * sample / rate  # bytes of the batch / preprocessing rate
        effective = max(transform, step) if overlap else transform + step  # pipelined: the slower stage rules
        trace = [f"{'prefetching overlaps' if overlap else 'no overlap between'} preprocessing and the step"]
        return TransformationResult(
            transform_time=quantity(transform * 1e3, "ms"), accelerator_step_time=quantity(step * 1e3, "ms"),
            is_bottleneck=transform > step, accelerator_utilization=step / effective,
            slowdown_factor=effective / step, effective_step_time=quantity(effective * 1e3, "ms"),
            stall_fraction=1.0 - step / effective, overlap=overlap, constraint_trace=tuple(trace))
