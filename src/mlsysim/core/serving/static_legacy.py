"""batching="static" on one device with no runtime: 0.1.x's meaning, unchanged. `batch_size` requests run
together; TTFT = prefill of all prompts; TPOT = one decode step at the mean context prompt_len + output_len/2
(the KV cache grows linearly during generation); RooflineModel supplies both."""
from __future__ import annotations

from ...units import quantity
from ..inputs import Source, check_outputs, resolve_hardware
from ..solver import mfu_source
from .result import ServingResult


def legacy_static(roofline, m, hardware, batch_size, precision, efficiency, prompt, output, weight_only):
    hw = resolve_hardware(hardware)
    common = dict(weight_only=weight_only)
    pre = roofline.solve(m, hw, batch_size, precision, efficiency, seq_len=prompt, prefill=True, **common)
    mean_context = prompt + output // 2
    dec = roofline.solve(m, hw, batch_size, precision, efficiency, seq_len=mean_context, **common)
    # Capacity at the final context: everything beside weights and the runtime is KV cache
    # (vLLM-style paged allocation, Kwon et al. 2023).
    end = roofline.solve(m, hw, 1, precision, efficiency, seq_len=prompt + output, **common)
    kv_per_seq = end.memory.kv_cache
    free = hw.memory._capacity - end.memory.weights - end.memory.runtime_reserve - end.memory.activations
    slots = max(int(free // kv_per_seq), 0) if kv_per_seq else 0
    ttft, tpot = pre.latency_s, dec.latency_s  # the results' floats (s): no Quantity round trip
    latency = ttft + (output - 1) * tpot
    flops = pre.flops + (output - 1) * dec.flops
    energy = pre.energy_j + (output - 1) * dec.energy_j
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
