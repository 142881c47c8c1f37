"""Fit the GEMM shape roof (mlsysim.core.gemm_roof) to a measured GEMM sweep.

Model: time = t0 + 2 b M N K / (plateau x gemm_efficiency(M, N, K; SMs, tile, k_ramp)), the efficiency carrying
tile and wave quantisation, split-K below one wave and k_ramp K-steps of pipeline fill/drain per tile. t0 is
the fixed per-kernel cost (launch, prologue, epilogue); the engine charges it separately as its per-kernel cost,
so only the tile, k_ramp and the plateau/peak ratio go to the catalog (hardware compute_units).

Usage: PYTHONPATH=src python benchmarks/fit_gemm_roof.py [benchmarks/data/xla_sm90_gemm_bf16.csv] [SMs]
Pure Python grid search on the log-time error (no numpy).
"""
from __future__ import annotations

import csv
import math
import sys

from mlsysim.core.gemm_roof import gemm_efficiency

TILES = ((128, 128), (128, 256), (256, 128), (64, 128))


def load(path):
    with open(path) as fh:
        rows = list(csv.reader(line for line in fh if not line.startswith("#")))
    return [tuple(int(v) for v in r[:4]) + (float(r[4]),) for r in rows[1:]]


def errors(rows, sms, tile, plateau, t0, k_ramp):
    return [math.log((t0 + 2.0 * b * m * n * k / (plateau * gemm_efficiency(m, n, k, sms, *tile, k_ramp, b)))
                     / (2.0 * b * m * n * k / f)) for b, m, n, k, f in rows]


def fit(rows, sms, tile):
    best = None
    for plateau in [p * 1e12 for p in range(700, 990, 10)]:
        for t0 in [x * 0.5e-6 for x in range(0, 17)]:
            for k_ramp in range(0, 513, 32):
                err = errors(rows, sms, tile, plateau, t0, k_ramp)
                score = sum(e * e for e in err) / len(err)
                if best is None or score < best[0]:
                    best = (score, plateau, t0, k_ramp, err)
    return best


if __name__ == "__main__":
    path = sys.argv[1] if len(sys.argv) > 1 else "benchmarks/data/xla_sm90_gemm_bf16.csv"
    sms = int(sys.argv[2]) if len(sys.argv) > 2 else 132
    rows = load(path)
    for tile in TILES:
        score, plateau, t0, k_ramp, err = fit(rows, sms, tile)
        ape = sorted(abs(math.expm1(e)) * 100 for e in err)
        print(f"tile {tile[0]}x{tile[1]}: plateau {plateau / 1e12:.0f} TFLOP/s, t0 {t0 * 1e6:.1f} us, k_ramp {k_ramp}; "
              f"median time error {ape[len(ape) // 2]:.1f} %, p90 {ape[int(0.9 * len(ape))]:.1f} % "
              f"over {len(rows)} shapes")
