"""Compute-optimal model and data size for a training budget (Chinchilla scaling).

Training a dense transformer of N parameters on D tokens costs C = 6 N D FLOPs (forward 2 N, backward 4 N per
token; Kaplan et al. 2020, sec. 2.1). Hoffmann et al. 2022 ("Training Compute-Optimal Large Language Models")
find that N and D should grow in equal proportion with C: their approaches 1 and 2 fit N_opt ~ C^0.50 and
C^0.49 (Table 3), so D/N is a constant, about 20 tokens per parameter (Chinchilla: 70B parameters on 1.4T
tokens). With the ratio r = D / N:  N = sqrt(C / (6 r)),  D = r N.  Given a model size N instead, D = C / (6 N).

Not modelled: the loss reached (the fitted L(N, D) of approach 3, whose exponents give a ratio that drifts with
C), data repetition, mixture-of-experts (6 N counts active parameters), attention FLOPs (small next to 6 N for
contexts much shorter than 6 x hidden size), and inference cost, which favours smaller models trained longer.
"""
from __future__ import annotations

import math
from typing import Any

import attrs

from ..errors import InvalidInputError
from ..specs.fields import figure
from ..units import quantity
from ._design import as_figure, is_quantity
from ._result import SolverResult

# Training FLOPs per parameter per token: 2 forward + 4 backward (Kaplan et al. 2020, sec. 2.1, C ~ 6 N D).
FLOPS_PER_PARAMETER_TOKEN = 6.0
# Compute-optimal tokens per parameter: Hoffmann et al. 2022, Table 3 approaches 1-2 (a ~ b ~ 0.5) and the
# Chinchilla model itself (70B parameters, 1.4T tokens = 20). Fitted (measured) value, rounded.
CHINCHILLA_TOKENS_PER_PARAMETER = 20.0
# A budget given as accelerator time is converted at the reference device's dense peak times a sustained
# training MFU: Llama 3 405B trained at 38-43 % BF16 MFU on H100s (Dubey et al. 2024, "The Llama 3 Herd of
# Models", Table 4). Measured range; 0.40 is its middle.
REFERENCE_TRAINING_MFU = 0.40
REFERENCE_HARDWARE = "H100"
REFERENCE_PRECISION = "bf16"


@attrs.frozen(kw_only=True)
class ScalingResult(SolverResult):
    optimal_parameters: Any       # N, in params
    optimal_tokens: Any           # D, in tokens
    compute_budget_flops: Any     # C, in FLOP
    tokens_per_parameter: float   # D / N
    constraint_trace: tuple[str, ...] = ()


class ScalingModel:
    """Chinchilla-optimal parameters and tokens for a FLOP budget (or the tokens a given model size affords)."""

    def solve(self, compute_budget: Any, target_model_size: Any = None, *,
              tokens_per_parameter: float = CHINCHILLA_TOKENS_PER_PARAMETER,
              reference_hardware: Any = REFERENCE_HARDWARE, reference_mfu: float = REFERENCE_TRAINING_MFU,
              precision: str = REFERENCE_PRECISION) -> ScalingResult:
        """compute_budget: training FLOPs (a Quantity in flop, or a plain number of FLOPs), or accelerator
        time (a time Quantity, e.g. 1000 GPU-days as ``1000 * ureg.day``) converted at `reference_hardware`'s
        dense `precision` peak x `reference_mfu`. target_model_size: parameters (a Quantity in param/count, or
        a plain number); when given, the tokens that size affords replace the compute-optimal split.
        tokens_per_parameter: the compute-optimal D/N (default Chinchilla's 20)."""
        trace: list[str] = []
        if is_quantity(compute_budget) and compute_budget.check("[time]"):
            from ..core.inputs import resolve_hardware
            from ..core.precision import check_precision_name

            hw = resolve_hardware(reference_hardware)
            mfu = as_figure("reference_mfu", reference_mfu, "")
            if mfu > 1.0:
                raise InvalidInputError(f"reference_mfu is a fraction of the dense peak, at most 1, got {mfu!r}")
            name = check_precision_name(precision)
            peak = figure(hw, f"peak_dense.{name}")
            if peak is None:
                raise InvalidInputError(f"{hw.name} has no dense {precision!r} peak; pass a precision it has")
            seconds = as_figure("compute_budget", compute_budget, "s")
            flops = seconds * peak * mfu  # device-seconds x achieved FLOP/s
            trace.append(f"{seconds / 86400:.4g} device-days of {hw.name} at {peak / 1e12:.4g} TFLOP/s dense "
                         f"{precision} x MFU {mfu:g}")
        else:
            flops = as_figure("compute_budget", compute_budget, "flop")
        ratio = as_figure("tokens_per_parameter", tokens_per_parameter, "")
        if target_model_size is None:
            params = math.sqrt(flops / (FLOPS_PER_PARAMETER_TOKEN * ratio))  # C = 6 N (r N)
            tokens = ratio * params
            trace.append(f"compute-optimal split at {ratio:g} tokens per parameter (Hoffmann et al. 2022)")
        else:
            params = as_figure("target_model_size", target_model_size, "param")
            tokens = flops / (FLOPS_PER_PARAMETER_TOKEN * params)  # C = 6 N D
            optimal = math.sqrt(flops / (FLOPS_PER_PARAMETER_TOKEN * ratio))
            trace.append(f"fixed model size: the compute-optimal size for this budget is {optimal:.4g} parameters")
        if tokens < 1.0:
            raise InvalidInputError(f"a budget of {flops:.4g} FLOP does not train {params:.4g} parameters on one "
                                    f"token (6 N = {FLOPS_PER_PARAMETER_TOKEN * params:.4g} FLOP per token)")
        return ScalingResult(optimal_parameters=quantity(params, "param"), optimal_tokens=quantity(tokens, "token"),
                             compute_budget_flops=quantity(flops, "flop"), tokens_per_parameter=tokens / params,
                             constraint_trace=tuple(trace))
