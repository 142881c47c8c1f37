"""Accuracy against published measurements: predicted vs measured per case, median error per metric.

Cases live in tests/validation/cases.csv (one row per measurement, each citing its source). Run:
    python -m mlsysim.validation [--cases PATH]
"""
from __future__ import annotations

import csv
import statistics
import sys
from pathlib import Path
import attrs

DEFAULT_CASES = Path(__file__).resolve().parents[3] / "tests" / "validation" / "cases.csv"
# Metrics whose error is a relative error; "fits" is scored as agreement (0 or 100 %).
METRIC_UNITS = {"decode_tokens_per_s": "tok/s", "train_tokens_per_s": "tok/s", "ttft_ms": "ms", "training_mfu": "", "samples_per_s": "samples/s", "latency_ms": "ms",
                "joules_per_token": "J/token", "joules_per_sample": "J/sample", "fits": "", "weights_gib": "GiB",
                "throughput_tok_s": "tok/s", "tpot_ms": "ms", "ttft_ms_serving": "ms"}  # serving rows: validation/serving.py


@attrs.frozen
class CaseResult:
    id: str
    metric: str
    role: str  # "calibration" rows set a catalog efficiency; "holdout" rows only measure error
    model: str
    hardware: str
    measured: float
    predicted: float
    runtime: str = ""  # the mlsysim.Runtimes name the row was predicted with ("" = engine default)

    @property
    def error(self) -> float:
        """Absolute percentage error (fits: 0 when the verdict agrees, 100 otherwise)."""
        if self.metric == "fits":
            return 0.0 if bool(self.predicted) == bool(self.measured) else 100.0
        return abs(self.predicted - self.measured) / abs(self.measured) * 100.0


def load_cases(path: Path | str = DEFAULT_CASES) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def predict(case: dict[str, str]) -> float:
    from ..core.engine import Engine

    seq = int(case["seq_len"]) if case.get("seq_len") else None
    metric = case["metric"]
    # runtime: a name of mlsysim.Runtimes when the row's software stack is modelled, empty for the engine default
    options = dict(seq_len=seq, weight_only=case.get("weight_only") == "1", runtime=case.get("runtime") or None)
    if metric == "ttft_ms":  # prompt prefill is an experimental solver option, not part of Engine.solve
        from ..core.solver import RooflineModel

        r = RooflineModel().solve(case["model"], case["hardware"], int(case["batch_size"]), case["precision"],
                                  prefill=True, **options)
        return r.latency.to("s").magnitude * 1e3
    r = Engine.solve(case["model"], case["hardware"], int(case["batch_size"]), case["precision"],
                     is_training=metric.startswith("train_"), **options)
    per_step = r.latency.to("s").magnitude
    if metric in ("decode_tokens_per_s", "samples_per_s", "train_tokens_per_s"):
        return r.throughput.to("1/s").magnitude
    if metric == "latency_ms":
        return per_step * 1e3
    if metric in ("joules_per_token", "joules_per_sample"):
        return r.energy.to("J").magnitude / r.batch_size
    if metric == "fits":
        return 1.0 if r.feasible else 0.0
    if metric == "weights_gib":
        return r.memory.weights / 2**30
    raise ValueError(f"unknown metric {metric!r} in validation case {case['id']}")


def run(path: Path | str = DEFAULT_CASES) -> list[CaseResult]:
    out = []
    for case in load_cases(path):
        measured = float(case["measured"])
        devices = int(case.get("devices") or 1)
        if case["metric"] in ("samples_per_s", "decode_tokens_per_s", "train_tokens_per_s"):
            measured /= devices  # per-system MLPerf rows are compared per device (independent replicas)
        out.append(CaseResult(case["id"], case["metric"], case.get("role") or "holdout", case["model"],
                              case["hardware"], measured, predict(case), case.get("runtime") or ""))
    return out


def median_errors(results: list[CaseResult], role: str | None = "holdout") -> dict[str, float]:
    """Median absolute percentage error per metric (by default over held-out rows only)."""
    by_metric: dict[str, list[float]] = {}
    for r in results:
        if role is not None and r.role != role:
            continue
        by_metric.setdefault(r.metric, []).append(r.error)
    return {m: statistics.median(v) for m, v in sorted(by_metric.items())}


def report(results: list[CaseResult]) -> str:
    lines = [f"{'id':<7} {'metric':<20} {'model':<16} {'hardware':<15} {'measured':>12} {'predicted':>12} "
             f"{'unit':<9} {'err %':>7}  role"]
    for r in results:
        lines.append(f"{r.id:<7} {r.metric:<20} {r.model:<16} {r.hardware:<15} {r.measured:>12.5g} "
                     f"{r.predicted:>12.5g} {METRIC_UNITS[r.metric]:<9} {r.error:>7.1f}  {r.role}")
    lines.append("")
    lines.append("median absolute percentage error per metric, held-out rows (calibration rows excluded):")
    counts: dict[str, int] = {}
    for r in results:
        if r.role == "holdout":
            counts[r.metric] = counts.get(r.metric, 0) + 1
    for metric, err in median_errors(results).items():
        lines.append(f"  {metric:<20} {err:6.1f} %  (n={counts[metric]})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    import argparse

    p = argparse.ArgumentParser(prog="python -m mlsysim.validation", description=__doc__.splitlines()[0])
    p.add_argument("--cases", default=str(DEFAULT_CASES))
    args = p.parse_args(argv)
    if not Path(args.cases).is_file():
        print(f"mlsysim.validation: no cases file at {args.cases}; the cases live in the repository "
              "(tests/validation/cases.csv): run from a checkout or pass --cases PATH", file=sys.stderr)
        return 1
    results = run(args.cases)
    from .distributed import DEFAULT_DISTRIBUTED_CASES, run as run_distributed

    distributed = Path(args.cases).parent / DEFAULT_DISTRIBUTED_CASES.name
    if distributed.is_file():  # experimental DistributedModel rows (Megatron-Core MFU)
        results += run_distributed(distributed)
    from .serving import DEFAULT_SERVING_CASES, breakdown, run as run_serving

    serving = Path(args.cases).parent / DEFAULT_SERVING_CASES.name
    if serving.is_file():  # experimental ServingModel rows (trtllm-bench, vLLM), issue 10
        results += run_serving(serving)
    print(report(results))
    if serving.is_file():
        print(breakdown(results, serving))
    return 0


__all__ = ["CaseResult", "load_cases", "predict", "run", "median_errors", "report", "main"]
