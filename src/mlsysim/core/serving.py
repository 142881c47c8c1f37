"""LLM serving on one device (experimental): time to first token, time per output token, KV-cache capacity.

A request is a prompt of `prompt_len` tokens followed by `output_len` generated tokens; `batch_size`
requests run together (static batch). TTFT = prefill of the prompts; TPOT = one decode step at the mean
context prompt_len + output_len / 2 (the KV cache grows linearly during generation).
"""
from __future__ import annotations

from typing import Any

import attrs

from ..errors import InvalidInputError, UnsupportedModelError
from ..specs.models import TransformerSpec
from ..units import quantity
from .inputs import Source, check_outputs, check_positive_int, resolve_hardware, resolve_model
from .results import PerformanceProfile, SolverResult
from .solver import ForwardModel, RooflineModel, mfu_source


# Prompt length when none is given: a typical chat turn with its system prompt and history (an estimate).
DEFAULT_PROMPT_LEN = 1024


@attrs.frozen(kw_only=True)
class ServingResult(SolverResult):
    # the six fields every result carries (stable on PerformanceProfile; experimental here)
    latency: Any            # end-to-end time of one request: TTFT + (output_len - 1) x TPOT
    throughput: Any         # generated tokens/s across the batch during decode
    bottleneck: str         # of the decode step
    mfu: float              # model FLOPs of prefill + decode over (latency x dense peak)
    feasible: bool
    energy: Any             # joules per request (prefill + decode share)
    # serving detail
    ttft: Any
    tpot: Any
    max_concurrent_sequences: int   # KV-cache slots that fit beside the weights at this context
    kv_cache_per_sequence_bytes: float
    prefill: PerformanceProfile
    decode: PerformanceProfile
    batch_size: int = 1
    reasons: tuple[str, ...] = ()

    # --- 0.1.x's ServingResult names (quantities derived from the fields above) ---------------------------
    @property
    def itl(self):
        """Inter-token latency: one decode step (0.1.x's name of ``tpot``)."""
        return self.tpot

    @property
    def kv_cache_size(self):
        """KV cache of the whole batch at the end of generation (the prompt plus every output token)."""
        return quantity(self.batch_size * self.kv_cache_per_sequence_bytes, "B")

    @property
    def model_weights_size(self):
        return quantity(self.decode.memory.weights, "B")

    @property
    def total_memory_required(self):
        """Weights + the batch's KV cache + activations + runtime reserve, at the end of generation."""
        m = self.decode.memory
        return quantity(m.weights + self.batch_size * self.kv_cache_per_sequence_bytes + m.activations
                        + m.runtime_reserve, "B")

    @property
    def memory_utilization(self) -> float:
        """total_memory_required over the device's capacity (above 1: does not fit)."""
        return self.total_memory_required.m_as("B") / self.decode.memory.capacity

    @property
    def prompt_cache_hit_ratio(self) -> float:
        """Share of the prompt served from a prefix cache: 0, prefix caching is not modelled."""
        return 0.0


class ServingModel(ForwardModel):
    """Prefill + decode of a decoder LLM on one device (tensor parallelism arrives with DistributedModel)."""

    def __init__(self, roofline: RooflineModel | None = None):
        self._roofline = roofline or RooflineModel()

    def solve(self, model: Any, hardware: Any, batch_size: int = 1, precision: str = "fp16",
              efficiency: float | None = None, *, prompt_len: int | None = None, output_len: int = 256,
              weight_only: bool = False, seq_len: int | None = None) -> ServingResult:
        """One request of `prompt_len` prompt tokens and `output_len` generated tokens for each of `batch_size`
        sequences. ``seq_len`` is 0.1.x's name of the prompt length (give one of the two; default 1024)."""
        m, hw = resolve_model(model), resolve_hardware(hardware)
        if seq_len is not None and prompt_len is not None and seq_len != prompt_len:
            raise InvalidInputError(f"seq_len ({seq_len}) is 0.1.x's name of prompt_len ({prompt_len}): give one")
        prompt_len = seq_len if seq_len is not None else (prompt_len if prompt_len is not None
                                                          else DEFAULT_PROMPT_LEN)
        if not isinstance(m, TransformerSpec) or m.architecture == "encoder":
            raise UnsupportedModelError(f"ServingModel serves decoder transformers (prefill + decode); "
                                        f"{m.display_name} is {m.architecture}: use Engine.solve")
        prompt = check_positive_int("prompt_len", prompt_len)
        output = check_positive_int("output_len", output_len)
        if m.position_embedding == "learned" and prompt + output > m.context_length:
            raise InvalidInputError(f"prompt_len + output_len = {prompt + output} exceeds the {m.context_length} "
                                    f"learned positions of {m.display_name}")
        common = dict(weight_only=weight_only)
        pre = self._roofline.solve(m, hw, batch_size, precision, efficiency, seq_len=prompt, prefill=True, **common)
        mean_context = prompt + output // 2
        dec = self._roofline.solve(m, hw, batch_size, precision, efficiency, seq_len=mean_context, **common)
        # Capacity at the final context: everything beside weights and the runtime is KV cache
        # (vLLM-style paged allocation, Kwon et al. 2023).
        end = self._roofline.solve(m, hw, 1, precision, efficiency, seq_len=prompt + output, **common)
        kv_per_seq = end.memory.kv_cache
        free = hw.memory._capacity - end.memory.weights - end.memory.runtime_reserve - end.memory.activations
        slots = max(int(free // kv_per_seq), 0) if kv_per_seq else 0
        ttft, tpot = pre.latency.to("s").magnitude, dec.latency.to("s").magnitude
        latency = ttft + (output - 1) * tpot
        flops = pre.flops + (output - 1) * dec.flops
        energy = pre.energy.to("J").magnitude + (output - 1) * dec.energy.to("J").magnitude
        throughput = batch_size / tpot
        mfu = check_outputs(f"ServingModel ({m.name} on {hw.name})", latency=latency, throughput=throughput,
                            energy=energy / batch_size, mfu=flops / (latency * dec.dense_peak_flops), terms=(
            (ttft, Source(None, entry=hw.name)), ((output - 1) * tpot, Source("output_len", output))),
            mfu_source=mfu_source(m, hw, dec.compute_precision, max(pre.efficiency, dec.efficiency)))
        feasible = pre.feasible and dec.feasible and slots >= batch_size
        reasons = tuple(dict.fromkeys(pre.reasons + dec.reasons + end.reasons))
        if slots < batch_size:
            reasons += (f"KV cache for {batch_size} sequences of {prompt + output} tokens needs "
                        f"{batch_size * kv_per_seq / 2**30:.2f} GiB; {slots} fit beside the weights",)
        return ServingResult(
            latency=quantity(latency, "s"), throughput=quantity(throughput, "token/s"),
            bottleneck=dec.bottleneck, mfu=mfu, feasible=feasible,
            energy=quantity(energy / batch_size, "J"), ttft=quantity(ttft, "s"), tpot=quantity(tpot, "s"),
            max_concurrent_sequences=slots, kv_cache_per_sequence_bytes=kv_per_seq, prefill=pre, decode=dec,
            batch_size=batch_size,
            reasons=reasons)


__all__ = ["ServingModel", "ServingResult"]
