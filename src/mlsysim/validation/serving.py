"""Serving accuracy (experimental ServingModel, issue 10): published trtllm-bench and SGLang throughput, vLLM,
SGLang and NIM inter-token latency and TTFT rows (tests/validation/serving_cases.csv), predicted per runtime,
TP degree and concurrency band; and the share of benchmark rows expressible at all (expressibility()).

`concurrency` "max" is an offline max-load run: as many requests run as the KV cache holds, capped at the
runtime's max_num_seqs; "rate=X" is an open loop of Poisson arrivals at X requests/s per replica (as
bench_serving --request-rate), as many in flight as the KV cache holds; "server:ttft=MS,tpot=MS" (metric
server_throughput_tok_s) is an MLPerf Server result: output tokens/s at the largest Poisson rate whose TTFT p99 and
mean TPOT stay within the limits (core/serving/server_rate.py). `memory_fraction`, where a row gives one,
is the run's own --gpu-memory-utilization / --mem-fraction-static. Calibration rows may set a
runtime's fitted serving efficiencies; held-out rows only measure error (report(): median absolute error
per metric, runtime, TP degree and concurrency band).
"""
from __future__ import annotations

import csv
import statistics
from pathlib import Path

from . import DEFAULT_CASES, CaseResult

DEFAULT_SERVING_CASES = DEFAULT_CASES.parent / "serving_cases.csv"
# The serving rows of ../shared/reference/measurements-public.csv (LLM generation: MLPerf llama2-70b and
# gpt-j, trtllm-bench, llama.cpp, ML.ENERGY vLLM, DeepSpeed BLOOM) plus sources looked at but not gathered,
# each read as (model, hardware, precision, parallelism, runtime) or with the reason it cannot be.
DEFAULT_EXPRESSIBILITY = DEFAULT_CASES.parent / "serving_expressibility.csv"
# The MLPerf llama2-70b Server rows (GT002, GT004, GT011) are also accuracy rows (SV15104-6, metric
# server_throughput_tok_s): a Server result is the largest Poisson rate whose p99 TTFT <= 2 s and p99 TPOT <= 200 ms
# (mlcommons/inference loadgen/mlperf.conf), predicted as the largest rate whose model TTFT p99 and mean TPOT meet the
# limits (core/serving/server_rate.py; the model has no TPOT tail), not as a TPOT solve at the measured rate, which
# is ill-conditioned near saturation. Their readings stay here, as the Offline rows' (GT001, GT010) do.


def load(path: Path | str = DEFAULT_SERVING_CASES) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def predict(row: dict[str, str], runtime_spec=None):
    """(prediction, requests in flight); runtime_spec replaces the row's runtime (the fit's trial values)."""
    from ..core.serving import ServingModel

    s = ServingModel()
    opts = dict(prompt_len=int(row["prompt_len"]), output_len=int(row["output_len"]),
                tensor_parallel=int(row["tp"]), data_parallel=int(row["dp"]), expert_parallel=int(row["ep"]),
                pipeline_parallel=int(row["pp"]), runtime=runtime_spec or row["runtime"] or None,
                kv_precision=row["kv_precision"] or None, prompt_lengths=row.get("prompt_lengths") or "fixed",
                memory_fraction=float(row["memory_fraction"]) if row.get("memory_fraction") else None)
    rate = None
    limits = _server_limits(row) if row["concurrency"].startswith("server:") else None
    if row["concurrency"].startswith("rate="):  # open loop (MLPerf Server: Poisson arrivals at this rate per replica)
        rate = float(row["concurrency"][5:])
        opts["arrival_rate"] = rate
    if row["concurrency"] == "max" or rate is not None or limits is not None:
        probe = s.solve(row["model"], row["hardware"], 1, row["precision"],
                        **{k: v for k, v in opts.items() if k != "arrival_rate"})
        cap = runtime_spec.serving.max_num_seqs if runtime_spec is not None else _max_seqs(row["runtime"])
        n = max(1, min(probe.max_concurrent_sequences, cap) if cap else probe.max_concurrent_sequences)
    else:
        n = int(row["concurrency"])
    metric = row["metric"]
    if (metric == "server_throughput_tok_s") != (limits is not None):
        raise ValueError(f"{row['id']}: metric server_throughput_tok_s goes with concurrency "
                         f"'server:ttft=MS,tpot=MS' (and only it), got {metric!r} with {row['concurrency']!r}")
    if limits is not None:  # MLPerf Server: the largest Poisson rate within the TTFT p99 / TPOT limits
        return _server_throughput(s, row, n, opts, *limits), n
    r = s.solve(row["model"], row["hardware"], n, row["precision"], **opts)
    if metric == "throughput_tok_s":
        return r.throughput.m_as("token/s"), n
    if metric == "tpot_ms":
        return r.tpot.m_as("ms"), n
    if metric == "itl_p50_ms":  # median inter-token latency (ML.ENERGY median_itl_ms)
        return r.itl_p50.m_as("ms"), n
    if metric == "ttft_p50_ms":  # median time to first token of an open loop (bench_serving median_ttft_ms)
        return r.ttft_p50.m_as("ms"), n
    if metric == "ttft_ms_serving":
        return r.ttft.m_as("ms"), n
    if metric == "energy_per_token_j":  # GPU energy of a request over its output tokens (ML.ENERGY's Zeus figure)
        return r.energy.m_as("J") / int(row["output_len"]), n
    raise ValueError(f"unknown serving metric {metric!r} in {row['id']}")


def _server_limits(row: dict[str, str]) -> tuple[float, float]:
    """(TTFT limit s, TPOT limit s) of a concurrency cell 'server:ttft=2000,tpot=200' (milliseconds, as the
    benchmark's rules state them; MLPerf llama2-70b and mixtral-8x7b: 2000 / 200 ms)."""
    try:
        fields = dict(part.split("=", 1) for part in row["concurrency"][len("server:"):].split(","))
        limits = float(fields.pop("ttft")) / 1e3, float(fields.pop("tpot")) / 1e3
    except (KeyError, ValueError):
        raise ValueError(f"{row['id']}: concurrency {row['concurrency']!r} must read "
                         f"'server:ttft=MS,tpot=MS'") from None
    if fields:
        raise ValueError(f"{row['id']}: unknown server limits {sorted(fields)} in {row['concurrency']!r}")
    return limits


def _server_throughput(s, row: dict[str, str], n: int, opts: dict, ttft_limit_s: float, tpot_limit_s: float) -> float:
    """Output tokens/s at the largest compliant arrival rate (MLPerf Server's completed tokens/s): rate x output_len.
    The bisection's upper end is the closed loop's request rate at the n requests the KV cache / batch cap holds."""
    from ..core.serving.server_rate import max_compliant_rate

    closed = s.solve(row["model"], row["hardware"], n, row["precision"], **opts)
    found = max_compliant_rate(
        lambda x: s.solve(row["model"], row["hardware"], n, row["precision"], **opts, arrival_rate=x),
        closed.request_rate.m_as("1/s"), ttft_limit_s, tpot_limit_s)
    return found.rate * int(row["output_len"])


def _max_seqs(runtime: str) -> int | None:
    if not runtime:
        return None
    from ..core.solver import registries

    rt = registries().roots["Runtimes"].get(runtime)
    return rt.serving.max_num_seqs if rt.serving is not None else None


def run(path: Path | str = DEFAULT_SERVING_CASES) -> list[CaseResult]:
    out = []
    for row in load(path):
        pred, _ = predict(row)
        out.append(CaseResult(row["id"], row["metric"], row["role"], row["model"],
                              f"{row['hardware']} TP{row['tp']}", float(row["measured"]), pred, row["runtime"]))
    return out


def _band(concurrency: str) -> str:
    if concurrency == "max":
        return "max-load"
    if concurrency.startswith("rate="):
        return "open-loop"
    if concurrency.startswith("server:"):
        return "server-max-rate"
    n = int(concurrency)
    return "1-16" if n <= 16 else ("17-128" if n <= 128 else "129+")


def breakdown(results: list[CaseResult], path: Path | str = DEFAULT_SERVING_CASES) -> str:
    """Median absolute % error of held-out rows per metric x runtime, x hardware, x TP degree, x concurrency band."""
    rows = {r["id"]: r for r in load(path)}
    groups: dict[tuple[str, str], list[float]] = {}
    for res in results:
        row = rows.get(res.id)
        if row is None or res.role != "holdout":  # rows of the other harnesses
            continue
        for key in (f"runtime={row['runtime']}", f"hardware={row['hardware']}", f"tp={row['tp']}",
                    f"concurrency={_band(row['concurrency'])}"):
            groups.setdefault((res.metric, key), []).append(res.error)
    lines = ["serving held-out median absolute % error by runtime, hardware, TP degree and concurrency band:"]
    for (metric, key), errs in sorted(groups.items()):
        lines.append(f"  {metric:<18} {key:<24} {statistics.median(errs):6.1f} %  (n={len(errs)})")
    return "\n".join(lines)


def expressibility(path: Path | str = DEFAULT_EXPRESSIBILITY,
                   cases: Path | str = DEFAULT_SERVING_CASES) -> tuple[int, int, list[str]]:
    """(expressible, total, reasons) over the benchmark rows of `path` and the rows of `cases`: a row is
    expressible when its model, hardware, precision and parallelism are in the catalog and ServingModel
    solves it without an error (feasible or not); rows with no reading carry the reason in not_expressible."""
    from ..core.serving import ServingModel

    s = ServingModel()
    ok, total, reasons = 0, 0, []
    for row in load(path):
        total += 1
        if not row["model"]:
            reasons.append(f"{row['ref_id']}: {row['not_expressible']}")
            continue
        try:
            s.solve(row["model"], row["hardware"], 1, row["precision"], prompt_len=int(row["prompt_len"]),
                    output_len=int(row["output_len"]), tensor_parallel=int(row["tp"]),
                    pipeline_parallel=int(row["pp"]), runtime=row["runtime"] or None,
                    weight_only=row["weight_only"] == "1")
            ok += 1
        except Exception as exc:  # noqa: BLE001 -- any refusal makes the row inexpressible; the reason is kept
            reasons.append(f"{row['ref_id']}: {exc}")
    for row in load(cases):
        total += 1
        try:
            predict(row)
            ok += 1
        except Exception as exc:  # noqa: BLE001
            reasons.append(f"{row['id']}: {exc}")
    return ok, total, reasons


def expressibility_report(path: Path | str = DEFAULT_EXPRESSIBILITY,
                          cases: Path | str = DEFAULT_SERVING_CASES) -> str:
    ok, total, reasons = expressibility(path, cases)
    ref_ids = [r["ref_id"] for r in load(path)]
    ref_total = len(ref_ids)
    ref_ok = ref_total - sum(1 for r in reasons if r.split(":", 1)[0] in set(ref_ids))  # case ids vary by prefix
    lines = [f"serving benchmark rows expressible (model, hardware, precision, parallelism in the catalog and "
             f"ServingModel): {ref_ok}/{ref_total} ({100.0 * ref_ok / ref_total:.1f} %) of the reference and "
             f"looked-at rows ({Path(path).name}); {ok}/{total} ({100.0 * ok / total:.1f} %) with the gathered "
             f"rows of {Path(cases).name}"]
    lines += [f"  not expressible: {r}" for r in reasons]
    return "\n".join(lines)


# Grid of the fitted serving efficiencies (physical shares, never per row): GEMM-rate share, streaming-
# bandwidth share, host work per step. Fitted per runtime on its calibration rows by the median absolute
# log error; `python -m mlsysim.validation.serving --fit RUNTIME` prints the best point to copy into the catalog.
FIT_COMPUTE = tuple(round(0.30 + 0.05 * i, 2) for i in range(15))       # 0.30 .. 1.00
FIT_BANDWIDTH = tuple(round(0.60 + 0.05 * i, 2) for i in range(9))      # 0.60 .. 1.00
FIT_OVERHEAD_S = (0.05e-3, 0.25e-3, 0.5e-3, 1.0e-3, 1.5e-3, 2.0e-3, 3.0e-3)
# decode-attention share of the bandwidth (paged cache) and frontend latency per request: the fourth and fifth
FIT_ATTENTION = (0.4, 0.55, 0.7, 0.85, 1.0)
# frontend: HTTP + tokenisation + process hops are milliseconds (bounded so it cannot absorb prefill compute)
FIT_FRONTEND_S = (0.0, 2e-3, 5e-3)


def fit(runtime: str, path: Path | str = DEFAULT_SERVING_CASES) -> tuple[float, ...]:
    """(compute_efficiency, bandwidth_efficiency, step_overhead s, attention_efficiency, frontend_latency s,
    median abs % error) on the calibration rows."""
    import math

    import attrs

    from ..core.solver import registries

    rt = registries().roots["Runtimes"].get(runtime)
    rows = [r for r in load(path) if r["runtime"] == runtime and r["role"] == "calibration"]
    best = None
    for ce in FIT_COMPUTE:
        for be in FIT_BANDWIDTH:
            for oh in FIT_OVERHEAD_S:
                for ae in FIT_ATTENTION:
                    for fe in (FIT_FRONTEND_S if any(r["metric"].startswith("ttft") for r in rows) else (0.0,)):
                        trial = attrs.evolve(rt, serving=attrs.evolve(
                            rt.serving, compute_efficiency=ce, bandwidth_efficiency=be, step_overhead=oh,
                            attention_efficiency=ae, frontend_latency=fe or None))
                        errs = []
                        for row in rows:
                            pred, _ = predict(dict(row, runtime=""), runtime_spec=trial)
                            errs.append(abs(math.log(pred / float(row["measured"]))))
                        score = statistics.median(errs) + 0.1 * statistics.mean(errs)
                        if best is None or score < best[0]:
                            best = (score, ce, be, oh, ae, fe, statistics.median(errs))
    _, ce, be, oh, ae, fe, med = best
    return ce, be, oh, ae, fe, (math.exp(med) - 1.0) * 100.0


# Served-loop figures of a runtime whose engine shares come from another benchmark (nim: trtllm-bench's): the
# host/served-loop work per step and the frontend latency per request, one parameter each, on a finer grid.
FIT_STEP_S = (0.05e-3,) + tuple(round(0.25e-3 * i, 6) for i in range(1, 25))  # 0.05 .. 6 ms
FIT_FRONTEND_FINE_S = tuple(round(1e-3 * i, 6) for i in range(1, 31))  # 1 .. 30 ms


def fit_frontend(runtime: str, path: Path | str = DEFAULT_SERVING_CASES) -> tuple[float, float, float]:
    """(step_overhead s, frontend_latency s, median abs % error) on the runtime's calibration rows, its engine
    shares (compute/bandwidth/attention efficiency) held as catalogued."""
    import math

    import attrs

    from ..core.solver import registries

    rt = registries().roots["Runtimes"].get(runtime)
    rows = [r for r in load(path) if r["runtime"] == runtime and r["role"] == "calibration"]
    best = None
    for oh in FIT_STEP_S:
        for fe in FIT_FRONTEND_FINE_S:
            trial = attrs.evolve(rt, serving=attrs.evolve(rt.serving, step_overhead=oh, frontend_latency=fe))
            errs = [abs(math.log(predict(dict(row, runtime=""), runtime_spec=trial)[0] / float(row["measured"])))
                    for row in rows]
            score = statistics.median(errs) + 0.1 * statistics.mean(errs)
            if best is None or score < best[0]:
                best = (score, oh, fe, statistics.median(errs))
    _, oh, fe, med = best
    return oh, fe, (math.exp(med) - 1.0) * 100.0


# Host work of a runtime's engine loop, a + b n: the fixed part per step and the part per request in the step.
FIT_HOST_STEP_S = tuple(round(0.05e-3 * i, 6) for i in range(1, 31))       # 0.05 .. 1.5 ms
FIT_HOST_REQUEST_S = tuple(round(2.5e-6 * i, 7) for i in range(0, 25))     # 0 .. 60 us


def fit_host(runtime: str, path: Path | str = DEFAULT_SERVING_CASES) -> tuple[float, float, float]:
    """(step_overhead s, request_overhead s, median abs % error) on the runtime's calibration rows, its engine
    shares held as catalogued."""
    import math

    import attrs

    from ..core.solver import registries

    rt = registries().roots["Runtimes"].get(runtime)
    rows = [r for r in load(path) if r["runtime"] == runtime and r["role"] == "calibration"]
    best = None
    for oh in FIT_HOST_STEP_S:
        for rq in FIT_HOST_REQUEST_S:
            trial = attrs.evolve(rt, serving=attrs.evolve(rt.serving, step_overhead=oh, request_overhead=rq or None))
            errs = [abs(math.log(predict(dict(row, runtime=""), runtime_spec=trial)[0] / float(row["measured"])))
                    for row in rows]
            score = statistics.median(errs) + 0.1 * statistics.mean(errs)
            if best is None or score < best[0]:
                best = (score, oh, rq, statistics.median(errs))
    _, oh, rq, med = best
    return oh, rq, (math.exp(med) - 1.0) * 100.0


if __name__ == "__main__":  # python -m mlsysim.validation.serving --fit trtllm
    import sys

    if len(sys.argv) == 3 and sys.argv[1] == "--fit-host":
        print(fit_host(sys.argv[2]))
    elif len(sys.argv) == 3 and sys.argv[1] == "--fit-frontend":
        print(fit_frontend(sys.argv[2]))
    elif len(sys.argv) == 3 and sys.argv[1] == "--fit":
        print(fit(sys.argv[2]))
    elif sys.argv[1:] == ["--expressibility"]:
        print(expressibility_report())
