"""summary() and the notebook table from prebuilt templates and table-lookup formatting (core/profile_text.py)
give the previous implementation's text, character for character, on random profiles: the reference below is
that implementation (one units.human_float call per figure, rows padded to the widest label)."""
from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from mlsysim import Engine
from mlsysim.core import profile_text
from mlsysim.core.results import MemoryBreakdown, PerformanceProfile
from mlsysim.units import human_float


def reference_rows(p: PerformanceProfile) -> list[tuple[str, str]]:
    m = p.memory
    rows = [
        ("model", p.model), ("hardware", p.hardware),
        ("workload", f"batch {p.batch_size}, {p.precision}"
                     f"{' (computed in ' + p.compute_precision + ')' if p.compute_precision != p.precision else ''}"
                     f"{', seq_len ' + str(p.seq_len) if p.seq_len else ''}{', training' if p.is_training else ''}"),
        ("latency", human_float(p.latency_s, "s")),
        ("throughput", human_float(p.throughput_per_s, f"{p.throughput_unit}/s")),
        ("bottleneck", p.bottleneck), ("mfu", f"{p.mfu:.1%}"),
        ("feasible", "yes" if p.feasible else "NO"),
        ("energy", human_float(p.energy_j, "J")),
        ("  compute / memory / overhead", " / ".join(human_float(t, "s") for t in
                                                     (p.compute_time_s, p.memory_time_s, p.overhead_s))),
    ]
    if m.weights_capacity is None:
        rows.append(("memory", f"{human_float(m.total, 'B')} of {human_float(m.capacity, 'B')}"))
    else:
        rows.append(("memory (SRAM)", f"{human_float(m.total - m.weights, 'B')} of {human_float(m.capacity, 'B')}"))
        rows.append(("flash (weights)", f"{human_float(m.weights, 'B')} of {human_float(m.weights_capacity, 'B')}"))
    for label, value in (("  weights", m.weights), ("  kv cache", m.kv_cache), ("  activations", m.activations),
                         ("  gradients", m.gradients), ("  optimizer state", m.optimizer_state),
                         ("  runtime reserve", m.runtime_reserve)):
        if value:
            rows.append((label, human_float(value, "B")))
    return rows


def reference_summary(p: PerformanceProfile) -> str:
    rows = reference_rows(p)
    width = max(len(r[0]) for r in rows)
    return "\n".join([f"{k:<{width}}  {v}" for k, v in rows] + [f"note: {r}" for r in p.reasons])


# Figures from subnormal to overflow, exact zeros, the non-finite ones, and ints (a hand-built breakdown).
figure = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.floats(1e-40, 1e40),
                   st.floats(-1e40, -1e-40), st.just(0.0), st.integers(0, 2**40))
seconds = st.one_of(st.floats(1e-12, 1e9), figure)
nbytes = st.one_of(st.floats(1.0, 2.0 ** 55), st.just(0.0), figure)


@st.composite
def profiles(draw) -> PerformanceProfile:
    memory = MemoryBreakdown(weights=draw(nbytes), kv_cache=draw(nbytes), activations=draw(nbytes),
                             gradients=draw(nbytes), optimizer_state=draw(nbytes), runtime_reserve=draw(nbytes),
                             capacity=draw(nbytes), weights_capacity=draw(st.one_of(st.none(), nbytes)))
    precision = draw(st.sampled_from(("fp16", "fp8", "int4")))
    return PerformanceProfile.from_fields({
        "latency_s": draw(seconds), "throughput_per_s": draw(figure), "bottleneck": draw(st.sampled_from(
            ("Compute", "Memory"))), "mfu": draw(st.floats(0.0, 1.0)), "feasible": draw(st.booleans()),
        "energy_j": draw(figure), "model": draw(st.text(max_size=12)), "hardware": draw(st.text(max_size=12)),
        "batch_size": draw(st.integers(1, 4096)), "precision": precision,
        "compute_precision": draw(st.sampled_from((precision, "fp16", "bf16"))),
        "seq_len": draw(st.one_of(st.none(), st.integers(1, 1 << 20))), "is_training": draw(st.booleans()),
        "compute_time_s": draw(seconds), "memory_time_s": draw(seconds), "overhead_s": draw(seconds),
        "flops": 1.0, "hardware_flops": 1.0, "bytes_moved": 1.0, "dense_peak_flops": 1.0, "efficiency": 0.5,
        "peak_flops_used": 0.5, "bandwidth_used": 1.0, "power_w": 1.0, "memory": memory,
        "throughput_unit": draw(st.sampled_from(("token", "sample"))),
        "reasons": tuple(draw(st.lists(st.text(max_size=20), max_size=3))), "memory_reasons": ()})


@settings(max_examples=400, deadline=None)
@given(profiles())
def test_same_text_as_the_previous_implementation(p):
    assert p.summary() == reference_summary(p)
    assert p._rows() == reference_rows(p)


def test_solved_profiles_across_kinds():
    """Real profiles: a decode step, a prefill, a training step, a CNN and a microcontroller (flash + SRAM)."""
    cases = [dict(model="Llama3_70B", hardware="H100", batch_size=8, precision="fp8"),
             dict(model="Llama3_8B", hardware="A100", batch_size=1, is_training=True),
             dict(model="ResNet50", hardware="H100", batch_size=32),
             dict(model="Llama3_8B", hardware="H100", batch_size=4096, seq_len=8192)]
    for case in cases:
        r = Engine.solve(**case)
        assert r.summary() == reference_summary(r), case
    for name in ("ESP32_S3", "STM32H7A3", "nRF52840"):
        r = Engine.solve("ResNet8", name, batch_size=1, precision="int8")
        assert r.memory.weights_capacity is not None and "flash (weights)" in r.summary()
        assert r.summary() == reference_summary(r)


def test_the_unit_choice_at_every_step_boundary():
    """At, just below and just above each step's factor the lookup picks formatting.human's unit."""
    for steps, fmt, unit in ((profile_text._TIME_STEPS, profile_text.seconds, "s"),
                             (profile_text._BYTE_STEPS, profile_text.nbytes, "B")):
        for _, factor in steps:
            for v in (factor, math.nextafter(factor, 0.0), math.nextafter(factor, math.inf), 0.99995 * factor):
                for sign in (1.0, -1.0):
                    assert fmt(sign * v) == human_float(sign * v, unit), (v, unit)


@settings(max_examples=200, deadline=None)
@given(st.lists(nbytes, min_size=7, max_size=7), st.one_of(st.none(), nbytes))
def test_memory_as_dict_is_attrs_asdict(values, weights_capacity):
    """to_dict()'s memory_bytes: the explicit dict is attrs.asdict's (None dropped) plus the total."""
    import attrs

    names = ("weights", "kv_cache", "activations", "gradients", "optimizer_state", "runtime_reserve", "capacity")
    m = MemoryBreakdown(**dict(zip(names, values)), weights_capacity=weights_capacity)
    expected = {k: v for k, v in attrs.asdict(m).items() if v is not None} | {"total": m.total}
    got = m.as_dict()
    assert list(got) == list(expected)
    assert all(got[k] == expected[k] or (got[k] != got[k] and expected[k] != expected[k]) for k in got)
