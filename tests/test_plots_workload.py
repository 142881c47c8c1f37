"""Workload plots and `mlsysim plot`: rendered headless (Agg) to real PNGs with the expected axes and points."""
from __future__ import annotations

from pathlib import Path

import pytest

import mlsysim
from mlsysim.cli import main

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from mlsysim.viz_workload import phase_profiles, plot_serving, plot_workload_roofline  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"  # PNG spec (ISO/IEC 15948) sec. 5.2


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _gids(ax) -> set:
    return {a.get_gid() for a in ax.get_children() if a.get_gid()}


def _is_png(path: Path) -> bool:
    data = path.read_bytes()
    return data[:8] == PNG_SIGNATURE and len(data) > 1000


def test_roofline_has_every_phase_and_precision_ceiling():
    fig, ax = plot_workload_roofline("Llama3_8B", "H100")
    gids = _gids(ax)
    assert {"roofline", "ridge", "phase:prefill", "phase:decode", "phase:training"} <= gids
    assert any(g.startswith("roofline:") and "fp8" in g for g in gids)  # fp8's higher peak drawn dashed
    assert ax.get_xlabel() == "arithmetic intensity (FLOP/B)" and "TFLOP/s" in ax.get_ylabel()


def test_phase_points_sit_on_the_right_side_of_the_ridge():
    """Batch-1 decode streams every weight per token (~1 FLOP/B): memory bound, left of the ridge; a 1024-token
    prefill reuses each weight 1024 times: right of it (Williams et al. 2009)."""
    hw = mlsysim.Hardware.H100
    from mlsysim.specs.fields import figure

    ridge = figure(hw, "peak_dense.fp16") / figure(hw, "memory.bandwidth")
    phases = phase_profiles("Llama3_8B", "H100", prompt_len=1024)
    assert phases["decode"].arithmetic_intensity.m_as("flop/B") < ridge
    assert phases["prefill"].arithmetic_intensity.m_as("flop/B") > ridge
    fig, ax = plot_workload_roofline("Llama3_8B", "H100")
    (x,), (y,) = [a for a in ax.get_children() if a.get_gid() == "phase:decode"][0].get_data()
    # a point never lies above the roof: achieved <= min(peak, bandwidth x intensity)
    assert y * 1e12 <= min(figure(hw, "peak_dense.fp16"), figure(hw, "memory.bandwidth") * x) * (1 + 1e-9)


def test_serving_plot_ttft_tpot_rise_with_concurrency():
    fig, (ax_ttft, ax_tpot) = plot_serving("Llama3_8B", "H100", concurrency=[1, 4, 16, 64], prompt_len=512)
    assert ax_ttft.get_ylabel() == "TTFT (ms)" and ax_tpot.get_ylabel() == "TPOT (ms)"
    assert ax_ttft.get_xlabel() == ax_tpot.get_xlabel() == "concurrency (requests in flight)"
    (tpot,) = [a for a in ax_tpot.get_children() if a.get_gid() == "tpot"]
    xs, ys = tpot.get_data()
    assert list(xs) == [1, 4, 16, 64]
    assert all(b >= a for a, b in zip(ys, ys[1:]))  # more sequences per decode step: each step is no faster


def test_result_plot_for_profile_and_serving_result():
    fig, ax = mlsysim.Engine.solve("Llama3_8B", "H100", 8).plot()
    assert "workload:Llama3_8B" in _gids(ax)
    from mlsysim.core.serving import ServingModel

    fig, ax = ServingModel().solve("Llama3_8B", "H100", 4, prompt_len=512).plot()
    assert {"phase:prefill", "phase:decode"} <= _gids(ax)


def test_cli_plot_writes_pngs(tmp_path, capsys):
    roof, serving = tmp_path / "roofline.png", tmp_path / "serving.png"
    assert main(["plot", "roofline", "Llama3_8B", "H100", "-o", str(roof)]) == 0
    assert main(["plot", "serving", "Llama3_8B", "H100", "--prompt-len", "512", "--concurrency", "1,8,32",
                 "-o", str(serving), "--json"]) == 0
    assert _is_png(roof) and _is_png(serving)
    assert '"output"' in capsys.readouterr().out
    encoder = tmp_path / "bert.png"
    assert main(["plot", "roofline", "BERT_Base", "H100", "-o", str(encoder)]) == 0 and _is_png(encoder)
