"""Per-layer MCU cycle counts (benchmarks/data/mcu_layer_cycles.csv) and the cycles tables fitted on them."""
from __future__ import annotations

import csv
import importlib.util
import statistics
from pathlib import Path

import attrs
import pytest

import mlsysim
from mlsysim import Engine
from mlsysim.core import mcu_cycles
from mlsysim.errors import CatalogError, InvalidInputError

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ROOT / "benchmarks" / "data" / "mcu_layer_cycles.csv"
HW, RT = mlsysim.Hardware, mlsysim.Runtimes
ARM_LIBRARIES = ("x_cube_ai", "cmsis_nn", "microtvm", "microtvm_cmsis_nn")


@pytest.fixture(scope="module")
def fit_tool():
    spec = importlib.util.spec_from_file_location("fit_mcu_cycles", ROOT / "tools" / "fit_mcu_cycles.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def layer_rows():
    return list(csv.DictReader(LAYERS.open(newline="", encoding="utf-8")))


# -- the data ---------------------------------------------------------------------------------------------------------
def test_every_layer_row_is_cited_and_physical():
    rows = layer_rows()
    assert len({r["id"] for r in rows}) == len(rows) >= 20
    for r in rows:
        assert r["source"].startswith("github "), r["id"]
        assert r["kind"] in ("first", "depthwise", "conv", "dense"), r["id"]
        macs, cycles = int(r["macs"]), int(r["cycles"])
        assert macs > 0 and cycles > 0
        # No int8 kernel beats its core's MAC peak: 16 MACs/cycle for the ESP32-S3 PIE (EE.VMULAS.S8), 8 for a
        # Cortex-M55 MVE (two beats of a 16-lane int8 VMLADAV per cycle pair), 2 for a Cortex-M4 (one SMLAD: two
        # 16-bit MACs per cycle).
        peak = {"xtensa-lx7": 16, "cortex-m55": 8, "cortex-m4": 2}[r["core"]]
        assert cycles >= macs / peak, r["id"]


def test_hand_calculated_macs_of_the_mobilenetv2_layers():
    macs = {r["id"]: int(r["macs"]) for r in layer_rows()}
    assert macs["CMNN01"] == 112 * 112 * 32 * 3 * 3 * 3        # stride-2 3x3 conv on RGB, 32 filters
    assert macs["CMNN02"] == 112 * 112 * 32 * 9                # depthwise 3x3
    assert macs["CMNN04"] == 112 * 112 * 16 * 96               # pointwise expansion
    assert macs["ESPNN03"] == 8 * 8 * 64 * 27                  # 10x10x3 input, 3x3 valid -> 8x8x64
    valid = sum(sum(1 for k in range(5) if 0 <= o - 1 + k < 12) for o in range(12))  # taps inside the 12-wide input
    assert macs["ESPNN05"] == valid * valid * 32


def _taps(n_in, n_out, kernel, stride, pad):
    """Kernel taps landing inside an n_in-long input over n_out outputs (the CMSIS-NN mult_4 kernel skips the rest)."""
    return sum(sum(1 for k in range(kernel) if 0 <= o * stride - pad + k < n_in) for o in range(n_out))


def test_hand_calculated_macs_of_the_cortex_m4_kws_layers():
    macs = {r["id"]: int(r["macs"]) for r in layer_rows()}
    # 1-channel multiplier convs: valid taps x output channels (one input channel feeds every output)
    assert macs["CM4NN01"] == _taps(58, 25, 10, 2, 1) * _taps(13, 5, 4, 2, 1) * 64
    assert macs["CM4NN02"] == _taps(25, 25, 3, 1, 0) * _taps(5, 5, 3, 1, 0) * 64
    assert macs["CM4NN05"] == _taps(49, 25, 10, 2, 0) * _taps(10, 10, 4, 1, 0) * 172
    assert macs["CM4NN06"] == _taps(27, 13, 3, 2, 1) * _taps(12, 5, 3, 2, 1) * 172
    assert macs["CM4NN08"] == _taps(13, 13, 3, 1, 0) * _taps(5, 5, 3, 1, 0) * 172
    # im2col GEMM computes every (padded) tap of the 1x1 convs; fully connected = depth x outputs
    assert macs["CM4NN03"] == 25 * 5 * 64 * 64 and macs["CM4NN07"] == 13 * 5 * 172 * 172
    assert macs["CM4NN04"] == 64 * 12 and macs["CM4NN09"] == 172 * 12


# -- physics of the per-layer counts --------------------------------------------------------------------------------
def test_depthwise_and_first_layers_cost_more_per_mac_than_pointwise(fit_tool):
    tables = fit_tool.load_layers(LAYERS)
    for key, fig in tables.items():
        if "depthwise" in fig:  # the Cortex-M4 rows measure no channel-multiplier-1 depthwise layer
            assert fig["depthwise"] > 1.5 * fig["conv"], key  # one MAC per loaded weight and activation
        assert fig["first"] > fig["conv"], key           # 1-3 input channels: short SIMD dot products
    ratio = fit_tool.layer_ratios(tables)
    assert ratio["conv"] == 1.0 and 3 < ratio["depthwise"] < 5 and 1 < ratio["first"] < 2


def test_cortex_m4_cmsis_nn_kernels_against_the_2020_stack(fit_tool):
    """The standalone CMSIS-NN (>= v7) kernels on a Cortex-M4: a 1-channel multiplier conv runs the scalar mult_4
    kernel, several times the cycles per MAC of the SMLAD im2col GEMM; a fully connected layer (one weight load per
    MAC) costs no less per MAC than a conv. Both stay below the 2020 TFLM v2.3.1 + CMSIS-NN table fitted on MLPerf
    Tiny (interpreter and older kernels), which the catalog says later releases beat."""
    m4 = fit_tool.load_layers(LAYERS)[("cmsis_nn", "cortex-m4")]
    assert m4["first"] > 3 * m4["conv"] and m4["dense"] >= m4["conv"]
    assert 1 / fit_tool.SMLAD_MACS_PER_CYCLE < m4["conv"] < RT.cmsis_nn.mcu.cycles_per_mac.conv


def test_every_per_layer_library_feeds_a_table_or_says_why_not(fit_tool):
    used = set(fit_tool.DIRECT_TABLES) | {fit_tool.SHAPE_SOURCE, fit_tool.DENSE_SOURCE, fit_tool.REFERENCE_SHAPE}
    for key in fit_tool.load_layers(LAYERS):
        assert (key in used) != (key in fit_tool.REFERENCE_ONLY), key


def test_vector_kernels_are_an_order_of_magnitude_below_plain_c():
    opt, ansi = RT.esp_nn.mcu.cycles_per_mac, RT.tflite_micro.mcu.cycles_per_mac
    for kind in ("first", "depthwise", "conv", "dense"):
        assert ansi.get(kind) > 5 * opt.get(kind), kind


@pytest.mark.parametrize("runtime", ["esp_nn", "tflite_micro", *ARM_LIBRARIES])
def test_every_table_has_depthwise_costlier_per_mac_than_pointwise(runtime):
    c = RT.get(runtime).mcu.cycles_per_mac
    assert c.depthwise > c.conv and c.first > c.conv


def test_core_scales_order_m7_m33_m4():
    m7, m33, m4 = (HW.get(h) for h in ("STM32H7A3", "STM32U575", "STM32L4R5"))
    assert m7.core.mac_cycle_scale < m33.core.mac_cycle_scale < 1.0
    assert mcu_cycles.core_scale(m4, RT.x_cube_ai) == 1.0


# -- the tables reproduce from the data --------------------------------------------------------------------------------
def test_esp_nn_table_is_the_per_layer_counts(fit_tool):
    direct = fit_tool.load_layers(LAYERS)[("esp_nn", "xtensa-lx7")]
    table = RT.esp_nn.mcu.cycles_per_mac
    for kind, value in direct.items():
        assert table.get(kind) == pytest.approx(value, rel=0.01), kind


def test_tflite_micro_table_is_the_ansi_shape_at_one_level(fit_tool):
    tables = fit_tool.load_layers(LAYERS)
    level, figs = fit_tool.reference_kernels(tables, ROOT / "tests" / "validation" / "cases.csv")
    assert 3 < level < 10  # the reference kernels' 4-D Offset() indexing vs a plain C loop
    table = RT.tflite_micro.mcu.cycles_per_mac
    for kind, value in figs.items():
        assert table.get(kind) == pytest.approx(value, rel=0.01), kind


def test_leave_one_model_out_beats_four_free_figures(fit_tool):
    rows = fit_tool.load(ROOT / "tests" / "validation" / "cases.csv")
    ratio = fit_tool.layer_ratios(fit_tool.load_layers(LAYERS))
    shaped = fit_tool.leave_one_model_out(rows, ratio, show=False)
    free = fit_tool.leave_one_model_out(rows, None, show=False)
    assert len(shaped) == 28  # every model is predictable without its own rows
    assert statistics.median(shaped) <= 20.0 < statistics.median(free)
    held = fit_tool.held_out(rows, ratio)[2]
    assert statistics.median(held) <= 15.0  # the microcontroller samples/s goal


# -- ESP32-S3 end to end and the errors that name what is missing ------------------------------------------------
def test_esp32_s3_person_detection_with_esp_nn_is_held_out_and_close():
    r = Engine.solve("MobileNetV1_025", "ESP32_S3", 1, "int8", runtime="esp_nn")
    assert r.throughput.m_as("1/s") == pytest.approx(1000 / 47, rel=0.15)  # esp-nn README: 47 ms (internal RAM)
    slow = Engine.solve("MobileNetV1_025", "ESP32_S3", 1, "int8", runtime="tflite_micro")
    assert 30 < slow.latency.m_as("s") / r.latency.m_as("s") < 60  # README: 2300 ms vs 47-54 ms


def test_runtime_without_kernels_for_the_core_names_what_is_missing():
    with pytest.raises(InvalidInputError, match=r"no kernels for cortex-m4.*xtensa-lx7.*mcu\.cores of tflite_micro"):
        Engine.solve("DS_CNN", "STM32L4R5", 1, "int8", runtime="tflite_micro")
    with pytest.raises(InvalidInputError, match=r"no kernels for cortex-m7.*esp_nn"):
        Engine.solve("DS_CNN", "STM32H7A3", 1, "int8", runtime="esp_nn")
    with pytest.raises(InvalidInputError, match="no kernels for xtensa-lx7"):
        Engine.solve("DS_CNN", "ESP32_S3", 1, "int8", runtime="x_cube_ai")


def test_listed_core_without_a_measured_scale_is_an_error_not_a_guess():
    # Cortex-M0+ (no DSP extension, no SMLAD) and Cortex-M55 (Helium) are listed by libraries that ship kernels for
    # them, but no same-library run on them and on a Cortex-M4 is published: an error names the missing figure.
    for core in ("cortex-m0+", "cortex-m55"):
        hw = attrs.evolve(HW.STM32U575, core=attrs.evolve(HW.STM32U575.core, name=core, mac_cycle_scale=None))
        with pytest.raises(CatalogError, match="mac_cycle_scale") as err:
            Engine.solve("DS_CNN", hw, 1, "int8", runtime="x_cube_ai")
        assert core in str(err.value)


# -- a table measured on the core itself (mcu.by_core): the CMSIS-NN Helium kernels on a Cortex-M55 --------------
def m55(hw="STM32U575"):
    base = HW.get(hw)
    return attrs.evolve(base, core=attrs.evolve(base.core, name="cortex-m55", mac_cycle_scale=None))


def test_cortex_m55_table_is_its_per_layer_counts(fit_tool):
    tables = fit_tool.load_layers(LAYERS)
    direct, ratio = tables[("cmsis_nn", "cortex-m55")], fit_tool.layer_ratios(tables)
    table = RT.cmsis_nn.mcu.table_for("cortex-m55")
    for kind in ("first", "depthwise", "conv"):
        assert table.get(kind) == pytest.approx(direct[kind], rel=0.01), kind
    assert table.dense == pytest.approx(direct["conv"] * ratio["dense"], rel=0.01)  # the estimated figure
    assert RT.cmsis_nn.mcu.table_for("cortex-m4") is RT.cmsis_nn.mcu.cycles_per_mac


def test_cortex_m55_runs_cmsis_nn_from_its_own_table_without_a_core_scale():
    hw = m55()
    assert mcu_cycles.core_scale(hw, RT.cmsis_nn) == 1.0
    c = RT.cmsis_nn.mcu.table_for("cortex-m55")
    r = Engine.solve("DS_CNN", hw, 1, "int8", runtime="cmsis_nn")
    hand = (320000 * c.first + 288000 * c.depthwise + 2048000 * c.conv + 768 * c.dense) / 160e6  # DS-CNN MACs by kind
    assert r.compute_time_s == pytest.approx(hand, rel=1e-9)
    # Helium (8 int8 MACs per cycle pair of beats) needs fewer cycles per MAC than the M4's SMLAD kernels
    for kind in ("first", "depthwise", "conv", "dense"):
        m4 = mcu_cycles.cycles_per_mac(RT.cmsis_nn, HW.STM32L4R5, kind)
        assert mcu_cycles.cycles_per_mac(RT.cmsis_nn, hw, kind) < m4


def test_by_core_tables_are_checked():
    mcu = RT.cmsis_nn.mcu
    with pytest.raises(CatalogError, match="by_core"):
        attrs.evolve(mcu, by_core=list(mcu.by_core) * 2)
    with pytest.raises(CatalogError, match="by_core"):
        attrs.evolve(mcu, by_core=[attrs.evolve(mcu.by_core[0], core="cortex-m85")])
