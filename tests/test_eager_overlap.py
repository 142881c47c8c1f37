"""Eager launch overlap (mlsysim.core.runtime_costs.pass_time, LaunchCost.async_gap): an asynchronous host dispatch
hides its launch cost behind long GPU work and is the whole time when kernels are short; graph replays and runtimes
whose launch cost is a GPU-side gap keep adding it."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import mlsysim
from mlsysim.core.runtime_costs import pass_time

ROOT = Path(__file__).resolve().parents[1]


def _eager():
    return mlsysim.Runtimes.get("pytorch_eager")


def _llama():
    return mlsysim.Models.get("Llama3_8B")


def test_limits_launch_bound_and_gpu_bound():
    rt, m = _eager(), _llama()
    c, gap, n = rt.launch._kernel_cost, rt.launch._async_gap, 1000
    # Tiny kernels: the host is the slower stage, the pass takes N x host cost.
    assert pass_time(rt, m, 1e-6, n * c, c, False, False) == pytest.approx(n * c)
    # Long kernels: the launches hide behind GPU work; each kernel still costs its GPU-side gap.
    busy = 1.0
    assert pass_time(rt, m, busy, n * c, c, False, False) == pytest.approx(busy + n * gap)
    # Never more than the serial sum, never less than either stage.
    for busy in (1e-5, 1e-3, 1e-2, 1.0):
        t = pass_time(rt, m, busy, n * c, c, False, False)
        assert max(busy, n * c) <= t <= busy + n * c


def test_monotone_in_gpu_work():
    rt, m = _eager(), _llama()
    c = rt.launch._kernel_cost
    times = [pass_time(rt, m, b, 500 * c, c, False, True) for b in (0.0, 1e-3, 5e-3, 1e-2, 1e-1)]
    assert all(b >= a for a, b in zip(times, times[1:]))


def test_graph_phases_and_gpu_gap_runtimes_add():
    m = _llama()
    graph = mlsysim.Runtimes.get("pytorch_cuda_graph")  # decode/prefill/training all replayed from graphs
    assert pass_time(graph, m, 2e-3, 1e-3, 1e-6, False, False) == pytest.approx(3e-3)
    llamacpp = mlsysim.Runtimes.get("llamacpp")  # per-kernel cost fitted as a GPU-side gap: no async_gap
    assert llamacpp.launch._async_gap is None
    assert pass_time(llamacpp, m, 2e-3, 1e-3, 5e-6, False, False) == pytest.approx(3e-3)
    assert pass_time(None, m, 2e-3, 1e-3, 5e-6, False, False) == pytest.approx(3e-3)


def test_eager_decode_between_graph_and_serial_sum():
    hw = "H200"
    run = dict(batch_size=1, precision="bf16", seq_len=1024)
    eager = mlsysim.Engine.solve("Llama3_8B", hw, runtime="pytorch_eager", **run)
    # Batch-1 decode: ~1400 ATen kernels of ~10 us host time each against a few ms of weight streaming.
    serial = max(eager.compute_time_s, eager.memory_time_s) + eager.overhead_s
    assert eager.latency.m_as("s") < serial
    assert eager.latency.m_as("s") == pytest.approx(eager.overhead_s, rel=1e-9)  # launch-bound


def test_fit_script_prefers_the_overlap_rule():
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "fit_eager_overlap.py")], capture_output=True,
                         text=True, check=True).stdout
    last = out.strip().splitlines()[-1]
    additive = float(last.split("additive ")[1].split(" %")[0])
    overlap = float(last.split("overlap ")[1].split(" %")[0])
    assert overlap < 5.0 < additive
