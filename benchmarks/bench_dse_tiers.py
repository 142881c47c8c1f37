"""Serving and training sweep tiers against a loop over their solver, per point (issue 11: >= 10x).

The loop is what a user writes without mlsysim.dse: one ServingModel.solve (or Engine.solve(is_training=True))
per configuration. Both sides are timed on the same grid, alternated and min-of-N (the machine is shared), the
loop on a seeded sample of the grid's points (its cost per point does not depend on the grid). Both clocks are
reported: process CPU time (what one core spends; stable when other jobs share the machine) and wall time. Run:
    PYTHONPATH=src python benchmarks/bench_dse_tiers.py [--repeat 3] [--only serving|training]

Small serving grids (16 points) stay near 1.5-2.5x: to agree with ServingModel.solve the tier replays the scalar
steady state's damped fixed-point iteration (~30-50 passes of two step evaluations per point; its result sits up
to ~1e-8..1e-5 relative from the exact fixed point, so a faster solver cannot agree to 1e-9), and one vectorised
pass costs ~150 numpy calls whatever the few points it carries. Large grids amortise those calls.
"""
from __future__ import annotations

import argparse
import random
import time

from mlsysim import Engine, dse
from mlsysim.core.serving import ServingModel

SERVING = dict(models=["Llama3_8B", "Llama3_70B", "Mixtral_8x7B", "Qwen25_7B"], hardware=["H100", "A100", "L4", "MI300X"],
               batch_sizes=[1, 2, 4, 8, 16, 32, 64, 128, 256, 512], precisions=["fp16", "fp8"],
               seq_lens=[128, 512, 2048, 8192], solver="serving", output_len=256)
SERVING_VLLM = dict(SERVING, runtime="vllm", tensor_parallel=2)
# Every runtime group the tier covers: vLLM's default (KV paged on demand, TP 1), SGLang (prefill-only steps, the
# paged-attention bandwidth share, an HTTP frontend's latency, KV on demand), TensorRT-LLM (KV reserved whole),
# sliding-window models (Mistral 7B every layer, Gemma 3 five of six layers).
SERVING_PAGED = dict(SERVING, runtime="vllm")
SERVING_SGLANG = dict(SERVING, runtime="sglang")
SERVING_TRT = dict(SERVING, runtime="tensorrt")  # TensorRT without a serving table: the default engine parameters
# TensorRT-LLM's serving table (KV reserved whole, 32-token blocks) and NIM (discrete steps of whole prompt chunks,
# serving.prefill_step_model = "chunk_count"; a frontend's latency)
SERVING_TRTLLM = dict(SERVING, runtime="trtllm")
SERVING_NIM = dict(SERVING, runtime="nim")
SERVING_WINDOW = dict(SERVING, models=["Mistral_7B", "Gemma3_27B", "Gemma2_9B", "GPT_OSS_20B"], runtime="vllm")
# Small grids (2 models x 2 devices x 4 concurrencies): the tier's fixed setup weighs on each of its few points.
SERVING_SMALL = dict(models=["Llama3_8B", "Qwen25_7B"], hardware=["H100", "A100"], batch_sizes=[1, 8, 64, 256],
                     precisions=["fp16"], seq_lens=[1024], solver="serving", output_len=256)
SERVING_SMALL_PAGED = dict(SERVING_SMALL, runtime="vllm")
SERVING_SMALL_SGLANG = dict(SERVING_SMALL, runtime="sglang")
SERVING_SMALL_WINDOW = dict(SERVING_SMALL, models=["Mistral_7B", "Gemma3_27B"], runtime="vllm")
TRAINING = dict(models=["Llama3_8B", "Llama3_70B", "Mixtral_8x7B", "BERT_Base", "ResNet50"],
                hardware=["H100", "A100", "L4", "MI300X", "B200"], batch_sizes=[1, 2, 4, 8, 16, 32, 64],
                precisions=["bf16", "fp8"], seq_lens=[1024, 2048, 4096, 8192], solver="training")
# A small grid: the tier's fixed setup (device figures, table) weighs on each of its few points.
TRAINING_SMALL = dict(TRAINING, batch_sizes=[1, 8, 64], seq_lens=[2048, 8192])
TRAINING_ZERO = dict(TRAINING, zero_stage=1, dp_size=8)
# Every accelerator class of the catalog's datacenter GPUs: a workload's cost is shared by every device.
TRAINING_WIDE = dict(TRAINING, hardware=["H100", "H200", "A100", "A100_40GB", "L4", "L40S", "MI300X", "B200", "V100",
                                         "T4"])
SAMPLE = 120  # points of the loop side


def _per_point(fn, n: int) -> tuple[float, float]:
    """(CPU seconds, wall seconds) per point of one call of fn."""
    c0, t0 = time.process_time(), time.perf_counter()
    fn()
    return (time.process_time() - c0) / n, (time.perf_counter() - t0) / n


def _serving_loop(table, idx, opts):
    solver = ServingModel()

    def run():
        for i in idx:
            r = table[i]
            try:
                solver.solve(r["model"], r["hardware"], r["batch_size"], r["precision"], prompt_len=r["seq_len"],
                             **opts)
            except Exception:  # noqa: BLE001 -- a point that cannot run costs its check, as in the sweep
                pass
    return run


def _training_loop(table, idx, opts):
    def run():
        for i in idx:
            r = table[i]
            try:
                Engine.solve(r["model"], r["hardware"], r["batch_size"], r["precision"], is_training=True,
                             seq_len=r["seq_len"], **opts)
            except Exception:  # noqa: BLE001
                pass
    return run


def compare(name: str, grid: dict, loop_of, repeat: int, backend: str = "auto") -> float:
    opts = {k: v for k, v in grid.items() if k not in ("models", "hardware", "batch_sizes", "precisions", "seq_lens",
                                                       "solver")}
    table = dse.sweep(**grid, backend=backend)  # warm: registry, catalog, pint
    idx = random.Random(0).sample(range(len(table)), min(SAMPLE, len(table)))
    loop = loop_of(table, idx, opts)
    loop()
    tier = [float("inf")] * 2
    solver = [float("inf")] * 2
    for _ in range(repeat):  # alternate, so both sides see the same machine load; min of each clock
        tier = [min(a, b) for a, b in zip(tier, _per_point(lambda: dse.sweep(**grid, backend=backend), len(table)))]
        solver = [min(a, b) for a, b in zip(solver, _per_point(loop, len(idx)))]
    ratio = solver[0] / tier[0]
    print(f"{name:<40} {len(table):>5} pts: tier {tier[0] * 1e6:7.1f} us/pt CPU ({tier[1] * 1e6:7.1f} wall), "
          f"solver loop {solver[0] * 1e6:7.1f} us/pt CPU ({solver[1] * 1e6:7.1f} wall) -> {ratio:5.1f}x CPU, "
          f"{solver[1] / tier[1]:5.1f}x wall")
    return ratio


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", default=None, help="serving or training (default both)")
    a = ap.parse_args()
    only = set(a.only.split(",")) if a.only else None
    for name, grid in (("serving (numpy)", SERVING), ("serving, vLLM, TP 2 (numpy)", SERVING_VLLM),
                       ("serving, vLLM paged KV (numpy)", SERVING_PAGED),
                       ("serving, SGLang (numpy)", SERVING_SGLANG), ("serving, TensorRT (numpy)", SERVING_TRT),
                       ("serving, TensorRT-LLM (numpy)", SERVING_TRTLLM),
                       ("serving, NIM whole chunks (numpy)", SERVING_NIM),
                       ("serving, sliding windows, vLLM (numpy)", SERVING_WINDOW),
                       ("serving, small grid (numpy)", SERVING_SMALL),
                       ("serving, small grid, vLLM (numpy)", SERVING_SMALL_PAGED),
                       ("serving, small grid, SGLang (numpy)", SERVING_SMALL_SGLANG),
                       ("serving, small grid, windows (numpy)", SERVING_SMALL_WINDOW)):
        if only is None or "serving" in only:
            compare(name, grid, _serving_loop, a.repeat)
    if only is None or "serving" in only:
        compare("serving (no numpy: grouped, scalar state)", SERVING, _serving_loop, a.repeat, backend="python")
    if only is not None and "training" not in only:
        return
    compare("training (numpy)", TRAINING, _training_loop, a.repeat)
    compare("training, small grid (numpy)", TRAINING_SMALL, _training_loop, a.repeat)
    compare("training, ZeRO-1 x 8 (numpy)", TRAINING_ZERO, _training_loop, a.repeat)
    compare("training, 10 devices (numpy)", TRAINING_WIDE, _training_loop, a.repeat)
    compare("training (no numpy)", TRAINING, _training_loop, a.repeat, backend="python")


if __name__ == "__main__":
    main()
