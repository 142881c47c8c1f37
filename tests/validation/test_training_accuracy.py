"""Training accuracy (issue 12): the catalog's fitted training efficiencies are the harness's fit, and the
held-out error stays where it was recorded."""
from __future__ import annotations

from pathlib import Path
from statistics import median

import pytest

import mlsysim
from mlsysim.validation.distributed import SPEED_METRICS, fit_efficiencies, parallelism_kind, predict, rows

CASES = Path(__file__).parent / "distributed_cases.csv"
# Issue 12's held-out goals are median <= 8 %, none worse than 20 %. Recorded: median 7.2 % over 14 held-out speed
# rows, worst 19.8 % (GT085, Megatron-Core 462B TP8 PP16 with micro-batch 1 and no interleaving assumed: the README
# does not state the virtual stages); before uneven pipeline stages and op-level selective recomputation 8.2 / 20.6 %.
MEDIAN_GOAL, WORST_BOUND = 8.0, 20.0
# Per-GPU memory (torchtitan H100 benchmark, max reserved): goal 10 %. Recorded: the four Llama 3.1 8B FSDP rows
# 5.8-7.5 %, the 8B full-recomputation/CP rows 12.4-13.0 %, 70B TP8 21-26 %, 405B PP8 30-48 % (under-predicted:
# see the report); median 17.1 %. Bounds: the recorded values, rounded up.
MEMORY_MEDIAN_BOUND, MEMORY_FSDP_BOUND = 17.5, 8.0
# The catalog prints the fit to 3 decimals.
FIT_TOLERANCE = 0.002


def test_catalog_efficiencies_are_the_fit():
    for (name, hw), fitted in fit_efficiencies(CASES).items():
        t = mlsysim.Runtimes.get(name).training
        assert t.efficiency_on(hw) == pytest.approx(fitted, abs=FIT_TOLERANCE), (name, hw)


def test_every_training_row_cites_its_source_and_parallelism():
    for row in rows(CASES):
        assert row["source"].strip() and row["notes"].strip()
        assert row["role"] in ("calibration", "holdout", "excluded")
        assert row["role"] != "excluded" or "EXCLUDED" in row["notes"]  # the reason is written down
        assert row["id"].startswith(("TRN", "GT", "S12"))
        assert parallelism_kind(row)


def test_held_out_error_within_goals():
    errs = [abs(predict(r) / float(r["measured"]) - 1.0) * 100 for r in rows(CASES)
            if r["role"] == "holdout" and r["metric"] in SPEED_METRICS]
    assert len(errs) >= 14
    assert median(errs) <= MEDIAN_GOAL
    assert max(errs) <= WORST_BOUND


def test_memory_rows_within_recorded_bounds():
    mem = {r["id"]: abs(predict(r) / float(r["measured"]) - 1.0) * 100 for r in rows(CASES)
           if r["metric"] == "memory_gib_per_gpu"}
    assert len(mem) >= 16
    assert median(mem.values()) <= MEMORY_MEDIAN_BOUND
    assert all(mem[i] <= MEMORY_FSDP_BOUND for i in ("S12M01", "S12M02", "S12M03", "S12M04"))
