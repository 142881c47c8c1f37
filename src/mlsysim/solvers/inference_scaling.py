"""Test-time compute: the cost of an answer reached through K reasoning steps of T tokens each.

Chain-of-thought and o1-style reasoning (Wei et al. 2022; Snell et al. 2024, "Scaling LLM Test-Time Compute
Optimally") generate N = K x T tokens after the prompt before the answer is complete. One query is a ServingModel
request: the prompt's prefill (TTFT), then N - 1 decode steps whose context grows from the prompt to
prompt + N. The decode step time is affine in the context (it reads the KV cache), so the mean step is the one
at the mean context, which ServingModel evaluates; memory must hold the KV cache of the final context.

Not modelled: parallel sampling / best-of-n and tree search (n independent chains cost n x, or share the
prompt's KV cache), verifier or reward-model passes, early stopping, batching with other queries.
"""
from __future__ import annotations

from typing import Any

import attrs

from ..core.inputs import check_positive_int
from ..core.serving import ServingModel, ServingResult
from ..units import quantity
from ._result import SolverResult

# Tokens one reasoning step generates: one line of chain-of-thought working, a sentence of ~35 words (estimate;
# 0.1.x's default, kept so default results are comparable). Pass tokens_per_step= for a measured figure.
TOKENS_PER_REASONING_STEP = 50

_SERVING = ServingModel()


@attrs.frozen(kw_only=True)
class InferenceScalingResult(SolverResult):
    total_reasoning_time: Any   # TTFT + (N - 1) decode steps
    ttft: Any                   # prefill of the prompt (context_length tokens)
    itl: Any                    # mean inter-token latency over the growing context
    tokens_generated: int       # N = reasoning_steps x tokens_per_step
    reasoning_steps: int
    time_per_step: Any          # (total - TTFT) / reasoning_steps
    energy_per_query: Any
    feasible: bool              # weights + KV cache at the final context fit
    serving_detail: ServingResult
    tokens_per_step: int
    final_context: int          # prompt + generated tokens
    constraint_trace: tuple[str, ...] = ()


class InferenceScalingModel:
    """Time and energy of one answer produced by `reasoning_steps` chain-of-thought steps on one device."""

    def solve(self, model: Any, hardware: Any, reasoning_steps: int = 8, context_length: int = 2048,
              precision: str = "fp16", efficiency: float | None = None, *,
              tokens_per_step: int = TOKENS_PER_REASONING_STEP) -> InferenceScalingResult:
        """context_length: prompt tokens; efficiency None uses the device calibration."""
        steps = check_positive_int("reasoning_steps", reasoning_steps)
        per_step = check_positive_int("tokens_per_step", tokens_per_step)
        prompt = check_positive_int("context_length", context_length)
        generated = steps * per_step
        s = _SERVING.solve(model, hardware, 1, precision, efficiency, prompt_len=prompt, output_len=generated,
                           batching="static")
        total, ttft = s.latency.to("s").magnitude, s.ttft.to("s").magnitude
        trace = [f"{steps} steps x {per_step} tokens = {generated} tokens; context grows {prompt} -> "
                 f"{prompt + generated}"] + list(s.reasons)
        return InferenceScalingResult(
            total_reasoning_time=quantity(total * 1e3, "ms"), ttft=quantity(ttft * 1e3, "ms"),
            itl=quantity(s.tpot.to("ms").magnitude, "ms"), tokens_generated=generated, reasoning_steps=steps,
            time_per_step=quantity((total - ttft) / steps * 1e3, "ms"), energy_per_query=s.energy,
            feasible=s.feasible, serving_detail=s, tokens_per_step=per_step, final_context=prompt + generated,
            constraint_trace=tuple(trace))


__all__ = ["InferenceScalingModel", "InferenceScalingResult"]
