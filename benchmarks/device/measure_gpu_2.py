"""Second device pass: an optimised ResNet-50 (BatchNorm folded into the convolutions, channels-last,
CUDA graph) and a GPT-2 XL training step (bf16 weights, fused AdamW, SDPA attention), random init.

Usage (on the GPU machine): python3 benchmarks/device/measure_gpu_2.py OUT.json
"""
from __future__ import annotations

import json
import sys

import torch

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from measure_gpu import DEV, RESULTS, energy_per_call, section, timed  # noqa: E402


def graphed(fn):
    """Capture fn in a CUDA graph (after a warm-up on a side stream) and return the replay callable."""
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        for _ in range(3):
            fn()
    torch.cuda.current_stream().wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        fn()
    return graph.replay


def run_all() -> None:
    p = torch.cuda.get_device_properties(0)
    RESULTS["device"] = {"name": p.name, "sms": p.multi_processor_count, "torch": torch.__version__}

    @section("resnet50_bf16_fused_graph")
    def _resnet():
        import torchvision
        from torch.fx.experimental.optimization import fuse

        torch.backends.cudnn.benchmark = True
        m = fuse(torchvision.models.resnet50().eval()).to(DEV, torch.bfloat16).to(memory_format=torch.channels_last)
        out = {}
        for batch in (64, 256):
            x = torch.randn(batch, 3, 224, 224, device=DEV, dtype=torch.bfloat16).to(memory_format=torch.channels_last)
            with torch.inference_mode():
                replay = graphed(lambda x=x: m(x))
                t = timed(replay, iters=20, warmup=5)
                joules, watts = energy_per_call(replay)
            out[f"b{batch}"] = {"step_s": t, "samples_per_s": batch / t, "joules_per_sample": joules / batch,
                                "watts": watts}
        return out

    @section("gpt2xl_train_bf16_b8_s1024")
    def _train():
        from transformers import GPT2Config, GPT2LMHeadModel

        cfg = GPT2Config(n_layer=48, n_embd=1600, n_head=25, n_positions=1024, vocab_size=50257,
                         attn_implementation="sdpa")
        m = GPT2LMHeadModel(cfg).to(DEV, torch.bfloat16).train()
        opt = torch.optim.AdamW(m.parameters(), lr=1e-4, fused=True)
        ids = torch.randint(0, cfg.vocab_size, (8, 1024), device=DEV)

        def step():
            loss = m(input_ids=ids, labels=ids).loss
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)

        t = timed(step, iters=5, warmup=2)
        return {"batch": 8, "seq": 1024, "step_s": t, "tokens_per_s": 8 * 1024 / t,
                "peak_mem_bytes": torch.cuda.max_memory_allocated()}


if __name__ == "__main__":
    run_all()
    with open(sys.argv[1], "w") as fh:
        json.dump({k: v for k, v in RESULTS.items()}, fh, indent=1)
