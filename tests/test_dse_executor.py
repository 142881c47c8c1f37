"""sweep(executor=...): the grid split into chunks on any concurrent.futures.Executor gives the same table as
one process; the pure-Python path is what runs without numpy; progress stays quiet off a terminal."""
from __future__ import annotations

import math
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import pytest

from mlsysim import dse
from mlsysim.dse import run as dse_run

GRID = dict(models=["Llama3_8B", "ResNet50", "BERT_Base"], hardware=["H100", "A100", "ESP32_S3", "T4"],
            batch_sizes=[1, 4, 32], precisions=["fp16", "int8"], seq_lens=[256, 1024])


def _same(a, b):
    assert len(a) == len(b)
    for ra, rb in zip(a, b):
        for k, v in ra.items():
            if isinstance(v, float) and math.isnan(v):
                assert math.isnan(rb[k])
            elif isinstance(v, float):
                assert abs(v - rb[k]) <= 1e-12 * abs(v), (k, ra, rb)
            else:
                assert v == rb[k], (k, ra, rb)


def test_process_pool_gives_the_same_table():
    local = dse.sweep(**GRID)
    with ProcessPoolExecutor(max_workers=2) as ex:
        remote = dse.sweep(**GRID, executor=ex, chunk_size=17)
    _same(local, remote)


def test_thread_pool_and_odd_chunks_keep_grid_order():
    local = dse.sweep(**GRID, backend="python")
    with ThreadPoolExecutor(max_workers=3) as ex:
        _same(local, dse.sweep(**GRID, executor=ex, chunk_size=5, backend="python"))
    _same(local, dse.sweep(**GRID, chunk_size=7, backend="python"))


def test_dask_executor_when_installed():
    distributed = pytest.importorskip("dask.distributed")
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2) as client:
        _same(dse.sweep(**GRID), dse.sweep(**GRID, executor=client.get_executor(), chunk_size=20))


def test_without_numpy_auto_runs_the_python_tier(monkeypatch):
    monkeypatch.setattr(dse_run, "has_numpy", lambda: False)
    t = dse.sweep(**GRID)
    assert not hasattr(t._cols["latency"], "dtype")  # plain lists: numpy never touched
    with pytest.raises(Exception, match="numpy"):
        dse.sweep(**GRID, backend="numpy")
    np = pytest.importorskip("numpy")
    assert np is not None
    monkeypatch.undo()
    _same(t, dse.sweep(**GRID, backend="numpy"))


def test_progress_is_quiet_off_a_terminal(capsys):
    dse.sweep(**GRID)
    assert capsys.readouterr().err == ""
    assert dse_run._progress(10, None) is None  # stderr is not a TTY under pytest


def test_bad_chunk_size_raises():
    with pytest.raises(Exception, match="chunk_size"):
        dse.sweep(**GRID, chunk_size=0)


def test_progress_true_shows_a_bar_or_says_tqdm_is_missing(capsys):
    try:
        import tqdm  # noqa: F401
    except ImportError:
        with pytest.raises(Exception, match="tqdm"):
            dse.sweep(**GRID, progress=True)
    else:
        dse.sweep(**GRID, progress=True, chunk_size=10)
        assert "pt" in capsys.readouterr().err
