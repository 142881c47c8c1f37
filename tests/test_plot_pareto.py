"""Pareto plots of a sweep (`table.plot_pareto`, `mlsysim plot sweep`): rendered headless (Agg) to a real PNG
with the expected axes; the drawn front is exactly dse.pareto's non-dominated set."""
from __future__ import annotations

from pathlib import Path

import pytest

from mlsysim import dse
from mlsysim.cli import main
from mlsysim.errors import InvalidInputError

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"  # PNG spec (ISO/IEC 15948) sec. 5.2
PNG_IHDR_WIDTH = slice(16, 20)  # the IHDR chunk's width follows the signature and the chunk header


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def table():
    return dse.sweep(["Llama3_8B", "Llama3_70B"], ["H100", "A100", "L4"], [1, 4, 16, 64, 256], ["fp16", "fp8"])


def _gid(ax, gid):
    return [a for a in ax.get_children() if a.get_gid() == gid]


def test_front_is_the_non_dominated_set_and_axes_are_labelled(table):
    fig, ax = table.plot_pareto("latency", "throughput")
    assert ax.get_xlabel() == "latency per pass (ms)" and ax.get_ylabel() == "throughput (token/s)"
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    (line,) = _gid(ax, "pareto")
    xs, ys = line.get_data()
    front = dse.pareto([r for r in table if r["feasible"]], "latency", "throughput")
    assert [round(v, 12) for v in xs] == [round(r["latency"] * 1e3, 12) for r in front]
    assert list(ys) == [r["throughput"] for r in front]
    # more throughput only at more latency along the front (otherwise a point would dominate another)
    assert list(xs) == sorted(xs) and list(ys) == sorted(ys)
    groups = {a.get_gid() for a in ax.get_children() if (a.get_gid() or "").startswith("points:")}
    assert groups <= {"points:H100", "points:A100", "points:L4"} and "points:H100" in groups
    # only configurations that fit are drawn
    drawn = sum(len(a.get_offsets()) for a in ax.get_children() if (a.get_gid() or "").startswith("points:"))
    assert drawn == sum(1 for r in table if r["feasible"])


def test_energy_against_latency_minimises_both(table):
    fig, ax = table.plot_pareto("latency", "energy", group_by="precision")
    assert ax.get_ylabel() == "energy per pass (J)"
    xs, ys = _gid(ax, "pareto")[0].get_data()
    assert list(xs) == sorted(xs) and list(ys) == sorted(ys, reverse=True)


def test_cost_axis_uses_catalog_prices(table):
    fig, ax = table.plot_pareto("tpot", "tokens_per_dollar")
    assert ax.get_xlabel() == "TPOT (ms)" and ax.get_ylabel() == "tokens per USD"
    groups = {a.get_gid() for a in ax.get_children() if (a.get_gid() or "").startswith("points:")}
    assert "points:A100" not in groups  # no catalog price: no cost, not drawn


def test_bad_fields_raise(table):
    with pytest.raises(InvalidInputError):
        table.plot_pareto("latency", "speed")
    with pytest.raises(InvalidInputError):
        table.plot_pareto(group_by="colour")
    with pytest.raises(InvalidInputError):
        dse.sweep("Llama31_405B", "L4", [8]).plot_pareto()


def test_cli_plot_sweep_writes_a_png(tmp_path, capsys):
    out = tmp_path / "pareto.png"
    code = main(["plot", "sweep", "--models", "Llama3_8B", "--hardware", "H100,L4", "--batch-sizes", "1,8,64",
                 "--precisions", "fp16,fp8", "-o", str(out), "--json"])
    assert code == 0 and '"sweep"' in capsys.readouterr().out
    data = Path(out).read_bytes()
    assert data[:8] == PNG_SIGNATURE and len(data) > 1000
    assert int.from_bytes(data[PNG_IHDR_WIDTH], "big") > 100
    assert main(["plot", "sweep", "--models", "Llama3_8B", "--hardware", "H100", "--y", "nope",
                 "-o", str(tmp_path / "x.png")]) == 1
