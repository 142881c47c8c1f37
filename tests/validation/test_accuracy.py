"""Accuracy against published and project-measured results (tests/validation/cases.csv, every row cited).

Fails when the held-out median error of a metric regresses past tests/validation/bounds.toml.
"""
from __future__ import annotations

import csv
import sys
from pathlib import Path

import pytest

from mlsysim.validation import median_errors, run

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

HERE = Path(__file__).parent
CASES = HERE / "cases.csv"
BOUNDS = tomllib.loads((HERE / "bounds.toml").read_text())["median_ape_percent"]


@pytest.fixture(scope="module")
def results():
    from mlsysim.validation.distributed import run as run_distributed

    return run(CASES) + run_distributed(HERE / "distributed_cases.csv")


def test_every_case_cites_a_source():
    for row in csv.DictReader(CASES.open()):
        assert row["source"].strip() and row["measured"].strip(), row["id"]
        assert row["role"] in ("calibration", "holdout"), row["id"]


def test_measured_device_rows_come_with_their_script_and_raw_output():
    assert (HERE / "device" / "h200-2026-11-26.json").exists()
    assert (HERE.parents[1] / "benchmarks" / "device" / "measure_gpu.py").exists()


@pytest.mark.parametrize("metric", sorted(BOUNDS))
def test_median_error_within_recorded_bound(results, metric):
    errors = median_errors(results)
    assert metric in errors, f"no held-out case for {metric}"
    assert errors[metric] <= BOUNDS[metric], f"{metric}: median error {errors[metric]:.1f}% > {BOUNDS[metric]}%"


def test_memory_verdicts_all_agree(results):
    assert all(r.error == 0 for r in results if r.metric == "fits")
