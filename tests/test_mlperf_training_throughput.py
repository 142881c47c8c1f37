"""tools/mlperf_training_throughput.py: tokens/s/GPU from MLPerf Training MLLOG lines, evaluation kept out of the
step and block figures and in the run figure (synthetic logs in the two formats the NVIDIA submissions print)."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

TOOL = Path(__file__).parents[1] / "tools" / "mlperf_training_throughput.py"


@pytest.fixture(scope="module")
def tool():
    spec = importlib.util.spec_from_file_location("mlperf_training_throughput", TOOL)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _line(t_s: float, key: str, value=None, **meta) -> str:
    return ":::MLLOG " + json.dumps({"namespace": "", "time_ms": int(t_s * 1000), "event_type": "POINT_IN_TIME",
                                     "key": key, "value": value, "metadata": meta})


def _header(bench: str, gbs: int, seq: int) -> list[str]:
    return [_line(0, "submission_benchmark", bench), _line(0, "global_batch_size", gbs),
            _line(0, "max_sequence_length", seq), _line(50, "init_stop"), _line(50, "run_start")]


def test_gpt3_blocks_count_tokens_and_leave_evaluation_out(tool):
    # two blocks of 10 s, each of 4 steps of GBS 8 x seq 16 tokens (epoch_count in tokens), 5 s of eval after each
    gbs, seq, block_tokens = 8, 16, 4 * 8 * 16
    log = _header("gpt3", gbs, seq)
    t = 50.0
    for b in range(2):
        log.append(_line(t, "block_start", epoch_count=block_tokens))
        log += [_line(t + 2.5 * (k + 1), "tracked_stats", {"train_step_timing in s": 2.5}) for k in range(4)]
        log.append(_line(t + 10, "block_stop", epoch_count=block_tokens))
        log += [_line(t + 10, "eval_start"), _line(t + 15, "eval_stop")]
        t += 15
    log += [_line(t, "run_stop"), _line(t, "trained_samples", 2 * block_tokens)]
    r = tool.one_log("\n".join(log), gpus=4)
    assert r["tok_s_gpu_steps"] == pytest.approx(gbs * seq / 2.5 / 4)
    assert r["tok_s_gpu_blocks"] == pytest.approx(2 * block_tokens / 20.0 / 4)
    assert r["eval_s"] == pytest.approx(10.0)
    assert r["tok_s_gpu_run"] == pytest.approx(2 * block_tokens / 30.0 / 4)  # evaluation lowers it
    assert r["tok_s_gpu_run"] < r["tok_s_gpu_blocks"]


def test_llama405b_blocks_end_at_the_next_sample_count(tool):
    # samples_count on block_start and block_stop is the count at the block's start; the eval_start after it
    # carries the count at its end (the NVIDIA llama31_405b logs)
    gbs, seq = 4, 32
    log = _header("llama31_405b", gbs, seq)
    log += [_line(50, "block_start", samples_count=0), _line(70, "block_stop", samples_count=0),
            _line(70, "eval_start", samples_count=40), _line(72, "eval_stop", samples_count=40),
            _line(72, "block_start", samples_count=40), _line(92, "block_stop", samples_count=40),
            _line(92, "eval_start", samples_count=80), _line(94, "eval_stop", samples_count=80),
            _line(94, "run_stop", samples_count=80)]
    r = tool.one_log("\n".join(log), gpus=2)
    assert r["tok_s_gpu_blocks"] == pytest.approx(80 * seq / 40.0 / 2)
    assert r["tok_s_gpu_run"] == pytest.approx(80 * seq / 44.0 / 2)
    assert "tok_s_gpu_steps" not in r  # no per-step times logged


def test_llama2_70b_lora_counts_packed_8192_token_rows_and_reads_the_block_throughput(tool):
    # no max_sequence_length in these logs: packed rows of 8192 tokens; block_stop carries the count at its end and
    # tracked_stats 'throughput' is sequences/s over the block's train steps (custom_callbacks.py Timer)
    gbs, seq = 8, tool.SEQUENCE_LENGTH["llama2_70b_lora"]
    assert seq == 8192
    log = [_line(0, "submission_benchmark", "llama2_70b_lora"), _line(0, "global_batch_size", gbs),
           _line(50, "init_stop"), _line(50, "run_start"), _line(50, "block_start", samples_count=0),
           _line(70, "tracked_stats", {"throughput": 2.0}, step=32), _line(70, "block_stop", samples_count=32),
           _line(70, "eval_start", samples_count=32), _line(75, "eval_stop", samples_count=32),
           _line(75, "block_start", samples_count=32), _line(87, "tracked_stats", {"throughput": 2.5}, step=56),
           _line(87, "block_stop", samples_count=56), _line(87, "eval_start", samples_count=56),
           _line(92, "eval_stop", samples_count=56), _line(92, "run_stop", 0.92, samples_count=56)]
    r = tool.one_log("\n".join(log), gpus=4)
    assert r["tok_s_gpu_blocks"] == pytest.approx(56 * seq / 32.0 / 4)
    assert r["step_s"] == pytest.approx((4.0 + 3.2) / 2)  # median of the two blocks' mean step times gbs / throughput
    assert r["tok_s_gpu_steps"] == pytest.approx(gbs * seq / 3.6 / 4)
    assert r["tok_s_gpu_run"] == pytest.approx(56 * seq / 42.0 / 4)
    # a benchmark with neither a logged nor a known sequence length is an error
    with pytest.raises(ValueError, match="max_sequence_length"):
        tool.one_log("\n".join(log).replace("llama2_70b_lora", "unknown_bench"), gpus=4)
