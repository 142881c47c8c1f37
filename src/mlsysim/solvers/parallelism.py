"""The fastest way to split a training job over a cluster: a search over tensor x pipeline x data parallelism.

Every factorisation devices = TP x PP x DP the model allows (TP divides the attention heads and divides, or
is a multiple of, the devices per node; PP at most the layers; DP divides the global batch), crossed with the
micro-batch size, the ZeRO stage and the activation recomputation, is solved with
mlsysim.solvers.DistributedModel (Megatron-style 3D parallelism, Narayanan et al. 2021). Plans whose
per-device memory exceeds the device are dropped; the rest are ranked by step time. For a fixed global batch
on a fixed cluster the fastest step is also the highest MFU (MFU = model FLOPs / (step x devices x peak)),
which is the objective 0.1.x reported.

overlap_comm=True (0.1.x's default) lets the data-parallel gradient all-reduce overlap the last backward
pass, as DistributedModel models it; False puts the whole all-reduce after the backward pass.

Not modelled: expert, sequence and context parallelism as separate axes, interleaved pipeline schedules,
non-power-of-two micro-batches, heterogeneous stages (a stage holds layers / PP layers), and anything
DistributedModel does not model.
"""
from __future__ import annotations

from typing import Any

import attrs

from ..core.distributed import DistributedModel
from ..core.inputs import check_bool, check_positive_int, resolve_model, resolve_reference
from ..errors import InfeasibleError, InvalidInputError, InvalidTypeError
from ..specs.models import TransformerSpec
from ..specs.systems import ClusterSpec, NodeSpec
from ..units import quantity
from ._design import registry_entry
from ._result import SolverResult

ZERO_STAGES = (0, 1, 2, 3)
RECOMPUTATION = ("none", "selective", "full")
# How many plans top_candidates lists (0.1.x listed five).
TOP_CANDIDATES = 5
GB = 1e9


@attrs.frozen(kw_only=True)
class ParallelismOptimizerResult(SolverResult):
    objective_value: float        # MFU of the best plan
    best_config: dict             # tp, pp, dp, microbatch_size, zero_stage, activation_recomputation
    total_searched: int           # plans solved
    best_mfu: float
    best_throughput: Any          # tokens/s over the cluster
    best_step_time: Any
    search_space_size: int        # TP x PP x DP factorisations the model and batch allow
    top_candidates: list          # the fastest plan of each factorisation, fastest first
    feasible_plans: int           # plans that fit in device memory
    best_bottleneck: str
    best_memory_per_device: Any
    constraint_trace: tuple[str, ...] = ()


class ParallelismOptimizer:
    """Search TP x PP x DP (x micro-batch, ZeRO stage, recomputation) with DistributedModel; keep the fastest."""

    def __init__(self, distributed: DistributedModel | None = None):
        self._distributed = distributed or DistributedModel()

    def solve(self, model: Any, fleet: Any, batch_size: int, precision: str = "fp16", efficiency: float | None = 0.5,
              max_tp: int | None = None, max_pp: int | None = None, overlap_comm: bool = True, *,
              seq_len: int | None = None, zero_stages: tuple[int, ...] = ZERO_STAGES,
              activation_recomputation: tuple[str, ...] = RECOMPUTATION,
              microbatch_sizes: tuple[int, ...] | None = None, runtime: Any = None) -> ParallelismOptimizerResult:
        """model: a spec or name; fleet: a Systems.Clusters/Systems.Nodes entry or its name; batch_size: the
        global batch in sequences; precision, efficiency as for DistributedModel (None: calibrated); max_tp
        (default: devices per node), max_pp (default: the model's layers); overlap_comm (see module doc).
        Keyword-only: seq_len, zero_stages, activation_recomputation (options searched), microbatch_sizes
        (default: every power of two that divides the per-replica batch), runtime (experimental: the software
        stack of every device's pass, as DistributedModel's runtime=)."""
        m = resolve_model(model)
        system, per_node, devices = _resolve_fleet(fleet)
        batch = check_positive_int("batch_size", batch_size)
        overlap = check_bool("overlap_comm", overlap_comm)
        layers = getattr(m, "layers", 1)
        tp_cap = per_node if max_tp is None else check_positive_int("max_tp", max_tp)
        pp_cap = layers if max_pp is None else check_positive_int("max_pp", max_pp)
        stages = _options("zero_stages", zero_stages, ZERO_STAGES)
        recompute = _options("activation_recomputation", activation_recomputation, RECOMPUTATION)
        mb_choices = None if microbatch_sizes is None else tuple(
            check_positive_int("microbatch_sizes", mb) for mb in _as_tuple("microbatch_sizes", microbatch_sizes))
        splits = _splits(m, devices, per_node, batch, tp_cap, pp_cap, layers)
        if not splits:
            raise InvalidInputError(f"no TP x PP x DP split of {devices} devices fits {m.name} with global batch "
                                    f"{batch} (DP must divide the batch, TP the {getattr(m, 'heads', 1)} heads, "
                                    f"TP <= {tp_cap}, PP <= {pp_cap})")
        searched, plans, smallest = 0, {}, None
        for tp, pp, dp in splits:
            replica = batch // dp
            sizes = mb_choices or tuple(2 ** i for i in range(replica.bit_length()) if replica % 2 ** i == 0)
            for mb in (s for s in sizes if replica % s == 0):
                for zero in stages:
                    for rec in recompute:
                        r = self._distributed.solve(m, system, batch, precision, efficiency, seq_len=seq_len,
                                                    tensor_parallel=tp, pipeline_parallel=pp, microbatch_size=mb,
                                                    zero_stage=zero, activation_recomputation=rec,
                                                    runtime=runtime)
                        searched += 1
                        need = r.memory.total
                        smallest = need if smallest is None else min(smallest, need)
                        if not r.feasible:
                            continue
                        plan = _plan(r, mb, zero, rec, overlap)
                        best = plans.get((tp, pp))
                        if best is None or (plan["step_s"], need) < (best["step_s"], best["memory_b"]):
                            plans[(tp, pp)] = plan
        if not plans:
            raise InfeasibleError(f"no plan of {m.name} on {system.name} ({devices} devices) fits in device memory: "
                                  f"the smallest needs {smallest / 2**30:.1f} GiB per device; use a larger cluster, "
                                  "a smaller batch or max_tp/max_pp above their defaults")
        ranked = sorted(plans.values(), key=lambda p: (p["step_s"], p["memory_b"]))
        best = ranked[0]
        trace = [f"{len(splits)} TP x PP x DP splits of {devices} devices, {searched} plans solved with "
                 "DistributedModel",
                 "DP all-reduce overlaps the last backward pass" if overlap
                 else "DP all-reduce after the backward pass (overlap_comm=False)"]
        top = [{"config": p["config"], "mfu": p["mfu"], "throughput": p["throughput"], "step_time": p["step_time"],
                "bottleneck": p["bottleneck"], "memory_per_device": quantity(p["memory_b"] / GB, "GB")}
               for p in ranked[:TOP_CANDIDATES]]
        return ParallelismOptimizerResult(
            objective_value=best["mfu"], best_config=dict(best["config"]), total_searched=searched,
            best_mfu=best["mfu"], best_throughput=best["throughput"], best_step_time=best["step_time"],
            search_space_size=len(splits), top_candidates=top, feasible_plans=len(plans),
            best_bottleneck=best["bottleneck"], best_memory_per_device=quantity(best["memory_b"] / GB, "GB"),
            constraint_trace=tuple(trace))


def _resolve_fleet(fleet: Any) -> tuple[Any, int, int]:
    """(the ClusterSpec or NodeSpec, devices per node, devices)."""
    if isinstance(fleet, str):
        fleet = registry_entry("Systems", fleet)
    if isinstance(fleet, ClusterSpec):
        node = resolve_reference(fleet, "node", NodeSpec, "a node", "Systems")
        return fleet, node.accelerators_per_node, node.accelerators_per_node * fleet.node_count
    if isinstance(fleet, NodeSpec):
        return fleet, fleet.accelerators_per_node, fleet.accelerators_per_node
    raise InvalidTypeError(f"fleet must be a ClusterSpec (Systems.Clusters.<X>), a NodeSpec (Systems.Nodes.<X>) or "
                           f"a registry name such as 'Research_256', got {type(fleet).__name__}")


def _as_tuple(name: str, value: Any) -> tuple:
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise InvalidTypeError(f"{name} must be a tuple of options, got {value!r}")
    out = tuple(value)
    if not out:
        raise InvalidInputError(f"{name} must name at least one option")
    return out


def _options(name: str, value: Any, allowed: tuple) -> tuple:
    out = _as_tuple(name, value)
    for v in out:
        if isinstance(v, bool) or v not in allowed:
            raise InvalidInputError(f"{name} holds {v!r}; accepted: {', '.join(map(str, allowed))}")
    return out


def _splits(model: Any, devices: int, per_node: int, batch: int, tp_cap: int, pp_cap: int,
            layers: int) -> list[tuple[int, int, int]]:
    """Every (tp, pp, dp) with tp x pp x dp = devices that DistributedModel accepts for this model and batch."""
    transformer = isinstance(model, TransformerSpec)
    out = []
    for tp in (d for d in _divisors(devices) if d <= tp_cap):
        if tp > 1 and not (transformer and model.heads % tp == 0 and (per_node % tp == 0 or tp % per_node == 0)
                           and (model.mla is not None or model.kv_heads % tp == 0 or tp % model.kv_heads == 0)):
            continue
        rest = devices // tp
        for pp in (d for d in _divisors(rest) if d <= min(pp_cap, layers)):
            if pp > 1 and not (transformer and layers % pp == 0):  # stages hold equal layer counts
                continue
            dp = rest // pp
            if batch % dp == 0:
                out.append((tp, pp, dp))
    return out


def _divisors(n: int) -> list[int]:
    small = [d for d in range(1, int(n ** 0.5) + 1) if n % d == 0]
    return sorted(set(small + [n // d for d in small]))


def _plan(r: Any, mb: int, zero: int, rec: str, overlap: bool) -> dict:
    step = r.latency.m_as("s")
    if not overlap:  # the part of the all-reduce the backward pass hid now runs after it
        step += r.dp_comm_time_s - r.dp_comm_exposed_s
    scale = r.latency.m_as("s") / step  # same work in a longer step: MFU and throughput fall in proportion
    bottleneck = r.bottleneck
    if not overlap and r.tp_comm_time_s + r.pp_comm_time_s + r.dp_comm_time_s > r.compute_time_s + r.bubble_time_s:
        bottleneck = "Communication"
    return {"config": {"tp": r.tensor_parallel, "pp": r.pipeline_parallel, "dp": r.data_parallel,
                       "microbatch_size": mb, "zero_stage": zero, "activation_recomputation": rec},
            "mfu": r.mfu * scale, "throughput": r.throughput * scale, "step_time": quantity(step, "s"),
            "step_s": step, "memory_b": r.memory.total, "bottleneck": bottleneck}
