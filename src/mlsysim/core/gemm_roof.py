"""Shape-aware compute roofs: GEMM efficiency by (M, N, K) with tile and wave quantisation, the attention
kernel's rate by head dimension, and convolutions as implicit GEMMs.

A GEMM is cut into output tiles of tile_m x tile_n; the SMs run them in waves of one tile per SM, so the time is
waves x (one tile's K loop + its pipeline fill/drain), whatever part of the last wave or of an edge tile is idle
(NVIDIA Deep Learning Performance docs, "Matrix Multiplication Background User's Guide": tile quantization and
wave quantization). When the tiles do not fill one wave, cuBLAS splits K across more SMs (split-K; CUTLASS
"split-K / stream-K"). All functions are plain floats: the solver calls them once per (model, device, runtime,
shape) and caches the result (mlsysim.core.shape_cost).
"""
from __future__ import annotations

import math

# Shape of the large GEMM whose measured rate is a device's calibration.matmul_flops: 8192^3 torch.matmul
# (benchmarks/device/measure_gpu.py, section "gemm"). The shape roof is normalised to it, so that shape runs
# exactly at the measured rate.
CALIBRATION_GEMM = (8192, 8192, 8192)
# Most ways K may be split across SMs when the output tiles fill less than one wave (cuBLAS split-K slices
# K into a few parts; 8 bounds the reduction cost). Used in the fit of benchmarks/fit_gemm_roof.py too.
MAX_SPLIT_K = 8


def gemm_efficiency(m: float, n: float, k: float, sms: int, tile_m: int, tile_n: int, k_ramp: float,
                    batch: int = 1) -> float:
    """Fraction of the plateau rate a batch x (M x N x K) GEMM reaches: useful tile-K products over the ones
    the waves occupy, waves = ceil(tiles x split / SMs), each tile paying k_ramp K-steps of pipeline fill/drain
    (Matrix Multiplication Background guide, tile and wave quantisation; split-K when tiles < SMs)."""
    if m <= 0 or n <= 0 or k <= 0:
        return 1.0  # no GEMM: nothing to quantise
    best = 0.0
    # The library has the tile in both orientations (CUTLASS/cuBLAS 128x256 and 256x128) and picks per shape.
    for tm, tn in ((tile_m, tile_n), (tile_n, tile_m)):
        tiles = batch * math.ceil(m / tm) * math.ceil(n / tn)
        split = 1
        while split <= MAX_SPLIT_K and (split == 1 or tiles * split <= sms):
            waves = math.ceil(tiles * split / sms)
            used = waves * (k / split + k_ramp)  # K-steps per SM: waves x (the tile's share of K + its ramp)
            best = max(best, batch * m * n * k / (sms * tm * tn) / used)  # useful over occupied tile K-steps
            split += 1
    return min(1.0, best)


def relative_gemm_efficiency(m: float, n: float, k: float, sms: int, tile_m: int, tile_n: int, k_ramp: float,
                             batch: int = 1) -> float:
    """GEMM efficiency relative to the calibration shape (8192^3 runs at the device's measured rate)."""
    ref = gemm_efficiency(*CALIBRATION_GEMM, sms, tile_m, tile_n, k_ramp)
    return gemm_efficiency(m, n, k, sms, tile_m, tile_n, k_ramp, batch) / ref


def conv_gemm_shape(macs: float, out_elements: float, params: float, batch: int) -> tuple[float, float, float]:
    """Implicit-GEMM shape of a convolution from a layer-table row (cuDNN implicit GEMM: M = N x P x Q output
    pixels, N = output channels, K = C x R x S): K = MACs / output elements, output channels = parameters / K
    (weights C R S K; BN scale/shift and bias add < 1 % for K >= 200), M = batch x output elements / channels."""
    k = macs / out_elements
    channels = max(1.0, round(params / k)) if k > 0 else 1.0
    return batch * out_elements / channels, channels, k


def attention_efficiency(table: tuple[tuple[int, float], ...], head_dim: int) -> float:
    """Fraction of the dense peak the attention kernel reaches at `head_dim`: the measured table, linear in
    log2(head_dim) between its points, flat beyond its first and last points (FlashAttention's rate depends on
    the head dimension through the Q K^T and P V tile shapes: Dao 2023, FlashAttention-2, sec. 4)."""
    if head_dim <= table[0][0]:
        return table[0][1]
    for (d0, e0), (d1, e1) in zip(table, table[1:]):
        if head_dim <= d1:
            t = (math.log2(head_dim) - math.log2(d0)) / (math.log2(d1) - math.log2(d0))
            return e0 + t * (e1 - e0)
    return table[-1][1]


# FlashAttention backward FLOPs per forward FLOP: five matmuls (S = Q K^T recomputed, dP, dV, dQ, dK) against the
# forward's two (Dao 2023, FlashAttention-2, sec. 3.2; benchmarks/benchmark_flash_attention.py counts 2.5x).
FLASH_BACKWARD_FLOP_RATIO = 2.5
# The engine's training count: backward = two forwards (Kaplan et al. 2020; mlsysim.core.workload).
ENGINE_BACKWARD_FLOP_RATIO = 2.0


def training_attention_fraction(forward: float, backward: float, replays: float) -> float:
    """Fraction of the dense peak the training attention core reaches over the engine's (3 + replays) x forward
    FLOPs: (1 + replays) forwards at the forward rate plus one backward of 2.5 forwards' FLOPs (recomputing
    Q K^T) at the backward kernel's rate. Time = F (1 + r) / fwd + 2.5 F / bwd; fraction = (3 + r) F / time."""
    engine = 1.0 + ENGINE_BACKWARD_FLOP_RATIO + replays
    return engine / ((1.0 + replays) / forward + FLASH_BACKWARD_FLOP_RATIO / backward)
