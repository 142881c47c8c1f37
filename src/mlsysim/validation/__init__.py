"""Accuracy against published measurements: predicted vs measured per case, median error per metric.

Cases live in tests/validation/cases.csv (one row per measurement, each citing its source). Run:
    python -m mlsysim.validation [--cases PATH] [--markdown]

Columns of note: `runtime` names the mlsysim.Runtimes entry the row's software stack is predicted with (empty:
the engine default); `seq_len` is a context length (every sequence that long) or a ragged batch written
"mean=177;mean_square=36200;max=384" (E[L] tokens, E[L^2] tokens^2, the longest), passed as Engine.solve's
seq_lens under the runtime's pack/pad rule. Each measured rate is also checked against the device's dense peak
(mlsysim.validation.guard): a row implying more than 100 % utilisation has a wrong workload definition.
"""
from __future__ import annotations

import csv
import statistics
import sys
from pathlib import Path
import attrs

# Metrics that are a rate (items per second per device) and metrics that are the time of one pass (ms).
RATE_METRICS = ("decode_tokens_per_s", "samples_per_s", "train_tokens_per_s")
TIME_METRICS = ("latency_ms", "ttft_ms")


def cases_dir() -> Path:
    """Where the validation cases live: inside the wheel (mlsysim/_data/validation, see pyproject.toml) or, in a
    source checkout, tests/validation/ (so an edited row shows at once)."""
    wheel = Path(__file__).resolve().parents[1] / "_data" / "validation"
    if (wheel / "cases.csv").is_file():
        return wheel
    return Path(__file__).resolve().parents[3] / "tests" / "validation"


DEFAULT_CASES = cases_dir() / "cases.csv"
# Metrics whose error is a relative error; "fits" is scored as agreement (0 or 100 %).
METRIC_UNITS = {"decode_tokens_per_s": "tok/s", "train_tokens_per_s": "tok/s", "ttft_ms": "ms", "training_mfu": "", "training_hfu": "", "tokens_per_s_per_gpu": "tok/s/GPU", "samples_per_s": "samples/s", "latency_ms": "ms",
                "joules_per_token": "J/token", "joules_per_sample": "J/sample", "fits": "", "weights_gib": "GiB",
                "throughput_tok_s": "tok/s", "tpot_ms": "ms", "itl_p50_ms": "ms", "ttft_p50_ms": "ms",
                "ttft_ms_serving": "ms", "energy_per_token_j": "J/token", "server_throughput_tok_s": "tok/s",
                "memory_gib_per_gpu": "GiB"}  # serving rows: validation/serving.py; training: validation/distributed.py


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
    # Model FLOP/s the measurement implies over the dense peak at the row's precision (None: not a rate or time).
    utilisation: float | None = None

    @property
    def error(self) -> float:
        """Absolute percentage error (fits: 0 when the verdict agrees, 100 otherwise)."""
        if self.metric == "fits":
            return 0.0 if bool(self.predicted) == bool(self.measured) else 100.0
        return abs(self.predicted - self.measured) / abs(self.measured) * 100.0


def load_cases(path: Path | str = DEFAULT_CASES) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def parse_seq(value: str | None) -> tuple[int | None, object]:
    """(seq_len, seq_lens) of a row's seq_len column: "" -> (None, None); "1024" -> (1024, None);
    "mean=177;mean_square=36200;max=384" -> (None, SequenceLengths(...))."""
    value = (value or "").strip()
    if not value:
        return None, None
    if "=" not in value:
        return int(value), None
    from ..specs.sequences import SequenceLengths

    fields = dict(part.split("=", 1) for part in value.split(";"))
    unknown = sorted(set(fields) - {"mean", "mean_square", "max"})
    if unknown or "mean" not in fields or "mean_square" not in fields:
        raise ValueError(f"seq_len {value!r}: a ragged batch is 'mean=..;mean_square=..[;max=..]'")
    return None, SequenceLengths(mean=float(fields["mean"]), mean_square=float(fields["mean_square"]),
                                 max=int(fields["max"]) if "max" in fields else None)


def solve_case(case: dict[str, str]):
    """(profile, predicted value of the row's metric)."""
    from ..core.engine import Engine

    seq, seq_lens = parse_seq(case.get("seq_len"))
    metric = case["metric"]
    # runtime: a name of mlsysim.Runtimes when the row's software stack is modelled, empty for the engine default
    options = dict(seq_len=seq, weight_only=case.get("weight_only") == "1", runtime=case.get("runtime") or None,
                   seq_lens=seq_lens)
    if metric == "ttft_ms":  # prompt prefill is an experimental solver option, not part of Engine.solve
        from ..core.solver import RooflineModel

        r = RooflineModel().solve(case["model"], case["hardware"], int(case["batch_size"]), case["precision"],
                                  prefill=True, **options)
        return r, r.latency.to("s").magnitude * 1e3
    r = Engine.solve(case["model"], case["hardware"], int(case["batch_size"]), case["precision"],
                     is_training=metric.startswith("train_"), **options)
    per_step = r.latency.to("s").magnitude
    if metric in RATE_METRICS:
        return r, r.throughput.to("1/s").magnitude
    if metric == "latency_ms":
        return r, per_step * 1e3
    if metric in ("joules_per_token", "joules_per_sample"):
        return r, r.energy.to("J").magnitude / r.batch_size
    if metric == "fits":
        return r, 1.0 if r.feasible else 0.0
    if metric == "weights_gib":
        return r, r.memory.weights / 2**30
    raise ValueError(f"unknown metric {metric!r} in validation case {case['id']}")


def predict(case: dict[str, str]) -> float:
    return solve_case(case)[1]


def run(path: Path | str = DEFAULT_CASES) -> list[CaseResult]:
    from .guard import implied_utilisation

    out = []
    for case in load_cases(path):
        measured = float(case["measured"])
        devices = int(case.get("devices") or 1)
        if case["metric"] in RATE_METRICS:
            measured /= devices  # per-system MLPerf rows are compared per device (independent replicas)
        profile, predicted = solve_case(case)
        out.append(CaseResult(case["id"], case["metric"], case.get("role") or "holdout", case["model"],
                              case["hardware"], measured, predicted, case.get("runtime") or "",
                              implied_utilisation(case["metric"], measured, profile)))
    return out


def median_errors(results: list[CaseResult], role: str | None = "holdout") -> dict[str, float]:
    """Median absolute percentage error per metric (by default over held-out rows only)."""
    by_metric: dict[str, list[float]] = {}
    for r in results:
        if role is not None and r.role != role:
            continue
        by_metric.setdefault(r.metric, []).append(r.error)
    return {m: statistics.median(v) for m, v in sorted(by_metric.items())}


ENGINE_DEFAULT = "engine default"  # the runtime label of rows predicted with runtime=None


def median_errors_by_runtime(results: list[CaseResult]) -> dict[str, dict[str, tuple[float, int]]]:
    """{runtime: {metric: (median absolute % error, rows)}} over held-out rows; rows without a runtime under
    ENGINE_DEFAULT."""
    groups: dict[str, dict[str, list[float]]] = {}
    for r in results:
        if r.role == "holdout":
            groups.setdefault(r.runtime or ENGINE_DEFAULT, {}).setdefault(r.metric, []).append(r.error)
    order = sorted(groups, key=lambda name: (name != ENGINE_DEFAULT, name))
    return {name: {m: (statistics.median(v), len(v)) for m, v in sorted(groups[name].items())} for name in order}


def markdown_table(results: list[CaseResult]) -> str:
    """The README's accuracy-by-runtime table (held-out rows): `python -m mlsysim.validation --markdown`."""
    lines = ["| runtime | metric | median error | rows |", "|---|---|---:|---:|"]
    for name, metrics in median_errors_by_runtime(results).items():
        for metric, (err, n) in metrics.items():
            lines.append(f"| {name} | {metric} | {err:.1f} % | {n} |")
    return "\n".join(lines)


def report(results: list[CaseResult]) -> str:
    from .guard import UTILISATION_LIMIT, flagged

    lines = [f"{'id':<7} {'metric':<20} {'model':<16} {'hardware':<15} {'runtime':<14} {'measured':>12} "
             f"{'predicted':>12} {'unit':<9} {'err %':>7} {'util %':>7}  role"]
    for r in results:
        util = f"{r.utilisation * 100:7.1f}" if r.utilisation is not None else f"{'-':>7}"
        lines.append(f"{r.id:<7} {r.metric:<20} {r.model:<16} {r.hardware:<15} {r.runtime or ENGINE_DEFAULT:<14} "
                     f"{r.measured:>12.5g} {r.predicted:>12.5g} {METRIC_UNITS[r.metric]:<9} {r.error:>7.1f} {util}  "
                     f"{r.role}")
    lines.append("")
    lines.append("median absolute percentage error per metric, held-out rows (calibration rows excluded):")
    counts: dict[str, int] = {}
    for r in results:
        if r.role == "holdout":
            counts[r.metric] = counts.get(r.metric, 0) + 1
    for metric, err in median_errors(results).items():
        lines.append(f"  {metric:<20} {err:6.1f} %  (n={counts[metric]})")
    lines.append("")
    lines.append("per runtime (held-out rows; rows without a runtime: engine default):")
    for name, metrics in median_errors_by_runtime(results).items():
        for metric, (err, n) in metrics.items():
            lines.append(f"  {name:<16} {metric:<20} {err:6.1f} %  (n={n})")
    lines.append("")
    bad = flagged(results)
    lines.append(f"utilisation guard: {len(bad)} row(s) imply more than {UTILISATION_LIMIT:.0%} of the dense peak"
                 + "".join(f"\n  {r.id}: {r.utilisation:.0%} (a wrong workload definition: check seq_len, "
                           f"devices, precision)" for r in bad))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    import argparse

    p = argparse.ArgumentParser(prog="python -m mlsysim.validation", description=__doc__.splitlines()[0])
    p.add_argument("--cases", default=str(DEFAULT_CASES))
    p.add_argument("--markdown", action="store_true",
                   help="print only the accuracy-by-runtime table of the README (held-out rows)")
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
    if args.markdown:  # the README's per-runtime table of the single-device rows
        print(markdown_table(results))
        return 0
    from .serving import DEFAULT_EXPRESSIBILITY, DEFAULT_SERVING_CASES, breakdown, expressibility_report
    from .serving import run as run_serving

    serving = Path(args.cases).parent / DEFAULT_SERVING_CASES.name
    if serving.is_file():  # experimental ServingModel rows (trtllm-bench, vLLM), issue 10
        results += run_serving(serving)
    print(report(results))
    if serving.is_file():
        print(breakdown(results, serving))
        readings = serving.parent / DEFAULT_EXPRESSIBILITY.name
        if readings.is_file():
            print(expressibility_report(readings, serving))
    return 0


__all__ = ["CaseResult", "load_cases", "parse_seq", "solve_case", "predict", "run", "median_errors",
           "median_errors_by_runtime", "markdown_table", "report", "main"]
