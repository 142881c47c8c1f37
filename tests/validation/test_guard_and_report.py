"""Validation harness: ragged seq_len cells, the utilisation guard (a measured rate above the dense peak is a wrong
workload definition) and the per-runtime accuracy table the README carries."""
from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from mlsysim import SequenceLengths
from mlsysim.validation import (ENGINE_DEFAULT, markdown_table, median_errors, median_errors_by_runtime, parse_seq,
                                run, solve_case)
from mlsysim.validation.guard import UTILISATION_LIMIT, flagged, implied_utilisation

HERE = Path(__file__).parent
CASES = HERE / "cases.csv"
README = HERE.parents[1] / "README.md"
START, END = "<!-- accuracy-by-runtime:start -->", "<!-- accuracy-by-runtime:end -->"


@pytest.fixture(scope="module")
def results():
    from mlsysim.validation.distributed import run as run_distributed

    return run(CASES) + run_distributed(HERE / "distributed_cases.csv")


def rows():
    return {r["id"]: r for r in csv.DictReader(CASES.open())}


def test_seq_len_cells():
    assert parse_seq("") == (None, None)
    assert parse_seq("1024") == (1024, None)
    seq, lengths = parse_seq("mean=177;mean_square=36200;max=384")
    assert seq is None and lengths == SequenceLengths(mean=177.0, mean_square=36200.0, max=384)
    with pytest.raises(ValueError):
        parse_seq("mean=177;rms=190")


def test_no_measured_row_implies_more_than_the_dense_peak(results):
    bad = flagged(results)
    assert not bad, [(r.id, round(r.utilisation, 2)) for r in bad]
    rated = [r for r in results if r.utilisation is not None]
    assert len(rated) > 30 and all(0 < r.utilisation <= UTILISATION_LIMIT for r in rated)


def test_the_guard_flags_a_padded_bert_row():
    """GT022 (MLPerf BERT, 8 x A100) read with every question padded to 384 tokens would need 140 % of the A100's
    dense int8 peak: the guard catches that workload definition."""
    case = dict(rows()["GT022"], seq_len="384")
    profile, _ = solve_case(case)
    per_device = float(case["measured"]) / int(case["devices"])
    assert implied_utilisation("samples_per_s", per_device, profile) > UTILISATION_LIMIT
    real = dict(rows()["GT022"])
    profile, _ = solve_case(real)
    assert implied_utilisation("samples_per_s", per_device, profile) < UTILISATION_LIMIT


def test_implied_utilisation_by_hand():
    # RAG02: one A100 at 3590 samples/s of BERT-Large x 177 real tokens; 2 x 334M matmul params + attention per
    # token over a 624 TOP/s dense int8 peak.
    case = rows()["RAG02"]
    profile, _ = solve_case(case)
    per_sample = profile.flops / profile.batch_size
    assert per_sample == pytest.approx(2 * 334e6 * 177, rel=0.08)
    u = implied_utilisation("samples_per_s", float(case["measured"]), profile)
    assert u == pytest.approx(per_sample * float(case["measured"]) / profile.dense_peak_flops)
    assert implied_utilisation("joules_per_sample", 1.0, profile) is None


def test_errors_by_runtime_group_rows_without_a_runtime_as_engine_default(results):
    groups = median_errors_by_runtime(results)
    assert next(iter(groups)) == ENGINE_DEFAULT
    assert groups["tensorrt"]["samples_per_s"][1] == sum(1 for r in results if r.runtime == "tensorrt"
                                                        and r.metric == "samples_per_s" and r.role == "holdout")
    total = sum(n for metrics in groups.values() for _, n in metrics.values())
    assert total == sum(1 for r in results if r.role == "holdout")
    if set(groups) == {ENGINE_DEFAULT}:  # one group: the per-metric medians
        assert {m: e for m, (e, _) in groups[ENGINE_DEFAULT].items()} == median_errors(results)


def test_readme_table_is_the_harness_output(results):
    """The README's accuracy-by-runtime table is `python -m mlsysim.validation --markdown`, pasted between its
    markers: regenerate it when rows or the model change."""
    text = README.read_text(encoding="utf-8")
    block = re.search(re.escape(START) + r"\n(.*?)\n" + re.escape(END), text, re.S)
    assert block, f"README lacks the {START} ... {END} block"
    assert block.group(1).strip() == markdown_table(results), \
        "README accuracy-by-runtime table is stale: paste `python -m mlsysim.validation --markdown` into it"


def test_every_metric_has_a_unit_and_the_full_report_prints():
    """The plain report (python -m mlsysim.validation, `mlsysim validate`) prints every row of every harness: each
    metric of the three case files has a unit."""
    import contextlib
    import io

    from mlsysim.validation import METRIC_UNITS, main
    from mlsysim.validation import distributed, serving

    metrics = {r["metric"] for r in csv.DictReader((HERE / "cases.csv").open())}
    metrics |= {r["metric"] for r in serving.load()} | {r["metric"] for r in distributed.rows()}
    assert metrics <= set(METRIC_UNITS), metrics - set(METRIC_UNITS)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        main([])
    assert "energy_per_token_j" in out.getvalue() and "server_throughput_tok_s" in out.getvalue()
