"""Pipeline schedules: 1F1B and interleaved 1F1B with virtual stages (Narayanan et al. 2021, sec. 2.2).

With p stages, m micro-batches per step and v model chunks per GPU, a step takes (m + (p - 1) / v) slots of
one micro-batch's forward + backward on the slowest stage: the bubble is (p - 1) / v slots (eq. 1 and sec.
2.2.2). The first stage keeps min(p, m) micro-batches of activations in flight (1F1B warm-up); interleaving
raises that by (1 + (p - 1) / (p v)) (Korthikanti et al. 2022, sec. 4.2.3, eq. 5).
"""
from __future__ import annotations


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
