"""Achievable efficiency (MFU) of one kernel class of a model on a device, from its roofline.

A kernel class reaches MFU = useful FLOPs / (time x dense peak), time = max(executed FLOPs / (peak x
efficiency), HBM bytes / achievable bandwidth) (Williams et al. 2009): the matmul efficiency where the
kernel is compute-bound, less where its arithmetic intensity leaves it waiting on memory.

- ffn: the feed-forward GEMMs of a forward pass over batch x seq tokens (the FFN phase of the engine's
  transformer cost: weights read once, activations in and out).
- attention: the attention core of that pass. Without FlashAttention the S = QK^T and P = softmax(S) matrices
  (heads x seq^2 per layer) are written to HBM and read back (Dao et al. 2022, algorithm 0), and a causal mask
  still computes every score; FlashAttention keeps S and P on chip, reads Q and writes O once and re-reads K and
  V once per block of FLASH_BLOCK_ROWS queries, skipping blocks above the diagonal (Dao 2023, FlashAttention-2).
- conv: a CNN's whole forward pass on the engine's per-layer roofline (im2col GEMMs bound layer by layer).

overhead_breakdown splits 1 - MFU into occupancy_loss (1 - matmul efficiency: tiles, waves, pipeline
bubbles), memory_stall (the time the math units wait on memory or launches) and wasted_flops (masked scores
computed and thrown away); the three add up to 1 - MFU. Not modelled: softmax exponentials on the special
function units, kernel launch gaps inside the ffn/attention classes, L2 reuse of K/V across query heads.
"""
from __future__ import annotations

import math
from typing import Any

import attrs

from ..core.inputs import check_bool, resolve_hardware, resolve_model
from ..core.results import PerformanceProfile
from ..core.solver import RooflineModel
from ..core.workload import ATTENTION_CORE_PHASE, workload_cost
from ..errors import UnsupportedModelError
from ..specs.models import FixedGraphSpec, TransformerSpec
from ..units import quantity
from ._queueing import choice
from ._result import SolverResult
from ._runtime import pass_precision

_ROOFLINE = RooflineModel()
WORKLOAD_TYPES = ("attention", "ffn", "conv")
# Query rows per FlashAttention-2 thread block on A100/H100 (Dao 2023, sec. 3.3: block sizes {64, 128}).
FLASH_BLOCK_ROWS = 128
# The transformer cost's phases are (projections, attention core, FFN, element-wise, LM head).
FFN_PHASE = ATTENTION_CORE_PHASE + 1
# Standard attention writes S, reads S, writes P and reads P: four passes over heads x seq^2 elements.
SCORE_MATRIX_PASSES = 4


@attrs.frozen(kw_only=True)
class EfficiencyResult(SolverResult):
    mfu: float                       # useful FLOPs / (time x dense peak)
    achievable_flops: Any            # mfu x dense peak
    peak_flops: Any                  # dense peak at the compute precision
    workload_type: str
    use_flash_attention: bool
    overhead_breakdown: dict[str, float]  # occupancy_loss + memory_stall + wasted_flops = 1 - mfu
    bottleneck: str
    flops: Any                       # useful FLOPs of the kernel class over the pass
    hbm_bytes: Any                   # bytes it moves to and from device memory
    arithmetic_intensity: Any        # executed FLOPs per byte
    attention_bytes_standard: Any = None  # attention only: with S and P materialised
    attention_bytes_flash: Any = None     # attention only: tiled, S and P on chip
    constraint_trace: tuple[str, ...] = ()


class EfficiencyModel:
    """MFU a kernel class (FFN GEMMs, attention with or without FlashAttention, convolutions) can reach."""

    def solve(self, model: Any, hardware: Any, workload_type: str = "ffn", use_flash_attention: bool = False,
              precision: str = "fp16", efficiency: float | None = None, *, batch_size: int = 1,
              seq_len: int | None = None, runtime: Any = None) -> EfficiencyResult:
        """efficiency: the matmul efficiency (fraction of the dense peak a compute-bound kernel reaches);
        None uses the device's measured rate or class calibration. batch_size x seq_len: tokens of the pass.
        runtime (experimental): the software stack (mlsysim.Runtimes), as Engine.solve's runtime=: `precision` may
        name its quantisation formats, and a conv pass carries its kernels' launch cost."""
        m, hw = resolve_model(model), resolve_hardware(hardware)
        kind = choice("workload_type", workload_type, WORKLOAD_TYPES)
        flash = check_bool("use_flash_attention", use_flash_attention)
        if kind == "conv" and not isinstance(m, FixedGraphSpec):
            raise UnsupportedModelError(f"workload_type 'conv' needs a CNN/MLP graph model, not {m.display_name}; "
                                        "use 'ffn' or 'attention' for transformers")
        if kind != "conv" and not isinstance(m, TransformerSpec):
            raise UnsupportedModelError(f"workload_type {kind!r} needs a transformer, not {m.display_name}; "
                                        "use 'conv' for CNNs")
        base = _ROOFLINE.solve(m, hw, batch_size, precision, efficiency, seq_len=seq_len, runtime=runtime)
        prec = pass_precision(hw, precision, runtime)
        trace: list[str] = []
        if flash and kind != "attention":
            trace.append("use_flash_attention changes only the attention class; ignored for " + kind)
        extra: dict[str, Any] = {}
        if kind == "conv":
            useful, executed, nbytes = base.flops, base.hardware_flops, base.bytes_moved
            time, compute = base.latency.to("s").magnitude, base.compute_time_s
            bottleneck = base.bottleneck
        else:
            seq = base.seq_len
            if kind == "ffn":
                useful, nbytes = _ffn(m, prec, base, seq)
                executed = useful
            else:
                useful, executed, standard, tiled = _attention(m, base.batch_size, seq, FLASH_BLOCK_ROWS, flash,
                                                               prec.activation_bytes)
                nbytes = tiled if flash else standard
                extra = dict(attention_bytes_standard=quantity(standard, "B"),
                             attention_bytes_flash=quantity(tiled, "B"))
                trace.append(f"standard attention (S and P through HBM) moves {standard / tiled:.3g}x the bytes of "
                             f"FlashAttention's tiled kernel; this run: {'FlashAttention' if flash else 'standard'}")
            compute = executed / base.peak_flops_used
            memory = nbytes / base.bandwidth_used
            time = max(compute, memory)  # roofline
            bottleneck = "Compute" if compute >= memory else "Memory"
        peak = base.dense_peak_flops
        mfu = useful / (time * peak)
        eff = base.efficiency
        breakdown = {"occupancy_loss": 1.0 - eff, "memory_stall": eff * (1.0 - compute / time),
                     "wasted_flops": (executed - useful) / (peak * time)}
        return EfficiencyResult(
            mfu=mfu, achievable_flops=quantity(mfu * peak, "flop/s"), peak_flops=quantity(peak, "flop/s"),
            workload_type=kind, use_flash_attention=flash, overhead_breakdown=breakdown, bottleneck=bottleneck,
            flops=quantity(useful, "flop"), hbm_bytes=quantity(nbytes, "B"),
            arithmetic_intensity=quantity(executed / nbytes, "flop/B"), constraint_trace=tuple(trace), **extra)


def _ffn(m: TransformerSpec, prec: Any, base: PerformanceProfile, seq: int) -> tuple[float, float]:
    """FLOPs and bytes of the FFN GEMMs over batch x seq tokens (decoders: a prefill pass)."""
    prefill = m.architecture != "encoder"
    flops, w_bytes, o_bytes = workload_cost(m, base.batch_size, seq, prec, None, prefill).phases[FFN_PHASE]
    return flops, w_bytes + o_bytes


def _attention(m: TransformerSpec, batch: int, seq: int, block: int, flash: bool,
               elem: float) -> tuple[float, float, float, float]:
    """(useful FLOPs, executed FLOPs, standard bytes, FlashAttention bytes) of the attention core over all
    layers for `batch` sequences of `seq` tokens, elements of `elem` bytes."""
    causal = m.architecture != "encoder"
    per_pair = m.attention_flops_per_token_per_context  # QK^T + PV FLOPs per (query, key) pair, all layers
    if m.attention_free_layers:  # only the layers with an attention block (Puzzle no-op blocks have none)
        per_pair *= (m.layers - m.attention_free_layers) / m.layers
    pairs_all = float(seq) * seq
    pairs_useful = seq * (seq + 1) / 2.0 if causal else pairs_all
    blocks = math.ceil(seq / block)
    # Causal FlashAttention visits only the blocks on and below the diagonal: (n + 1) / 2 per query block.
    visited = (blocks + 1) / 2.0 if causal else float(blocks)
    useful = batch * per_pair * pairs_useful
    executed = batch * per_pair * ((visited / blocks) * pairs_all if flash else pairs_all)
    q_o = m.heads * m.head_dim                 # Q read and O written, per token per layer
    kv = m.kv_elements_per_token / m.layers    # K and V per token per layer (MLA: the latent)
    L = m.layers - m.attention_free_layers     # layers with an attention block
    # Dao et al. 2022, alg. 0: read Q, K, V, write O, and write/read S and P (4 x heads x seq^2).
    standard = batch * L * elem * (seq * (2 * q_o + kv) + SCORE_MATRIX_PASSES * m.heads * pairs_all)
    # FlashAttention-2: Q and O once; each query head re-reads its K and V for every visited key block.
    tiled = batch * L * elem * (seq * 2 * q_o + visited * seq * 2 * q_o)
    return useful, executed, standard, tiled


__all__ = ["EfficiencyModel", "EfficiencyResult"]
