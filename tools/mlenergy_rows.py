"""Print serving_cases.csv rows from an ML.ENERGY leaderboard checkout (github ml-energy/leaderboard): for each
vLLM configuration of a model file whose measured average batch is its max_num_seqs (within 2 %: not held back by
the KV cache), one row per metric -- median ITL, output throughput and GPU energy per output token (Zeus,
energy_per_request_joules / avg_output_len) -- at the configuration's concurrency and average output length.

run: python tools/mlenergy_rows.py <leaderboard checkout> <commit> <first id number> [model file ...]
Rows whose (metric, model, hardware, tp, concurrency) tests/validation/serving_cases.csv already holds are left out.
The rows are all held out (nothing is fitted on them unless a later fit names them as calibration).
"""
from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

# leaderboard model file -> catalog model
MODELS = {
    "meta-llama__Llama-3.1-8B-Instruct__lm-arena-chat.json": "Llama3_8B",
    "meta-llama__Llama-3.1-70B-Instruct__lm-arena-chat.json": "Llama3_70B",
    "Qwen__Qwen3-8B__lm-arena-chat.json": "Qwen3_8B",
    "Qwen__Qwen3-14B__lm-arena-chat.json": "Qwen3_14B",
    "Qwen__Qwen3-32B__lm-arena-chat.json": "Qwen3_32B",
    "Qwen__Qwen3-30B-A3B-Instruct-2507__lm-arena-chat.json": "Qwen3_30B_A3B",
    "google__gemma-3-12b-it__lm-arena-chat.json": "Gemma3_12B",
    "google__gemma-3-27b-it__lm-arena-chat.json": "Gemma3_27B",
}
# gpu_model -> (the device for one GPU, the node for a tensor-parallel group)
TARGETS = {"H100": ("H100", "DGX_H100"), "B200": ("B200", "DGX_B200")}
# ML.ENERGY publishes no input length for lm-arena-chat: the same estimate as the existing ITL rows (SRV061-075).
PROMPT_LEN_ESTIMATE = 512
FULL_BATCH = 0.98  # avg batch / max_num_seqs at or above which the configuration ran its whole concurrency
METRICS = (("itl_p50_ms", "median_itl_ms", "median ITL"),
           ("throughput_tok_s", "output_throughput_tokens_per_sec", "output tokens/s of the server"),
           ("energy_per_token_j", None, "GPU energy per output token (Zeus; energy_per_request_joules / avg_output_len)"))


CASES = Path(__file__).resolve().parents[1] / "tests/validation/serving_cases.csv"


def _key(metric: str, model: str, hw: str, tp: str, concurrency: str) -> tuple[str, ...]:
    return metric, model, hw, tp, concurrency


def rows(root: Path, commit: str, first: int, files: list[str]) -> list[list[str]]:
    with open(CASES, newline="", encoding="utf-8") as fh:
        have = {_key(r["metric"], r["model"], r["hardware"], r["tp"], r["concurrency"]) for r in csv.DictReader(fh)}
    out, n = [], first
    for name in files:
        model = MODELS[name]
        data = json.loads((root / "public/data/models" / name).read_text())
        for c in sorted(data["configurations"], key=lambda c: (c["gpu_model"], c["max_num_seqs"])):
            target, par = TARGETS.get(c["gpu_model"]), c["parallelization"]
            # expert-parallel runs are left out: the file's (tp 1, ep n) over n GPUs does not say how vLLM laid out
            # the attention (TP n, or data-parallel attention)
            if target is None or c["avg_batch_size"] < FULL_BATCH * c["max_num_seqs"] or par["expert_parallel"] != 1 \
                    or par["data_parallel"] != 1 or par["tensor_parallel"] != c["num_gpus"]:
                continue
            tp = par["tensor_parallel"]
            hw = target[0] if c["num_gpus"] == 1 else target[1]
            out_len = round(c["avg_output_len"])
            for metric, key, what in METRICS:
                if _key(metric, model, hw, str(tp), str(c["max_num_seqs"])) in have:
                    continue
                value = c["energy_per_request_joules"] / c["avg_output_len"] if key is None else c[key]
                note = (f"ML.ENERGY leaderboard, vLLM, LMArena chat prompts, {c['gpu_model']} x {c['num_gpus']} TP{tp}, "
                        f"max_num_seqs {c['max_num_seqs']} (avg batch {c['avg_batch_size']:.1f}), {what}; avg output "
                        f"{c['avg_output_len']:.1f} tokens, avg power {c['avg_power_watts']:.1f} W; prompt_len "
                        f"{PROMPT_LEN_ESTIMATE} is an ESTIMATE (the file gives no input length)")
                out.append([f"SRV{n:03d}", metric, model, hw, "vllm", "bf16", "", str(tp), "1", "1", "1",
                            str(c["max_num_seqs"]), str(PROMPT_LEN_ESTIMATE), str(out_len), f"{value:.6g}", "holdout",
                            "MLENERGY", f"github ml-energy/leaderboard:public/data/models/{name} (commit {commit})",
                            note, "exponential", ""])
                n += 1
    return out


if __name__ == "__main__":
    root, commit, first = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    w = csv.writer(sys.stdout, lineterminator="\n")
    w.writerows(rows(root, commit, first, sys.argv[4:] or list(MODELS)))
