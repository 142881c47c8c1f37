"""batching="static" on one device with no runtime: 0.1.x's meaning, unchanged. `batch_size` requests run
together; TTFT = prefill of all prompts; TPOT = one decode step at the mean context prompt_len + output_len/2
(the KV cache grows linearly during generation); RooflineModel supplies both."""
from __future__ import annotations

from ... import registry as _registry
from ...units import quantity
from .. import solve_plan
from ..inputs import Source, check_outputs, resolve_hardware
from ..solver import RooflineModel, mfu_source
from .result import ServingResult

# KV sizing per (model, device, precision, efficiency, final context, weight_only); see _kv_sizing.
KV_SIZING_CACHE_SIZE = 4096
_kv_sizings: dict[tuple, tuple] = {}


def _solve(roofline, m, hw, batch, precision, efficiency, seq_len, weight_only, prefill=False):
    """roofline.solve(m, hw, batch, precision, efficiency, seq_len=, weight_only=, prefill=). The plain
    RooflineModel's solve first tries core/solve_plan.py with these arguments (the rest at their defaults):
    go there directly, and through solve where that declines (outside its common case, or an error to word)."""
    if type(roofline) is RooflineModel and solve_plan.ENABLED:
        fast = solve_plan.solve(m, hw, batch, precision, efficiency, seq_len, weight_only, prefill, False)
        if fast is not None:
            return fast
    return roofline.solve(m, hw, batch, precision, efficiency, seq_len=seq_len, prefill=prefill,
                          weight_only=weight_only)


def _kv_sizing(roofline, m, hw, precision, efficiency, context, weight_only) -> tuple[float, float, tuple[str, ...]]:
    """(KV bytes of one sequence at the final context, bytes free for the cache, notes) from one sequence's
    decode step at that context: everything beside weights, activations and the runtime reserve is KV cache
    (vLLM-style paged allocation, Kwon et al. 2023). It depends on neither the batch nor the prompt/output
    split, so the plain RooflineModel's (deterministic on frozen specs) is kept per spec pair and arguments,
    holding the specs so an id is never reused while cached (the discipline of core/solve_plan.py)."""
    cacheable = type(roofline) is RooflineModel and solve_plan.ENABLED
    if cacheable:
        try:
            key = (id(m), id(hw), precision, type(precision), efficiency, type(efficiency), context, weight_only)
            hit = _kv_sizings.get(key)
        except TypeError:  # an unhashable argument: no cache
            cacheable, hit = False, None
        if hit is not None and hit[0] is m and hit[1] is hw and hit[2] is _registry._loaded:
            return hit[3]
    end = _solve(roofline, m, hw, 1, precision, efficiency, context, weight_only)
    mem = end.memory
    sizing = (mem.kv_cache, hw.memory._capacity - mem.weights - mem.runtime_reserve - mem.activations, end.reasons)
    if cacheable:
        if len(_kv_sizings) >= KV_SIZING_CACHE_SIZE:
            _kv_sizings.clear()
        _kv_sizings[key] = (m, hw, _registry._loaded, sizing)
    return sizing


def legacy_static(roofline, m, hardware, batch_size, precision, efficiency, prompt, output, weight_only):
    hw = resolve_hardware(hardware)
    pre = _solve(roofline, m, hw, batch_size, precision, efficiency, prompt, weight_only, prefill=True)
    mean_context = prompt + output // 2
    dec = _solve(roofline, m, hw, batch_size, precision, efficiency, mean_context, weight_only)
    # Capacity at the final context: everything beside weights and the runtime is KV cache
    kv_per_seq, free, end_reasons = _kv_sizing(roofline, m, hw, precision, efficiency, prompt + output, weight_only)
    slots = max(int(free // kv_per_seq), 0) if kv_per_seq else 0
    ttft, tpot = pre.latency_s, dec.latency_s  # the results' floats (s): no Quantity round trip
    latency = ttft + (output - 1) * tpot
    flops = pre.flops + (output - 1) * dec.flops
    energy = pre.energy_j + (output - 1) * dec.energy_j
    throughput = batch_size / tpot
    # the blame of a bad result is built only to word its error (check_outputs calls these then)
    mfu = check_outputs(f"ServingModel ({m.name} on {hw.name})", latency=latency, throughput=throughput,
                        energy=energy / batch_size, mfu=flops / (latency * dec.dense_peak_flops), terms=lambda: (
        (ttft, Source(None, entry=hw.name)), ((output - 1) * tpot, Source("output_len", output))),
        mfu_source=lambda: mfu_source(m, hw, dec.compute_precision, max(pre.efficiency, dec.efficiency)))
    feasible = pre.feasible and dec.feasible and slots >= batch_size
    reasons = tuple(dict.fromkeys(pre.reasons + dec.reasons + end_reasons))
    if slots < batch_size:
        reasons += (f"KV cache for {batch_size} sequences of {prompt + output} tokens needs "
                    f"{batch_size * kv_per_seq / 2**30:.2f} GiB; {slots} fit beside the weights",)
    mem = dec.memory
    return ServingResult(
        latency=quantity(latency, "s"), throughput=quantity(throughput, "token/s"),
        bottleneck=dec.bottleneck, mfu=mfu, feasible=feasible,
        energy=quantity(energy / batch_size, "J"), ttft=quantity(ttft, "s"), tpot=quantity(tpot, "s"),
        max_concurrent_sequences=slots, kv_cache_per_sequence_bytes=kv_per_seq, prefill=pre, decode=dec,
        batch_size=batch_size, reasons=reasons, throughput_per_gpu=quantity(throughput, "token/s"), gpus=1,
        parallelism={"tp": 1, "dp": 1, "ep": 1, "pp": 1}, batching="static",
        request_rate=quantity(batch_size / latency, "1/s"), weights_per_gpu_bytes=mem.weights,
        memory_capacity_bytes=mem.capacity, memory_other_bytes=mem.activations + mem.runtime_reserve,
        kv_precision=dec.compute_precision, prefill_chunk_tokens=float(batch_size * prompt))
