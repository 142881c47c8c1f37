"""Parallelism searches on a system: serving layouts (TP x EP x DP x PP x requests in flight) with ServingModel,
training plans (TP x PP x DP x micro-batch x ZeRO x recomputation) with the ParallelismOptimizer.

Divisibility (TP divides the attention and KV heads, EP the experts and TP x DP, PP at most the layers, the
replica fits the node) is ServingModel's own check: a layout it rejects is kept in `rejected` with its reason,
never silently dropped. Memory: a layout whose KV cache cannot hold its requests is feasible=False."""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidInputError
from .search import _check

DEFAULT_CONCURRENCY = (1, 4, 16, 64, 256)  # requests in flight per DP rank, a geometric ladder
DEFAULT_PARALLEL = (1, 2, 4, 8)            # the TP/DP degrees of one 8-GPU node


@dataclass
class LayoutSearch:
    best: list[dict]                 # the top layouts by the objective, best first (each with its "result")
    rejected: list[dict] = field(default_factory=list)  # {"config": ..., "reason": ...}
    searched: int = 0


def _axis(name: str, values: Any) -> tuple[int, ...]:
    vals = (values,) if isinstance(values, int) else tuple(values)
    if not vals or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in vals):
        raise InvalidInputError(f"{name} must be positive ints, got {values!r}")
    return vals


def serving_layouts(model: Any, hardware: Any, *, prompt_len: int, output_len: int = 256,
                    precision: str = "fp16", tensor_parallel: Any = DEFAULT_PARALLEL, data_parallel: Any = (1,),
                    expert_parallel: Any = (1,), pipeline_parallel: Any = (1,),
                    concurrency: Any = DEFAULT_CONCURRENCY, max_gpus: int | None = None,
                    objective: str = "throughput_per_gpu", constraints: Any = None, maximize: bool = True,
                    top: int = 5, **serving: Any) -> LayoutSearch:
    """Every TP x DP x EP x PP x concurrency layout of `model` on `hardware` (a device or a Systems node),
    solved with ServingModel.solve; the `top` feasible ones that meet `constraints` (as dse.search: fields
    latency, throughput, throughput_per_gpu, ttft, tpot, gpus, feasible, mfu, energy) by `objective`."""
    from ..core.serving import ServingModel

    solver = ServingModel()
    grid = itertools.product(_axis("tensor_parallel", tensor_parallel), _axis("data_parallel", data_parallel),
                             _axis("expert_parallel", expert_parallel),
                             _axis("pipeline_parallel", pipeline_parallel), _axis("concurrency", concurrency))
    out = LayoutSearch([])
    scored = []
    for tp, dp, ep, pp, conc in grid:
        config = {"tensor_parallel": tp, "data_parallel": dp, "expert_parallel": ep, "pipeline_parallel": pp,
                  "batch_size": conc}
        if max_gpus is not None and tp * dp * pp > max_gpus:
            out.rejected.append({"config": config, "reason": f"{tp * dp * pp} GPUs > max_gpus={max_gpus}"})
            continue
        out.searched += 1
        try:
            r = solver.solve(model, hardware, conc, precision, prompt_len=prompt_len, output_len=output_len,
                             tensor_parallel=tp, data_parallel=dp, expert_parallel=ep, pipeline_parallel=pp,
                             **serving)
        except Exception as exc:  # noqa: BLE001 -- the layout's reason, kept
            out.rejected.append({"config": config, "reason": f"{type(exc).__name__}: {exc}"})
            continue
        rec = {"config": config, "latency": r.latency.m_as("s"), "throughput": r.throughput.m_as("token/s"),
               "throughput_per_gpu": r.throughput_per_gpu.m_as("token/s"), "ttft": r.ttft.m_as("s"),
               "tpot": r.tpot.m_as("s"), "gpus": r.gpus, "feasible": r.feasible, "mfu": r.mfu,
               "energy": r.energy.m_as("J"), "bottleneck": r.bottleneck, "reasons": r.reasons, "result": r}
        if not r.feasible:
            out.rejected.append({"config": config, "reason": "; ".join(r.reasons) or "does not fit"})
            continue
        if _check(rec, constraints):
            rec["objective"] = rec[objective] if isinstance(objective, str) else objective(rec)
            scored.append(rec)
    scored.sort(key=lambda r: r["objective"], reverse=maximize)
    out.best = scored[:top]
    return out


def training_plans(model: Any, fleet: Any, batch_size: int, precision: str = "bf16", **options: Any) -> Any:
    """The TP x PP x DP x micro-batch x ZeRO x recomputation search of mlsysim.solvers.ParallelismOptimizer
    (DistributedModel per plan; plans that do not fit are dropped, the fastest first in top_candidates)."""
    from ..solvers.parallelism import ParallelismOptimizer

    return ParallelismOptimizer().solve(model, fleet, batch_size, precision, **options)
