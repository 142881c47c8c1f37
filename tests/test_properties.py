"""Physical invariants, property-tested over the catalog (hypothesis)."""
from __future__ import annotations

import attrs
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from mlsysim import Engine, Hardware, Models

MODELS = ["Llama3_8B", "Llama2_13B", "Mixtral_8x7B", "GPT2", "BERT_Base", "ResNet50", "MobileNetV2", "Mamba_130M"]
HARDWARE = ["H100", "A100_80GB", "L4", "RTX4090", "JetsonAGXOrin", "M2Ultra", "MI300X", "TPUv5p"]
PRECISIONS = ["fp16", "bf16", "int8", "int4"]
common = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

cases = st.tuples(st.sampled_from(MODELS), st.sampled_from(HARDWARE), st.integers(1, 512),
                  st.sampled_from(PRECISIONS), st.floats(0.05, 1.0))


def solve(m, h, b, p, e, **kw):
    from mlsysim.core.precision import resolve_precision
    from mlsysim.errors import UnsupportedPrecisionError

    try:
        resolve_precision(Hardware.get(h) if isinstance(h, str) else h, p)
    except UnsupportedPrecisionError:
        assume(False)  # a float format the device has no units for is an error by design (tested elsewhere)
    return Engine.solve(m, h, b, p, e, **kw)


@common
@given(cases)
def test_latency_positive_and_mfu_bounded(case):
    r = solve(*case)
    assert r.latency.magnitude > 0
    assert 0.0 <= r.mfu <= 1.0


@common
@given(cases, st.floats(1.1, 4.0))
def test_more_bandwidth_or_flops_never_slower(case, factor):
    m, h, b, p, e = case
    hw = Hardware.get(h)
    faster_mem = attrs.evolve(hw, memory=attrs.evolve(hw.memory, bandwidth=hw.memory.bandwidth * factor),
                              calibration=None)
    base = attrs.evolve(hw, calibration=None)
    assert solve(m, faster_mem, b, p, e).latency <= solve(m, base, b, p, e).latency
    table = attrs.evolve(hw.peak_dense, **{k: v * factor for k, v in hw.peak_dense.items()})
    faster_alu = attrs.evolve(base, peak_dense=table, peak_sparse=None)
    assert solve(m, faster_alu, b, p, e).latency <= solve(m, base, b, p, e).latency


@common
@given(cases, st.integers(1, 8))
def test_larger_batch_never_lowers_throughput_while_feasible(case, growth):
    m, h, b, p, e = case
    small, large = solve(m, h, b, p, e), solve(m, h, b * growth, p, e)
    if small.feasible and large.feasible:
        assert large.throughput >= small.throughput * (1 - 1e-9)


@common
@given(st.sampled_from(MODELS), st.sampled_from(HARDWARE), st.integers(1, 64))
def test_int4_weights_never_need_more_memory_than_fp16(m, h, b):
    assert solve(m, h, b, "int4", 0.5).memory.weights <= solve(m, h, b, "fp16", 0.5).memory.weights


@common
@given(st.sampled_from(MODELS), st.sampled_from(HARDWARE), st.integers(1, 64), st.floats(0.05, 0.9))
def test_higher_efficiency_never_slower(m, h, b, e):
    assert solve(m, h, b, "fp16", min(e * 1.1, 1.0)).latency <= solve(m, h, b, "fp16", e).latency


@common
@given(st.sampled_from(["Llama3_8B", "Llama2_13B", "Mixtral_8x7B"]), st.integers(128, 32768))
def test_longer_context_never_cheaper(m, seq):
    a = solve(m, "H200", 8, "fp16", 0.5, seq_len=seq)
    b = solve(m, "H200", 8, "fp16", 0.5, seq_len=seq * 2)
    assert b.latency >= a.latency and b.memory.kv_cache == 2 * a.memory.kv_cache
