"""plot_roofline and plot_evaluation_scorecard: the lines drawn are the roofline's physics."""
from __future__ import annotations

import sys

import pytest

import mlsysim
from mlsysim.errors import InvalidInputError, InvalidTypeError, MlsysimError
from mlsysim.specs.fields import figure

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import numpy as np  # noqa: E402  (a matplotlib dependency)
import matplotlib.pyplot as plt  # noqa: E402

from mlsysim.viz import PlotDependencyError, plot_evaluation_scorecard, plot_roofline  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _by_gid(ax, gid):
    found = [a for a in ax.get_children() if a.get_gid() == gid]
    assert len(found) == 1, f"{gid}: {len(found)} artists"
    return found[0]


def test_ridge_point_is_peak_over_bandwidth():
    fig, ax = plot_roofline("H100")
    hw = mlsysim.Hardware.H100
    peak, bw = figure(hw, "peak_dense.fp16"), figure(hw, "memory.bandwidth")
    x, y = _by_gid(ax, "ridge").get_data()
    assert x[0] == pytest.approx(peak / bw)  # 989.4e12 / 3.35e12 = 295 FLOP/B
    assert x[0] == pytest.approx(295.3, rel=1e-3)
    assert y[0] == pytest.approx(989.4)  # TFLOP/s on an accelerator
    assert "TFLOP/s" in ax.get_ylabel()


def test_roof_is_the_minimum_of_bandwidth_slope_and_peak():
    hw = mlsysim.Hardware.A100
    peak, bw = figure(hw, "peak_dense.fp16"), figure(hw, "memory.bandwidth")
    fig, ax = plot_roofline(hw)
    x, y = (np.asarray(v) for v in _by_gid(ax, "roofline").get_data())
    assert np.allclose(y * 1e12, np.minimum(bw * x, peak))
    below = x < peak / bw
    assert np.allclose(y[below] * 1e12 / x[below], bw)  # memory slope: performance / intensity = bandwidth
    assert np.all(y[~below] == pytest.approx(peak / 1e12))  # flat compute ceiling
    assert np.all(np.diff(y) >= 0)  # never decreasing with intensity


def test_workloads_sit_at_their_intensity_and_under_the_roof():
    hw = mlsysim.Hardware.H100
    decode = mlsysim.Engine.solve("Llama3_8B", hw, 1, "fp16")
    batched = mlsysim.Engine.solve("Llama3_8B", hw, 256, "fp16")
    fig, ax = plot_roofline(hw, [decode, "ResNet50"])
    x, y = _by_gid(ax, "workload:Llama3_8B").get_data()
    assert x[0] == pytest.approx(decode.arithmetic_intensity.m_as("flop/B"))
    assert y[0] * 1e12 == pytest.approx(decode.hardware_flops / decode.latency.m_as("s"))
    peak, bw = figure(hw, "peak_dense.fp16"), figure(hw, "memory.bandwidth")
    for gid in ("workload:Llama3_8B", "workload:ResNet50"):
        x, y = _by_gid(ax, gid).get_data()
        assert y[0] * 1e12 <= min(peak, bw * x[0]) * (1 + 1e-9)  # nothing beats the roof
    # batching raises intensity (weights read once for more tokens)
    assert batched.arithmetic_intensity > decode.arithmetic_intensity


def test_a_profile_in_another_precision_gets_its_own_ceiling():
    int8 = mlsysim.Engine.solve("ResNet50", "H100", 64, "int8")
    fig, ax = plot_roofline("H100", [int8])
    x, y = _by_gid(ax, "roofline:int8").get_data()
    assert max(y) * 1e12 == pytest.approx(figure(mlsysim.Hardware.H100, "peak_dense.int8"))


def test_microcontroller_axis_unit_follows_the_peak():
    fig, ax = plot_roofline("STM32H7A3", ["DS_CNN"], precision="int8")
    assert "GFLOP/s" in ax.get_ylabel()
    x, y = _by_gid(ax, "ridge").get_data()
    assert x[0] == pytest.approx(1.12e9 / 2.24e9)


def test_draws_into_a_given_axes():
    fig, ax = plt.subplots()
    assert plot_roofline("H100", ax=ax) == (fig, ax)


def test_bad_inputs_raise_mlsysim_errors():
    with pytest.raises(InvalidInputError, match="fp64|fp32"):
        plot_roofline("STM32H7A3", precision="fp16")  # a Cortex-M7 has no fp16 units
    with pytest.raises(InvalidInputError, match="A100"):
        plot_roofline("A100", [mlsysim.Engine.solve("Llama3_8B", "H100")])
    with pytest.raises(InvalidTypeError):
        plot_roofline("H100", [42])
    with pytest.raises(MlsysimError, match="H100"):
        plot_roofline("H1OO")


def test_scorecard_bars_are_value_over_limit():
    ev = mlsysim.Scenarios.SmartDoorbell.evaluate()
    fig, ax = plot_evaluation_scorecard(ev)
    power = next(c for c in ev.checks if c.name == "power")
    bar = _by_gid(ax, "check:power")
    assert bar.get_width() == pytest.approx(power.value.to("W").magnitude / power.limit.to("W").magnitude)
    assert bar.get_width() > 1  # it fails: beyond the limit line
    sram = _by_gid(ax, "check:fits in memory (SRAM)")
    assert sram.get_width() > 1 and _by_gid(ax, "check:latency").get_width() < 1
    assert "FAIL" in ax.get_title()


def test_scorecard_takes_a_system_evaluation():
    import warnings

    from mlsysim.evaluation import SystemEvaluator

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        card = SystemEvaluator.evaluate("decode", "Llama3_8B", "H100", 1, "fp16", 0.5)
    fig, ax = plot_evaluation_scorecard(card)
    bar = _by_gid(ax, "check:fits in memory")
    r = card.profile
    assert bar.get_width() == pytest.approx(r.memory.total / r.memory.capacity)
    with pytest.raises(InvalidTypeError):
        plot_evaluation_scorecard(r)


def test_without_matplotlib_the_error_says_how_to_install_it(monkeypatch):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now raises ImportError
    with pytest.raises(PlotDependencyError, match=r"pip install 'mlsysim\[plot\]'") as info:
        plot_roofline("H100")
    assert isinstance(info.value, MlsysimError) and isinstance(info.value, ImportError)
