"""Decode under the PyTorch stacks: the graph-replayed decoder of the device runs (pytorch_cuda_graph) and eager
Hugging Face PyTorch (pytorch_eager): kernel counts and their cost, GQA read once when decoding, and the KV cache
re-copied by DynamicCache's torch.cat."""
from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

import attrs

import mlsysim
from mlsysim import Engine
from mlsysim.core.fusion import KV_CONCAT_PASSES, transformer_extra

ROOT = Path(__file__).resolve().parents[1]
H200_GRAPH_DECODE_ROWS = ("DEV01", "DEV02", "DEV03", "DEV04", "DEV05", "DEV06", "DEV07", "DEV15")


def _runtime(name):
    return mlsysim.Runtimes.get(name)


def _model(name):
    return mlsysim.Models.get(name)


def test_gqa_decode_reads_each_kv_head_once_only_when_decoding():
    rt = _runtime("pytorch_cuda_graph")
    m = _model("Llama3_8B")
    assert rt.fusion.gqa is False and rt.fusion.gqa_decode is True
    attn_decode, _, notes = transformer_extra(m, rt.fusion, 4, 1024, 2.0, False, True)
    assert attn_decode == 0.0 and "K/V repeated per query head" not in notes
    attn_prefill, _, notes = transformer_extra(m, rt.fusion, 1, 512, 2.0, False, False)
    # repeat_kv: 4 H head_dim elements per prompt token per layer (read KV heads, write H heads, attention reads)
    assert attn_prefill == m.layers * 512 * 4.0 * m.heads * m.head_dim * 2.0
    # without gqa_decode the decode step repeats K/V as well (the flag falls back to gqa)
    plain = attrs.evolve(rt.fusion, gqa_decode=None)
    assert transformer_extra(m, plain, 4, 1024, 2.0, False, True)[0] > 0.0


def test_dynamic_cache_concat_reads_and_writes_the_whole_cache_each_step():
    rt = _runtime("pytorch_eager")
    m = _model("Llama3_8B")
    assert rt.fusion.kv_inplace is False
    inplace = attrs.evolve(rt.fusion, kv_inplace=None)
    for batch, ctx in ((1, 1024), (8, 4096)):
        concat = transformer_extra(m, rt.fusion, batch, ctx, 2.0, False, True)[0]
        base = transformer_extra(m, inplace, batch, ctx, 2.0, False, True)[0]
        assert concat - base == KV_CONCAT_PASSES * batch * ctx * m.kv_elements_per_token * 2.0
    # unpadded batches reach SDPA without a mask: enable_gqa, each KV head read once (no repeat_kv copies)
    assert "K/V repeated per query head" not in transformer_extra(m, rt.fusion, 1, 1024, 2.0, False, True)[2]
    # a prompt writes its cache once whichever way it is grown: nothing extra outside decode
    assert transformer_extra(m, rt.fusion, 1, 512, 2.0, False, False)[0] == \
        transformer_extra(m, inplace, 1, 512, 2.0, False, False)[0]


def test_graph_replayed_decode_at_batch_one_is_its_bytes_plus_kernels_times_replay_cost():
    r = Engine.solve("Llama3_8B", "H200", 1, "bf16", seq_len=1024, runtime="pytorch_cuda_graph")
    kernels = 32 * 27 + 10
    assert abs(r.overhead_s - kernels * 2e-6) < 1e-12
    # batch 1: every phase memory-bound, so the step is the bytes at the measured bandwidth plus the kernels
    assert r.compute_time_s < 0.01 * r.memory_time_s
    assert abs(r.latency.m_as("s") - (r.memory_time_s + r.overhead_s)) < 1e-12
    assert abs(r.memory_time_s - r.bytes_moved / 4.25e12) / r.memory_time_s < 1e-9


def test_decode_step_grows_by_exactly_the_added_kernels():
    rt = _runtime("pytorch_cuda_graph")
    more = attrs.evolve(rt, kernels=attrs.evolve(rt.kernels, decode=rt.kernels.decode + 13))
    a = Engine.solve("Llama3_8B", "H200", 8, "bf16", seq_len=1024, runtime=rt).latency.m_as("s")
    b = Engine.solve("Llama3_8B", "H200", 8, "bf16", seq_len=1024, runtime=more).latency.m_as("s")
    assert b > a
    assert abs((b - a) - 32 * 13 * 2e-6) < 1e-12


def test_eager_decode_is_launch_bound_at_small_batch():
    """Eager PyTorch dispatches ~10 us of host work per kernel: an 8B decode step of 1393 kernels takes N x 10 us
    whatever the batch while the GPU's work (bytes + N x async gap) stays shorter, then the GPU takes over."""
    kernels = 32 * 43 + 17
    steps = [Engine.solve("Llama3_8B", "H200", b, "bf16", seq_len=1024, runtime="pytorch_eager").latency.m_as("s")
             for b in (1, 2, 4)]
    for step in steps:
        assert abs(step - kernels * 10e-6) < 1e-12
    big = Engine.solve("Llama3_8B", "H200", 64, "bf16", seq_len=4096, runtime="pytorch_eager")
    assert big.latency.m_as("s") > kernels * 10e-6  # GPU-bound: bytes + async gaps exceed the host's dispatch
    # the same step replayed from a graph costs no host time: strictly faster at batch 1
    graph = Engine.solve("Llama3_8B", "H200", 1, "bf16", seq_len=1024, runtime="pytorch_cuda_graph")
    assert graph.latency.m_as("s") < steps[0]


def test_h200_decode_rows_name_the_stack_their_script_ran():
    rt = _runtime("pytorch_cuda_graph")
    spec = importlib.util.spec_from_file_location("fit_eager_overlap", ROOT / "benchmarks" / "fit_eager_overlap.py")
    fit = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fit)
    assert rt.kernels.decode == fit.PER_LAYER and rt.kernels.per_pass == fit.PER_STEP
    assert abs(fit.GRAPH_GAP - rt.launch.graph_kernel_cost.m_as("s")) < 1e-15
    # the eager async gap is the graph cost plus the fitted extra GPU time of a stream launch (1.12 us)
    gap = _runtime("pytorch_eager").launch.async_gap.m_as("s")
    assert abs(gap - (fit.GRAPH_GAP + 1.1e-6)) < 0.05e-6
    script = (ROOT / "benchmarks" / "device" / "measure_gpu.py").read_text()
    assert "enable_gqa=True" in script and "torch.cuda.CUDAGraph()" in script
    with open(ROOT / "tests" / "validation" / "cases.csv", newline="") as fh:
        rows = {r["id"]: r for r in csv.DictReader(fh)}
    for row_id in H200_GRAPH_DECODE_ROWS:
        assert rows[row_id]["runtime"] == "pytorch_cuda_graph", row_id
