"""Measure a real GPU for mlsysim's validation set: GEMM and copy ceilings, decode steps of randomly
initialised Llama-geometry decoders (CUDA graphs, bf16), ResNet-50 and BERT-Large forward passes, and
energy from NVML's energy counter. No weights are downloaded: every tensor is random.

Usage (on the GPU machine): python3 benchmarks/device/measure_gpu.py OUT.json
Each section is independent; a failing section is recorded with its error and the rest still run.
"""
from __future__ import annotations

import json
import sys
import time
import traceback

import torch
import torch.nn.functional as F

DEV = "cuda"
RESULTS: dict = {"sections": {}, "errors": {}}


def timed(fn, iters: int = 20, warmup: int = 5) -> float:
    """Mean seconds per call, CUDA events around `iters` calls after `warmup`."""
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(iters):
        fn()
    end.record()
    torch.cuda.synchronize()
    return start.elapsed_time(end) / iters / 1e3


def energy_per_call(fn, seconds: float = 3.0) -> tuple[float, float]:
    """(joules per call, mean watts) from NVML's total-energy counter over ~`seconds` of back-to-back calls."""
    import pynvml

    pynvml.nvmlInit()
    h = pynvml.nvmlDeviceGetHandleByIndex(0)
    t_call = timed(fn, iters=10, warmup=3)
    n = max(int(seconds / t_call), 10)
    torch.cuda.synchronize()
    e0, w0 = pynvml.nvmlDeviceGetTotalEnergyConsumption(h), time.perf_counter()
    for _ in range(n):
        fn()
    torch.cuda.synchronize()
    e1, w1 = pynvml.nvmlDeviceGetTotalEnergyConsumption(h), time.perf_counter()
    joules = (e1 - e0) / 1e3
    return joules / n, joules / (w1 - w0)


def section(name):
    def wrap(fn):
        t0 = time.perf_counter()
        try:
            RESULTS["sections"][name] = fn()
        except Exception:  # record and continue: one broken section must not lose the others
            RESULTS["errors"][name] = traceback.format_exc()[-2000:]
        print(f"[{time.perf_counter() - t0:6.1f}s] {name}: {RESULTS['sections'].get(name, 'ERROR')}", flush=True)
        torch.cuda.empty_cache()
        return fn
    return wrap


def decoder(L, d, H, KV, hd, ffn, vocab, batch, ctx, grouped=False):
    """One decode step of a Llama-geometry decoder (RMSNorm, GQA attention over a `ctx`-token KV cache,
    SwiGLU), random bf16 weights, captured in a CUDA graph. grouped=True runs GQA as H/KV queries per KV
    head (each K/V read once, as serving kernels do); False uses SDPA's enable_gqa."""
    dt = torch.bfloat16
    std = 0.02

    def w(*shape):
        return torch.empty(*shape, device=DEV, dtype=dt).normal_(0, std)

    layers = [dict(g1=torch.ones(d, device=DEV, dtype=dt), wqkv=w(d, (H + 2 * KV) * hd), wo=w(H * hd, d),
                   g2=torch.ones(d, device=DEV, dtype=dt), wgu=w(d, 2 * ffn), wd=w(ffn, d),
                   k=w(batch, KV, ctx, hd), v=w(batch, KV, ctx, hd)) for _ in range(L)]
    emb, head, gf = w(vocab, d), w(d, vocab), torch.ones(d, device=DEV, dtype=dt)
    tokens = torch.randint(0, vocab, (batch,), device=DEV)

    def rms(x, g):
        return x * torch.rsqrt(x.float().pow(2).mean(-1, keepdim=True) + 1e-5).to(dt) * g

    def step():
        h = emb[tokens]
        for lw in layers:
            x = rms(h, lw["g1"]) @ lw["wqkv"]
            q, k, v = x.split([H * hd, KV * hd, KV * hd], dim=-1)
            lw["k"][:, :, ctx - 1] = k.view(batch, KV, hd)
            lw["v"][:, :, ctx - 1] = v.view(batch, KV, hd)
            if grouped:
                a = F.scaled_dot_product_attention(q.view(batch, KV, H // KV, hd), lw["k"], lw["v"])
            else:
                a = F.scaled_dot_product_attention(q.view(batch, H, 1, hd), lw["k"], lw["v"], enable_gqa=True)
            h = h + a.reshape(batch, H * hd) @ lw["wo"]
            g, u = (rms(h, lw["g2"]) @ lw["wgu"]).chunk(2, dim=-1)
            h = h + (F.silu(g) * u) @ lw["wd"]
        return rms(h, gf) @ head

    with torch.inference_mode():
        eager = timed(step, iters=5, warmup=2)
        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(stream):
            step()
        torch.cuda.current_stream().wait_stream(stream)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            step()
        t = timed(graph.replay, iters=30, warmup=5)
        joules, watts = energy_per_call(graph.replay)
    return {"batch": batch, "ctx": ctx, "step_s_graph": t, "step_s_eager": eager,
            "tokens_per_s": batch / t, "joules_per_token": joules / batch, "watts": watts}


def run_all() -> None:
    p = torch.cuda.get_device_properties(0)
    RESULTS["device"] = {"name": p.name, "sms": p.multi_processor_count, "memory_bytes": p.total_memory,
                         "torch": torch.__version__, "cuda": torch.version.cuda}
    print(RESULTS["device"], flush=True)

    @section("gemm")
    def _gemm():
        out = {}
        n = 8192
        for name, dt in (("bf16", torch.bfloat16), ("fp16", torch.float16)):
            a, b = torch.randn(n, n, device=DEV, dtype=dt), torch.randn(n, n, device=DEV, dtype=dt)
            out[f"{name}_flops_per_s"] = 2 * n**3 / timed(lambda a=a, b=b: a @ b)
        torch.backends.cuda.matmul.allow_tf32 = False
        a, b = torch.randn(n, n, device=DEV), torch.randn(n, n, device=DEV)
        out["fp32_flops_per_s"] = 2 * n**3 / timed(lambda: a @ b, iters=5, warmup=2)
        a8 = torch.randn(n, n, device=DEV).to(torch.float8_e4m3fn)
        b8 = torch.randn(n, n, device=DEV).to(torch.float8_e4m3fn).t()
        one = torch.tensor(1.0, device=DEV)
        out["fp8_flops_per_s"] = 2 * n**3 / timed(lambda: torch._scaled_mm(a8, b8, one, one, out_dtype=torch.bfloat16))
        return out

    @section("memory")
    def _memory():
        x = torch.empty(2**30, device=DEV, dtype=torch.bfloat16).normal_()  # 2 GiB
        y = torch.empty_like(x)
        nbytes = x.numel() * x.element_size()
        copy = timed(lambda: y.copy_(x))
        read = timed(lambda: x.sum(dtype=torch.float32))
        return {"copy_read_plus_write_bytes_per_s": 2 * nbytes / copy, "read_bytes_per_s": nbytes / read}

    llama31_8b = dict(L=32, d=4096, H=32, KV=8, hd=128, ffn=14336, vocab=128256)
    llama2_13b = dict(L=40, d=5120, H=40, KV=40, hd=128, ffn=13824, vocab=32000)
    for batch in (1, 8, 32, 128):
        section(f"decode_llama31_8b_b{batch}_ctx1024")(lambda b=batch: decoder(**llama31_8b, batch=b, ctx=1024))
    section("decode_llama31_8b_b32_ctx4096")(lambda: decoder(**llama31_8b, batch=32, ctx=4096))
    for batch in (1, 16):
        section(f"decode_llama2_13b_b{batch}_ctx1024")(lambda b=batch: decoder(**llama2_13b, batch=b, ctx=1024))

    @section("resnet50_bf16_b256")
    def _resnet():
        import torchvision

        m = torchvision.models.resnet50().to(DEV, torch.bfloat16).eval().to(memory_format=torch.channels_last)
        torch.backends.cudnn.benchmark = True
        x = torch.randn(256, 3, 224, 224, device=DEV, dtype=torch.bfloat16).to(memory_format=torch.channels_last)
        with torch.inference_mode():
            t = timed(lambda: m(x), iters=10, warmup=5)
            joules, watts = energy_per_call(lambda: m(x))
        return {"batch": 256, "step_s": t, "samples_per_s": 256 / t, "joules_per_sample": joules / 256,
                "watts": watts}

    @section("bert_large_bf16_b64_s384")
    def _bert():
        from transformers import BertConfig, BertModel

        cfg = BertConfig(hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, intermediate_size=4096,
                         attn_implementation="sdpa")
        m = BertModel(cfg).to(DEV, torch.bfloat16).eval()
        ids = torch.randint(0, cfg.vocab_size, (64, 384), device=DEV)
        with torch.inference_mode():
            t = timed(lambda: m(input_ids=ids), iters=10, warmup=3)
        return {"batch": 64, "seq": 384, "step_s": t, "samples_per_s": 64 / t}


if __name__ == "__main__":
    run_all()
    with open(sys.argv[1], "w") as fh:
        json.dump(RESULTS, fh, indent=1)
