"""ServingModel.solve(memory_fraction=, max_num_seqs=): a deployment's own memory share and running-request cap
(vLLM --gpu-memory-utilization / --max-num-seqs, SGLang --mem-fraction-static / --max-running-requests) replace the
runtime's catalog figures; the KV pool, admission, queueing and the DSE serving tier follow them."""
from __future__ import annotations

import random
import subprocess
import sys

import pytest

from mlsysim import dse
from mlsysim.core.serving import ServingModel
from mlsysim.errors import InvalidInputError
from serving_tier_checks import assert_identical

S = ServingModel()
BASE = dict(prompt_len=1024, output_len=256)


def _solve(batch=64, **kw):
    return S.solve("Llama3_8B", "H100", batch, "bf16", **{**BASE, "runtime": "vllm", **kw})


def test_memory_fraction_sets_the_usable_share_and_the_kv_pool():
    cap = _solve().memory_capacity_bytes
    prev = None
    for f in (0.5, 0.7, 0.9):
        r = _solve(memory_fraction=f)
        # conservation: memory_other = activations + (capacity - usable) with usable = f x capacity, whatever the
        # runtime's catalog reserve says; the KV pool is what is left of the usable share
        acts = r.memory_other_bytes - (cap - f * cap)
        assert acts > 0
        pool = f * cap - r.weights_per_gpu_bytes - acts
        # vLLM pages on demand: a running sequence holds its prompt and half its output on average
        held = r.kv_cache_per_sequence_bytes * (1024 + 256 / 2) / (1024 + 256)
        assert 0 < r.max_concurrent_sequences * held <= pool * (1 + 1e-9)  # never more than the share holds
        assert any(f"memory_fraction {f:g}" in x for x in r.reasons)
        if prev is not None:  # a larger share holds more sequences (monotone)
            assert r.max_concurrent_sequences > prev
        prev = r.max_concurrent_sequences


def test_memory_fraction_replaces_the_runtime_reserve():
    """vLLM's catalog default is 0.92 of the device: passing 0.92 gives the same pool; SGLang's fixed reserve is
    replaced too."""
    assert _solve(memory_fraction=0.92).max_concurrent_sequences == _solve().max_concurrent_sequences
    sg = dict(runtime="sglang")
    small = _solve(memory_fraction=0.3, **sg)
    assert small.max_concurrent_sequences < _solve(**sg).max_concurrent_sequences


def test_a_share_too_small_for_the_weights_is_infeasible():
    r = _solve(memory_fraction=0.1)  # 8 GiB of an 80 GiB H100 for 16 GiB of bf16 weights
    assert not r.feasible and any("exceed" in x for x in r.reasons)


def test_max_num_seqs_queues_the_rest_little_law():
    """A closed loop of 256 clients under a cap of 64 runs 64: the same steady state (throughput, TPOT) as 64
    clients, and the 192 queued wait 192 / X more before their first token (Little's law)."""
    capped, at_cap = _solve(256, max_num_seqs=64), _solve(64)
    assert capped.throughput.m_as("token/s") == pytest.approx(at_cap.throughput.m_as("token/s"), rel=1e-12)
    assert capped.tpot.m_as("s") == pytest.approx(at_cap.tpot.m_as("s"), rel=1e-12)
    wait = 192 / at_cap.request_rate.m_as("1/s")
    assert capped.ttft.m_as("s") == pytest.approx(at_cap.ttft.m_as("s") + wait, rel=1e-9)
    assert any("the deployment's max_num_seqs 64" in x for x in capped.reasons)
    # without a runtime too (the engine's default stack has no cap of its own)
    plain = S.solve("Llama3_8B", "H100", 256, "bf16", **BASE, max_num_seqs=64)
    assert plain.throughput.m_as("token/s") == pytest.approx(
        S.solve("Llama3_8B", "H100", 64, "bf16", **BASE).throughput.m_as("token/s"), rel=1e-12)


def test_max_num_seqs_bounds_an_open_loop():
    """A rate the uncapped replica serves saturates one that runs two requests at a time: its capacity is that of
    two clients in the loop."""
    ok = _solve(512, arrival_rate=3.0)
    assert ok.feasible
    with pytest.raises(InvalidInputError, match="past saturation: this replica serves at most ~1.0"):
        _solve(512, arrival_rate=3.0, max_num_seqs=2)


def test_the_static_batch_takes_the_limits_through_the_parallel_path():
    r = S.solve("Llama3_8B", "H100", 8, "bf16", **BASE, batching="static", memory_fraction=0.5)
    assert any("memory_fraction 0.5" in x for x in r.reasons)


@pytest.mark.parametrize("bad", [0, 0.0, 1.5, -0.2, True, "0.9"])
def test_a_bad_memory_fraction_names_the_flag(bad):
    with pytest.raises(InvalidInputError, match="memory_fraction"):
        _solve(memory_fraction=bad)


@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_a_bad_max_num_seqs_names_the_flag(bad):
    with pytest.raises(Exception, match="max_num_seqs"):
        _solve(max_num_seqs=bad)


def test_disaggregated_pools_take_their_own_or_the_calls_limits():
    spec = {"prefill": {"tensor_parallel": 1}, "decode": {"tensor_parallel": 1}}
    kw = dict(disaggregated=spec, runtime="vllm", **BASE)
    free = S.solve("Llama3_8B", "DGX_H100", 256, "bf16", **kw)
    capped = S.solve("Llama3_8B", "DGX_H100", 256, "bf16", **kw, max_num_seqs=16)
    own = S.solve("Llama3_8B", "DGX_H100", 256, "bf16", disaggregated={
        "prefill": {"tensor_parallel": 1}, "decode": {"tensor_parallel": 1, "max_num_seqs": 16}},
        runtime="vllm", **BASE)
    assert capped.throughput.m_as("token/s") == own.throughput.m_as("token/s")
    assert capped.throughput.m_as("token/s") < free.throughput.m_as("token/s")
    assert capped.ttft.m_as("s") > free.ttft.m_as("s")  # the clients past the cap wait
    assert any("max_num_seqs 16" in x for x in capped.reasons)
    smaller = S.solve("Llama3_8B", "DGX_H100", 256, "bf16", **kw, memory_fraction=0.4)
    assert smaller.max_concurrent_sequences < free.max_concurrent_sequences


@pytest.mark.parametrize("seed", range(4))
def test_the_dse_serving_tier_follows_the_limits(seed):
    rng = random.Random(900 + seed)
    grid = dict(models=["Llama3_8B", "Mixtral_8x7B"], hardware=["H100", "A100"],
                batch_sizes=sorted(rng.sample([1, 8, 64, 200, 700], 3)), precisions=["bf16", "fp8"],
                seq_lens=[512, 3000], solver="serving", runtime=rng.choice(["vllm", "sglang", "trtllm", None]),
                memory_fraction=rng.choice([0.5, 0.8, 0.95]), max_num_seqs=rng.choice([None, 4, 96]))
    ref = dse.sweep(**grid, backend="scalar")
    assert_identical(ref, dse.sweep(**grid))
    assert_identical(ref, dse.sweep(**grid, backend="python"))


def test_the_cli_takes_the_flags():
    out = subprocess.run([sys.executable, "-m", "mlsysim", "serve", "Llama3_8B", "H100", "--prompt-len", "1024",
                          "--runtime", "vllm", "--concurrency", "256", "--memory-fraction", "0.6",
                          "--max-num-seqs", "32", "--json"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "memory_fraction 0.6" in out.stdout and "max_num_seqs 32" in out.stdout
    bad = subprocess.run([sys.executable, "-m", "mlsysim", "serve", "Llama3_8B", "H100", "--prompt-len", "1024",
                          "--memory-fraction", "1.7"], capture_output=True, text=True)
    assert bad.returncode == 1 and "memory_fraction" in bad.stderr and "Traceback" not in bad.stderr
