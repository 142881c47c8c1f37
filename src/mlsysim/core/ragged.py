"""Ragged batches under a runtime's pack/pad rule: what a batch of sequences of different lengths costs.

A runtime that packs (TensorRT's variable-sequence-length BERT plugins, TensorRT-LLM's remove_input_padding,
vLLM/SGLang flat token batches, llama.cpp ubatches: RuntimeSpec.packs_ragged) computes only the real tokens:
linear work scales with sum L = n E[L], attention with sum L^2 = n E[L^2]. A runtime that pads (eager PyTorch
with an attention mask, ONNX Runtime, TFLite) computes every sequence at the longest: n x max, n x max^2;
the padding's FLOPs are executed but are not model FLOPs (MFU counts the real tokens, as it excludes
recomputation: Chowdhery et al. 2022, appendix B).

runtime=None (the engine's idealised fused stack, the stand-in for TensorRT-LLM / vLLM) packs: ENGINE_DEFAULT_PACKS.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs

from ..errors import InvalidInputError
from ..specs.models import ModelSpec, SSMSpec, TransformerSpec
from .precision import ExecutionPrecision
from .workload import TrainingOptions, WorkloadCost, workload_cost

if TYPE_CHECKING:  # annotations only
    from ..specs.runtimes import RuntimeSpec
    from ..specs.sequences import SequenceLengths

# The engine default stands for the serving stacks it was calibrated against (TensorRT-LLM, vLLM), which pack
# the tokens of a batch without padding (TensorRT-LLM remove_input_padding, its default; vLLM flat batches).
ENGINE_DEFAULT_PACKS = True


def sequence_lengths(seq_lens: Any, batch: int) -> SequenceLengths:
    """`seq_lens` as moments: a SequenceLengths as given, or a list of one length per sequence of the batch."""
    from ..specs.sequences import SequenceLengths  # only a ragged batch needs it

    if isinstance(seq_lens, SequenceLengths):
        return seq_lens
    lengths = SequenceLengths.of(seq_lens)
    if len(seq_lens) != batch:
        raise InvalidInputError(f"seq_lens lists {len(seq_lens)} lengths for batch_size {batch}: give one length per "
                                "sequence, or a SequenceLengths(mean=, mean_square=, max=) distribution")
    return lengths


def ragged_workload(model: ModelSpec, batch: int, seq_lens: Any, seq_len: Any, prec: ExecutionPrecision,
                    training: TrainingOptions | None, prefill: bool, rt: RuntimeSpec | None,
                    check_seq: Callable[[ModelSpec, Any, list[str]], int | None],
                    reasons: list[str], executed: Callable[..., WorkloadCost] | None = None
                    ) -> tuple[int | None, WorkloadCost]:
    """(reported seq_len, cost) of a ragged batch. check_seq is the solver's seq_len check (context limits);
    executed(seq, lengths) is the cost the runtime executes (its unfused bytes and shape rates), default the
    fused workload_cost."""
    if executed is None:
        def executed(seq: int, lengths: tuple[float, float] | None) -> WorkloadCost:
            return workload_cost(model, batch, seq, prec, training, prefill, lengths=lengths)
    if seq_len is not None:
        raise InvalidInputError("give seq_len (every sequence the same length) or seq_lens (a ragged batch), not both")
    if not isinstance(model, (TransformerSpec, SSMSpec)):
        raise InvalidInputError(f"seq_lens given, but {model.display_name} ({model.architecture}) has a fixed input, "
                                "not a sequence")
    lengths = sequence_lengths(seq_lens, batch)
    packs = ENGINE_DEFAULT_PACKS if rt is None else rt.packs_ragged
    who = "engine default" if rt is None else rt.display_name
    rms = lengths.mean_square ** 0.5
    shape = f"{batch} sequences, mean {lengths.mean:.4g}, rms {rms:.4g}" + \
        (f", max {lengths.max}" if lengths.max is not None else "")
    if isinstance(model, SSMSpec):  # one recurrent step per sequence, whatever its context (Gu & Dao 2023)
        seq = check_seq(model, lengths.max if lengths.max is not None else max(1, round(rms)), reasons)
        reasons.append(f"ragged batch ({shape}): a state-space decode step does not depend on the context lengths")
        return seq, workload_cost(model, batch, seq, prec, training, prefill)
    if packs:
        # The longest sequence must still fit the model's positions; without a max, the rms bounds it from below.
        seq = check_seq(model, lengths.max if lengths.max is not None else max(1, round(rms)), reasons)
        cost = executed(seq, (lengths.mean, lengths.mean_square))
        reasons.append(f"ragged batch ({shape}) packed by {who}: sum of real tokens (attention over sum L^2)")
        return seq, cost
    if lengths.max is None:
        raise InvalidInputError(f"{who} pads a ragged batch to its longest sequence: give seq_lens a max "
                                "(SequenceLengths(mean=, mean_square=, max=)) or a list of lengths")
    seq = check_seq(model, lengths.max, reasons)
    padded = executed(seq, None)
    real = workload_cost(model, batch, seq, prec, training, prefill, lengths=(lengths.mean, lengths.mean_square))
    waste = 1.0 - lengths.mean / lengths.max
    reasons.append(f"ragged batch ({shape}) padded to {lengths.max} by {who}: {waste:.0%} of the computed tokens are "
                   "padding (executed, not counted as model FLOPs or output)")
    return seq, attrs.evolve(padded, model_flops=real.model_flops, items=real.items)
