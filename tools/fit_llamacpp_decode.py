"""Fit of llama.cpp's decode costs (catalog/runtimes/local.toml, runtime llamacpp) to published single-stream
decode runs, and its leave-one-hardware-out (LOHO) error.

Usage: PYTHONPATH=src python tools/fit_llamacpp_decode.py [--cases tests/validation/cases.csv]

Data: the decode_tokens_per_s rows of tests/validation/cases.csv with runtime llamacpp (XiongjieDai/GPU-
Benchmarks-on-LLM-Inference, each cited there); role=calibration rows are fitted, holdout rows only predicted.
Model of one token (per-kernel roofline + fixed cost, mlsysim.core.solver):
    t = roofline(packed weights at the float streaming bandwidth, KV cache, activations)
        + N x c[class]                       N = layers x kernels.decode + kernels.per_pass (ggml graph count)
        + (n_w / F32) x k[format]            n_w = streamed weights, F32 = peak_dense.fp32, k = dequant.ops_per_weight
Fitted figures (two mechanisms, linear in the unknowns, least squares on relative time error):
  - c[class]: seconds per kernel of a decode step on each hardware class: launch.by_class graph_kernel_cost of
    llama.cpp's CUDA back end on datacenter_gpu and workstation_gpu, kernel_cost of its Metal back end (no
    graphs) on apple_soc;
  - k[format]: fp32-vector operations per weight spent dequantising each weight-only GGUF format (q4_0, q4_k_m),
    shared by every device: its time n_w k / F32 is large where the fp32 rate is low for the bandwidth (A100:
    19.5 TFLOP/s for 2 TB/s) and small where it is high (L40S: 91.6 for 0.86); F16 has none (k = 0).
The kernel count N is not fitted: it is the graph count of the catalog (kernels.decode, per_pass).
LOHO: for each device, refit on the calibration rows of the other devices and predict all its rows (calibration
and holdout). Baseline printed for comparison: one scale factor per hardware class on the pure roofline.
"""
from __future__ import annotations

import argparse
import csv
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import mlsysim  # noqa: E402

RUNTIME = "llamacpp"
CLASSES = ("datacenter_gpu", "workstation_gpu", "apple_soc")
FORMATS = ("q4_0", "q4_k_m")


def load(path: Path) -> list[dict]:
    """Rows of `path` run under llama.cpp, each with the terms of the model above taken from the engine."""
    rt = mlsysim.Runtimes.get(RUNTIME)
    rows = []
    with open(path, newline="") as f:
        for case in csv.DictReader(f):
            if case["runtime"] != RUNTIME or case["metric"] != "decode_tokens_per_s":
                continue
            args = (case["model"], case["hardware"], int(case["batch_size"]), case["precision"])
            opts = dict(seq_len=int(case["seq_len"]))
            hw = mlsysim.Hardware.get(case["hardware"])
            model = mlsysim.Models.get(case["model"])
            kernels = model.layers * rt.kernels.decode + rt.kernels.per_pass
            if rt.quant_format(case["precision"]) is None:  # a float format: no dequantisation term
                r = mlsysim.Engine.solve(*args, runtime=rt, **opts)
                base, float_stream = r.latency.m_as("s") - r.overhead_s, 0.0
            else:
                # n_w / F32 (streamed weights, the embedding gather excluded, over the fp32 rate) from the engine
                # itself: the latency one op per weight adds over none.
                free, one = (mlsysim.Engine.solve(*args, runtime=_with_dequant(rt, case["precision"], k), **opts)
                             for k in (None, 1.0))
                base = free.latency.m_as("s") - free.overhead_s
                float_stream = one.latency.m_as("s") - free.latency.m_as("s")
            rows.append(dict(id=case["id"], hw=case["hardware"], cls=hw.calibration_class, fmt=case["precision"],
                             model=case["model"], role=case["role"], measured=float(case["measured"]),
                             base=base, kernels=kernels, stream=float_stream))
    return rows


def _with_dequant(rt, name: str, ops: float | None):
    """`rt` with format `name` dequantised at `ops` per weight (None: no dequantisation cost)."""
    import attrs

    from mlsysim.specs.runtimes import DequantCost
    fmt = rt.quant_format(name)
    cost = None if ops is None else DequantCost(ops_per_weight=ops, provenance=fmt.provenance)
    return attrs.evolve(rt, quantization=tuple(attrs.evolve(f, dequant=cost) if f.name == name else f
                                              for f in rt.quantization))


def _solve(a: list[list[float]], b: list[float]) -> list[float]:
    """Gaussian elimination with partial pivoting (no numpy in CI)."""
    n = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for col in range(n):
        piv = max(range(col, n), key=lambda r: abs(m[r][col]))
        m[col], m[piv] = m[piv], m[col]
        if abs(m[col][col]) < 1e-30:
            raise ValueError(f"the rows do not determine unknown {col}")
        for r in range(n):
            if r != col:
                f = m[r][col] / m[col][col]
                m[r] = [x - f * y for x, y in zip(m[r], m[col])]
    return [m[i][n] / m[i][i] for i in range(n)]


def fit(rows: list[dict], prior: dict | None = None) -> dict:
    """{'cost': {class: s per kernel}, 'x': {format: ops per weight}} by weighted least squares on the time residual
    t_meas - base = N c[class] + (n_w / F32) k[format], each row weighted by 1 / t_meas (relative error). An
    unknown without rows (a class left out) keeps its `prior` value; a negative k is pinned to 0 (no speed-up)."""
    prior = prior or {"cost": {}, "x": {}}
    pinned = {("x", f): 0.0 for f in ()}
    while True:
        unknowns = [("cost", c) for c in CLASSES if any(r["cls"] == c for r in rows)] + \
                   [("x", f) for f in FORMATS if any(r["fmt"] == f for r in rows) and ("x", f) not in pinned]
        a = [[0.0] * len(unknowns) for _ in unknowns]
        b = [0.0] * len(unknowns)
        for r in rows:
            t = 1.0 / r["measured"]
            y = t - r["base"] - (r["stream"] * pinned.get(("x", r["fmt"]), 0.0))
            if r["cls"] not in CLASSES:
                continue
            coeff = [(r["kernels"] if u == ("cost", r["cls"]) else r["stream"] if u == ("x", r["fmt"]) else 0.0) / t
                     for u in unknowns]
            for i in range(len(unknowns)):
                b[i] += coeff[i] * y / t
                for j in range(len(unknowns)):
                    a[i][j] += coeff[i] * coeff[j]
        sol = dict(zip(unknowns, _solve(a, b)))
        negative = [u for u, v in sol.items() if u[0] == "x" and v < 0]
        if not negative:
            break
        pinned.update({u: 0.0 for u in negative})
    out = {"cost": dict(prior["cost"]), "x": dict(prior["x"])}
    for (kind, name), v in list(sol.items()) + list(pinned.items()):
        out[kind][name] = v
    return out


def predicted_throughput(params: dict, row: dict) -> float:
    x = params["x"].get(row["fmt"], 0.0) if row["fmt"] in FORMATS else 0.0
    return 1.0 / (row["base"] + row["kernels"] * params["cost"][row["cls"]] + row["stream"] * x)


def loho(rows: list[dict]) -> list[tuple[dict, float]]:
    """(row, relative error of its throughput) with its device's rows left out of the fit."""
    full = fit([r for r in rows if r["role"] == "calibration"])
    out = []
    for hw in sorted({r["hw"] for r in rows}):
        params = fit([r for r in rows if r["role"] == "calibration" and r["hw"] != hw], prior=full)
        out += [(r, predicted_throughput(params, r) / r["measured"] - 1.0) for r in rows if r["hw"] == hw]
    return out


def baseline_class_scale(rows: list[dict]) -> list[float]:
    """Errors of one throughput scale per class on the pure roofline (no launch, no dequant), fitted on calibration
    rows (geometric mean of measured / roofline), on the holdout rows."""
    import math
    scale = {}
    for c in CLASSES:
        cal = [r for r in rows if r["role"] == "calibration" and r["cls"] == c]
        scale[c] = math.exp(statistics.fmean(math.log(r["measured"] * r["base"]) for r in cal)) if cal else 1.0
    return [scale[r["cls"]] / r["base"] / r["measured"] - 1.0 for r in rows if r["role"] == "holdout"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=Path, default=ROOT / "tests" / "validation" / "cases.csv")
    args = ap.parse_args(argv)
    rows = load(args.cases)
    params = fit([r for r in rows if r["role"] == "calibration"])
    print("fitted on", sum(r["role"] == "calibration" for r in rows), "calibration rows:")
    for c, v in params["cost"].items():
        print(f"  launch.by_class.{c} decode cost per kernel = {v * 1e6:.2f} us")
    for f, v in params["x"].items():
        print(f"  {f} dequant.ops_per_weight = {v:.3f}")
    print("\nrow     hardware       format  role         measured  fitted  err %   LOHO err %")
    lo = dict((r["id"], e) for r, e in loho(rows))
    for r in rows:
        p = predicted_throughput(params, r)
        print(f"{r['id']:<7} {r['hw']:<14} {r['fmt']:<7} {r['role']:<11} {r['measured']:9.2f} {p:7.2f} "
              f"{(p / r['measured'] - 1) * 100:+6.1f}  {lo[r['id']] * 100:+6.1f}")
    hold = [abs(predicted_throughput(params, r) / r["measured"] - 1) for r in rows if r["role"] == "holdout"]
    print(f"\nholdout median |err| {statistics.median(hold) * 100:.1f} % (n={len(hold)}), max {max(hold) * 100:.1f} %")
    errs = [abs(e) for e in lo.values()]
    print(f"LOHO median |err| {statistics.median(errs) * 100:.1f} % (n={len(errs)}), max {max(errs) * 100:.1f} %")
    base = [abs(e) for e in baseline_class_scale(rows)]
    print(f"baseline (one scale per class on the roofline): holdout median {statistics.median(base) * 100:.1f} %, "
          f"max {max(base) * 100:.1f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main())
