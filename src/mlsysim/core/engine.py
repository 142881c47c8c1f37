"""Engine: the stable facade of mlsysim v0.1.x."""
from __future__ import annotations

from typing import Any

from .results import PerformanceProfile
from .lora import DEFAULT_LORA_RANK
from .precision import DEFAULT_PRECISION
from . import runtime_plan, solve_plan
from .solver import RooflineModel

_SOLVER = RooflineModel()


class Engine:
    """``Engine.solve(model, hardware, batch_size, precision, efficiency)`` -- the stable entry point."""

    @staticmethod
    def solve(model: Any, hardware: Any, batch_size: int = 1, precision: str | None = DEFAULT_PRECISION,
              efficiency: float | None = None, *, is_training: bool = False, seq_len: int | None = None,
              raise_errors: bool = False, zero_stage: int = 0, dp_size: int = 1,
              activation_recomputation: str | bool = "none", weight_only: bool = False,
              runtime: Any = None, seq_lens: Any = None, is_lora: bool = False,
              lora_rank: int = DEFAULT_LORA_RANK) -> PerformanceProfile:
        """Predict one pass of ``model`` on one ``hardware`` device.

        model, hardware: a spec or a registry name ("Llama3_70B", "H100").
        batch_size: sequences (decoders: one decode step each) or samples per pass.
        precision: "fp32", "tf32", "fp16", "bf16", "fp8", "int8", "int4" or "fp4". A quantised format the
            hardware has no units for runs as weight-only quantisation at its fastest float format. The default
            is fp16, or on a device without fp16 units the first of bf16, int8, fp32 it has
            (an ESP32-S3 runs int8), named in the result's reasons.
        efficiency: fraction of the dense peak reached, in (0, 1]; None uses the device's measured matmul
            rate or its hardware class's calibrated efficiency (catalog/calibration).
        Keyword-only, experimental: is_training, seq_len (context; default the model's), raise_errors,
            zero_stage, dp_size, activation_recomputation ("none", "selective", "full"), weight_only (run a
            quantised storage format as weight-only quantisation even where the hardware has units for it),
            runtime (a software stack of mlsysim.Runtimes, "llamacpp", "vllm", "tensorrt" ...: its kernels per layer
            and per-kernel launch cost replace the default 8 fused kernels per layer at the device's launch
            overhead, and `precision` may name one of its quantisation formats, e.g. "q4_0" at 4.5 bits per
            weight; None keeps the engine default stack, which the hardware class's default_stack names in the
            result's reasons), seq_lens (a ragged batch: a list of one length per sequence, or
            mlsysim.SequenceLengths(mean=, mean_square=, max=); not with seq_len. A packing runtime computes the
            real tokens -- linear work over sum L, attention over sum L^2 -- a padding one batch x max; None packs),
            is_lora with lora_rank (with is_training: LoRA adapters on every linear layer, base weights frozen).
        """
        if seq_lens is None and is_lora is False and is_training is False and zero_stage == 0 and dp_size == 1 \
                and activation_recomputation == "none" and solve_plan.ENABLED:
            # RooflineModel.solve's own common case, entered directly (core/solve_plan.py, with a runtime
            # core/runtime_plan.py; None: not that case)
            fast = solve_plan.solve(model, hardware, batch_size, precision, efficiency, seq_len, weight_only, False,
                                    raise_errors) if runtime is None else \
                runtime_plan.solve(model, hardware, batch_size, precision, efficiency, seq_len, weight_only, False,
                                   raise_errors, runtime)
            if fast is not None:
                return fast
        return _SOLVER.solve(model, hardware, batch_size, precision, efficiency, is_training=is_training,
                             seq_len=seq_len, raise_errors=raise_errors, zero_stage=zero_stage, dp_size=dp_size,
                             activation_recomputation=activation_recomputation, weight_only=weight_only,
                             runtime=runtime, seq_lens=seq_lens, is_lora=is_lora, lora_rank=lora_rank)
