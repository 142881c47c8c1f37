"""The optional extras of the design-space sweep: dask (a local dask.distributed cluster runs every tier and
gives the table one process gives), progress (tqdm: a bar on a terminal, nothing otherwise), plot (a clear
error without matplotlib); and pyproject declares them."""
from __future__ import annotations

import io
import math
import sys
from pathlib import Path

import pytest

from mlsysim import dse
from mlsysim.dse import run as dse_run

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).parents[1]
ENGINE = dict(models=["Llama3_8B", "Mixtral_8x7B", "ResNet50"], hardware=["H100", "A100", "ESP32_S3"],
              batch_sizes=[1, 8, 64], precisions=["fp16", "fp8"], seq_lens=[512, 4096])
SERVING = dict(models=["Llama3_8B", "Mixtral_8x7B"], hardware=["H100", "L4"], batch_sizes=[1, 16],
               precisions=["fp16"], seq_lens=[512], solver="serving", output_len=64)
TRAINING = dict(models=["Llama3_8B", "BERT_Base"], hardware=["H100", "A100"], batch_sizes=[1, 8],
                precisions=["bf16"], seq_lens=[2048], solver="training", zero_stage=1, dp_size=8)


def _same(a, b):
    assert len(a) == len(b)
    for ra, rb in zip(a, b):
        for k, v in ra.items():
            if isinstance(v, float) and math.isnan(v):
                assert math.isnan(rb[k]), (k, ra, rb)
            elif isinstance(v, float):
                assert abs(v - rb[k]) <= 1e-12 * abs(v), (k, ra, rb)
            else:
                assert v == rb[k], (k, ra, rb)


def test_pyproject_declares_the_dask_and_progress_extras():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert any(r.startswith("dask[distributed]") for r in extras["dask"])
    assert any(r.startswith("tqdm") for r in extras["progress"])
    core = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert not any(r.startswith(("dask", "tqdm", "numpy", "matplotlib")) for r in core)  # never core


@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("dask.distributed")
    with distributed.Client(processes=False, n_workers=2, threads_per_worker=1, dashboard_address=None) as client:
        yield client


@pytest.mark.parametrize("grid", [ENGINE, SERVING, TRAINING], ids=["engine", "serving", "training"])
def test_a_local_dask_cluster_gives_the_same_table(dask_client, grid):
    local = dse.sweep(**grid)
    remote = dse.sweep(**grid, executor=dask_client.get_executor(), chunk_size=5)
    _same(local, remote)
    assert local.errors == remote.errors  # the same points fail, with the same words


def test_dask_with_dropped_infeasible_points(dask_client):
    local = dse.sweep(**ENGINE, drop_infeasible=True)
    _same(local, dse.sweep(**ENGINE, drop_infeasible=True, executor=dask_client.get_executor(), chunk_size=7))
    assert all(r["feasible"] for r in local)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:  # what a terminal's stderr says
        return True


def test_progress_bar_on_a_terminal_counts_every_point(monkeypatch):
    pytest.importorskip("tqdm")
    fake = _Terminal()
    monkeypatch.setattr(sys, "stderr", fake)
    t = dse.sweep(**ENGINE, chunk_size=9)
    text = fake.getvalue()
    assert f"{len(t)}/{len(t)}" in text and "pt" in text  # the bar reached the grid's size


def test_progress_bar_is_quiet_off_a_terminal_even_with_tqdm(monkeypatch):
    pytest.importorskip("tqdm")
    quiet = io.StringIO()  # isatty() is False: a pipe, a log file, CI
    monkeypatch.setattr(sys, "stderr", quiet)
    dse.sweep(**ENGINE, chunk_size=9)
    assert quiet.getvalue() == ""
    assert dse_run._progress(100, None) is None and dse_run._progress(100, False) is None


def test_progress_over_dask(dask_client, monkeypatch):
    pytest.importorskip("tqdm")
    fake = _Terminal()
    monkeypatch.setattr(sys, "stderr", fake)
    t = dse.sweep(**SERVING, executor=dask_client.get_executor(), chunk_size=3)
    assert f"{len(t)}/{len(t)}" in fake.getvalue()


def test_plot_without_matplotlib_says_how_to_install(monkeypatch):
    from mlsysim.viz import PlotDependencyError

    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now fails
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(PlotDependencyError, match=r"mlsysim\[plot\]"):
        dse.sweep("Llama3_8B", "H100", [1, 8]).plot_pareto()
