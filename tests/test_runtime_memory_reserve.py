"""Memory the serving runtimes hold back (catalog/runtimes memory_reserve): vLLM's, SGLang's and TensorRT-LLM's
defaults as their sources compute them, and the serving KV capacity and Engine.solve reading them."""
from __future__ import annotations

import attrs
import pytest

import mlsysim
from mlsysim import Engine
from mlsysim.errors import CatalogError
from mlsysim.solvers import ServingModel
from mlsysim.specs.runtimes import ClassReserve, MemoryReserve

RT, HW = mlsysim.Runtimes, mlsysim.Hardware
GIB, MIB = 2.0**30, 2.0**20


def test_vllm_reserve_is_one_minus_its_memory_utilisation():
    assert RT.vllm.memory_reserve.capacity_fraction == pytest.approx(1 - RT.vllm.serving.gpu_memory_utilization)
    assert RT.vllm.memory_reserve.bytes_on(80 * GIB) == pytest.approx(0.08 * 80 * GIB)


def test_sglang_reserve_reproduces_its_mem_fraction_static_heuristic():
    # server_args.py: reserved = 512 + 1.5 x chunked_prefill + tp*pp/8*1024 + decode max_bs x 2 + 8 per prefill graph
    prefill_graph_sizes = (len(range(4, 33, 4)) + len(range(48, 257, 16)) + len(range(288, 513, 32))
                           + len(range(576, 1025, 64)) + len(range(1280, 4097, 256)) + len(range(4608, 8193, 512)))
    hand = 512 + 1.5 * 8192 + 1024 / 8 + 256 * 2 + 8 * prefill_graph_sizes
    reserve = RT.sglang.memory_reserve
    assert reserve.bytes_on(80 * GIB, 0.0, "datacenter_gpu") == pytest.approx(hand * MIB)
    h100, h200 = (HW.get(n).memory._capacity for n in ("H100", "H200"))
    assert 1 - reserve.bytes_on(h100, 0.0, "datacenter_gpu") / h100 == pytest.approx(0.83, abs=0.01)
    assert 1 - reserve.bytes_on(h200, 0.0, "datacenter_gpu") / h200 == pytest.approx(0.90, abs=0.01)
    small = 512 + 1.5 * 2048 + 1024 / 8 + 24 * 2 + 8 * 42  # 20-35 GiB GPUs: chunked prefill 2048, max_bs 24
    assert reserve.bytes_on(24 * GIB, 0.0, "workstation_gpu") == pytest.approx(small * MIB)


def test_trtllm_kv_cache_takes_nine_tenths_of_what_the_model_leaves():
    reserve = RT.trtllm.memory_reserve
    fixed, cap = reserve._fixed, 141 * GIB
    for used in (0.0, 16 * GIB, 70 * GIB):
        kv_pool = cap - used - reserve.bytes_on(cap, used)
        assert kv_pool == pytest.approx(0.9 * (cap - fixed - used))
    # a bigger model leaves less free memory, so less of it is held back
    assert reserve.bytes_on(cap, 70 * GIB) < reserve.bytes_on(cap, 16 * GIB) < reserve.bytes_on(cap)


def test_tensorrt_reserve_is_the_cuda_context_and_libraries():
    assert RT.tensorrt.memory_reserve.bytes_on(24 * GIB) == RT.tensorrt.memory_reserve.bytes_on(80 * GIB) == 0.6 * GIB


def test_engine_solve_sizes_the_trtllm_reserve_by_the_model():
    small = Engine.solve("Llama3_8B", "H200", 1, "fp16", runtime="trtllm").memory
    big = Engine.solve("Llama3_70B", "H200", 1, "fp8", runtime="trtllm").memory
    for mem in (small, big):
        free = mem.capacity - RT.trtllm.memory_reserve._fixed - mem.weights - mem.activations
        assert mem.runtime_reserve == pytest.approx(RT.trtllm.memory_reserve._fixed + 0.1 * free)
    assert big.runtime_reserve < small.runtime_reserve


def _serve(runtime):
    return ServingModel().solve("Llama3_8B", "H100", batch_size=64, precision="fp16", prompt_len=512,
                                output_len=128, runtime=runtime)


def test_serving_kv_capacity_reads_the_runtime_reserve():
    base = RT.sglang
    more = attrs.evolve(base, memory_reserve=attrs.evolve(base.memory_reserve,
                                                          fixed=base.memory_reserve._fixed + GIB))
    a, b = _serve(base), _serve(more)
    assert b.memory_other_bytes - a.memory_other_bytes == pytest.approx(GIB)  # one more GiB held back
    assert b.max_concurrent_sequences < a.max_concurrent_sequences
    t = RT.trtllm
    tighter = attrs.evolve(t, memory_reserve=attrs.evolve(t.memory_reserve, kv_free_fraction=0.8))
    c, d = _serve(t), _serve(tighter)
    # other = acts + fixed + 0.1 x (cap - fixed - weights - acts): solve for the step's activations
    cap, fixed, w = c.memory_capacity_bytes, t.memory_reserve._fixed, c.weights_per_gpu_bytes
    acts = (c.memory_other_bytes - fixed - 0.1 * (cap - fixed - w)) / 0.9
    free = cap - fixed - w - acts
    assert 0 < acts < 4 * GIB
    assert d.memory_other_bytes - c.memory_other_bytes == pytest.approx(0.1 * free, rel=1e-6)


def test_reserve_spec_rejects_nonsense():
    prov = RT.vllm.memory_reserve.provenance
    with pytest.raises(CatalogError, match="kv_free_fraction"):
        MemoryReserve(capacity_fraction=0.0, kv_free_fraction=1.5, provenance=prov)
    twice = ClassReserve(hardware_class="workstation_gpu", fixed=GIB, provenance=prov)
    with pytest.raises(CatalogError, match="repeats"):
        MemoryReserve(capacity_fraction=0.0, by_class=[twice, twice], provenance=prov)
