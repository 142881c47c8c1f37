"""Transformer layers per pipeline stage, and the step of a pipeline whose stages are not equal.

Megatron-Core splits the decoder evenly over the pipeline stages; the first stage also runs the embedding and
the last the LM head and the loss, so the last stage is the slowest (Narayanan et al. 2021, sec. 3.2, keep the
head on the last stage). Two of its options move a layer's worth of work off the ends:
account_for_embedding_in_pipeline_split / account_for_loss_in_pipeline_split count the embedding / the loss as one
layer each, so (layers + 1 or 2) is split evenly and the first / last stage builds one transformer layer fewer;
decoder_first_pipeline_num_layers / decoder_last_pipeline_num_layers give the end stages explicit counts and split
the rest evenly over the middle stages (megatron/core/transformer/transformer_config.py,
megatron/core/transformer/transformer_layer.py get_transformer_layer_offset).

Step of a pipeline with per-stage slot times t_i (one micro-batch's forward + backward), m micro-batches and v
model chunks per GPU: the slowest stage runs all m slots back to back, and the fill and drain before and after it
cost the other stages' slots once each, split over the v chunks (1F1B, Narayanan et al. 2021, sec. 2.2; with equal
stages this is the (p - 1) / v bubble of eq. 1):
    step = m x max(t) + (sum(t) - max(t)) / v
"""
from __future__ import annotations

from typing import NamedTuple

from ...errors import InvalidInputError


class StageSplit(NamedTuple):
    first: int    # transformer layers on the first stage
    middle: int   # on each middle stage (pp - 2 of them)
    last: int     # on the last stage


def stage_layers(layers: int, pp: int, vp: int, first: int | None = None, last: int | None = None,
                 account_for_embedding: bool = False, account_for_loss: bool = False) -> StageSplit:
    """Layers per stage as Megatron-Core builds them; a split that does not come out even is an error naming
    the fix."""
    for name, v in (("account_for_embedding_in_pipeline_split", account_for_embedding),
                    ("account_for_loss_in_pipeline_split", account_for_loss)):
        if not isinstance(v, bool):
            raise InvalidInputError(f"{name} must be True or False, got {v!r}")
    for name, v in (("first_stage_layers", first), ("last_stage_layers", last)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 0):
            raise InvalidInputError(f"{name} must be a non-negative integer or None, got {v!r}")
    explicit = first is not None or last is not None
    if pp == 1:
        if explicit or account_for_embedding or account_for_loss:
            raise InvalidInputError("first/last stage layers and account_for_* need pipeline_parallel > 1")
        return StageSplit(layers, layers, layers)
    if explicit and (account_for_embedding or account_for_loss):
        raise InvalidInputError("give either first_stage_layers / last_stage_layers or the account_for_* options "
                                "(Megatron-Core accepts one of the two)")
    if explicit:
        return _explicit(layers, pp, vp, first, last)
    counted = layers + int(account_for_embedding) + int(account_for_loss)
    if counted % (pp * vp):
        extra = " + the embedding and/or loss counted as layers" if counted != layers else ""
        raise InvalidInputError(f"pipeline_parallel x virtual_pipeline_stages = {pp * vp} does not divide the "
                                f"{counted} layers{extra}; choose stages that divide {counted}, or give "
                                "first_stage_layers / last_stage_layers")
    per = counted // pp
    return StageSplit(per - int(account_for_embedding), per, per - int(account_for_loss))


def _explicit(layers: int, pp: int, vp: int, first: int | None, last: int | None) -> StageSplit:
    ends = (first or 0) + (last or 0)
    free = pp - (first is not None) - (last is not None)
    rest = layers - ends
    if rest < 0 or (free == 0 and rest) or (free and rest % free):
        raise InvalidInputError(f"first_stage_layers={first}, last_stage_layers={last}: the other {layers - ends} of "
                                f"{layers} layers do not split evenly over the {free} remaining stages; choose end "
                                "counts that leave a multiple of the remaining stages")
    mid = rest // free if free else 0
    # With virtual stages the counts are per GPU over its v chunks (torchtitan's generated split points give the
    # chunks unequal layer counts: pipelining_utils.generate_split_points).
    if (first is not None and first < vp) or (last is not None and last < vp) or (free and mid < vp):
        raise InvalidInputError(f"with virtual_pipeline_stages={vp} every stage needs at least {vp} layers (one per "
                                f"chunk); got first={first}, middle={mid}, last={last}")
    return StageSplit(mid if first is None else first, mid, mid if last is None else last)


def stage_slots(split: StageSplit, pp: int, per_layer: float, first_extra: float, last_extra: float) -> list[float]:
    """Slot time of each distinct stage: [first, middle (if any), last]; pp == 1 is one stage holding both ends."""
    if pp == 1:
        return [split.first * per_layer + first_extra + last_extra]
    out = [split.first * per_layer + first_extra, split.last * per_layer + last_extra]
    if pp > 2:
        out.insert(1, split.middle * per_layer)
    return out


def pipeline_time(slots: list[float], pp: int, vp: int, micro: int) -> tuple[float, float]:
    """(m x the slowest slot, the fill-and-drain bubble) of a step; slots as stage_slots returns them."""
    slowest = max(slots)
    if pp == 1:
        return micro * slowest, 0.0
    total = slots[0] + slots[-1] + (pp - 2) * (slots[1] if pp > 2 else 0.0)
    return micro * slowest, (total - slowest) / vp


def device_loads(split: StageSplit, pp: int, schedule: str = "1f1b") -> list[tuple[float, float, float]]:
    """(transformer layers, embedding share, LM-head share) one micro-batch costs each distinct GPU of the pipeline.
    1F1B: GPU i runs stage i ([first, (middle), last]; pp == 1 one GPU with both ends). DualPipe: GPU r holds stage
    r and stage p - 1 - r and runs half the micro-batches through each (core.training.pipeline), so the end GPUs 0 and
    p - 1 average the first and the last stage and every other GPU two middle stages: [ends, (middle)]."""
    if schedule == "dualpipe":
        ends = ((split.first + split.last) / 2.0, 0.5, 0.5)
        return [ends] + ([(float(split.middle), 0.0, 0.0)] if pp > 2 else [])
    if pp == 1:
        return [(float(split.first), 1.0, 1.0)]
    out = [(float(split.first), 1.0, 0.0), (float(split.last), 0.0, 1.0)]
    if pp > 2:
        out.insert(1, (float(split.middle), 0.0, 0.0))
    return out
