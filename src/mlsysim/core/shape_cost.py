"""What a runtime changes in a pass beyond its kernel count: the bytes of the element-wise ops it does not fuse
(mlsysim.core.fusion) and the compute rate of each phase by its shapes (mlsysim.core.gemm_roof: GEMM tile and
wave quantisation, the attention kernel by head dimension, convolutions as implicit GEMMs).

The solver calls `runtime_shapes` once per call instead of workload_cost; results are cached per (model, device,
runtime, batch, sequence, mode, precision), so a warm call costs one dict probe.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs

from ..specs.hardware import HardwareSpec
from ..specs.models import FixedGraphSpec, ModelSpec, TransformerSpec
from .fusion import fixed_graph_extra, transformer_extra
from .gemm_roof import attention_efficiency, conv_gemm_shape, relative_gemm_efficiency, training_attention_fraction
from .layer_gemms import attention_head_dim, ffn_gemms, projection_gemms
from .precision import ExecutionPrecision
from .workload import ATTENTION_CORE_PHASE, WorkloadCost, workload_cost

if TYPE_CHECKING:  # annotations only
    from ..specs.runtimes import RuntimeSpec

# Phases of transformer_cost: projections, attention core, FFN, element-wise, LM head (then Adam when training).
ELEMENTWISE_PHASE = 3
# Precisions the attention table's FlashAttention rates were measured in (16-bit inputs).
ATTENTION_PRECISIONS = ("fp16", "bf16")
# Entries kept before the cache is cleared (bounds memory for sweeps over many shapes).
CACHE_LIMIT = 4096


@attrs.define
class ShapedCost:
    cost: WorkloadCost                     # the workload with the runtime's unfused bytes (phases included)
    gemm_scale: tuple[float, ...] | None   # per phase: GEMM efficiency relative to the calibration shape
    attention_fraction: float | None       # attention-core rate as a fraction of the dense peak
    notes: tuple[str, ...]
    # Sustained / burst clock applied to the GEMM rate and to the attention rate (1.0: rates already sustained).
    clock_scale: tuple[float, float] = (1.0, 1.0)
    # (achieved FLOP/s, peak) -> (per-phase compute seconds, their sum) of the last call: a warm call reuses them
    rates: tuple[float, float, tuple[float, ...], float] | None = None


_cache: dict[tuple, tuple[Any, Any, Any, ShapedCost]] = {}


def runtime_shapes(m: ModelSpec, hw: HardwareSpec, rt: RuntimeSpec, batch: int, seq: int, training: Any,
                   prefill: bool, prec: ExecutionPrecision,
                   lengths: tuple[float, float] | None = None) -> ShapedCost:
    """The pass's workload cost (mlsysim.core.workload.workload_cost) under runtime `rt`, with its unfused bytes
    and per-phase rates; a repeated call with the same inputs returns the cached result. lengths: (E[L], E[L^2])
    of a packed ragged batch; its shapes are taken at the mean length (GEMM M = batch x E[L] real tokens)."""
    # Plain fields only (hashing the attrs objects costs microseconds); zero stage and dp size set the Adam bytes.
    key = (id(m), id(hw), id(rt), batch, seq, prefill, prec.requested, prec.compute, prec.weight_bytes,
           prec.activation_bytes, None if training is None else
           (training.zero_stage, training.dp_size, training.recomputation), lengths)
    hit = _cache.get(key)
    if hit is not None and hit[0] is m and hit[1] is hw and hit[2] is rt:
        return hit[3]
    cost = workload_cost(m, batch, seq, prec, training, prefill, lengths=lengths)
    shape_seq = seq if lengths is None else max(1, round(lengths[0]))
    shaped = _shape(m, hw, rt, cost, batch, shape_seq, training is not None, prefill, prec,
                    None if training is None else training.recomputation)
    if len(_cache) >= CACHE_LIMIT:
        _cache.clear()
    _cache[key] = (m, hw, rt, shaped)
    return shaped


def _shape(m, hw, rt, cost, batch, seq, training, prefill, prec, recomputation=None) -> ShapedCost:
    units = hw.compute_units
    ab = prec.activation_bytes
    notes: list[str] = []
    phases = list(cost.phases)
    other, kernels = cost.other_traffic, cost.kernels
    if isinstance(m, TransformerSpec) and phases:
        decode = not training and m.architecture != "encoder" and not prefill
        attn, elt, added = transformer_extra(m, rt.fusion, batch, seq, ab, training, decode)
        if attn or elt:
            for i, extra in ((ATTENTION_CORE_PHASE, attn), (ELEMENTWISE_PHASE, elt)):
                f, w, o = phases[i]
                phases[i] = (f, w, o + extra)
            other += attn + elt
            notes.append(f"{rt.display_name} does not fuse: " + ", ".join(added)
                         + f" (+{(attn + elt) / 1e9:.3g} GB)")
    elif isinstance(m, FixedGraphSpec) and phases and not training:
        extra, more_kernels, note = fixed_graph_extra(m, rt.fusion, batch, ab)
        if extra:
            phases.append((0.0, 0.0, extra))  # separate kernels: memory-bound on their own roof
            other += extra
            kernels += more_kernels
        if note:
            notes.append(note)
    scale = attention = None
    if units is None:
        notes.append(f"{hw.display_name} has no compute_units: one GEMM efficiency for every shape")
    else:
        scale, attention = _phase_scales(m, units, batch, seq, training, prefill, prec, phases, recomputation)
        if scale is not None:
            notes.append(f"shape roof: GEMM tiles {units.gemm_tile[0]}x{units.gemm_tile[1]} in waves over "
                         f"{units.sms} SMs" + (f", attention at {attention:.2f} of peak" if attention else ""))
            clock = sustained_clock_scale(hw, prec.compute, attention is not None)
            if clock != (1.0, 1.0):
                notes.append(f"sustained clock: {units.clocks.sustained.m_as('MHz'):.0f} of "
                             f"{units.clocks.boost.m_as('MHz'):.0f} MHz under a long compute-bound load at the "
                             "power limit scales the burst-measured "
                             + " and ".join(n for n, f in zip(("GEMM", "attention"), clock) if f != 1.0) + " rate")
        else:
            notes.append("no shape roof for this pass (decode mat-vec kernels, training a fixed graph or a graph "
                         "without a layer table): one GEMM efficiency for every phase")
    new = attrs.evolve(cost, other_traffic=other, kernels=kernels, phases=tuple(phases))
    clock = (1.0, 1.0) if scale is None else sustained_clock_scale(hw, prec.compute, attention is not None)
    return ShapedCost(new, scale, attention, tuple(notes), clock)


def sustained_clock_scale(hw: HardwareSpec, compute: str, attention: bool = True) -> tuple[float, float]:
    """(GEMM, attention) rate factors for a steady-state pass: sustained / boost clock where the rate was measured
    in a short burst at the boost clock, else 1. A tensor-core-bound kernel's rate is proportional to the SM clock
    (peak = SMs x FLOP/clock/SM x clock: NVIDIA H100 whitepaper, table 3); a load held for seconds at the power limit
    lowers the clock until power = limit (Horace He, 'Strangely, matrix multiplications on GPUs run faster when given
    predictable data', 2024). The GEMM rate is burst-measured when it is the device's calibration.matmul_flops
    (measure_gpu.py: 20 x 8192^3, ~28 ms); a class efficiency was fitted on sustained end-to-end runs and is kept.
    The attention table is a kernel benchmark (FlashAttention-3 paper, fig. 5), a burst as well."""
    units = hw.compute_units
    clocks = units.clocks if units is not None else None
    if clocks is None:
        return 1.0, 1.0
    ratio = clocks._sustained / clocks._boost
    table = hw.calibration.matmul_flops if hw.calibration is not None else None
    measured = table is not None and table.get(compute) is not None
    return (ratio if measured else 1.0), (ratio if attention and units.attention else 1.0)


def _phase_scales(m, units, batch, seq, training, prefill, prec, phases, recomputation=None):
    tm, tn = units.gemm_tile

    def eff(gemms) -> float:
        """FLOP-weighted harmonic mean of relative efficiencies over (M, N, K, batch, layers) GEMMs."""
        weights = [g[0] * g[1] * g[2] * g[3] * g[4] for g in gemms]
        total = sum(weights)
        if total <= 0:
            return 1.0
        return total / sum(w / relative_gemm_efficiency(g[0], g[1], g[2], units.sms, tm, tn, units.gemm_k_ramp,
                                                        g[3]) for w, g in zip(weights, gemms))

    if isinstance(m, TransformerSpec):
        decode = not training and m.architecture != "encoder" and not prefill
        if decode:  # M = batch rows: mat-vec / small-M kernels, not the tiled GEMMs the roof was fit on
            return None, None
        tokens = batch * seq
        head_tokens = batch if prefill else tokens
        scale = [1.0] * len(phases)
        scale[0] = eff(projection_gemms(m, tokens))
        scale[2] = eff(ffn_gemms(m, tokens))
        if m.architecture != "encoder":
            scale[4] = eff(((head_tokens, m.vocab_size, m.hidden_size, 1, 1.0),))
        attention = None
        if units.attention and prec.compute in ATTENTION_PRECISIONS:
            attention = attention_efficiency(units.attention, attention_head_dim(m))
            # Short sequences fill fewer query tiles; a causal mask idles part of each (FA-3 paper fig. 5).
            ramp = units.attention_seq if m.architecture == "encoder" else units.attention_seq_causal
            if ramp:
                attention *= attention_efficiency(ramp, seq)
            if training and units.attention_backward:
                attention = training_attention_fraction(
                    attention, _backward_fraction(m, units, seq), 0.0 if recomputation in (None, "none") else 1.0)
        return tuple(scale), attention
    if isinstance(m, FixedGraphSpec) and m.layer_table is not None and not training:
        scale = [1.0] * len(phases)
        for i, (macs, _inp, out, params) in enumerate(m.layer_table.rows):
            if macs > 0 and out > 0 and params > 0:
                gm, gn, gk = conv_gemm_shape(macs, out, params, batch)
                scale[i] = relative_gemm_efficiency(gm, gn, gk, units.sms, tm, tn, units.gemm_k_ramp)
        return tuple(scale), None
    return None, None


def _backward_fraction(m, units, seq: int) -> float:
    """Attention backward rate as a fraction of the dense peak: the backward table at the head dim, its non-causal
    ramp at `seq` and, for a causal model, the forward's causal / non-causal ratio at `seq` (the backward sweep has
    no causal run; a causal mask idles the same share of tiles in both passes: FA-3 paper fig. 5/6, estimate)."""
    frac = attention_efficiency(units.attention_backward, attention_head_dim(m))
    if units.attention_backward_seq:
        frac *= attention_efficiency(units.attention_backward_seq, seq)
    if m.architecture != "encoder" and units.attention_seq_causal and units.attention_seq:
        frac *= attention_efficiency(units.attention_seq_causal, seq) / attention_efficiency(units.attention_seq, seq)
    return frac


def phase_times(shaped: ShapedCost, achieved_flops: float, peak_flops: float) -> tuple[tuple[float, ...], float]:
    """(compute seconds of each phase, their sum). Each phase runs at the large-GEMM rate x its shape's relative
    efficiency; the attention core at the attention kernel's fraction of the dense peak where the device has one."""
    memo = shaped.rates
    if memo is not None and memo[0] == achieved_flops and memo[1] == peak_flops:
        return memo[2], memo[3]
    gemm_clock, attention_clock = shaped.clock_scale
    rates = [achieved_flops * gemm_clock * s for s in shaped.gemm_scale]
    if shaped.attention_fraction is not None:
        rates[ATTENTION_CORE_PHASE] = peak_flops * shaped.attention_fraction * attention_clock
    times = tuple(p[0] / r for p, r in zip(shaped.cost.phases, rates))
    shaped.rates = (achieved_flops, peak_flops, times, sum(times))
    return times, shaped.rates[3]
