"""Serving accuracy (issue 10): held-out trtllm-bench throughput, vLLM/SGLang median ITL and SGLang median TTFT
rows of serving_cases.csv stay within the recorded median errors; every row cites its source; calibration and
held-out rows are disjoint; the expressibility measure is computed over the reference rows."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest

from mlsysim.validation import median_errors
from mlsysim.validation.serving import breakdown, expressibility, run

HERE = Path(__file__).parent
CASES = HERE / "serving_cases.csv"
# Median absolute % error on held-out rows, as recorded when the fit was made. The issue-10 goals are TPOT
# <= 15 % and TTFT <= 30 %. Median ITL (itl_p50_ms, rows that report median_itl_ms) misses it (20.3 %): the
# ML.ENERGY vLLM rows publish no prompt length (512 assumed), which sets both the KV read of decode steps and
# whether the median step carries a prompt (8B TP1 at 128-256 in flight ~25-33 % fast, 70B TP4 at 256-384
# 34-57 % slow); mean ITL (tpot_ms, NVIDIA NIM TRT-LLM 70B TP2 on H100) 25.5 %: NIM runs 20-28 % slower per
# step than the trtllm-bench rows the runtime was fitted on, already at one request. TTFT: SGLang median
# (open loop) 14.3 %, NIM mean (closed loop) 21.3 %; NIM at 100 clients, past the fp8 KV cache's 90
# sequences, is +243 % (the model's closed loop turns prefill-bound there). Throughput 8.0 %: trtllm-bench
# 6.8 % (n=55); SGLang offline max load 20-35 % slow (n=6): its shares, fitted on low-load ITL/TTFT rows,
# sit at the grid's low edge and also absorb the client-side part of TTFT the step model does not carry.
# Since the on-demand paging / SGLang separate-prefill refit: median ITL 11.5 % over vLLM + SGLang (SGLang 7.2 %,
# vLLM 25.2 %: the 70B c=898 row now runs all 898 sequences, as ML.ENERGY's avg batch says, exposing the step
# model's large-batch overestimate).
# S14 (runtime nim: the TensorRT-LLM engine behind NIM's HTTP server, discrete-step physics, frontend latency and
# per-step cost fitted on the 500/2000 concurrency-1 pair): NIM mean ITL held out 2.6 % (n=5, was 25.5 % under
# trtllm), mean TTFT 16.6 % (was 21.3 %); the c=100 row (past the KV cache) stays -61 % on TTFT.
# S14 vLLM: host work a + b n per step (step_overhead 0.75 ms + request_overhead 20 us per request, refitted on
# the 3 vLLM calibration rows) and LMArena/ShareGPT prompts of exponential length (column prompt_lengths) for the
# median gap: vLLM median ITL held out 25.2 -> 10.6 % (n=12), all median ITL 11.5 -> 9.8 %.
# S15 DeepSeek-V2.5 (SGLang DP attention, 8 x H200, datacrunch offline 1/512): held out, throughput +235 %,
# median ITL +55 % (the model runs ~3050 sequences per DP rank where the measured rate x ITL implies ~580); the
# one row above the median moves the throughput median 8.0 -> 9.1 %.
# S16 ML.ENERGY rows (tools/mlenergy_rows.py, 99 held-out rows: every full-batch vLLM configuration of Llama-3.1-8B
# on H100 and B200 and 70B on 4 x H100 and 2 x B200 -- median ITL, output tokens/s and, new, GPU energy per output
# token): the serving power now uses the engine's additive activity (compute share + 0.8 x memory share,
# core/power.py) instead of the busier unit alone, which fell with batching where ML.ENERGY's power rises (486 W at
# 8 requests to 690 W at 256 on H100): energy per token held out 27.6 -> 13.8 % (n=39; H100 10.7 %, 4 x H100
# 10.5 %, B200 27.9 %, 2 x B200 21.1 %). The B200 rows, on a device the vLLM figures were not fitted on, are the
# weak part: 8B TP1 ITL 33 % (its measured ITL jumps 9.0 -> 26.7 ms from 64 to 128 requests while throughput falls
# 5589 -> 4570 tok/s, which no step model reproduces), so the throughput median moves 7.4 -> 10.7 % (n=101; the
# H100 closed-loop rows 4.8 %, 4 x H100 10.7 %) and the median ITL 9.8 -> 13.7 % (n=44).
# MLPerf llama2-70b Offline rows SV15101-3 (TensorRT-LLM, NVIDIA v4.0/v4.1, OpenOrca mean 222 input / ~292 output
# tokens): held out, 8 x H200 TP1 v4.1 +1.3 %, v4.0 +14.6 % (its v4.0 -> v4.1 software gain is 12.8 %), DGX H100 TP2 x 4
# v4.0 +32.1 % (as the trtllm-bench H100 TP2 decode-heavy rows, +22-30 %); throughput median 10.67 -> 10.68 % (n=104).
# S16 MLPerf Server (metric server_throughput_tok_s: the largest Poisson rate whose model TTFT p99 <= 2 s and mean
# TPOT <= 200 ms, x output_len; core/serving/server_rate.py), all held out. llama2-70b SV15104-6: DGX H100 TP2 x 4 v4.0
# +40.1 %, 8 x H200 v4.0 +19.6 %, v4.1 +8.1 %. In the model neither limit binds: the rate found is 99.6 % of the
# replica's capacity (KV / running-request limit), TTFT p99 1.1-1.5 s and mean TPOT 139-152 ms there (measured means
# 137-165 ms), so a Server error is its Offline row's error plus the 5-7 % by which the measured Server throughput
# sits below the measured Offline one. Mixtral-8x7B v4.1 (SV15107-10, TP1 x 8, OpenOrca/GSM8K/MBXP mean 427 in / 146
# out): Offline DGX H100 +40.5 %, 8 x H200 +24.8 %; Server +44.4 % / +28.2 % -- the model predicts the same ~73.6k tok/s
# on both (large-batch expert GEMMs at the dense-fitted compute share: compute-bound, so H200's bandwidth does not
# show) where H200 measures 12.6 % more. Throughput median 10.68 -> 10.95 % (n=106). The Server bound is new, set at
# its first reading (median 28.2 %, n=5): it records the error, it is no goal met.
# S16b: every other full-batch vLLM configuration ML.ENERGY publishes for a catalog model without expert parallelism
# (tools/mlenergy_rows.py: Qwen3 8B/14B/32B, Qwen3-30B-A3B, Gemma 3 12B/27B on H100, 2 x H100 and B200; 282 held-out
# rows). On H100 they land near the Llama rows the vLLM figures were fitted on (median ITL 10.3 %, tokens/s 12.0 %,
# energy/token 9.6 %); on B200 they are 20-28 % off as the Llama B200 rows are (too fast): the medians move to
# throughput 14.5 % (n=200), median ITL 15.0 % (n=138), energy per token 15.9 % (n=133).
BOUNDS = {"throughput_tok_s": 15.0, "itl_p50_ms": 15.5, "tpot_ms": 5.0, "ttft_p50_ms": 15.0,
          "ttft_ms_serving": 18.0, "energy_per_token_j": 16.5, "server_throughput_tok_s": 28.5}


@pytest.fixture(scope="module")
def results():
    return run(CASES)


def test_rows_cite_sources_and_split():
    rows = list(csv.DictReader(CASES.open()))
    assert all(r["source"].strip() and r["role"] in ("calibration", "holdout") for r in rows)
    assert all(r["id"].startswith(("SRV", "SV15")) for r in rows)  # SV15: DeepSeek-V2.5 rows of session 15
    assert sum(r["role"] == "holdout" for r in rows) > 3 * sum(r["role"] == "calibration" for r in rows)


@pytest.mark.parametrize("metric", sorted(BOUNDS))
def test_held_out_median_error(results, metric):
    err = median_errors(results)[metric]
    assert err <= BOUNDS[metric], f"{metric}: {err:.1f} % > {BOUNDS[metric]} %"


def test_breakdown_reports_runtime_and_tp(results):
    text = breakdown(results, CASES)
    assert "runtime=trtllm" in text and "tp=8" in text and "runtime=vllm" in text


def test_breakdown_has_sglang_and_ttft(results):
    text = breakdown(results, CASES)
    assert "runtime=sglang" in text and "ttft_p50_ms" in text and "concurrency=open-loop" in text


def test_expressibility_measure():
    ok, total, reasons = expressibility(HERE / "serving_expressibility.csv", CASES)
    assert total > 100 and ok / total >= 0.8, reasons  # the issue-10 goal: at least 80 % expressible
    assert all("not in the" in r or "not representable" in r for r in reasons)  # only catalog gaps, no errors
    rows = list(csv.DictReader((HERE / "serving_expressibility.csv").open()))
    assert all(bool(r["model"]) != bool(r["not_expressible"]) for r in rows)  # a reading or a reason, never both


def test_mlperf_offline_rows_share_the_dataset_and_keep_the_measured_order(results):
    """The MLPerf llama2-70b Offline rows all read the OpenOrca set's mean prompt (5,463,976 tokens over 24,576
    samples); within one round (v4.0) the model ranks 8 x H200 TP1 above DGX H100 TP2 x 4, as measured."""
    rows = [r for r in csv.DictReader(CASES.open()) if r["source_id"].startswith("MLPERF-INF")
            and r["metric"] == "throughput_tok_s" and r["model"] == "Llama2_70B"]
    assert len(rows) >= 3 and {r["prompt_len"] for r in rows} == {str(round(5_463_976 / 24_576))}
    predicted = {res.id: res.predicted for res in results}
    v40 = {r["hardware"]: r for r in rows if r["source_id"] == "MLPERF-INF-V4.0-NVIDIA"}
    h100, h200 = v40["DGX_H100"], v40["HGX_H200"]
    assert float(h100["measured"]) < float(h200["measured"]) and predicted[h100["id"]] < predicted[h200["id"]]


def test_mlperf_server_rows_sit_at_or_below_their_offline_rows(results):
    """An MLPerf Server row (largest compliant Poisson rate) never predicts more than the Offline row of the same
    round, system, model and dataset (max load is the rate's upper bound), as measured; every Server row names its
    TTFT / TPOT limits and shares its Offline row's prompt and output lengths."""
    rows = list(csv.DictReader(CASES.open()))
    predicted = {res.id: res.predicted for res in results}
    key = lambda r: (r["source_id"], r["model"], r["hardware"], r["tp"], r["dp"], r["prompt_len"], r["output_len"])
    offline = {key(r): r for r in rows
               if r["source_id"].startswith("MLPERF-INF") and r["metric"] == "throughput_tok_s"}
    server = [r for r in rows if r["metric"] == "server_throughput_tok_s"]
    assert len(server) >= 5 and all(r["concurrency"].startswith("server:ttft=") for r in server)
    for r in server:
        off = offline[key(r)]
        assert float(r["measured"]) < float(off["measured"]), r["id"]
        assert predicted[r["id"]] <= predicted[off["id"]] * 1.001, r["id"]


def test_mlperf_mixtral_rows_read_the_15k_set():
    """The Mixtral-8x7B MLPerf rows all read the 15,000-sample set's mean prompt (6,410,905 tokens) and the
    accuracy runs' ~146 output tokens per sample."""
    rows = [r for r in csv.DictReader(CASES.open())
            if r["model"] == "Mixtral_8x7B" and r["source_id"].startswith("MLPERF")]
    lengths = {(r["prompt_len"], r["output_len"]) for r in rows}
    assert len(rows) >= 4 and lengths == {(str(round(6_410_905 / 15_000)), "146")}
