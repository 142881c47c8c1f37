"""Pipeline composition (experimental): stages an item passes through, each with its own result.

    from mlsysim.pipeline import Pipeline, Stage, StageFigures
    Pipeline([...])                     sequential stages (compose.py)
    Pipeline.request(...)               a request's prefill then decode steps on one device
    Pipeline.disaggregated(...)         a prefill pool -> KV link -> decode pool (ServingModel)
    Pipeline.parallel(...)              one model over a TP x PP group with micro-batches (parallel.py)
"""
from __future__ import annotations

from typing import Any

from .compose import KINDS, Pipeline, Stage, StageFigures


def _parallel(cls: type, model: Any, hardware: Any, *, tp: int = 1, pp: int = 1, microbatches: int = 1,
              microbatch_size: int = 1, precision: Any = None, seq_len: int | None = None, phase: str = "prefill",
              efficiency: float | None = None) -> Any:
    """`model` split over pp stages of consecutive layers, each on tp devices of `hardware` (a device, or a
    Systems node whose link carries the TP all-reduces and the stage-to-stage activations), running
    `microbatches` micro-batches of `microbatch_size` sequences of `seq_len` tokens through the stages.
    phase: "prefill" (a forward pass over the context), "decode" (one token per sequence) or "training" (a
    forward + backward step). Returns a ParallelPipeline: stage0, link0, stage1, ... with their own results,
    the six stable fields of the group (latency: the step of all micro-batches; throughput: sequences/s),
    step_time_s, fill_latency_s, bubble_s, bubble_fraction and explain(). See mlsysim.pipeline.parallel."""
    from .parallel import build

    return build(model, hardware, tp=tp, pp=pp, microbatches=microbatches, microbatch_size=microbatch_size,
                 precision=precision, seq_len=seq_len, phase=phase, efficiency=efficiency)


Pipeline.parallel = classmethod(_parallel)  # type: ignore[attr-defined]

__all__ = ["Pipeline", "Stage", "StageFigures", "KINDS"]
