"""ServingModel's static batch without a third solve per call (core/serving/static_legacy.py: the KV sizing of
one sequence at the final context is kept per spec pair and arguments, and the two solves go straight to the
cached plan) returns what the previous implementation returned, to the last bit, on random inputs: every
field, the nested prefill/decode profiles, the text, and the class of an error. The reference below is that
implementation (three RooflineModel solves each call)."""
from __future__ import annotations

import math
import random

import attrs
import pytest

import mlsysim
from mlsysim.core import solve_plan
from mlsysim.core.inputs import Source, check_outputs, resolve_hardware
from mlsysim.core.serving import static_legacy
from mlsysim.core.serving.result import ServingResult
from mlsysim.core.solver import RooflineModel, mfu_source
from mlsysim.solvers import ServingModel
from mlsysim.specs.models import TransformerSpec
from mlsysim.units import quantity


def reference_static(roofline, m, hardware, batch_size, precision, efficiency, prompt, output, weight_only):
    hw = resolve_hardware(hardware)
    common = dict(weight_only=weight_only)
    pre = roofline.solve(m, hw, batch_size, precision, efficiency, seq_len=prompt, prefill=True, **common)
    mean_context = prompt + output // 2
    dec = roofline.solve(m, hw, batch_size, precision, efficiency, seq_len=mean_context, **common)
    end = roofline.solve(m, hw, 1, precision, efficiency, seq_len=prompt + output, **common)
    kv_per_seq = end.memory.kv_cache
    free = hw.memory._capacity - end.memory.weights - end.memory.runtime_reserve - end.memory.activations
    slots = max(int(free // kv_per_seq), 0) if kv_per_seq else 0
    ttft, tpot = pre.latency_s, dec.latency_s
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


def outcome(solve, *args) -> tuple:
    try:
        r = solve(*args)
    except Exception as e:
        return ("error", type(e).__name__)
    fields = tuple((f.name, _plain(getattr(r, f.name))) for f in attrs.fields(type(r)))
    return ("ok", fields, r.summary(), r.to_dict())


def _plain(v):
    if hasattr(v, "units"):
        return (v.magnitude, str(v.units))
    if hasattr(v, "to_dict"):
        return (v.to_dict(), v.summary())
    return v


def same(a, b) -> bool:
    """Equal to the last bit (NaN equal to NaN)."""
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b


DECODERS = sorted(n for n in mlsysim.Models.names()
                  if isinstance(mlsysim.Models.get(n), TransformerSpec) and mlsysim.Models.get(n).architecture
                  != "encoder")
HARDWARE = sorted(mlsysim.Hardware.names())
PRECISIONS = ("fp32", "fp16", "bf16", "fp8", "int8", "int4", "fp4", "bogus")


def cases(n: int, seed: int) -> list[tuple]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        prompt = rng.choice((1, 7, 128, 2048, 8192, 100_000))
        out.append((rng.choice(DECODERS), rng.choice(HARDWARE), rng.choice((1, 2, 8, 64, 512)),
                    rng.choice(PRECISIONS), rng.choice((None, None, round(rng.uniform(0.05, 1.0), 3))), prompt,
                    rng.choice((1, 2, 256, 2048)), rng.random() < 0.2))
    return out


@pytest.mark.parametrize("seed", range(4))
def test_same_result_as_the_three_solve_implementation(seed):
    roofline = RooflineModel()
    for name, hw, batch, prec, eff, prompt, output, wo in cases(60, seed):
        m = mlsysim.Models.get(name)
        args = (roofline, m, hw, batch, prec, eff, prompt, output, wo)
        ref = outcome(reference_static, *args)
        cold = outcome(static_legacy.legacy_static, *args)
        warm = outcome(static_legacy.legacy_static, *args)  # the KV sizing from its cache
        assert same(cold, ref), (name, hw, batch, prec, eff, prompt, output, wo)
        assert same(warm, ref), (name, hw, batch, prec, eff, prompt, output, wo)


def test_one_sizing_per_final_context_whatever_the_split_and_batch():
    """The sizing depends on prompt + output only: other splits and batches reuse it and still agree."""
    roofline, m = RooflineModel(), mlsysim.Models.get("Llama3_8B")
    static_legacy._kv_sizings.clear()
    for prompt, output, batch in ((2048, 256, 8), (2047, 257, 1), (1, 2303, 512), (2300, 4, 64)):
        got = static_legacy.legacy_static(roofline, m, "H100", batch, "fp16", None, prompt, output, False)
        ref = reference_static(roofline, m, "H100", batch, "fp16", None, prompt, output, False)
        assert same(outcome(lambda: got), outcome(lambda: ref))
    assert len(static_legacy._kv_sizings) == 1


def test_reference_path_and_a_custom_roofline_are_not_cached():
    """With the fast path off (tests compare paths) or a RooflineModel subclass, every call solves the sizing."""

    class Slower(RooflineModel):
        calls = 0

        def solve(self, *args, **kwargs):
            type(self).calls += 1
            return super().solve(*args, **kwargs)

    m = mlsysim.Models.get("Llama3_8B")
    static_legacy._kv_sizings.clear()
    ServingModel(Slower()).solve(m, "H100", 4, prompt_len=512, output_len=64, batching="static")
    assert Slower.calls == 3 and not static_legacy._kv_sizings
    try:
        solve_plan.ENABLED = False
        a = outcome(static_legacy.legacy_static, RooflineModel(), m, "H100", 4, "fp16", None, 512, 64, False)
        assert not static_legacy._kv_sizings
    finally:
        solve_plan.ENABLED = True
    b = outcome(static_legacy.legacy_static, RooflineModel(), m, "H100", 4, "fp16", None, 512, 64, False)
    assert same(a, b) and len(static_legacy._kv_sizings) == 1


def test_kv_sizing_physics():
    """More context: more KV bytes per sequence and no more sequences; a larger device fits more."""
    s = ServingModel()
    short = s.solve("Llama3_8B", "H100", 1, prompt_len=1024, output_len=128, batching="static")
    long = s.solve("Llama3_8B", "H100", 1, prompt_len=8192, output_len=128, batching="static")
    big = s.solve("Llama3_8B", "H200", 1, prompt_len=8192, output_len=128, batching="static")
    assert long.kv_cache_per_sequence_bytes > short.kv_cache_per_sequence_bytes
    assert long.max_concurrent_sequences <= short.max_concurrent_sequences
    assert big.max_concurrent_sequences > long.max_concurrent_sequences
