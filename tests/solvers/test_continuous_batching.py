"""ContinuousBatchingModel: paged KV capacity, last-page fragmentation, throughput at the batch that fits."""
from __future__ import annotations

import math

import pytest

from mlsysim.errors import InvalidInputError, InvalidTypeError, UnsupportedModelError
from mlsysim.solvers import ContinuousBatchingModel, RooflineModel

cb = ContinuousBatchingModel()
# Llama-3 8B: 32 layers x 8 KV heads x 128 head dim, K and V, fp16.
KV_PER_TOKEN = 2 * 32 * 8 * 128 * 2


def test_pages_and_fragmentation_by_hand():
    r = cb.solve("Llama3_8B", "H100", 2049, 8, 16)
    assert r.pages_per_sequence == 129  # ceil(2049 / 16)
    assert r.kv_bytes_per_sequence.to("B").magnitude == pytest.approx(129 * 16 * KV_PER_TOKEN)
    assert r.memory_fragmentation_pct == pytest.approx(100 * 15 / 2064)
    assert r.paged_kv_cache_size.to("B").magnitude == pytest.approx(8 * 129 * 16 * KV_PER_TOKEN)
    assert cb.solve("Llama3_8B", "H100", 2048, 8, 16).memory_fragmentation_pct == 0.0


def test_capacity_is_what_fits_beside_the_weights():
    r = cb.solve("Llama3_8B", "H100", 4096, 100_000)
    one = RooflineModel().solve("Llama3_8B", "H100", 1, "fp16", seq_len=4096)
    free = one.memory.capacity - one.memory.weights - one.memory.runtime_reserve
    per_seq = r.kv_bytes_per_sequence.to("B").magnitude + one.memory.activations
    assert r.max_active_requests == math.floor(free / per_seq)
    assert r.max_active_requests * per_seq <= free < (r.max_active_requests + 1) * per_seq
    assert "fit beside" in r.constraint_trace[0]


def test_bigger_pages_waste_more_and_fit_fewer():
    results = [cb.solve("Llama3_8B", "H100", 1000, 10_000, page) for page in (1, 16, 128, 1024)]
    frags = [r.memory_fragmentation_pct for r in results]
    fits = [r.max_active_requests for r in results]
    assert frags[0] == 0.0 and frags == sorted(frags)
    assert fits == sorted(fits, reverse=True)


def test_throughput_grows_with_batch_until_memory_caps_it():
    runs = [cb.solve("Llama3_8B", "H100", 2048, b) for b in (1, 8, 64, 10_000, 20_000)]
    tput = [r.throughput_tokens_per_sec for r in runs]
    assert tput[:4] == sorted(tput[:4])
    assert runs[3].max_active_requests == runs[4].max_active_requests < 10_000
    assert tput[3] == pytest.approx(tput[4])
    r = runs[1]
    assert r.throughput_tokens_per_sec == pytest.approx(8 / r.itl.to("s").magnitude)
    assert r.itl == RooflineModel().solve("Llama3_8B", "H100", 8, "fp16", seq_len=2048).latency


def test_paging_beats_a_max_length_reservation():
    r = cb.solve("Llama3_8B", "H100", 2048, 10_000)
    assert r.static_reserve_len == 131072  # the model's context length
    assert r.static_active_requests < r.max_active_requests and r.speedup_vs_static > 1.0
    same = cb.solve("Llama3_8B", "H100", 2048, 10_000, 1, static_reserve_len=2048)
    assert same.static_active_requests == same.max_active_requests and same.speedup_vs_static == pytest.approx(1.0)
    capped = cb.solve("Llama3_8B", "H100", 2048, 4)  # both allocators fit the 4 requested
    assert capped.speedup_vs_static == pytest.approx(1.0)


def test_model_that_does_not_fit_reports_nothing_running():
    r = cb.solve("Llama3_70B", "T4", 2048, 8)
    assert not r.feasible and r.max_active_requests == 0 and r.throughput_tokens_per_sec == 0.0
    assert "FAILED" in r.constraint_trace[0]
    r.to_json()


def test_bad_input():
    with pytest.raises(UnsupportedModelError):
        cb.solve("BERT_Base", "H100", 128, 8)
    with pytest.raises(UnsupportedModelError):
        cb.solve("ResNet50", "H100", 128, 8)
    with pytest.raises(InvalidInputError):
        cb.solve("Llama3_8B", "H100", 2048, 8, 0)
    with pytest.raises(InvalidTypeError):
        cb.solve("Llama3_8B", "H100", 2048.0, 8)
    with pytest.raises(InvalidInputError):
        cb.solve("Llama3_8B", "H100", 2048, 8, 16, "fp16", 1.5)
