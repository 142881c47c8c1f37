"""mlsysim.dse.sweep: every point agrees with Engine.solve (runtime=None) to 1e-9 relative, on both the numpy
and the pure-Python engine tier; errors and infeasible points are marked, not silent."""
from __future__ import annotations

import math
import random

import pytest

import mlsysim
from mlsysim import Engine, dse

REL = 1e-9
ALL_HW = list(mlsysim.Hardware)
ALL_MODELS = list(mlsysim.Models)
PRECISIONS = ["fp32", "fp16", "bf16", "fp8", "int8", "int4", None]


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= REL * max(abs(a), abs(b))


def assert_agrees(table) -> int:
    """Every record of `table` against Engine.solve on the same point; returns the points that ran."""
    ran = 0
    for rec in table:
        sp = table.space
        kw = {} if rec["seq_len"] is None else {"seq_len": rec["seq_len"]}
        kw.update(dict(sp.options), is_training=sp.solver == "training")
        prec = rec["precision"] if rec["precision"] is not None else mlsysim.core.precision.DEFAULT_PRECISION
        try:
            mi = [m.name for m in sp.models].index(rec["model"])
            hi = [h.name for h in sp.hardware].index(rec["hardware"])
            r = Engine.solve(sp.models[mi], sp.hardware[hi],
                             rec["batch_size"], prec, sp.efficiency, **kw)
        except Exception as exc:  # noqa: BLE001
            assert rec["error"] is not None and type(exc).__name__ in rec["error"], (rec, exc)
            assert rec["reasons"] == (rec["error"],)
            continue
        assert rec["error"] is None, rec
        ran += 1
        assert _close(rec["latency"], r.latency.m_as("s")), (rec, r.latency)
        assert _close(rec["throughput"], r.throughput.magnitude), rec
        assert rec["throughput_unit"] == f"{r.throughput_unit}/s"
        assert _close(rec["energy"], r.energy.m_as("J")), rec
        assert _close(rec["mfu"], r.mfu), rec
        assert rec["feasible"] == r.feasible and rec["bottleneck"] == r.bottleneck, rec
        if not rec["feasible"]:
            assert rec["reasons"] and rec["reasons"] == tuple(r.memory_reasons)
    return ran


def _random_grid(rng: random.Random) -> dict:
    return {"models": rng.sample(ALL_MODELS, rng.randint(1, 4)), "hardware": rng.sample(ALL_HW, rng.randint(1, 5)),
            "batch_sizes": sorted(rng.sample([1, 2, 3, 8, 17, 64, 256, 1024], rng.randint(1, 3))),
            "precisions": rng.sample(PRECISIONS, rng.randint(1, 3)),
            "seq_lens": rng.choice([None, [128], [1, 4096], [512, 32768]]),
            "efficiency": rng.choice([None, None, 0.5, 1.0])}


@pytest.mark.parametrize("seed", range(12))
def test_python_tier_agrees_with_engine_on_random_grids(seed):
    grid = _random_grid(random.Random(seed))
    assert_agrees(dse.sweep(**grid, backend="python"))


@pytest.mark.parametrize("seed", range(12))
def test_numpy_tier_agrees_with_engine_on_random_grids(seed):
    pytest.importorskip("numpy")
    grid = _random_grid(random.Random(1000 + seed))
    assert_agrees(dse.sweep(**grid, backend="numpy"))


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("backend", ["python", "numpy"])
def test_training_tier_agrees_with_engine_training_on_random_grids(seed, backend):
    """solver="training" with only TrainingOptions runs the engine tier (one workload per point shape, the
    roofline broadcast over devices) and must match Engine.solve(is_training=True)."""
    if backend == "numpy":
        pytest.importorskip("numpy")
    rng = random.Random(500 + seed)
    grid = _random_grid(rng)
    grid["precisions"] = rng.sample(["fp32", "fp16", "bf16", "fp8", "int8", None], 2)
    opts = rng.choice([{}, {"zero_stage": 3, "dp_size": 8}, {"activation_recomputation": "full"},
                       {"activation_recomputation": "selective", "zero_stage": 1, "dp_size": 4}])
    assert_agrees(dse.sweep(**grid, solver="training", backend=backend, **opts))


def test_whole_catalog_once_at_batch_1_and_64():
    """Every model on every device (microcontrollers go through the scalar solver's cycles model)."""
    t = dse.sweep(ALL_MODELS, ALL_HW, [1, 64], ["fp16", None])
    assert len(t) == len(ALL_MODELS) * len(ALL_HW) * 4
    assert assert_agrees(t) > len(t) // 4


def test_backends_give_identical_tables():
    pytest.importorskip("numpy")
    grid = dict(models=["Llama3_8B", "ResNet50", "Mamba_2_8B"] if hasattr(mlsysim.Models, "Mamba_2_8B")
                else ["Llama3_8B", "ResNet50"], hardware=["H100", "A100", "ESP32_S3"], batch_sizes=[1, 16],
                precisions=["fp16", "int8"])
    a, b = dse.sweep(**grid, backend="numpy"), dse.sweep(**grid, backend="python")
    for ra, rb in zip(a, b):
        for k in ("latency", "throughput", "energy", "mfu"):
            assert (math.isnan(ra[k]) and math.isnan(rb[k])) or _close(ra[k], rb[k])
        assert (ra["feasible"], ra["bottleneck"], ra["error"]) == (rb["feasible"], rb["bottleneck"], rb["error"])


def test_grid_order_and_record_fields():
    t = dse.sweep("Llama3_8B", ["H100", "A100"], [1, 8], ["fp16", "fp8"])
    keys = [(r["hardware"], r["batch_size"], r["precision"]) for r in t]
    assert keys[:4] == [("H100", 1, "fp16"), ("H100", 1, "fp8"), ("H100", 8, "fp16"), ("H100", 8, "fp8")]
    for f in ("model", "hardware", "batch_size", "precision", "latency", "throughput", "bottleneck", "mfu",
              "feasible", "energy", "reasons", "error"):
        assert f in t[0]


def test_decode_throughput_grows_and_latency_grows_with_batch():
    """Roofline physics: a bigger decode batch amortises the weights (more tokens/s) but each step takes longer."""
    t = dse.sweep("Llama3_8B", "H100", [1, 2, 4, 8, 16, 32, 64, 128], "fp16")
    lat, thr = t.column("latency"), t.column("throughput")
    assert all(b > a for a, b in zip(lat, lat[1:]))
    assert all(b > a for a, b in zip(thr, thr[1:]))


def test_infeasible_points_are_kept_marked_or_dropped():
    kept = dse.sweep(["Llama3_8B", "Llama3_70B"], "A100", [1], "fp16")
    rows = {r["model"]: r for r in kept}
    assert rows["Llama3_8B"]["feasible"] and rows["Llama3_8B"]["reasons"] == ()
    big = rows["Llama3_70B"]
    assert not big["feasible"] and big["error"] is None and "GiB" in big["reasons"][0]
    dropped = dse.sweep(["Llama3_8B", "Llama3_70B"], "A100", [1], "fp16", drop_infeasible=True)
    assert [r["model"] for r in dropped] == ["Llama3_8B"]


def test_errors_name_the_problem_instead_of_failing_the_sweep():
    t = dse.sweep("Llama3_8B", "H100", [1], ["fp16", "fp4x"])
    assert t[0]["error"] is None
    assert "UnsupportedPrecisionError" in t[1]["error"] and math.isnan(t[1]["latency"])


def test_bad_arguments_raise():
    with pytest.raises(mlsysim.errors.InvalidInputError):
        dse.sweep("Llama3_8B", "H100", solver="nope")
    with pytest.raises(mlsysim.errors.InvalidInputError):
        dse.sweep("Llama3_8B", "H100", backend="gpu")
    with pytest.raises(mlsysim.errors.InvalidInputError):
        dse.sweep("Llama3_8B", "H100", batch_sizes=[])


def test_engine_options_route_every_point_through_engine_solve():
    t = dse.sweep("Llama3_8B", "H100", [1, 8], "int8", weight_only=True)
    for rec in t:
        r = Engine.solve("Llama3_8B", "H100", rec["batch_size"], "int8", weight_only=True)
        assert _close(rec["latency"], r.latency.m_as("s"))


def test_fewer_weight_bytes_speed_up_a_memory_bound_decode():
    """Roofline physics: at batch 1 a decode step streams the weights, so fp8 and int4 weights are faster."""
    t = dse.sweep("Llama3_8B", "H100", [1], ["fp16", "fp8", "int4"])
    lat = t.column("latency")
    assert all(r["bottleneck"] == "Memory" for r in t)
    assert lat[0] > lat[1] > lat[2]


def test_longer_context_costs_more_per_decode_step():
    t = dse.sweep("Llama3_8B", ["H100", "A100"], [8], "fp16", [512, 2048, 8192, 32768])
    for hw in ("H100", "A100"):
        lat = [r["latency"] for r in t if r["hardware"] == hw]
        assert all(b > a for a, b in zip(lat, lat[1:]))
