"""Fit of the microcontroller cycles model (mlsysim.core.mcu_cycles) to MLPerf Tiny runs, and its
leave-one-hardware-out (LOHO) error.

Usage: PYTHONPATH=src python tools/fit_mcu_cycles.py [--cases tests/validation/cases.csv]

Data: the MCU* samples_per_s rows of tests/validation/cases.csv (MLPerf Tiny closed results, each cited there).
Measured cycles of one inference = clock / throughput - layers x the runtime's dispatch cost.
Fitted figures (the only ones not published directly):
  - per kernel library, cycles per MAC by layer type (first, depthwise, conv, dense) on its reference core
    (Cortex-M4: STM32L4R5), from the four MLPerf Tiny models: least squares on relative error with the bound
    that a first or depthwise layer costs at least a standard conv per MAC (a figure on its bound is tied to
    conv). Four models for four figures: DS-CNN and MobileNetV1 mix first and depthwise layers in a similar MAC
    ratio (1.1 : 1 and 0.6 : 1), so those two are poorly separated; per-layer cycle counts would pin them;
  - per core, cycles per MAC relative to the reference core (core.mac_cycle_scale): geometric mean over the
    calibration pairs of one model and library measured on that core and on the reference core.
LOHO: for each device, refit on every row of the other devices and predict its rows. A core left with no rows
takes its CoreMark/MHz ratio to the Cortex-M4 (published per core) as the prior; the reference core itself
cannot be left out (its rows define the library figures), reported as n/a.
Leave one model out is reported too, and it is poor (median ~34 %): four figures per library from four models
leave a dropped model's layer mix unconstrained (without the autoencoder, dense rests on < 1k MACs). Per-layer
cycle counts of each library are what would fix this. Baselines printed for comparison: one class efficiency
(the engine before this model) and one cycles-per-MAC figure per library without layer types.
"""
from __future__ import annotations

import argparse
import csv
import math
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import mlsysim  # noqa: E402

REFERENCE_CORE = "cortex-m4"
# CoreMark/MHz (EEMBC CoreMark): Cortex-M4 3.40, Cortex-M7 5.01 (Ibrahim, 'ARM-Based Microcontroller Projects
# Using MBED', Elsevier 2019, Table 3.2). Only used as the LOHO prior of a core left with no rows.
COREMARK_PER_MHZ = {"cortex-m4": 3.40, "cortex-m7": 5.01}
# int8 MACs per cycle of one SMLAD (dual 16-bit MAC) per cycle, the peak the catalog's int8 figures assume
# (catalog/hardware/microcontrollers.toml header).
SMLAD_MACS_PER_CYCLE = 2.0


def load(path: Path) -> list[dict]:
    rows = []
    for r in csv.DictReader(path.open(newline="", encoding="utf-8")):
        if r["id"].startswith("MCU") and r["metric"] == "samples_per_s":
            hw, model = mlsysim.Hardware.get(r["hardware"]), mlsysim.Models.get(r["model"])
            rt = mlsysim.Runtimes.get(r["runtime"])
            table = model.layer_table
            dispatch = len(table.rows) * rt.launch._kernel_cost * hw.core._clock
            macs = dict(table.macs_by_kind)
            rows.append(dict(id=r["id"], role=r["role"], hw=hw.name, core=hw.core.name, runtime=rt.name,
                             model=model.name, clock=hw.core._clock, measured=float(r["measured"]),
                             dispatch=dispatch, cycles=hw.core._clock / float(r["measured"]) - dispatch,
                             x={k: macs.get(k, 0.0) for k in KINDS}))
    return rows


def _solve(a: list[list[float]], b: list[float]) -> list[float]:
    n = len(b)
    m = [row[:] + [v] for row, v in zip(a, b)]
    for c in range(n):
        p = max(range(c, n), key=lambda r: abs(m[r][c]))
        m[c], m[p] = m[p], m[c]
        if abs(m[c][c]) < 1e-300:
            raise ValueError("singular fit: the rows do not determine every figure")
        for r in range(n):
            if r != c:
                f = m[r][c] / m[c][c]
                m[r] = [x - f * y for x, y in zip(m[r], m[c])]
    return [m[i][n] / m[i][i] for i in range(n)]


KINDS = ("first", "depthwise", "conv", "dense")
# Active sets tried by the bounded fit: which of first/depthwise sit on their bound (= conv).
TIES = ((), ("first",), ("depthwise",), ("first", "depthwise"))


def _lsq(rows: list[dict], columns: list[tuple[str, ...]]) -> list[float]:
    """Least squares on relative error: each column sums the MACs of the kinds it ties together."""
    a = [[sum(r["x"][k] for k in col) / r["cycles"] for col in columns] for r in rows]
    normal = [[sum(row[i] * row[k] for row in a) for k in range(len(columns))] for i in range(len(columns))]
    rhs = [sum(row[i] for row in a) for i in range(len(columns))]
    return _solve(normal, rhs)


def fit_library(rows: list[dict]) -> dict[str, float]:
    """Cycles per MAC by layer type: least squares on relative error over `rows`, bounded below by the physics
    that a first or depthwise layer (few MACs per loaded operand) costs at least a standard conv per MAC; the
    bound is met by tying the figure to conv (the best feasible active set wins). A kind with no MACs in any
    row is absent from the result."""
    present = [k for k in KINDS if any(r["x"][k] for r in rows)]
    best = None
    for tie in TIES:
        if any(k not in present for k in tie) or ("conv" not in present and tie):
            continue
        columns = [tuple(k for k in present if k == c or (c == "conv" and k in tie))
                   for c in present if c not in tie]
        try:
            sol = _lsq(rows, columns)
        except ValueError:
            continue
        fig = {k: v for col, v in zip(columns, sol) for k in col}
        if any(v <= 0 for v in fig.values()) or any(fig.get(k, math.inf) < fig.get("conv", 0) * (1 - 1e-9)
                                                    for k in ("first", "depthwise") if k in fig):
            continue
        resid = sum((predict_reference(fig, r) / r["cycles"] - 1) ** 2 for r in rows)
        if best is None or resid < best[0] - 1e-12:
            best = (resid, fig)
    if best is None:
        raise ValueError("no feasible fit")
    return best[1]


def predict_reference(fig: dict[str, float], row: dict) -> float:
    return sum(fig[k] * x for k, x in row["x"].items() if x)


def fit(rows: list[dict]) -> tuple[dict, dict]:
    libs = {}
    for rt in sorted({r["runtime"] for r in rows}):
        ref = [r for r in rows if r["runtime"] == rt and r["core"] == REFERENCE_CORE]
        if ref:
            libs[rt] = fit_library(ref)
    # A core's scale: measured cycles of the same model and library on it and on a reference-core device
    # (geometric mean over such pairs), a ratio of two measurements rather than of a fit.
    scales = {REFERENCE_CORE: 1.0}
    ref_cycles = {(r["runtime"], r["model"]): r["cycles"] for r in rows if r["core"] == REFERENCE_CORE}
    for core in sorted({r["core"] for r in rows} - {REFERENCE_CORE}):
        ratios = [r["cycles"] / ref_cycles[(r["runtime"], r["model"])] for r in rows
                  if r["core"] == core and (r["runtime"], r["model"]) in ref_cycles]
        if ratios:
            scales[core] = math.exp(statistics.fmean(math.log(x) for x in ratios))
    return libs, scales


def predicted_throughput(libs: dict, scales: dict, row: dict) -> float:
    scale = scales.get(row["core"])
    if scale is None:  # LOHO: a core left with no rows
        scale = COREMARK_PER_MHZ[REFERENCE_CORE] / COREMARK_PER_MHZ[row["core"]]
    cycles = predict_reference(libs[row["runtime"]], row) * scale + row["dispatch"]
    return row["clock"] / cycles


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cases", default=str(ROOT / "tests" / "validation" / "cases.csv"))
    args = p.parse_args(argv)
    rows = load(Path(args.cases))
    calibration = [r for r in rows if r["role"] == "calibration"]
    libs, scales = fit(calibration)
    print("Fit on the calibration rows (cycles per int8 MAC on cortex-m4):")
    for rt, fig in libs.items():
        print(f"  {rt:<18} " + "  ".join(f"{k} {fig[k]:6.3f}" for k in KINDS))
    print("core.mac_cycle_scale: " + ", ".join(f"{c} {s:.3f}" for c, s in scales.items()))
    print("\nid     role         runtime            hardware    model            measured  predicted  err %")
    for r in rows:
        pred = predicted_throughput(libs, scales, r)
        r["err"] = abs(pred / r["measured"] - 1) * 100
        print(f"{r['id']:<6} {r['role']:<12} {r['runtime']:<18} {r['hw']:<11} {r['model']:<16} "
              f"{r['measured']:8.4g}  {pred:9.4g}  {r['err']:5.1f}")
    held = [r["err"] for r in rows if r["role"] == "holdout"]
    print(f"\nheld-out median |error| {statistics.median(held):.1f} % (n={len(held)}), max {max(held):.1f} %")
    # Baselines on the same held-out rows: (1) the engine before this model, one efficiency for the class
    # (catalog/calibration: 0.2 of the 2-MAC/cycle SMLAD peak = 2.5 cycles per MAC on every core and library);
    # (2) one cycles-per-MAC figure per library (no layer types), with the same core scales.
    cls = mlsysim.registry.registries().calibration["microcontroller"]
    per_mac_class = 1.0 / (SMLAD_MACS_PER_CYCLE * cls.matmul_efficiency)
    flat = {rt: statistics.fmean(r["cycles"] / sum(r["x"].values()) for r in calibration
                                 if r["runtime"] == rt and r["core"] == REFERENCE_CORE) for rt in libs}
    base_class, base_flat = [], []
    for r in rows:
        if r["role"] != "holdout":
            continue
        macs = sum(r["x"].values())
        base_class.append(abs(r["clock"] / (per_mac_class * macs + r["dispatch"]) / r["measured"] - 1) * 100)
        scale = scales.get(r["core"], 1.0)
        base_flat.append(abs(r["clock"] / (flat[r["runtime"]] * macs * scale + r["dispatch"]) / r["measured"] - 1)
                         * 100)
    print(f"baseline, one class efficiency ({per_mac_class:.2f} cycles/MAC everywhere): held-out median "
          f"{statistics.median(base_class):.1f} %")
    print(f"baseline, one cycles/MAC per library x core scale (no layer types): held-out median "
          f"{statistics.median(base_flat):.1f} %")
    print("\nLeave one hardware out (refit on all rows of the other devices):")
    loho = []
    for hw in sorted({r["hw"] for r in rows}):
        mine = [r for r in rows if r["hw"] == hw]
        if mine[0]["core"] == REFERENCE_CORE:
            print(f"  {hw:<11} n/a (reference core: its rows define the library figures)")
            continue
        other = [r for r in rows if r["hw"] != hw]
        l2, s2 = fit(other)
        errs = [abs(predicted_throughput(l2, s2, r) / r["measured"] - 1) * 100 for r in mine]
        prior = "" if mine[0]["core"] in s2 else " (core scale from CoreMark/MHz)"
        print(f"  {hw:<11} median {statistics.median(errs):5.1f} %  max {max(errs):5.1f} %  n={len(errs)}{prior}")
        loho += errs
    print(f"  all         median {statistics.median(loho):5.1f} %  (n={len(loho)})")
    print("\nLeave one model out (refit without that model's rows, predict them on every device):")
    lomo = []
    for model in sorted({r["model"] for r in rows}):
        try:
            l2, s2 = fit([r for r in rows if r["model"] != model])
            errs = [abs(predicted_throughput(l2, s2, r) / r["measured"] - 1) * 100 for r in rows
                    if r["model"] == model]
        except (KeyError, ValueError) as exc:  # a layer type only this model has: not predictable without it
            print(f"  {model:<16} n/a ({type(exc).__name__}: {exc})")
            continue
        print(f"  {model:<16} median {statistics.median(errs):6.1f} %  max {max(errs):6.1f} %  n={len(errs)}")
        lomo += errs
    print(f"  all              median {statistics.median(lomo):6.1f} %  (n={len(lomo)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
