"""Continuous batching with a paged KV cache (vLLM's PagedAttention, Kwon et al. 2023; Orca's iteration-level
scheduling, Yu et al. 2022) on one device.

The KV cache is allocated in pages of `page_size` tokens, so a sequence of S tokens holds ceil(S / page)
pages and wastes only the unused tail of its last page. Everything beside the weights and the runtime
reserve holds pages and per-sequence live activations; that sets how many sequences run at once (capped at
`max_batch_size`). Every active sequence holds a context of `seq_len` tokens (the capacity-limiting case);
one decode step of that batch is the inter-token latency, throughput is batch / step. The comparison
baseline is a contiguous allocator that reserves `static_reserve_len` tokens per slot up front (the model's
context length by default, as in Kwon et al. 2023 sec. 3).

Not modelled: the length distribution of real requests (static batching's idle slots while the longest
request finishes), preemption and swapping, prefix sharing, chunked prefill interleaved with decode, and
the queueing of new requests (TailLatencyModel, BatchingOptimizer).
"""
from __future__ import annotations

import math
from typing import Any

import attrs

from ..core.inputs import check_positive_int, resolve_hardware, resolve_model
from ..core.solver import RooflineModel
from ..errors import UnsupportedModelError
from ..specs.models import TransformerSpec
from ..units import quantity
from ._result import SolverResult

_ROOFLINE = RooflineModel()


@attrs.frozen(kw_only=True)
class ContinuousBatchingResult(SolverResult):
    feasible: bool                    # at least one sequence fits beside the weights
    throughput_tokens_per_sec: float  # tokens/s across the active batch (0 when nothing fits)
    max_active_requests: int          # sequences that run at once: min(fit in memory, max_batch_size)
    memory_fragmentation_pct: float   # percent of the allocated KV pages left empty (last-page tail)
    paged_kv_cache_size: Any          # KV pages held by the active batch
    ttft: Any                         # prefill of one prompt of seq_len tokens
    itl: Any                          # one decode step of the active batch at context seq_len
    speedup_vs_static: float          # throughput over that of the contiguous static allocator
    pages_per_sequence: int
    kv_bytes_per_sequence: Any        # paged KV of one sequence (whole pages)
    static_active_requests: int       # sequences the contiguous allocator fits
    static_reserve_len: int           # tokens it reserves per slot
    bottleneck: str                   # of the decode step
    constraint_trace: tuple[str, ...] = ()


class ContinuousBatchingModel:
    """Paged-KV continuous batching of a decoder LLM on one device: capacity, fragmentation, throughput."""

    def solve(self, model: Any, hardware: Any, seq_len: int, max_batch_size: int = 1, page_size: int = 16,
              precision: str = "fp16", efficiency: float | None = None, *,
              static_reserve_len: int | None = None) -> ContinuousBatchingResult:
        """seq_len: tokens of context each sequence holds; efficiency None uses the device calibration."""
        m, hw = resolve_model(model), resolve_hardware(hardware)
        if not isinstance(m, TransformerSpec) or m.architecture == "encoder":
            raise UnsupportedModelError(f"continuous batching serves decoder transformers; {m.display_name} is "
                                        f"{getattr(m, 'architecture', type(m).__name__)}")
        seq = check_positive_int("seq_len", seq_len)
        cap = check_positive_int("max_batch_size", max_batch_size)
        page = check_positive_int("page_size", page_size)
        reserve_len = m.context_length if static_reserve_len is None else \
            check_positive_int("static_reserve_len", static_reserve_len)

        # One sequence's footprint from the roofline at batch 1: KV bytes per token and live activations.
        one = _ROOFLINE.solve(m, hw, 1, precision, efficiency, seq_len=seq)
        kv_per_token = one.memory.kv_cache / seq          # 2 x layers x kv_heads x head_dim x bytes (K and V)
        act_per_seq = one.memory.activations
        resident = one.memory.runtime_reserve + (one.memory.weights if one.memory.weights_capacity is None else 0.0)
        free = one.memory.capacity - resident

        pages = math.ceil(seq / page)                    # PagedAttention: whole pages per sequence
        kv_seq = pages * page * kv_per_token
        frag_pct = 100.0 * (pages * page - seq) / (pages * page)
        fit = _slots(free, kv_seq + act_per_seq)
        active = min(fit, cap)

        # Contiguous allocator: every slot reserves reserve_len tokens (never fewer than the sequence needs);
        # when not one slot fits at that length it is configured with the longest that does.
        longest = int((free - act_per_seq) // kv_per_token) if free > act_per_seq else 0
        static_len = max(seq, min(reserve_len, longest))
        static_active = min(_slots(free, static_len * kv_per_token + act_per_seq), cap)

        trace: list[str] = []
        gb = 1e9
        if active == 0:
            trace.append(f"Memory: FAILED. {m.display_name} needs {resident / gb:.3g} GB for weights and runtime "
                         f"and {(kv_seq + act_per_seq) / gb:.3g} GB per sequence of {seq} tokens; "
                         f"{hw.display_name} has {one.memory.capacity / gb:.3g} GB")
        else:
            trace.append(f"Memory: {fit} sequence(s) of {pages} pages fit beside {resident / gb:.3g} GB of weights "
                         f"and runtime on {hw.display_name}; running {active}"
                         + (f" (max_batch_size {cap})" if fit > cap else ""))
        if active and static_len < reserve_len:
            trace.append(f"static baseline: a {reserve_len}-token reservation does not fit; it reserves "
                         f"{static_len} tokens per slot instead")

        dec = _ROOFLINE.solve(m, hw, max(active, 1), precision, efficiency, seq_len=seq)
        pre = _ROOFLINE.solve(m, hw, 1, precision, efficiency, seq_len=seq, prefill=True)
        itl = dec.latency.to("s").magnitude
        throughput = active / itl
        speedup = 1.0  # nothing runs under either allocator (the static slot is never larger than a page set)
        if active:
            static_itl = _ROOFLINE.solve(m, hw, static_active, precision, efficiency, seq_len=seq).latency
            speedup = throughput / (static_active / static_itl.to("s").magnitude)
        return ContinuousBatchingResult(
            feasible=active >= 1, throughput_tokens_per_sec=throughput, max_active_requests=active,
            memory_fragmentation_pct=frag_pct, paged_kv_cache_size=quantity(active * kv_seq / gb, "GB"),
            ttft=quantity(pre.latency.to("ms").magnitude, "ms"), itl=quantity(itl * 1e3, "ms"),
            speedup_vs_static=speedup, pages_per_sequence=pages, kv_bytes_per_sequence=quantity(kv_seq, "B"),
            static_active_requests=static_active, static_reserve_len=static_len, bottleneck=dec.bottleneck,
            constraint_trace=tuple(trace))


def _slots(free: float, per_sequence: float) -> int:
    return max(int(free // per_sequence), 0) if free > 0 else 0


__all__ = ["ContinuousBatchingModel", "ContinuousBatchingResult"]
