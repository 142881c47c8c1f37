"""Fourth device pass: prompt prefill (time to first token) of randomly initialised Llama-geometry decoders,
bf16, causal SDPA attention, CUDA graph. Logits only for each sequence's last position.

Usage (on the GPU machine): python3 benchmarks/device/measure_gpu_4.py OUT.json
"""
from __future__ import annotations

import json
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from measure_gpu import DEV, RESULTS, energy_per_call, section, timed  # noqa: E402

LLAMA31_8B = dict(L=32, d=4096, H=32, KV=8, hd=128, ffn=14336, vocab=128256)
LLAMA2_13B = dict(L=40, d=5120, H=40, KV=40, hd=128, ffn=13824, vocab=32000)


def prefill(L, d, H, KV, hd, ffn, vocab, batch, seq):
    dt = torch.bfloat16

    def w(*shape):
        return torch.empty(*shape, device=DEV, dtype=dt).normal_(0, 0.02)

    layers = [dict(g1=torch.ones(d, device=DEV, dtype=dt), wqkv=w(d, (H + 2 * KV) * hd), wo=w(H * hd, d),
                   g2=torch.ones(d, device=DEV, dtype=dt), wgu=w(d, 2 * ffn), wd=w(ffn, d)) for _ in range(L)]
    emb, head, gf = w(vocab, d), w(d, vocab), torch.ones(d, device=DEV, dtype=dt)
    tokens = torch.randint(0, vocab, (batch, seq), device=DEV)
    kv_cache = [(torch.empty(batch, KV, seq, hd, device=DEV, dtype=dt),
                 torch.empty(batch, KV, seq, hd, device=DEV, dtype=dt)) for _ in range(L)]

    def rms(x, g):
        return x * torch.rsqrt(x.float().pow(2).mean(-1, keepdim=True) + 1e-5).to(dt) * g

    def step():
        h = emb[tokens]  # (B, S, d)
        for lw, (kc, vc) in zip(layers, kv_cache):
            x = rms(h, lw["g1"]) @ lw["wqkv"]
            q, k, v = x.split([H * hd, KV * hd, KV * hd], dim=-1)
            q = q.view(batch, seq, H, hd).transpose(1, 2)
            kc.copy_(k.view(batch, seq, KV, hd).transpose(1, 2))  # the prompt's K/V written to the cache
            vc.copy_(v.view(batch, seq, KV, hd).transpose(1, 2))
            rep = H // KV
            a = F.scaled_dot_product_attention(q, kc.repeat_interleave(rep, 1) if rep > 1 else kc,
                                               vc.repeat_interleave(rep, 1) if rep > 1 else vc, is_causal=True)
            h = h + a.transpose(1, 2).reshape(batch, seq, H * hd) @ lw["wo"]
            g, u = (rms(h, lw["g2"]) @ lw["wgu"]).chunk(2, dim=-1)
            h = h + (F.silu(g) * u) @ lw["wd"]
        return rms(h[:, -1], gf) @ head

    with torch.inference_mode():
        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(stream):
            step()
        torch.cuda.current_stream().wait_stream(stream)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            step()
        t = timed(graph.replay, iters=10, warmup=3)
        joules, watts = energy_per_call(graph.replay, seconds=2.0)
    return {"batch": batch, "seq": seq, "ttft_s": t, "prompt_tokens_per_s": batch * seq / t,
            "joules": joules, "watts": watts}


if __name__ == "__main__":
    p = torch.cuda.get_device_properties(0)
    RESULTS["device"] = {"name": p.name, "sms": p.multi_processor_count, "torch": torch.__version__}
    for batch, seq in ((1, 512), (1, 2048), (4, 2048), (1, 8192)):
        section(f"prefill_llama31_8b_b{batch}_s{seq}")(lambda b=batch, s=seq: prefill(**LLAMA31_8B, batch=b, seq=s))
    section("prefill_llama2_13b_b1_s2048")(lambda: prefill(**LLAMA2_13B, batch=1, seq=2048))
    with open(sys.argv[1], "w") as fh:
        json.dump(RESULTS, fh, indent=1)
