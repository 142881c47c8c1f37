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
from .results import PerformanceProfile
from .solver import ForwardModel, RooflineModel, mfu_source


@attrs.frozen(kw_only=True)
class ServingResult:
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
    reasons: tuple[str, ...] = ()


class ServingModel(ForwardModel):
    """Prefill + decode of a decoder LLM on one device (tensor parallelism arrives with DistributedModel)."""

    def __init__(self, roofline: RooflineModel | None = None):
        self._roofline = roofline or RooflineModel()

    def solve(self, model: Any, hardware: Any, batch_size: int = 1, precision: str = "fp16",
              efficiency: float | None = None, *, prompt_len: int = 1024, output_len: int = 256,
              weight_only: bool = False) -> ServingResult:
        m, hw = resolve_model(model), resolve_hardware(hardware)
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
            reasons=reasons)


__all__ = ["ServingModel", "ServingResult"]
