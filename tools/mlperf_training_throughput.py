"""Training throughput (tokens/s/GPU) of MLPerf Training result logs (github mlcommons/training_results_v4.0 / v4.1 /
v5.0, <submitter>/results/<system>/<benchmark>/result_*.txt), for tests/validation/distributed_cases.csv.

MLPerf scores time-to-train (run_start to run_stop), which holds evaluation and a model that converges in a number of
steps the submission does not choose; the throughput the step model predicts is read from the same log three ways:
  steps:  the median per-step time NeMo logs in tracked_stats ('train_step_time' or 'train_step_timing in s', or
          llama2_70b_lora's per-block 'throughput' in sequences/s, turned into a mean step time), an
          optimizer step of global_batch_size sequences of max_sequence_length tokens (evaluation excluded);
  blocks: the tokens trained between each block_start and its block_stop (evaluation runs between a block_stop and
          the next block_start, eval_start .. eval_stop), over the summed block time: warm-up and data stalls inside
          the blocks included, evaluation excluded. Logs without a block_stop per block (the GB200 llama31_405b
          logs: block_start .. eval_stop holds the evaluation, no eval_start) have none;
  run:    the tokens trained over run_start .. run_stop (evaluation included: an upper bound on its bias).
GPUs: the submission's system JSON, number_of_nodes x accelerators_per_node.

run: python tools/mlperf_training_throughput.py <results checkout git dir> <submitter>/results/<system>/<benchmark>
"""
from __future__ import annotations

import json
import subprocess
import sys
from statistics import median

MLLOG = ":::MLLOG "
STEP_TIME_KEYS = ("train_step_time", "train_step_timing in s")
# Units of a block's epoch_count / samples_count per benchmark (read from the logs: gpt3 counts tokens, e.g.
# epoch_count 50331648 = 24576 sequences x 2048; llama31_405b counts sequences, e.g. samples_count 46592 = 52 x 896).
COUNT_UNIT = {"gpt3": "tokens", "llama31_405b": "sequences", "llama2_70b_lora": "sequences"}
# Sequence length of a benchmark whose log prints no max_sequence_length: llama2_70b_lora trains packed GovReport
# (SCROLLS) rows of 8192 tokens (NVIDIA's implementations, conf/megatron_gpt_peft_tuning_config.yaml: max_seq_length
# MAX_SEQLEN default 8192, packed_sequence True; no config_*.sh sets MAX_SEQLEN); each row is computed at full length.
SEQUENCE_LENGTH = {"llama2_70b_lora": 8192}
# tracked_stats keys of a throughput in sequences per second over a block's training steps (llama2_70b_lora
# custom_callbacks.py Timer: samples over the summed on_train_batch_start .. on_train_batch_end time).
SAMPLES_PER_S_KEYS = ("throughput",)


def _git(git_dir: str, *args: str) -> str:
    return subprocess.run(["git", f"--git-dir={git_dir}", *args], check=True, capture_output=True, text=True).stdout


def _events(text: str) -> list[dict]:
    return [json.loads(line.split(MLLOG, 1)[1]) for line in text.splitlines() if MLLOG in line]


def _value(events: list[dict], key: str):
    vals = [e["value"] for e in events if e["key"] == key]
    if len(vals) != 1:
        raise ValueError(f"expected one {key!r} in the log, found {len(vals)}")
    return vals[0]


def one_log(text: str, gpus: int) -> dict[str, float]:
    ev = _events(text)
    bench, gbs = _value(ev, "submission_benchmark"), int(_value(ev, "global_batch_size"))
    logged = [e["value"] for e in ev if e["key"] == "max_sequence_length"]
    if not logged and bench not in SEQUENCE_LENGTH:
        raise ValueError(f"the {bench} log has no max_sequence_length and none is known for the benchmark")
    seq = int(_value(ev, "max_sequence_length")) if logged else SEQUENCE_LENGTH[bench]
    t = {e["key"]: e["time_ms"] / 1e3 for e in ev if e["key"] in ("run_start", "run_stop", "init_stop")}
    step_times = [v for e in ev if e["key"] == "tracked_stats" for k, v in e["value"].items() if k in STEP_TIME_KEYS]
    step_times += [gbs / v for e in ev if e["key"] == "tracked_stats" for k, v in e["value"].items()
                   if k in SAMPLES_PER_S_KEYS]  # a block's mean step time
    out: dict[str, float] = {"gbs": gbs, "seq": seq, "gpus": gpus}
    step_tokens = gbs * seq
    if step_times:
        out["step_s"] = median(step_times)
        out["steps_logged"] = len(step_times)
        out["tok_s_gpu_steps"] = step_tokens / out["step_s"] / gpus
    unit = COUNT_UNIT[bench]
    starts = [e for e in ev if e["key"] == "block_start"]
    stops = [e for e in ev if e["key"] == "block_stop"]
    if stops and len(starts) == len(stops):
        if "epoch_count" in starts[0]["metadata"]:  # gpt3: each block's size, on its block_stop
            trained = sum(s["metadata"]["epoch_count"] for s in stops)
        else:  # llama31_405b: block_start / block_stop carry the count at the block's start; the next count after
            # the block_stop (its eval_start, or run_stop) is the count at its end
            counted = [e for e in ev if "samples_count" in e["metadata"]]
            trained = sum(next(e["metadata"]["samples_count"] for e in counted if e["time_ms"] >= b["time_ms"]
                               and e["metadata"]["samples_count"] > a["metadata"]["samples_count"])
                          - a["metadata"]["samples_count"] for a, b in zip(starts, stops))
        tokens = trained if unit == "tokens" else trained * seq
        block_s = sum((b["time_ms"] - a["time_ms"]) / 1e3 for a, b in zip(starts, stops))
        out["blocks"] = len(stops)
        out["tok_s_gpu_blocks"] = tokens / block_s / gpus
        evals = [e["time_ms"] / 1e3 for e in ev if e["key"] in ("eval_start", "eval_stop")]
        out["eval_s"] = sum(evals[1::2]) - sum(evals[0::2]) if len(evals) % 2 == 0 else float("nan")
    run_s = t["run_stop"] - t["run_start"]
    final = [e for e in ev if e["key"] == "run_stop"][0]["metadata"]
    if "samples_count" in final:  # llama31_405b: sequences at run_stop
        run_tokens = final["samples_count"] * seq
    else:  # gpt3: trained_samples counts tokens
        run_tokens = _value(ev, "trained_samples") if unit == "tokens" else _value(ev, "trained_samples") * seq
    out["run_s"] = run_s
    out["tok_s_gpu_run"] = run_tokens / run_s / gpus
    return out


def main(git_dir: str, path: str) -> None:
    submitter, _, system, _bench = path.split("/")
    sysjson = json.loads(_git(git_dir, "show", f"HEAD:{submitter}/systems/{system}.json"))
    gpus = int(sysjson["number_of_nodes"]) * int(sysjson["accelerators_per_node"])
    names = [n for n in _git(git_dir, "ls-tree", "--name-only", f"HEAD:{path}").split() if n.startswith("result_")]
    commit = _git(git_dir, "rev-parse", "HEAD").strip()
    print(f"{path} @ {commit[:8]}: {sysjson['system_name']}, {gpus} x {sysjson['accelerator_model_name']}")
    rows = []
    for n in sorted(names):
        r = one_log(_git(git_dir, "show", f"HEAD:{path}/{n}"), gpus)
        rows.append(r)
        print(f"  {n}: " + ", ".join(f"{k} {v:.6g}" for k, v in r.items()))
    for key in ("tok_s_gpu_steps", "tok_s_gpu_blocks", "tok_s_gpu_run"):
        vals = [r[key] for r in rows if key in r]
        if vals:
            print(f"  median {key}: {median(vals):.1f} (min {min(vals):.1f}, max {max(vals):.1f}, {len(vals)} logs)")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
