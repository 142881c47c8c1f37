"""Sixth device pass (prepared, not yet run): the decode microbenchmarks the graph-replay and small-batch decode
costs are to be fitted on, instead of the estimates in catalog/runtimes/frameworks.toml (pytorch_cuda_graph
launch.graph_kernel_cost = 2 us: an empty replayed kernel, 1.3 us in Hazy Research's H100 figure, and the 4.5 us
fixed time per cuBLAS GEMM of benchmarks/fit_gemm_roof.py, mixed over the decode layer's 27 kernels).

1. kernel chains: N dependent kernels captured in one CUDA graph and replayed, and launched one by one: an empty
   add on 1 element, an element-wise op and the 8-kernel fp32 RMSNorm of measure_gpu.py on (batch, 4096) bf16
   -> seconds per replayed kernel beyond its bytes (graph_kernel_cost) and per stream launch (async_gap);
2. decode GEMMs: x (M x K) @ W (K x N) bf16 for the Llama-3-8B and Llama-2-13B projection shapes at
   M = 1..256, each replayed from a graph over weight copies that together exceed the L2 -> achieved bandwidth
   and fixed time per GEMM by M (the residual of DEV02-DEV04 grows with the batch: small-M GEMM efficiency);
3. SDPA decode: q (b, 32, 1, 128) against a (b, 8, ctx, 128) cache with enable_gqa, b = 1..128,
   ctx = 1k..8k -> the flash decode kernel's share of the streaming bandwidth and its fixed time.

Usage (on the GPU machine): python3 benchmarks/device/measure_gpu_6.py OUT.json
Nothing here is a validation row: the fits go to the catalog, DEV01-DEV07/DEV15 stay held out.
"""
from __future__ import annotations

import json
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from measure_gpu import DEV, RESULTS, section, timed  # noqa: E402

CHAIN = 1000  # kernels per captured chain: the replay's own launch (~10 us) is < 1 % of it
L2_COPIES_BYTES = 256 * 2**20  # weight copies cycled per GEMM shape: several times any L2 (H200: 60 MiB)
DECODE_SHAPES = {"qkv_8b": (6144, 4096), "o_8b": (4096, 4096), "gate_up_8b": (28672, 4096),
                 "down_8b": (4096, 14336), "lm_head_8b": (128256, 4096), "qkv_13b": (15360, 5120),
                 "down_13b": (5120, 13824)}
M_VALUES = (1, 2, 4, 8, 16, 32, 64, 128, 256)


def replayed(step, iters: int = 20) -> float:
    """Seconds per replay of `step` captured in a CUDA graph (capture on a side stream, as measure_gpu.py)."""
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        step()
    torch.cuda.current_stream().wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        step()
    return timed(graph.replay, iters=iters, warmup=3)


def chains() -> dict:
    out = {}
    dt = torch.bfloat16
    one = torch.zeros(1, device=DEV, dtype=dt)
    out["empty_add"] = {"replayed_s_per_kernel": replayed(lambda: [one.add_(1) for _ in range(CHAIN)]) / CHAIN,
                        "stream_s_per_kernel": timed(lambda: [one.add_(1) for _ in range(CHAIN)], 5, 2) / CHAIN}
    for batch in (1, 8, 32, 128):
        x = torch.randn(batch, 4096, device=DEV, dtype=dt)
        g = torch.ones(4096, device=DEV, dtype=dt)

        def rms(x=x, g=g):  # measure_gpu.py's RMSNorm: 8 ATen kernels, 4096-wide rows
            return x * torch.rsqrt(x.float().pow(2).mean(-1, keepdim=True) + 1e-5).to(dt) * g

        reps = CHAIN // 8
        out[f"rmsnorm_b{batch}"] = {
            "replayed_s_per_kernel": replayed(lambda: [rms() for _ in range(reps)]) / (8 * reps),
            "bytes_per_kernel_mean": batch * 4096 * (28 + 4 * 2) / 8}
    return out


def decode_gemms() -> dict:
    out = {}
    dt = torch.bfloat16
    for name, (n, k) in DECODE_SHAPES.items():
        copies = max(2, -(-L2_COPIES_BYTES // (n * k * 2)))
        ws = [torch.empty(k, n, device=DEV, dtype=dt).normal_(0, 0.02) for _ in range(copies)]
        for m in M_VALUES:
            x = torch.randn(m, k, device=DEV, dtype=dt)
            t = replayed(lambda x=x: [x @ w for w in ws]) / copies
            out[f"{name}_m{m}"] = {"m": m, "n": n, "k": k, "s": t,
                                   "weight_bytes_per_s": n * k * 2 / t, "flops_per_s": 2 * m * n * k / t}
        del ws
        torch.cuda.empty_cache()
    return out


def sdpa_decode() -> dict:
    out = {}
    dt = torch.bfloat16
    for ctx in (1024, 4096, 8192):
        for batch in (1, 8, 32, 128):
            if batch * ctx > 128 * 4096:
                continue
            q = torch.randn(batch, 32, 1, 128, device=DEV, dtype=dt)
            kv = [torch.randn(batch, 8, ctx, 128, device=DEV, dtype=dt) for _ in range(2)]
            t = replayed(lambda: F.scaled_dot_product_attention(q, kv[0], kv[1], enable_gqa=True))
            out[f"b{batch}_ctx{ctx}"] = {"batch": batch, "ctx": ctx, "s": t,
                                         "kv_bytes_per_s": 2 * batch * 8 * ctx * 128 * 2 / t}
    return out


if __name__ == "__main__":
    p = torch.cuda.get_device_properties(0)
    RESULTS["device"] = {"name": p.name, "sms": p.multi_processor_count, "torch": torch.__version__}
    with torch.inference_mode():
        section("kernel_chains")(chains)
        section("decode_gemms")(decode_gemms)
        section("sdpa_decode")(sdpa_decode)
    with open(sys.argv[1], "w") as fh:
        json.dump(RESULTS, fh, indent=1)
