"""Third device pass: decode steps with grouped-query attention run as H/KV queries per KV head, so each
K/V byte is read once as in serving kernels (pass 1 used SDPA's enable_gqa). Random bf16 weights.

Usage (on the GPU machine): python3 benchmarks/device/measure_gpu_3.py OUT.json
"""
from __future__ import annotations

import json
import sys

import torch

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from measure_gpu import RESULTS, decoder, section  # noqa: E402

LLAMA31_8B = dict(L=32, d=4096, H=32, KV=8, hd=128, ffn=14336, vocab=128256)
LLAMA2_13B = dict(L=40, d=5120, H=40, KV=40, hd=128, ffn=13824, vocab=32000)


if __name__ == "__main__":
    p = torch.cuda.get_device_properties(0)
    RESULTS["device"] = {"name": p.name, "sms": p.multi_processor_count, "torch": torch.__version__}
    for batch in (1, 8, 32, 128):
        section(f"decode_llama31_8b_b{batch}_ctx1024_grouped")(
            lambda b=batch: decoder(**LLAMA31_8B, batch=b, ctx=1024, grouped=True))
    section("decode_llama31_8b_b32_ctx4096_grouped")(
        lambda: decoder(**LLAMA31_8B, batch=32, ctx=4096, grouped=True))
    section("decode_llama31_8b_b64_ctx8192_grouped")(
        lambda: decoder(**LLAMA31_8B, batch=64, ctx=8192, grouped=True))
    for batch in (1, 16):
        section(f"decode_llama2_13b_b{batch}_ctx1024")(lambda b=batch: decoder(**LLAMA2_13B, batch=b, ctx=1024))
    with open(sys.argv[1], "w") as fh:
        json.dump(RESULTS, fh, indent=1)
