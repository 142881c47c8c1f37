"""WeightStreamingModel: weights cross the link each step; double-buffered layer pipeline."""
from __future__ import annotations

import pytest

import mlsysim
from mlsysim.errors import InvalidInputError, UnsupportedModelError
from mlsysim.solvers import RooflineModel, WeightStreamingModel

ws = WeightStreamingModel()
ms = lambda q: q.to("ms").magnitude  # noqa: E731


def test_injection_time_by_hand():
    r = ws.solve("Llama3_8B", "H100", 2048, 8)
    m = mlsysim.Models.Llama3_8B
    # Every matmul weight (layers + LM head, fp16) crosses PCIe Gen5 x16 (64 GB/s) once per decode step.
    streamed = m.matmul_parameters_per_token * 2
    assert r.weights_streamed_per_step.to("B").magnitude == pytest.approx(streamed)
    assert ms(r.layer_injection_time) == pytest.approx(1e3 * streamed / 64e9 / 32)
    # Two-stage pipeline: fill + (L - 1) x slower stage + drain.
    ti, tc = ms(r.layer_injection_time), ms(r.layer_compute_time)
    assert ms(r.step_time) == pytest.approx(ti + 31 * max(ti, tc) + tc)
    assert r.bottleneck == "Interconnect-Bandwidth-Bound"
    assert r.throughput_tokens_per_sec == pytest.approx(8 / (ms(r.step_time) / 1e3))


def test_device_time_is_the_resident_roofline():
    r = ws.solve("Llama3_8B", "H100", 2048, 8)
    resident = RooflineModel().solve("Llama3_8B", "H100", 8, "fp16", seq_len=2048)
    assert 32 * ms(r.layer_compute_time) == pytest.approx(ms(resident.latency))
    # An unbounded link leaves only the device: streaming costs one layer of injection at most.
    fast = ws.solve("Llama3_8B", "H100", 2048, 8, link_bandwidth=1e17)
    assert fast.bottleneck in ("Memory-Bound", "Compute-Bound")
    assert fast.throughput_tokens_per_sec == pytest.approx(resident.throughput.to("1/s").magnitude, rel=1e-3)


def test_link_bound_decode_scales_with_batch_and_link():
    one = ws.solve("Llama3_70B", "Cerebras_CS3", 1024, 4)
    more = ws.solve("Llama3_70B", "Cerebras_CS3", 1024, 16)
    assert more.throughput_tokens_per_sec == pytest.approx(4 * one.throughput_tokens_per_sec, rel=0.05)
    slow = ws.solve("Llama3_70B", "Cerebras_CS3", 1024, 4, link_bandwidth=mlsysim.ureg.Quantity("75 GB/s"))
    assert ms(slow.layer_injection_time) == pytest.approx(2 * ms(one.layer_injection_time))
    assert slow.throughput_tokens_per_sec == pytest.approx(one.throughput_tokens_per_sec / 2, rel=0.05)


def test_optimal_batch_is_the_balance_point():
    r = ws.solve("Llama3_8B", "H100", 512, 1)
    b = r.optimal_batch_size
    at = ws.solve("Llama3_8B", "H100", 512, b)
    below = ws.solve("Llama3_8B", "H100", 512, b - 1)
    assert at.layer_compute_time >= at.layer_injection_time
    assert below.layer_compute_time < below.layer_injection_time


def test_prefill_counts_every_prompt_token():
    r = ws.solve("Llama3_8B", "Cerebras_CS3", 2048, 4, phase="prefill")
    assert r.phase == "prefill"
    assert r.throughput_tokens_per_sec == pytest.approx(4 * 2048 / (ms(r.step_time) / 1e3))
    assert r.optimal_batch_size < ws.solve("Llama3_8B", "Cerebras_CS3", 2048, 4).optimal_batch_size


def test_device_memory_holds_kv_and_two_layer_buffers():
    r = ws.solve("Llama3_70B", "H100", 2048, 8)
    prof = RooflineModel().solve("Llama3_70B", "H100", 8, "fp16", seq_len=2048)
    m = prof.memory
    expected = m.kv_cache + m.activations + m.runtime_reserve + 2 * m.weights / 80
    assert r.device_memory_required.to("B").magnitude == pytest.approx(expected)
    assert r.feasible and not prof.feasible  # 140 GB of weights do not fit; streamed they need not
    full = ws.solve("Llama3_70B", "Cerebras_CS3", 8192, 64)
    assert not full.feasible and full.throughput_tokens_per_sec == 0.0 and full.wafer_memory_utilization > 1
    assert "FAILED" in full.constraint_trace[0]


def test_bad_input():
    with pytest.raises(InvalidInputError, match="link_bandwidth"):
        ws.solve("Llama2_7B", "JetsonAGXOrin", 1024, 1)
    assert ws.solve("Llama2_7B", "JetsonAGXOrin", 1024, 1, link_bandwidth=32e9).feasible
    with pytest.raises(InvalidInputError):
        ws.solve("Llama3_8B", "H100", 1024, 1, phase="train")
    with pytest.raises(InvalidInputError):
        ws.solve("Llama3_8B", "H100", 1024, 1, link_bandwidth=-1.0)
    with pytest.raises(UnsupportedModelError):
        ws.solve("BERT_Base", "H100", 128, 1)
