"""Fifth device pass (prepared, not yet run): the microbenchmarks the shape roofs are fitted on, on this GPU.

1. sustained GEMM: 8192^3 bf16 held >= 10 s at the power limit, with NVML clock, power and throttle reasons
   sampled every 0.5 s (the burst figure of measure_gpu.py lasts ~28 ms and runs at the boost clock);
2. GEMM shape sweep: M, N, K in 256..8192 plus wave-boundary shapes (tiles = SMs and SMs + 1 of 128 x 256),
   bf16, for benchmarks/fit_gemm_roof.py (same CSV columns as benchmarks/data/xla_sm90_gemm_bf16.csv);
3. convolution by channel count: cuDNN bf16 channels-last 1x1 and 3x3 convolutions, batch 256, 56x56 to 7x7;
4. attention by head dim and sequence length: torch SDPA (flash backend) forward and forward+backward,
   causal and not, head dims 64/128/256, total tokens 16k.

Usage (on the GPU machine): python3 benchmarks/device/measure_gpu_5.py OUT.json [gemm_sweep.csv]
Fits afterwards (on any machine): PYTHONPATH=src python benchmarks/fit_gemm_roof.py gemm_sweep.csv SMS
"""
from __future__ import annotations

import json
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from measure_gpu import DEV, RESULTS, section, timed  # noqa: E402

SUSTAIN_S = 10.0  # >= 2 s at TDP: the clock settles within ~1-2 s of a power-limited load
SAMPLE_S = 0.5


def sustained_gemm(n: int = 8192) -> dict:
    import pynvml

    pynvml.nvmlInit()
    h = pynvml.nvmlDeviceGetHandleByIndex(0)
    a = torch.randn(n, n, device=DEV, dtype=torch.bfloat16)
    b = torch.randn(n, n, device=DEV, dtype=torch.bfloat16)
    t_call = timed(lambda: a @ b, iters=10, warmup=3)
    per_sample = max(1, int(SAMPLE_S / t_call))
    samples, start = [], time.perf_counter()
    while time.perf_counter() - start < SUSTAIN_S:
        ev0, ev1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        ev0.record()
        for _ in range(per_sample):
            a @ b
        ev1.record()
        torch.cuda.synchronize()
        seconds = ev0.elapsed_time(ev1) / 1e3
        samples.append({"t_s": time.perf_counter() - start, "flops_per_s": 2 * n**3 * per_sample / seconds,
                        "sm_clock_mhz": pynvml.nvmlDeviceGetClockInfo(h, pynvml.NVML_CLOCK_SM),
                        "power_w": pynvml.nvmlDeviceGetPowerUsage(h) / 1e3,
                        "throttle_reasons": int(pynvml.nvmlDeviceGetCurrentClocksThrottleReasons(h))})
    tail = [s for s in samples if s["t_s"] >= 2.0]  # after the clock has settled
    return {"burst_flops_per_s": samples[0]["flops_per_s"],
            "sustained_flops_per_s": sum(s["flops_per_s"] for s in tail) / max(len(tail), 1),
            "sustained_sm_clock_mhz": sum(s["sm_clock_mhz"] for s in tail) / max(len(tail), 1),
            "power_limit_w": pynvml.nvmlDeviceGetEnforcedPowerLimit(h) / 1e3, "samples": samples}


def gemm_sweep(sms: int) -> list[list[float]]:
    sizes = (256, 512, 1024, 2048, 4096, 8192)
    shapes = [(m, n, k) for m in sizes for n in sizes for k in (256, 1024, 4096)]
    shapes += [(128 * sms, 256, 8192), (128 * (sms + 1), 256, 8192)]  # one tile past a full wave
    rows = []
    for m, n, k in shapes:
        a = torch.randn(m, k, device=DEV, dtype=torch.bfloat16)
        b = torch.randn(k, n, device=DEV, dtype=torch.bfloat16)
        t = timed(lambda a=a, b=b: a @ b, iters=20, warmup=5)
        rows.append([1, m, n, k, 2.0 * m * n * k / t])
    return rows


def conv_sweep() -> list[dict]:
    torch.backends.cudnn.benchmark = True
    out = []
    for c, hw in ((64, 56), (128, 28), (256, 14), (512, 7), (256, 56), (1024, 14), (2048, 7)):
        for r in (1, 3):
            conv = torch.nn.Conv2d(c, c, r, padding=r // 2, bias=False).to(DEV, torch.bfloat16)
            conv = conv.to(memory_format=torch.channels_last)
            x = torch.randn(256, c, hw, hw, device=DEV, dtype=torch.bfloat16).to(memory_format=torch.channels_last)
            with torch.inference_mode():
                t = timed(lambda conv=conv, x=x: conv(x), iters=10, warmup=5)
            out.append({"channels": c, "hw": hw, "kernel": r, "flops_per_s": 2.0 * 256 * hw * hw * c * c * r * r / t})
    return out


def attention_sweep() -> list[dict]:
    out = []
    for hd in (64, 128, 256):
        heads = 2048 // hd
        for seq in (512, 1024, 2048, 4096, 8192):
            batch = 16384 // seq
            for causal in (False, True):
                q, k, v = (torch.randn(batch, heads, seq, hd, device=DEV, dtype=torch.bfloat16, requires_grad=True)
                           for _ in range(3))
                flops = 4.0 * batch * heads * seq * seq * hd * (0.5 if causal else 1.0)
                with torch.nn.attention.sdpa_kernel(torch.nn.attention.SDPBackend.FLASH_ATTENTION):
                    fwd = timed(lambda: F.scaled_dot_product_attention(q, k, v, is_causal=causal), iters=10)
                    both = timed(lambda: F.scaled_dot_product_attention(q, k, v, is_causal=causal).sum().backward(),
                                 iters=5)
                out.append({"head_dim": hd, "seq": seq, "causal": causal, "fwd_flops_per_s": flops / fwd,
                            "bwd_flops_per_s": 2.5 * flops / max(both - fwd, 1e-9)})  # backward = 2.5x forward FLOPs
    return out


if __name__ == "__main__":
    p = torch.cuda.get_device_properties(0)
    RESULTS["device"] = {"name": p.name, "sms": p.multi_processor_count, "torch": torch.__version__}
    section("sustained_gemm_bf16")(sustained_gemm)
    section("gemm_sweep_bf16")(lambda: gemm_sweep(p.multi_processor_count))
    section("conv_bf16_by_channels")(conv_sweep)
    section("attention_sdpa_flash")(attention_sweep)
    with open(sys.argv[1], "w") as fh:
        json.dump(RESULTS, fh, indent=1)
    if len(sys.argv) > 2 and "gemm_sweep_bf16" in RESULTS["sections"]:
        with open(sys.argv[2], "w") as fh:
            fh.write(f"# bf16 GEMM sweep on {p.name} ({p.multi_processor_count} SMs), measure_gpu_5.py\nb,m,n,k,flops\n")
            fh.writelines(",".join(f"{v:.0f}" for v in row) + "\n" for row in RESULTS["sections"]["gemm_sweep_bf16"])
