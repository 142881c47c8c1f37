"""Pipeline schedules: 1F1B and interleaved 1F1B with virtual stages (Narayanan et al. 2021, sec. 2.2), and
DualPipe (DeepSeek-AI, DeepSeek-V3 Technical Report, arXiv:2412.19437, sec. 3.2.1; deepseek-ai/DualPipe).

1F1B: with p stages, m micro-batches per step and v model chunks per GPU, a step takes (m + (p - 1) / v) slots of
one micro-batch's forward + backward on the slowest stage: the bubble is (p - 1) / v slots (eq. 1 and sec.
2.2.2). The first stage keeps min(p, m) micro-batches of activations in flight (1F1B warm-up); interleaving
raises that by (1 + (p - 1) / (p v)) (Korthikanti et al. 2022, sec. 4.2.3, eq. 5).

DualPipe feeds half of the micro-batches from each end of the pipeline: GPU r holds stage r for the forward
direction and stage p - 1 - r for the reverse one (two copies of the parameters per stage: examples/
example_dualpipe.py builds each rank's modules as (full_modules[rank], full_modules[pp_size - 1 - rank])). In the
steady state each GPU runs a forward chunk of one direction beside a backward chunk of the other, so one
micro-batch's all-to-all and pipeline sends hide behind the other's compute, and the backward's weight gradients
(W) fill the fill and drain as in zero-bubble pipelines. Report Table 2 (and the repository README): bubble
(p/2 - 1)(F&B + B - 3W), parameters 2x per GPU, activations p + 1 chunks per GPU, with F a forward chunk, B a full
backward chunk (input + weight gradient), W its weight-gradient part and F&B an overlapped forward + backward pair.
DualPipe.step asserts num_ranks % 2 == 0 and num_chunks % 2 == 0, num_chunks >= 2 num_ranks (dualpipe/dualpipe.py).
The overlap itself is the stack's: DualPipe runs a pair's forward and backward one after the other unless the
module brings an overlapped_forward_backward (DualPipe._forward_backward_compute_chunk), so the exposed all-to-all
is the runtime's ep_comm_overlap / overlap={"ep": ...} as for 1F1B, and F&B is the chunk's slot (its compute and
whatever collectives stay exposed). Table 2's bubble is zero at PP = 2 (the two directions fill each other).
"""
from __future__ import annotations

from ...errors import InvalidInputError

PIPELINE_SCHEDULES = ("1f1b", "dualpipe")
# DualPipe: micro-batches per step are at least this many times the pipeline stages (DualPipe.step's assertion
# num_chunks >= num_ranks * 2, deepseek-ai/DualPipe dualpipe/dualpipe.py).
DUALPIPE_MIN_MICROBATCHES_PER_STAGE = 2
# Chunks of activations a DualPipe GPU holds at its peak beyond the p stages (report Table 2: PP + 1).
DUALPIPE_EXTRA_INFLIGHT_CHUNKS = 1
# Weight-gradient chunks DualPipe's bubble subtracts (report Table 2: F&B + B - 3W).
DUALPIPE_BUBBLE_W_CHUNKS = 3


def bubble_slots(pp: int, vp: int) -> float:
    return (pp - 1) / vp if pp > 1 else 0.0


def inflight_microbatches(pp: int, vp: int, micro: int) -> float:
    """Micro-batches of one full stage's activations the first stage holds at the peak of the schedule."""
    base = min(pp, micro)
    if vp > 1:
        # Warm-up of (v - 1) p + 2 (p - 1) chunk forwards (+ 1 in the first steady slot) on the first stage, capped
        # at the m v chunks of a step (Megatron-Core pipeline_parallel/schedules.py num_warmup_microbatches, capped at
        # total_num_microbatches; torch ScheduleInterleaved1F1B get_rank_warmup_ops likewise): at most m micro-batches.
        return min(base * (1.0 + (pp - 1) / (pp * vp)), float(micro))
    return float(base)


def check_schedule(schedule: object, pp: int, vp: int, micro: int) -> str:
    """The schedule's name once the layout can run it; a clear error naming the fix otherwise."""
    if schedule not in PIPELINE_SCHEDULES:
        raise InvalidInputError(f"pipeline_schedule must be one of {PIPELINE_SCHEDULES} ('1f1b' with "
                                f"virtual_pipeline_stages > 1 is interleaved 1F1B), got {schedule!r}")
    if schedule == "dualpipe":
        if pp < 2 or pp % 2:
            raise InvalidInputError(f"pipeline_schedule='dualpipe' feeds micro-batches from both ends and needs an "
                                    f"even pipeline_parallel >= 2 (DualPipe: num_ranks % 2 == 0), got {pp}")
        if vp != 1:
            raise InvalidInputError("pipeline_schedule='dualpipe' already places two stages on each GPU (one per "
                                    "direction); it does not combine with virtual_pipeline_stages > 1: leave it at 1")
        need = DUALPIPE_MIN_MICROBATCHES_PER_STAGE * pp
        if micro % 2 or micro < need:
            raise InvalidInputError(f"pipeline_schedule='dualpipe' needs an even number of micro-batches per replica "
                                    f"of at least 2 x pipeline_parallel = {need} (DualPipe.step: num_chunks % 2 == 0 "
                                    f"and num_chunks >= 2 num_ranks), got {micro}; change the batch or microbatch_size")
    return schedule


def dualpipe_bubble(pair: float, backward: float, wgrad: float, pp: int) -> float:
    """DualPipe's fill-and-drain (report Table 2): (p/2 - 1)(F&B + B - 3W) for one chunk's overlapped forward +
    backward pair `pair` (F&B), its full backward `backward` (B) and that backward's weight-gradient part `wgrad`
    (W), seconds; zero where a chunk's weight gradients alone could fill it (3W above F&B + B)."""
    return (pp / 2 - 1) * max(0.0, pair + backward - DUALPIPE_BUBBLE_W_CHUNKS * wgrad)


def dualpipe_inflight_chunks(pp: int) -> float:
    """Chunks (one stage's activations of one micro-batch) a DualPipe GPU holds at its peak (Table 2: PP + 1)."""
    return float(pp + DUALPIPE_EXTRA_INFLIGHT_CHUNKS)
