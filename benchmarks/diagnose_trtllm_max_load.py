"""Diagnose the trtllm-bench max-load rows (source TRTLLM-perf-overview, tests/validation/serving_cases.csv): per row,
the model's prediction and concurrency against what trtllm-bench itself configures, and what three candidate
mechanisms would change (issue 10, serving accuracy). Reads only; changes no model figure.

  python benchmarks/diagnose_trtllm_max_load.py

Columns:
- n: requests the model runs (KV slots, capped at the runtime's max_num_seqs).
- bench_bs / bench_tok: the max_batch_size / max_num_tokens trtllm-bench derives when none is given
  (tensorrt_llm/bench/build/tuning.py calc_engine_setting + finetune_setting; with chunked prefill off
  tensorrt_llm/bench/benchmark/utils/general.py get_settings raises max_num_tokens to max_isl + max_batch_size).
- pad: the CUDA-graph batch a decode-only step of n requests is padded to. The perf-overview llm_options.yml
  captures batch sizes 1, 2, 4, ..., 128, 256, 384, 512, 1024, ..., 8192 with enable_padding; the PyTorch
  backend keeps those <= min(max_batch_size, max_num_tokens) and adds that cap as the last size
  (tensorrt_llm/_torch/pyexecutor/model_engine.py _filter_cuda_graph_batch_sizes).
- padded: the prediction when every decode step runs its GEMMs, element-wise ops, LM head and all-reduces on
  the padded batch (attention on the real requests): an upper bound, as mixed prefill steps run eagerly.
- drain: the prediction for a finite run of the docs' num_requests, synchronised waves (ceil(N / n) waves,
  the last one partial), each wave at the model's throughput for its size.
"""
from __future__ import annotations

import math
import statistics

from mlsysim.core.serving import ServingModel
from mlsysim.core.serving.model import resolve_model
from mlsysim.validation import serving as validation

SOURCE_ID = "TRTLLM-perf-overview"
# nvidia-smi memory.total (MiB) of an H100 SXM 80GB and an H200 SXM 141GB, as pynvml reports it to
# trtllm-bench's get_device_memory (tensorrt_llm/bench/build/utils.py). ESTIMATE: common nvidia-smi readings.
NVML_TOTAL_GIB = {"H100": 81559 / 1024, "H200": 143771 / 1024}
# HF parameter counts trtllm-bench sizes the engine by (ModelConfig.param_count; ESTIMATE: the model cards).
PARAMS = {"Llama3_8B": 8.03e9, "Llama33_70B": 70.55e9, "Llama31_405B": 405.85e9}
# perf-overview.md (commit 00f37686) llm_options.yml cuda_graph_config.batch_sizes, enable_padding true
GRAPH_BATCH_SIZES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 384, 512, 1024, 2048, 4096, 8192)
# perf-overview.md "$num_requests" table: requests of each ISL/OSL dataset
NUM_REQUESTS = {(128, 128): 30000, (128, 2048): 3000, (128, 4096): 1500, (1000, 2000): 1500, (2048, 128): 3000,
                (2048, 2048): 1500, (5000, 500): 1500, (1000, 1000): 3000, (500, 2000): 3000, (20000, 2000): 1000}
KV_FREE_FRACTION = 0.9  # trtllm-bench --kv_cache_free_gpu_mem_fraction default


def bench_settings(model: str, hardware: str, tp: int, isl: int, osl: int) -> tuple[int, int]:
    """(max_batch_size, max_num_tokens) trtllm-bench derives: KV requests of the 0.9 share of (memory - fp8
    engine), rounded up (min 64), max_num_tokens = requests x (1 + isl / osl) rounded up (min 2048)."""
    m = resolve_model(model)
    bytes_per_token = 2 * m.layers * max(tp, m.kv_heads) * m.head_dim * 1.0 / 2**30  # fp8 KV, GiB
    free = NVML_TOTAL_GIB[hardware] * tp - PARAMS[model] * 1.0 / 2**30            # fp8 weights, GiB
    raw_bs = min(free * KV_FREE_FRACTION / (bytes_per_token * (isl + osl)), 4096)
    raw_tok = min(raw_bs * (1 + isl / osl), 32768)
    if raw_bs < 256:
        bs = max(64, 32 * math.ceil(raw_bs / 32))
    elif raw_bs < 1024:
        bs = 128 * math.ceil(raw_bs / 128)
    else:
        bs = 256 * math.ceil(raw_bs / 256)
    if raw_tok < 4096:
        tok = max(2048, 256 * math.ceil(raw_tok / 256))
    elif raw_tok < 8192:
        tok = 512 * math.ceil(raw_tok / 512)
    else:
        tok = 1024 * math.ceil(raw_tok / 1024)
    return bs, max(tok, isl + bs)


def graph_batch(n: int, max_bs: int, max_tok: int) -> int:
    """The captured CUDA-graph batch a decode-only step of n requests replays (padding to the next size)."""
    cap = min(max_bs, max_tok)
    sizes = [b for b in GRAPH_BATCH_SIZES if b <= cap]
    if sizes[-1] != cap:
        sizes.append(cap)
    return next((b for b in sizes if b >= n), n)


def _attention(step, n: float, cd: float) -> float:
    """StepModel.time's attention-core term of a decode-only step of n requests at context cd."""
    kv = step.Ls * step.kv_el * step.kvb * (n * cd + n)
    return max(step.attn_flops * step.Ls * n * cd / step.flops, kv / step.attn_bw)


def main() -> None:
    sm = ServingModel()
    err: dict[str, list[float]] = {"model": [], "padded": [], "drain": []}
    print("id      model        hw   TP  ISL/OSL     n  bench_bs bench_tok  pad   model  padded   drain")
    for row in validation.load():
        if row["source_id"] != SOURCE_ID:
            continue
        pred, n = validation.predict(row)
        isl, osl, tp = int(row["prompt_len"]), int(row["output_len"]), int(row["tp"])
        measured = float(row["measured"])
        bs, tok = bench_settings(row["model"], row["hardware"], tp, isl, osl)
        pad = graph_batch(n, bs, tok)
        step = sm.build_step(resolve_model(row["model"]), row["hardware"], row["precision"], None, tp, 1, 1, 1,
                             row["runtime"], False, row["kv_precision"])[-1]
        cd = isl + osl / 2.0
        t = step.time(n, cd)
        t_pad = step.time(pad, cd) - _attention(step, pad, cd) + _attention(step, n, cd)
        run_time = n * osl / pred                                  # seconds per request wave at the model's rate
        padded = n * osl / (run_time + osl * (t_pad - t))
        kw = dict(prompt_len=isl, output_len=osl, tensor_parallel=tp, runtime=row["runtime"],
                  kv_precision=row["kv_precision"])
        total = NUM_REQUESTS[(isl, osl)]
        waves = math.ceil(total / n)
        last = total - (waves - 1) * n
        rate_last = sm.solve(row["model"], row["hardware"], last, row["precision"], **kw).throughput.m_as("token/s")
        drain = total * osl / ((waves - 1) * n * osl / pred + last * osl / rate_last)
        if row["role"] == "holdout":
            for key, value in (("model", pred), ("padded", padded), ("drain", drain)):
                err[key].append(abs(value / measured - 1.0))
        print(f"{row['id']} {row['model']:12s} {row['hardware']} {tp:2d} {isl:5d}/{osl:<5d} {n:5d} {bs:8d} {tok:9d} "
              f"{pad:5d} {100 * (pred / measured - 1):+6.1f}% {100 * (padded / measured - 1):+6.1f}% "
              f"{100 * (drain / measured - 1):+6.1f}%")
    for key, values in err.items():
        print(f"held-out median |error| {key}: {100 * statistics.median(values):.1f} %")


if __name__ == "__main__":
    main()
