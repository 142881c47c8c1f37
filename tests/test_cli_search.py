"""`mlsysim search`: objective + constraints over a swept space; JSON output, exit codes 0/1/2/3, and the
ranking agrees with dse.search on the same space (physics: a tighter bound never raises the best value)."""
from __future__ import annotations

import json

import pytest

from mlsysim import dse
from mlsysim.cli import main
from mlsysim.dse.constraints import normalise, parse_constraint
from mlsysim.errors import InvalidInputError

BASE = ["search", "--models", "Llama3_8B", "--hardware", "H100,L40S", "--batch-sizes", "1,8,64,256"]


def _json(args, capsys):
    code = main([*args, "--json"])
    captured = capsys.readouterr()
    return code, (json.loads(captured.out) if captured.out else None), captured.err


def test_maximise_throughput_per_dollar_under_a_tpot_bound(capsys):
    code, rep, _ = _json([*BASE, "--maximize", "throughput_per_dollar", "--constraint", "tpot<=50ms"], capsys)
    assert code == 0 and rep["satisfying"] >= 1 and rep["best"]
    assert rep["constraints"] == ["tpot <= 0.05 s"]
    best = rep["best"]
    assert all(r["feasible"] and r["tpot"] <= 0.05 for r in best)
    vals = [r["objective"] for r in best]
    assert vals == sorted(vals, reverse=True)
    # tokens per dollar = tokens/s x 3600 / (USD per device-hour from the catalog)
    r = best[0]
    usd, _ = dse.cost_per_hour(r["hardware"])
    assert abs(r["throughput_per_dollar"] - r["throughput"] * 3600 / usd) <= 1e-12 * r["throughput_per_dollar"]
    # the same as the library's search on the same space
    t = dse.sweep("Llama3_8B", ["H100", "L40S"], [1, 8, 64, 256], "fp16")
    lib = dse.search(t, "throughput_per_dollar", ["feasible", "tpot<=50ms"], top=1)
    assert lib[0]["objective"] == r["objective"]
    assert all(x["hardware"] not in rep["unpriced_hardware"] for x in best)  # no price: never ranked on cost


def test_a_tighter_bound_never_raises_the_best(capsys):
    loose = _json([*BASE, "--maximize", "throughput", "--constraint", "tpot<=100ms"], capsys)[1]
    tight = _json([*BASE, "--maximize", "throughput", "--constraint", "tpot<=10ms"], capsys)[1]
    assert tight["satisfying"] <= loose["satisfying"]
    if tight["best"]:
        assert tight["best"][0]["objective"] <= loose["best"][0]["objective"]


def test_minimise_and_several_bounds_on_one_field(capsys):
    code, rep, _ = _json([*BASE, "--minimize", "energy", "--constraint", "latency>=5ms",
                          "--constraint", "latency<=0.05s", "--top", "3"], capsys)
    assert code == 0 and len(rep["best"]) <= 3
    assert all(0.005 <= r["latency"] <= 0.05 for r in rep["best"])
    e = [r["energy"] for r in rep["best"]]
    assert e == sorted(e)


def test_exit_3_when_configurations_fit_but_none_meets_the_constraints(capsys):
    code, rep, err = _json([*BASE, "--maximize", "throughput", "--constraint", "tpot<=1us"], capsys)
    assert code == 3 and rep["best"] == [] and rep["feasible"] > 0
    assert rep["closest"]["feasible"] and "none meets" in err


def test_exit_2_when_nothing_fits(capsys):
    code, rep, err = _json(["search", "--models", "Llama31_405B", "--hardware", "L4", "--batch-sizes", "1,8",
                            "--maximize", "throughput"], capsys)
    assert code == 2 and rep["feasible"] == 0 and rep["best"] == []
    assert "GiB" in err and err.count("\n") == 1


@pytest.mark.parametrize("extra", [
    ["--maximize", "throughput", "--constraint", "tpot<=50kg"],        # wrong dimension
    ["--maximize", "throughput", "--constraint", "speed<=5"],          # unknown field
    ["--maximize", "throughput", "--constraint", "tpot~5"],            # no operator
    ["--maximize", "nonsense"],                                        # unknown objective
    ["--maximize", "ttft"],                                            # engine tier has no ttft
    ["--maximize", "throughput", "--output-len", "64"],                # a serving option without --solver serving
])
def test_bad_input_is_exit_1_with_one_line(extra, capsys):
    code, rep, err = _json([*BASE, *extra], capsys)
    assert code == 1 and rep is None
    assert err.startswith("mlsysim: error:") and err.count("\n") == 1


def test_cost_objective_without_any_price_is_bad_input(capsys):
    code, _, err = _json(["search", "--models", "Llama3_8B", "--hardware", "A100", "--maximize",
                          "throughput_per_dollar"], capsys)
    assert code == 1 and "unit_cost" in err


def test_serving_solver_ranks_with_ttft_and_tpot(capsys):
    code, rep, _ = _json(["search", "--models", "Llama3_8B", "--hardware", "H100", "--solver", "serving",
                          "--seq-lens", "512", "--output-len", "64", "--batch-sizes", "1,16,64",
                          "--maximize", "throughput", "--constraint", "ttft<=2s", "--constraint", "tpot<=40ms"],
                         capsys)
    assert code == 0
    assert all(r["ttft"] <= 2 and r["tpot"] <= 0.04 for r in rep["best"])


def test_human_output_is_a_table(capsys):
    assert main([*BASE, "--maximize", "throughput", "--constraint", "tpot<=50ms"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("search: max throughput subject to fits in memory and tpot <= 0.05 s")
    assert "rank" in text and "H100" in text


def test_constraint_text_reads_units_percent_and_booleans():
    assert parse_constraint("tpot<=50ms") == ("tpot", "<=", pytest.approx(0.05))
    assert parse_constraint("ttft < 2 s")[2] == pytest.approx(2.0)
    assert parse_constraint("mfu>=40%") == ("mfu", ">=", pytest.approx(0.4))
    assert parse_constraint("throughput>=1000 token/s")[2] == pytest.approx(1000.0)
    assert parse_constraint("energy<=2 mJ")[2] == pytest.approx(0.002)
    assert parse_constraint("feasible") == ("feasible", "==", True)
    assert parse_constraint("feasible=false") == ("feasible", "==", False)
    assert parse_constraint("precision!=int4") == ("precision", "!=", "int4")
    with pytest.raises(InvalidInputError):
        parse_constraint("precision<=int4")
    with pytest.raises(InvalidInputError):
        parse_constraint("mfu>=3 s")  # a plain number takes no unit
    assert normalise({"latency": ("<=", 1.0), "feasible": True}) == [("latency", "<=", 1.0), ("feasible", "==", True)]
