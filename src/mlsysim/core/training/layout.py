"""Where a training job runs: the devices and links of a node or cluster, and the parallel layout over them.

Megatron-Core orders the groups tensor (innermost), context, expert, data, pipeline (outermost)
(megatron/core/parallel_state.py, order "tp-cp-ep-dp-pp"), so TP and CP ranks share a node first and pipeline
stages cross nodes. Data parallelism is what the system's device count leaves: dp = devices / (tp x cp x pp).
Every figure is a plain float (bytes, B/s, seconds).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from ...errors import InvalidInputError, InvalidTypeError
from ...specs.hardware import HardwareSpec
from ...specs.models import MoESpec, TransformerSpec
from ...specs.systems import ClusterSpec, FabricSpec, NodeSpec
from ..inputs import Source, check_positive_int, resolve_reference
from ..solver import registries
from ..torus import node_torus, torus_link
from .pipeline import check_schedule

# Per-hop latency of an NVLink ring step inside a node: ~1 us (nccl-tests small-message all-reduce on an
# 8-GPU HGX node takes ~10-15 us over 14 ring steps). Estimate.
INTRA_NODE_HOP_LATENCY = 1e-6
# Host/NIC stack added to the fabric's switch latency on every inter-node hop (RDMA verbs + NCCL proxy);
# nccl-tests small-message inter-node all-reduce latencies of tens of us over a handful of hops. Estimate.
INTER_NODE_STACK_LATENCY = 5e-6


class Topology(NamedTuple):
    device: HardwareSpec
    per_node: int           # devices per node
    devices: int
    intra_bw: float         # intra-node B/s per direction
    inter_bw: float         # inter-node B/s per device and direction (rail NIC share / oversubscription)
    inter_lat: float        # inter-node hop latency, s
    name: str               # the system entry
    intra_src: Source       # the figure intra_bw comes from
    inter_src: Source       # the figure inter_bw comes from
    torus: tuple[int, ...] = ()  # the node's torus dimensions (core.torus); () for a switched node
    port_bw: float = 0.0    # torus: B/s per port and direction


_topologies: dict[int, tuple[Any, Any, Topology]] = {}
# Systems remembered before the table is cleared (a sweep over many Python-built clusters).
TOPOLOGY_CACHE_LIMIT = 256


def topology(system: Any) -> Topology:
    """The devices and links of a node or cluster (cached per system object and registry set)."""
    reg = registries()
    hit = _topologies.get(id(system))
    if hit is not None and hit[0] is system and hit[1] is reg:
        return hit[2]
    topo = _topology(system, reg)
    if len(_topologies) >= TOPOLOGY_CACHE_LIMIT:
        _topologies.clear()
    _topologies[id(system)] = (system, reg, topo)
    return topo


def _topology(system: Any, reg: Any) -> Topology:
    """Every reference checked (a spec built in Python may name a node, fabric or accelerator that does not
    exist)."""
    if isinstance(system, str):
        system = reg.roots["Systems"].get(system)
    if isinstance(system, ClusterSpec):
        node, count = resolve_reference(system, "node", NodeSpec, "a node", "Systems"), system.node_count
        fabric = resolve_reference(system, "fabric", FabricSpec, "a fabric", "Systems")
        oversubscription = system.oversubscription
    elif isinstance(system, NodeSpec):
        node, count, oversubscription = system, 1, 1.0
        fabric = resolve_reference(system, "fabric", FabricSpec, "a fabric", "Systems")
    else:
        raise InvalidTypeError(f"system must be a Systems.Nodes/Systems.Clusters entry or its name, "
                               f"got {type(system).__name__}")
    hw = resolve_reference(node, "accelerator", HardwareSpec, "hardware", "Hardware")
    per_node = node.accelerators_per_node
    intra = node._intra_node_bandwidth / 2.0  # catalog prints both directions summed
    # Rail-optimised layout: each GPU drives its own NIC (DGX SuperPOD reference architecture), so a device's
    # inter-node share is its node's NIC bandwidth / devices, slowed by the fabric's oversubscription.
    links = node.nics_per_node * fabric._bandwidth / per_node
    inter = links / oversubscription
    inter_src = (Source("oversubscription", oversubscription, system.name)
                 if isinstance(system, ClusterSpec) and oversubscription > intra / links
                 else Source("bandwidth", fabric._bandwidth, fabric.name))
    dims, port_bw = node_torus(node.topology, per_node, node._intra_node_bandwidth)
    return Topology(hw, per_node, per_node * count, intra, inter, fabric._latency + INTER_NODE_STACK_LATENCY,
                    system.name, Source("intra_node_bandwidth", node._intra_node_bandwidth, node.name), inter_src,
                    dims, port_bw)


@dataclass(frozen=True)
class Layout:
    tp: int
    cp: int
    pp: int
    ep: int
    dp: int
    vp: int                 # virtual pipeline stages (model chunks) per GPU
    mb: int                 # micro-batch size, sequences
    micro: int              # micro-batches per replica per step
    per_node: int
    schedule: str = "1f1b"  # pipeline schedule (core.training.pipeline.PIPELINE_SCHEDULES)

    def link(self, group_span: int, topo: Topology, ranks: int | None = None,
             pattern: str = "ring") -> tuple[float, float]:
        """(B/s, hop latency) of a group of `ranks` ranks (default: all) spread over `group_span` consecutive
        devices; on a torus node the effective link of that group's ring or all-to-all (core.torus)."""
        if group_span <= self.per_node:
            if topo.torus:
                return torus_link(topo.torus, topo.port_bw, INTRA_NODE_HOP_LATENCY, group_span,
                                  group_span if ranks is None else ranks, pattern)
            return topo.intra_bw, INTRA_NODE_HOP_LATENCY
        return topo.inter_bw, topo.inter_lat


def _divides(name: str, degree: int, what: str, count: int, fix: str) -> None:
    if count % degree:
        divisors = [d for d in range(1, min(count, 64) + 1) if count % d == 0]
        raise InvalidInputError(f"{name}={degree} does not divide the {count} {what}; {fix} "
                                f"(divisors: {', '.join(map(str, divisors))})")


def build_layout(m: Any, topo: Topology, batch: int, tp: Any, cp: Any, pp: Any, ep: Any, vp: Any, mb: Any,
                 microbatch_count: int | None, even_stages: bool = True, schedule: Any = "1f1b") -> Layout:
    """even_stages False: the caller splits the layers itself (core.training.stages: uneven end stages).
    schedule: "1f1b" (interleaved with vp > 1) or "dualpipe" (core.training.pipeline.check_schedule)."""
    tp, cp, pp, ep, vp, mb = (check_positive_int(n, v) for n, v in (
        ("tensor_parallel", tp), ("context_parallel", cp), ("pipeline_parallel", pp), ("expert_parallel", ep),
        ("virtual_pipeline_stages", vp), ("microbatch_size", mb)))
    devices, per_node = topo.devices, topo.per_node
    if not isinstance(m, TransformerSpec) and (tp, cp, pp, ep, vp) != (1, 1, 1, 1, 1):
        raise InvalidInputError(f"tensor, context, pipeline and expert parallelism are modelled for transformers "
                                f"only; {m.display_name} runs data parallel (leave the degrees at 1)")
    if isinstance(m, TransformerSpec):
        _divides("tensor_parallel", tp, f"attention heads of {m.display_name}", m.heads,
                 "choose a tensor_parallel that divides the heads")
        if m.mla is None and m.kv_heads % tp and tp % m.kv_heads:
            raise InvalidInputError(f"tensor_parallel={tp} and the {m.kv_heads} KV heads of {m.display_name} do not "
                                    f"divide one another; use a TP that divides or is a multiple of {m.kv_heads}")
        if tp > 1 and per_node % tp and tp % per_node:
            raise InvalidInputError(f"tensor_parallel={tp} neither divides nor is a multiple of the {per_node} devices "
                                    f"per node; choose a divisor of {per_node}")
        if even_stages:
            _divides("pipeline_parallel x virtual_pipeline_stages", pp * vp, f"layers of {m.display_name}", m.layers,
                     "choose pipeline stages x virtual stages that divide the layers, or give first_stage_layers / "
                     "last_stage_layers")
        if vp > 1 and pp == 1:
            raise InvalidInputError("virtual_pipeline_stages > 1 needs pipeline_parallel > 1 (interleaved 1F1B)")
        if ep > 1:
            if not isinstance(m, MoESpec):
                raise InvalidInputError(f"expert_parallel={ep} needs a mixture-of-experts model; {m.display_name} is "
                                        "dense (leave expert_parallel=1)")
            _divides("expert_parallel", ep, f"experts of {m.display_name}", m.experts,
                     "choose an expert_parallel that divides the experts")
    model_ranks = tp * cp * pp
    if devices % model_ranks:
        raise InvalidInputError(f"tensor_parallel x context_parallel x pipeline_parallel = {model_ranks} does not "
                                f"divide the {devices} devices of {topo.name}; choose degrees whose product divides "
                                f"{devices}")
    dp = devices // model_ranks
    if ep > 1 and (dp * cp) % ep:
        raise InvalidInputError(f"expert_parallel={ep} does not divide the {dp * cp} data x context parallel ranks; "
                                "expert parallelism is carved out of that group: choose a divisor")
    if batch % (dp * mb):
        raise InvalidInputError(f"global batch {batch} is not a multiple of data_parallel ({dp}) x microbatch_size "
                                f"({mb}); choose a batch that is, or other degrees")
    replica = batch // dp
    if microbatch_count is not None:
        count = check_positive_int("microbatch_count", microbatch_count)
        if mb != 1 or replica % count:
            raise InvalidInputError(f"microbatch_count {count} must divide the per-replica batch {replica} "
                                    "(and microbatch_size is then derived: give one of the two)")
        mb = replica // count
    micro = replica // mb
    if vp > 1 and micro % pp:
        raise InvalidInputError(f"the interleaved schedule needs micro-batches ({micro}) to be a multiple of "
                                f"pipeline_parallel ({pp}) (Megatron-LM); change the batch or microbatch_size")
    return Layout(tp, cp, pp, ep, dp, vp, mb, micro, per_node, check_schedule(schedule, pp, vp, micro))
