"""Fit of the microcontroller cycles model (mlsysim.core.mcu_cycles) on per-layer cycle counts, and its
leave-one-hardware-out (LOHO) and leave-one-model-out (LOMO) errors on MLPerf Tiny runs.

Usage: PYTHONPATH=src python tools/fit_mcu_cycles.py [--cases tests/validation/cases.csv]
                                                       [--layers benchmarks/data/mcu_layer_cycles.csv]

Data:
  - benchmarks/data/mcu_layer_cycles.csv: published per-layer cycle counts (ESP-NN kernel table on the ESP32-S3,
    CMSIS-NN layers of MobileNetV2 on a Cortex-M55), each row cited. A library measured there gets its cycles per
    MAC by layer type straight from them (sum of cycles / sum of MACs per type): esp_nn and tflite_micro (the
    ESP-NN ANSI C fallback, the TFLite reference int8 arithmetic in C) on xtensa-lx7.
    The Cortex-M4 rows (CM4NN*, standalone CMSIS-NN >= v7 kernels on a PSoC 6, KWS DS-CNN layers as that benchmark
    configured them) are printed but set no table (REFERENCE_ONLY): they are a newer library than the 2020 TFLM
    v2.3.1 + CMSIS-NN that the cortex-m4 cmsis_nn table describes (fitted on its MLPerf Tiny runs), and they do not
    shape the MLPerf Tiny tables, because their first-layer rows are 1-input-channel multiplier convolutions (the
    scalar mult_4 kernel; the RGB first layers of those models run as im2col convolutions), their conv rows take
    the im2col path rather than the 1x1 kernel of pointwise layers, and no channel-multiplier-1 depthwise layer
    was measured.
  - the MCU* samples_per_s rows of tests/validation/cases.csv (MLPerf Tiny closed results, each cited there).
    Measured cycles of one inference = clock / throughput - layers x the runtime's dispatch cost.
Fitted figures for the MLPerf Tiny libraries (cmsis_nn, x_cube_ai, microtvm, microtvm_cmsis_nn on a Cortex-M4,
whose own per-layer counts are not published): the SHAPE of the table comes from the per-layer counts (a first
layer costs first/conv and a depthwise layer depthwise/conv times a standard convolution per MAC, the ratios of
the CMSIS-NN Cortex-M55 layers), and two levels per library are fitted on its calibration rows (least squares on
relative error): the convolution level (im2col + SIMD GEMM kernels) and the fully connected level (mat-vec, one
weight load per MAC), one parameter per mechanism. Without a fully connected model among the rows (LOMO of the
autoencoder) dense takes the per-layer dense/conv ratio (ESP-NN, the only published fully connected count).
Per core, cycles per MAC relative to the reference core (core.mac_cycle_scale): geometric mean over the
calibration pairs of one model and library measured on that core and on the reference core.
LOHO: for each device, refit on every row of the other devices and predict its rows. A core left with no rows
takes its CoreMark/MHz ratio to the Cortex-M4 (published per core) as the prior; the reference core itself
cannot be left out (its rows define the library figures), reported as n/a.
Printed for comparison: the earlier fit of four free figures per library on the four whole models (LOMO ~34 %),
one class efficiency, and one cycles-per-MAC figure per library without layer types.
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


LAYERS = ROOT / "benchmarks" / "data" / "mcu_layer_cycles.csv"
# The per-layer counts whose ratios shape the MLPerf Tiny libraries' tables (library, core in LAYERS).
SHAPE_SOURCE = ("cmsis_nn", "cortex-m55")
# The per-layer counts whose dense/conv ratio stands in when no fully connected model is among the fit rows.
DENSE_SOURCE = ("esp_nn", "xtensa-lx7")
# Runtime names of the per-layer libraries whose catalog tables come straight from LAYERS (library in LAYERS ->
# catalog runtime): the ESP-NN ANSI C fallback is the TFLite reference int8 arithmetic in C (tflite_micro).
DIRECT_TABLES = {("esp_nn", "xtensa-lx7"): "esp_nn", ("cmsis_nn", "cortex-m55"): "cmsis_nn mcu.by_core"}
# Per-layer counts that set no table, and why (see the module docstring).
REFERENCE_ONLY = {("cmsis_nn", "cortex-m4"): "not used: CMSIS-NN >= v7 standalone kernels, not the 2020 TFLM stack "
                                            "of the cortex-m4 table; 1-channel first layers, im2col convs"}
# The TFLite Micro reference kernels: the table shape of the ESP-NN ANSI C fallback (the same int8 reference
# arithmetic in plain C), its level set by the one whole-model run of the reference kernels on that core
# (validation row S9M02: person detection without ESP-NN, 2300 ms at 240 MHz). That run's person_detect model takes
# one grayscale channel: its first layer has a third of the catalog MobileNetV1_025's (RGB) first-layer MACs.
REFERENCE_SHAPE = ("esp_nn_ansi_c", "xtensa-lx7")
REFERENCE_ROW = "S9M02"
GRAYSCALE_FIRST_LAYER = 1.0 / 3.0  # 1 input channel of 3: first-layer MACs scale with input channels


def load_layers(path: Path = LAYERS) -> dict[tuple[str, str], dict[str, float]]:
    """Cycles per MAC by layer type for each (library, core) of the per-layer table: sum of cycles / sum of MACs
    over its rows of that type (a MAC-weighted mean, so a large layer counts for its share of the work)."""
    sums: dict[tuple[str, str], dict[str, list[float]]] = {}
    for r in csv.DictReader(path.open(newline="", encoding="utf-8")):
        if not r["source"].strip():
            raise ValueError(f"{path.name} row {r['id']} has no source")
        acc = sums.setdefault((r["library"], r["core"]), {}).setdefault(r["kind"], [0.0, 0.0])
        acc[0] += float(r["cycles"])
        acc[1] += float(r["macs"])
    return {key: {k: c / m for k, (c, m) in kinds.items()} for key, kinds in sums.items()}


def layer_ratios(tables: dict[tuple[str, str], dict[str, float]]) -> dict[str, float]:
    """Cycles per MAC of each layer type relative to a standard convolution: first and depthwise from
    SHAPE_SOURCE, dense from DENSE_SOURCE."""
    shape, dense = tables[SHAPE_SOURCE], tables[DENSE_SOURCE]
    return {"first": shape["first"] / shape["conv"], "depthwise": shape["depthwise"] / shape["conv"],
            "conv": 1.0, "dense": dense["dense"] / dense["conv"]}


def reference_kernels(tables: dict, cases: Path) -> tuple[float, dict[str, float]]:
    """The tflite_micro table: REFERENCE_SHAPE x one level, the level = measured cycles of REFERENCE_ROW /
    cycles the shape predicts for the (grayscale) model of that run."""
    row = next(r for r in csv.DictReader(cases.open(newline="", encoding="utf-8")) if r["id"] == REFERENCE_ROW)
    hw, model = mlsysim.Hardware.get(row["hardware"]), mlsysim.Models.get(row["model"])
    rt = mlsysim.Runtimes.get(row["runtime"])
    macs = dict(model.layer_table.macs_by_kind)
    macs["first"] *= GRAYSCALE_FIRST_LAYER
    dispatch = len(model.layer_table.rows) * rt.launch._kernel_cost * hw.core._clock
    cycles = hw.core._clock / float(row["measured"]) - dispatch
    shape = tables[REFERENCE_SHAPE]
    level = cycles / sum(shape[k] * x for k, x in macs.items())
    return level, {k: v * level for k, v in shape.items()}


# Libraries whose depthwise kernels are their own, not CMSIS-NN's (X-CUBE-AI's generated kernels, TVM schedules):
# the CMSIS-NN depthwise/conv ratio says nothing of them, so their depthwise level is fitted (a third mechanism).
OWN_DEPTHWISE = ("x_cube_ai", "microtvm")


def fit_levels(rows: list[dict], ratio: dict[str, float], own_depthwise: bool = False) -> dict[str, float]:
    """Levels per library on its rows (least squares on relative error): the convolution level, with a first
    layer at its per-layer ratio to it (and a depthwise layer too unless own_depthwise: then depthwise is a level
    of its own, at least conv, a depthwise layer reusing each operand less than a standard one, where the rows
    determine it with conv > 0, else the per-layer ratio); and the
    fully connected level where a model that is mostly fully connected is among the rows (else dense = its
    per-layer ratio x conv)."""
    own_dense = any(r["x"]["dense"] > 0.5 * sum(r["x"].values()) for r in rows)
    tied = ("first", "conv") + (() if own_depthwise else ("depthwise",)) + (() if own_dense else ("dense",))
    cols = [lambda r: sum(ratio[k] * r["x"][k] for k in tied) / r["cycles"]]
    if own_depthwise:
        cols.append(lambda r: r["x"]["depthwise"] / r["cycles"])
    if own_dense:
        cols.append(lambda r: r["x"]["dense"] / r["cycles"])
    a = [[c(r) for c in cols] for r in rows]
    n = len(cols)
    sol = _solve([[sum(row[i] * row[k] for row in a) for k in range(n)] for i in range(n)],
                 [sum(row[i] for row in a) for i in range(n)])
    conv = sol[0]
    if own_depthwise and (conv <= 0 or sol[1] < conv):
        # The rows cannot separate the two levels with both physical (a dropped model leaving only models that
        # mix depthwise and standard layers alike): the depthwise level falls back to the per-layer shape.
        return fit_levels(rows, ratio, own_depthwise=False)
    fig = {k: ratio[k] * conv for k in tied}
    if own_depthwise:
        fig["depthwise"] = sol[1]
    if own_dense:
        fig["dense"] = sol[-1]
    return {k: fig[k] for k in KINDS}


def fit(rows: list[dict], ratio: dict[str, float] | None = None) -> tuple[dict, dict]:
    libs = {}
    for rt in sorted({r["runtime"] for r in rows}):
        ref = [r for r in rows if r["runtime"] == rt and r["core"] == REFERENCE_CORE]
        if ref:  # ratio given: table shape from the per-layer counts; None: four free figures (the earlier fit)
            libs[rt] = (fit_levels(ref, ratio, rt in OWN_DEPTHWISE) if ratio is not None
                        else fit_library(ref))
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


def held_out(rows: list[dict], ratio: dict[str, float] | None) -> tuple[dict, dict, list[float]]:
    libs, scales = fit([r for r in rows if r["role"] == "calibration"], ratio)
    return libs, scales, [abs(predicted_throughput(libs, scales, r) / r["measured"] - 1) * 100 for r in rows
                          if r["role"] == "holdout"]


def leave_one_model_out(rows: list[dict], ratio: dict[str, float] | None, show: bool) -> list[float]:
    errs_all = []
    for model in sorted({r["model"] for r in rows}):
        try:
            l2, s2 = fit([r for r in rows if r["model"] != model], ratio)
            errs = [abs(predicted_throughput(l2, s2, r) / r["measured"] - 1) * 100 for r in rows
                    if r["model"] == model]
        except (KeyError, ValueError) as exc:  # a layer type only this model has: not predictable without it
            if show:
                print(f"  {model:<16} n/a ({type(exc).__name__}: {exc})")
            continue
        if show:
            print(f"  {model:<16} median {statistics.median(errs):6.1f} %  max {max(errs):6.1f} %  n={len(errs)}")
        errs_all += errs
    return errs_all


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cases", default=str(ROOT / "tests" / "validation" / "cases.csv"))
    p.add_argument("--layers", default=str(LAYERS))
    args = p.parse_args(argv)
    tables = load_layers(Path(args.layers))
    print("Per-layer cycle counts (benchmarks/data/mcu_layer_cycles.csv), cycles per int8 MAC by layer type:")
    for (lib, core), fig in sorted(tables.items()):
        target = DIRECT_TABLES.get((lib, core))
        print(f"  {lib:<14} {core:<11} " + "  ".join(f"{k} {fig[k]:6.3f}" for k in KINDS if k in fig)
              + (f"   -> catalog runtime {target}" if target else "")
              + (f"   ({REFERENCE_ONLY[(lib, core)]})" if (lib, core) in REFERENCE_ONLY else ""))
    m55 = tables[SHAPE_SOURCE]
    print(f"  cmsis_nn       cortex-m55  dense {m55['conv'] * layer_ratios(tables)['dense']:6.3f}   (no published "
          f"fully connected layer: conv x the {DENSE_SOURCE[0]} dense/conv ratio)")
    level, ref = reference_kernels(tables, Path(args.cases))
    print(f"  tflite_micro   xtensa-lx7  " + "  ".join(f"{k} {ref[k]:6.3f}" for k in KINDS)
          + f"   (esp_nn_ansi_c x {level:.2f}, the level of row {REFERENCE_ROW})")
    ratio = layer_ratios(tables)
    print("table shape (cycles per MAC relative to a standard convolution): "
          + ", ".join(f"{k} {v:.3f}" for k, v in ratio.items()))
    rows = load(Path(args.cases))
    libs, scales, held = held_out(rows, ratio)
    print("\nFit on the calibration rows (cycles per int8 MAC on cortex-m4; levels fitted, shape per layer):")
    for rt, fig in libs.items():
        print(f"  {rt:<18} " + "  ".join(f"{k} {fig[k]:6.3f}" for k in KINDS))
    print("core.mac_cycle_scale: " + ", ".join(f"{c} {s:.3f}" for c, s in scales.items()))
    print("\nid     role         runtime            hardware    model            measured  predicted  err %")
    for r in rows:
        pred = predicted_throughput(libs, scales, r)
        print(f"{r['id']:<6} {r['role']:<12} {r['runtime']:<18} {r['hw']:<11} {r['model']:<16} "
              f"{r['measured']:8.4g}  {pred:9.4g}  {abs(pred / r['measured'] - 1) * 100:5.1f}")
    print(f"\nheld-out median |error| {statistics.median(held):.1f} % (n={len(held)}), max {max(held):.1f} %")
    calibration = [r for r in rows if r["role"] == "calibration"]
    # Baselines on the same held-out rows: (0) four free figures per library fitted on the whole models (the
    # earlier fit); (1) the engine before the cycles model, one efficiency for the class (catalog/calibration: 0.2
    # of the 2-MAC/cycle SMLAD peak = 2.5 cycles per MAC on every core and library); (2) one cycles-per-MAC
    # figure per library (no layer types), with the same core scales.
    held_free = held_out(rows, None)[2]
    print(f"baseline, four free figures per library on whole models: held-out median "
          f"{statistics.median(held_free):.1f} %, max {max(held_free):.1f} %")
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
        l2, s2 = fit([r for r in rows if r["hw"] != hw], ratio)
        errs = [abs(predicted_throughput(l2, s2, r) / r["measured"] - 1) * 100 for r in mine]
        prior = "" if mine[0]["core"] in s2 else " (core scale from CoreMark/MHz)"
        print(f"  {hw:<11} median {statistics.median(errs):5.1f} %  max {max(errs):5.1f} %  n={len(errs)}{prior}")
        loho += errs
    print(f"  all         median {statistics.median(loho):5.1f} %  (n={len(loho)})")
    print("\nLeave one model out (refit without that model's rows, predict them on every device):")
    lomo = leave_one_model_out(rows, ratio, show=True)
    print(f"  all              median {statistics.median(lomo):6.1f} %  (n={len(lomo)})")
    before = leave_one_model_out(rows, None, show=False)
    print(f"  baseline, four free figures per library: median {statistics.median(before):6.1f} %  (n={len(before)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
