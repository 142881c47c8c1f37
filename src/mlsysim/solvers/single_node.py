"""SingleNodeModel: 0.1.x's name for the single-device roofline, i.e. ``mlsysim.Engine.solve``.

It models one pass (a decode step, a forward pass or a training step) of one model on one device: each kernel
phase waits on the slower of its compute and memory roofs, plus launch overhead (RooflineModel). It does not
model several devices (DistributedModel), a request's prefill + decode (ServingModel) or queueing.
"""
from __future__ import annotations

import inspect
from typing import Any

from ..core.results import PerformanceProfile
from ..core.solver import ForwardModel, RooflineModel
from ..errors import InvalidInputError

_ROOFLINE = RooflineModel()
# Keyword options the roofline takes beyond the five positional figures and raise_errors.
_OPTIONS = tuple(name for name, p in inspect.signature(RooflineModel.solve).parameters.items()
                 if p.kind is inspect.Parameter.KEYWORD_ONLY and name != "raise_errors")


class SingleNodeModel(ForwardModel):
    """One model on one device: latency, throughput, bottleneck, MFU, memory fit and energy of one pass."""

    def solve(self, model: Any, hardware: Any, batch_size: int = 1, precision: str = "fp16",
              efficiency: float | None = None, raise_errors: bool = False, **kwargs: Any) -> PerformanceProfile:
        """model, hardware: specs or registry names. efficiency None uses the device's measured matmul rate or
        its class calibration (0.1.x assumed 0.5 everywhere; pass efficiency=0.5 to reproduce that).
        kwargs: is_training, seq_len, zero_stage, dp_size, activation_recomputation, weight_only, prefill,
        runtime (a software stack of mlsysim.Runtimes) and seq_lens (a ragged batch), as RooflineModel.solve."""
        if kwargs.pop("is_lora", False) is not False:
            raise InvalidInputError("is_lora=True is not modelled: LoRA fine-tuning memory and FLOPs are not in "
                                    "the roofline; use is_training=True for full fine-tuning")
        unknown = sorted(set(kwargs) - set(_OPTIONS))
        if unknown:
            raise InvalidInputError(f"SingleNodeModel.solve got unknown option(s) {', '.join(unknown)}; "
                                    f"accepted: {', '.join(_OPTIONS)}")
        return _ROOFLINE.solve(model, hardware, batch_size, precision, efficiency, raise_errors=raise_errors,
                               **kwargs)


__all__ = ["SingleNodeModel"]
