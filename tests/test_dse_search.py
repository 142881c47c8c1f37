"""dse.search, dse.pareto, cost_per_hour, the serving and training tiers, and the table's exports."""
from __future__ import annotations

import csv
import io
import json
import random

import pytest

import mlsysim
from mlsysim import Engine, dse
from mlsysim.errors import CatalogError, InvalidInputError


def test_pareto_front_is_non_dominated_and_complete():
    rng = random.Random(7)
    xs = [rng.random() for _ in range(300)]
    ys = [rng.random() for _ in range(300)]
    front = set(dse.pareto(xs, ys))  # minimise x, maximise y
    for i in range(300):
        dominated = any(xs[j] <= xs[i] and ys[j] >= ys[i] and (xs[j], ys[j]) != (xs[i], ys[i]) for j in range(300))
        assert (i in front) == (not dominated), i


def test_pareto_of_a_sweep_orders_latency_and_throughput():
    t = dse.sweep(["Llama3_8B", "Llama3_70B"], ["H100", "A100", "L4"], [1, 4, 16, 64, 256], ["fp16", "fp8", "int4"])
    front = dse.pareto([r for r in t if r["feasible"]], "latency", "throughput")
    assert len(front) >= 2
    lat = [r["latency"] for r in front]
    thr = [r["throughput"] for r in front]
    assert lat == sorted(lat) and thr == sorted(thr)  # more throughput only at more latency
    assert all(r["feasible"] for r in front)


def test_cost_per_hour_from_the_catalog_with_provenance():
    usd, source = dse.cost_per_hour("H100")
    unit = mlsysim.Hardware.H100.economics.unit_cost.m_as("USD")
    hours = 365.0 * 24.0
    assert abs(usd - (unit / (3 * hours) + 0.05 * unit / hours)) < 1e-12 * usd
    assert "http" in source
    # a longer depreciation period lowers the hourly cost
    assert dse.cost_per_hour("H100", amortization_years=5.0)[0] < usd
    no_price = next(h for h in mlsysim.Hardware if h.economics is None or h.economics.unit_cost is None)
    with pytest.raises(CatalogError, match="unit_cost"):
        dse.cost_per_hour(no_price)


def test_search_maximises_tokens_per_dollar_under_a_tpot_bound():
    t = dse.sweep(["Llama3_8B", "Llama3_70B"], ["H100", "A100_40GB", "A100"], [1, 8, 32, 128, 512], ["fp16", "fp8", "int4"])
    best = dse.search(t, "tokens_per_dollar", {"tpot": ("<=", 0.050), "feasible": True}, top=5)
    assert best, "some configuration meets 50 ms"
    assert all(r["tpot"] <= 0.050 and r["feasible"] for r in best)
    assert all(r["hardware"] != "A100" for r in best)  # no catalog price: no cost, never ranked
    vals = [r["objective"] for r in best]
    assert vals == sorted(vals, reverse=True)
    r = best[0]
    assert abs(r["tokens_per_dollar"] - r["throughput"] * 3600 / r["usd_per_hour"]) <= 1e-12 * r["tokens_per_dollar"]
    # nothing that meets the constraints beats the winner
    for rec in t:
        if rec["feasible"] and rec["latency"] <= 0.050 and rec["hardware"] in ("H100", "A100_40GB"):
            tpd = rec["throughput"] * 3600 / dse.cost_per_hour(rec["hardware"])[0]
            assert tpd <= r["tokens_per_dollar"] * (1 + 1e-12)
    # a tighter bound can only lower the best value
    tight = dse.search(t, "tokens_per_dollar", {"tpot": ("<=", 0.010), "feasible": True}, top=1)
    assert not tight or tight[0]["objective"] <= r["objective"]
    # electricity adds cost, so it lowers tokens per dollar
    with_power = dse.search(t, "tokens_per_dollar", {"tpot": ("<=", 0.050), "feasible": True}, top=1, kwh_price=0.1)
    assert with_power[0]["objective"] < r["objective"]


def test_search_takes_a_space_and_a_function_objective():
    best = dse.search({"models": "Llama3_8B", "hardware": ["H100", "A100"], "batch_sizes": [1, 64]},
                      lambda r: -r["energy"], lambda r: r["feasible"], top=1)
    assert best[0]["energy"] == min(r["energy"] for r in dse.sweep("Llama3_8B", ["H100", "A100"], [1, 64]))
    with pytest.raises(InvalidInputError):
        dse.search(dse.sweep("Llama3_8B", "H100"), "mfu", {"mfu": ("~", 1)})


def test_serving_tier_matches_serving_model():
    from mlsysim.solvers import ServingModel
    t = dse.sweep("Llama3_8B", "H100", [1, 16], "fp16", [512], solver="serving", output_len=64)
    for rec in t:
        r = ServingModel().solve("Llama3_8B", "H100", rec["batch_size"], "fp16", prompt_len=512, output_len=64)
        assert abs(rec["latency"] - r.latency.m_as("s")) <= 1e-12 * rec["latency"]
        assert abs(rec["tpot"] - r.tpot.m_as("s")) <= 1e-12 * rec["tpot"]
        assert rec["feasible"] == r.feasible


def test_training_tier_matches_engine_training():
    t = dse.sweep("Llama3_8B", ["H100", "A100"], [1, 4], "bf16", [2048], solver="training")
    for rec in t:
        r = Engine.solve("Llama3_8B", rec["hardware"], rec["batch_size"], "bf16", is_training=True, seq_len=2048)
        assert abs(rec["latency"] - r.latency.m_as("s")) <= 1e-12 * rec["latency"]
        assert rec["feasible"] == r.feasible
        if not rec["feasible"]:
            assert rec["reasons"]


def test_exports_round_trip():
    t = dse.sweep(["Llama3_8B", "Llama3_70B"], ["H100", "A100"], [1, 8], ["fp16", "fp4x"])
    rows = list(csv.DictReader(io.StringIO(t.to_csv())))
    assert len(rows) == len(t) and set(rows[0]) == set(t.fields)
    assert float(rows[0]["latency"]) == t[0]["latency"]
    assert rows[1]["error"] and rows[1]["latency"] == ""
    data = json.loads(t.to_json())
    assert len(data) == len(t) and data[1]["latency"] is None and data[0]["reasons"] == []


def test_exports_to_files(tmp_path):
    t = dse.sweep("Llama3_8B", "H100", [1, 2])
    t.to_csv(tmp_path / "a.csv")
    t.to_json(tmp_path / "a.json")
    assert (tmp_path / "a.csv").read_text().count("\n") == 3
    assert len(json.loads((tmp_path / "a.json").read_text())) == 2


def test_pandas_and_arrow_only_when_installed():
    t = dse.sweep("Llama3_8B", "H100", [1, 2])
    try:
        import pandas  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="pandas"):
            t.to_pandas()
    else:
        assert len(t.to_pandas()) == 2
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="pyarrow"):
            t.to_arrow()
    else:
        assert t.to_arrow().num_rows == 2
