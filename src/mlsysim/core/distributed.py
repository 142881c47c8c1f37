"""Distributed training on a node or cluster (experimental): tensor, pipeline and data parallelism with
ZeRO, on the catalog's nodes and fabrics.

One training step of `batch_size` sequences (the global batch) of `seq_len` tokens:
  step = compute x (1 + pipeline bubble) + tensor-parallel all-reduces + pipeline sends
         + the part of the data-parallel gradient all-reduce that backward compute does not hide.
"""
from __future__ import annotations

from typing import Any, NamedTuple

import attrs

from ..errors import InvalidInputError, InvalidTypeError
from ..specs.hardware import HardwareSpec
from ..specs.systems import ClusterSpec, FabricSpec, NodeSpec
from ..units import quantity
from .collectives import all_reduce, hierarchical_all_reduce
from ..specs.models import TransformerSpec
from .inputs import Source, check_outputs, check_positive_int, resolve_model, resolve_reference
from .precision import resolve_precision
from .results import MemoryBreakdown, PerformanceProfile, SolverResult
from .solver import ForwardModel, RooflineModel, mfu_source, registries

# Per-hop latency of an NVLink ring step inside a node: ~1 us (nccl-tests small-message all-reduce on an
# 8-GPU HGX node takes ~10-15 us over 14 ring steps). Estimate.
INTRA_NODE_HOP_LATENCY = 1e-6
# Host/NIC stack added to the fabric's switch latency on every inter-node hop (RDMA verbs + NCCL proxy);
# nccl-tests small-message inter-node all-reduce latencies of tens of us over a handful of hops. Estimate.
INTER_NODE_STACK_LATENCY = 5e-6
# Tensor-parallel all-reduces per transformer layer per micro-batch: two in forward (after attention and
# after the MLP), two in backward (Shoeybi et al. 2019, Megatron-LM, sec. 3, fig. 4); full activation
# recomputation replays the forward and its two all-reduces (Korthikanti et al. 2022, sec. 4).
TP_ALL_REDUCES_PER_LAYER = 4
TP_ALL_REDUCES_PER_LAYER_FULL_RECOMPUTE = 6
# Backward is two thirds of a step's compute (input and weight gradients, each one forward's worth); DDP-style
# bucketed gradient all-reduce overlaps with it (Li et al. 2020, PyTorch Distributed, sec. 3.2.3).
BACKWARD_SHARE = 2.0 / 3.0


@attrs.frozen(kw_only=True)
class DistributedResult(SolverResult):
    latency: Any            # one optimizer step
    throughput: Any         # tokens/s over the whole system
    bottleneck: str         # "Compute", "Memory" or "Communication"
    mfu: float
    feasible: bool
    energy: Any             # joules per step, all devices
    devices: int
    tensor_parallel: int
    pipeline_parallel: int
    data_parallel: int
    microbatches: int
    compute_time_s: float
    bubble_time_s: float
    tp_comm_time_s: float
    pp_comm_time_s: float
    dp_comm_time_s: float
    dp_comm_exposed_s: float
    memory: MemoryBreakdown  # per device
    device_profile: PerformanceProfile
    reasons: tuple[str, ...] = ()

    # --- 0.1.x's DistributedResult names (quantities derived from the fields above) ---------------------
    @property
    def node_profile(self) -> PerformanceProfile:
        return self.device_profile

    @property
    def dp_communication_latency(self):
        """Data-parallel gradient synchronisation left exposed after overlap with the backward pass."""
        return quantity(self.dp_comm_exposed_s, "s")

    @property
    def tp_communication_latency(self):
        return quantity(self.tp_comm_time_s, "s")

    @property
    def pp_communication_latency(self):
        return quantity(self.pp_comm_time_s, "s")

    @property
    def ep_communication_latency(self):
        """Expert-parallel all-to-all: 0, expert parallelism is not modelled yet."""
        return quantity(0.0, "s")

    @property
    def communication_latency(self):
        """Every communication time on the step's critical path (TP + PP + exposed DP)."""
        return quantity(self.tp_comm_time_s + self.pp_comm_time_s + self.dp_comm_exposed_s, "s")

    @property
    def pipeline_bubble_latency(self):
        return quantity(self.bubble_time_s, "s")

    @property
    def bubble_fraction(self) -> float:
        return self.bubble_time_s / self.latency.m_as("s")

    @property
    def step_latency_total(self):
        return self.latency

    @property
    def scaling_efficiency(self) -> float:
        """Useful compute over the step: compute time / step time (1 = perfect linear scaling)."""
        return self.compute_time_s / self.latency.m_as("s")

    @property
    def effective_throughput(self):
        return self.throughput

    @property
    def parallelism(self) -> dict[str, int]:
        return {"tp": self.tensor_parallel, "pp": self.pipeline_parallel, "dp": self.data_parallel, "ep": 1}


class DistributedModel(ForwardModel):
    """3D-parallel training step on a node or cluster of the catalog."""

    def __init__(self, roofline: RooflineModel | None = None):
        self._roofline = roofline or RooflineModel()

    def solve(self, model: Any, system: Any = None, batch_size: int = 1, precision: str = "bf16",
              efficiency: float | None = None, *, seq_len: int | None = None, tensor_parallel: int = 1,
              pipeline_parallel: int = 1, microbatch_size: int = 1, zero_stage: int = 0,
              activation_recomputation: str | bool = "none", tp_size: int | None = None,
              pp_size: int | None = None, microbatch_count: int | None = None, runtime: Any = None,
              fleet: Any = None, **unsupported: Any) -> DistributedResult:
        """One training step. ``tp_size``, ``pp_size`` and ``microbatch_count`` are 0.1.x's names of
        tensor_parallel, pipeline_parallel and the number of micro-batches per replica (which sets
        microbatch_size = replica batch / count); ``fleet`` is 0.1.x's name of ``system``. 0.1.x options this model does not have yet are refused at
        any value but their no-op default. runtime (experimental): the software stack of each device's pass
        (mlsysim.Runtimes), as Engine.solve's runtime=: its kernels and per-kernel cost of a training step."""
        _refuse_unmodelled(unsupported)
        if fleet is not None:  # 0.1.x's keyword for the system
            if system is not None:
                raise InvalidInputError("give the system once: system= (or 0.1.x's fleet=), not both")
            system = fleet
        if system is None:
            raise InvalidInputError("DistributedModel.solve needs a system: a node or cluster (Systems.Nodes.DGX_H100, "
                                    "Systems.Clusters.Research_256), as the second argument or system=")
        tensor_parallel = _renamed("tp_size", tp_size, "tensor_parallel", tensor_parallel, 1)
        pipeline_parallel = _renamed("pp_size", pp_size, "pipeline_parallel", pipeline_parallel, 1)
        m = resolve_model(model)
        topo = _topology(system)
        hw, per_node, devices, intra_bw, inter_bw, inter_lat = topo[:6]
        tp = check_positive_int("tensor_parallel", tensor_parallel)
        pp = check_positive_int("pipeline_parallel", pipeline_parallel)
        mb = check_positive_int("microbatch_size", microbatch_size)
        batch = check_positive_int("batch_size", batch_size)
        if devices % (tp * pp):
            raise InvalidInputError(f"tensor_parallel x pipeline_parallel = {tp * pp} must divide the "
                                    f"{devices} devices of the system")
        dp = devices // (tp * pp)
        if batch % (dp * mb):
            raise InvalidInputError(f"global batch {batch} must be a multiple of data_parallel ({dp}) x "
                                    f"microbatch_size ({mb})")
        if (tp > 1 or pp > 1) and not isinstance(m, TransformerSpec):
            raise InvalidInputError(f"tensor and pipeline parallelism are modelled for transformers only; "
                                    f"{m.display_name} runs data parallel (tensor_parallel=1, pipeline_parallel=1)")
        if tp > 1 and (m.heads % tp or not (per_node % tp == 0 or tp % per_node == 0)):
            raise InvalidInputError(f"tensor_parallel {tp} must divide the {m.heads} attention heads and either "
                                    f"divide or be a multiple of the {per_node} devices per node")
        layers = getattr(m, "layers", 1)
        if pp > layers:
            raise InvalidInputError(f"pipeline_parallel {pp} exceeds the model's {layers} layers")
        replica = batch // dp
        if microbatch_count is not None:
            count = check_positive_int("microbatch_count", microbatch_count)
            if mb != 1 or replica % count:
                raise InvalidInputError(f"microbatch_count {count} must divide the per-replica batch {replica} "
                                        "(and microbatch_size is then derived: give one of the two)")
            mb = replica // count
        micro = replica // mb
        # One device doing a whole replica's work, with ZeRO sharding over the data-parallel group ...
        prof = self._roofline.solve(m, hw, replica, precision, efficiency, is_training=True, seq_len=seq_len,
                                    zero_stage=zero_stage, dp_size=dp,
                                    activation_recomputation=activation_recomputation, runtime=runtime)
        seq = prof.seq_len or 1
        shards = tp * pp
        # ... split evenly over tensor and pipeline ranks (Narayanan et al. 2021, sec. 2).
        compute = (prof.latency.to("s").magnitude - prof.overhead_s) / shards + prof.overhead_s / pp
        bubble = compute * (pp - 1) / micro  # 1F1B pipeline bubble (Narayanan et al. 2021, eq. 1)
        # 1F1B keeps min(pp, micro) micro-batches in flight on the first stage, each over layers/pp layers;
        # tensor parallelism with sequence parallelism shards them tp ways (Korthikanti et al. 2022).
        act_bytes = prof.memory.activations * mb / replica / tp * min(pp, micro) / pp
        mem = prof.memory
        memory = attrs.evolve(mem, weights=mem.weights / shards, gradients=mem.gradients / shards,
                              optimizer_state=mem.optimizer_state / shards, activations=act_bytes)
        prec = resolve_precision(hw, precision, training=True)
        hidden = getattr(m, "hidden_size", 0)
        micro_bytes = mb * seq * hidden * prec.activation_bytes  # activations exchanged per micro-batch
        tp_in_node = tp <= per_node
        per_layer = (TP_ALL_REDUCES_PER_LAYER_FULL_RECOMPUTE if activation_recomputation in ("full", True)
                     else TP_ALL_REDUCES_PER_LAYER)
        tp_time = micro * (layers / pp) * per_layer * all_reduce(
            micro_bytes, tp, intra_bw if tp_in_node else inter_bw,
            INTRA_NODE_HOP_LATENCY if tp_in_node else inter_lat)
        # Each micro-batch sends activations forward and gradients back across a stage boundary.
        stage_bw, stage_lat = (intra_bw, INTRA_NODE_HOP_LATENCY) if tp * pp <= per_node else (inter_bw, inter_lat)
        pp_time = (2.0 * micro * (micro_bytes / stage_bw + stage_lat)) if pp > 1 else 0.0
        grad_bytes = m.parameter_count / shards * prec.weight_bytes  # gradients of this device's shard
        local_peers = max(per_node // shards, 1)
        all_reduce_time = hierarchical_all_reduce(grad_bytes, dp, local_peers, intra_bw, INTRA_NODE_HOP_LATENCY,
                                                  inter_bw, inter_lat)
        if zero_stage >= 3:
            # Gradients reduce-scattered once (half an all-reduce), parameters all-gathered for the forward
            # and the backward of every micro-batch (Rajbhandari et al. 2020, sec. 7.2: 1.5x at one micro-batch).
            dp_time = all_reduce_time * (0.5 + micro)
        else:
            dp_time = all_reduce_time
        # Gradient accumulation: the reduction starts during the last micro-batch's backward only.
        exposed = max(0.0, dp_time - BACKWARD_SHARE * compute / micro)
        step = compute + bubble + tp_time + pp_time + exposed
        comm = tp_time + pp_time + exposed
        items = batch * seq if prof.throughput_unit == "token" else batch
        flops = prof.flops * dp  # model FLOPs of the whole global batch
        mfu = flops / (step * devices * prof.dense_peak_flops)
        throughput, energy = items / step, devices * prof.power_w * step
        # Which links each communication time crossed, for blame if a result is not physical.
        stage_src = topo.intra_src if tp * pp <= per_node else topo.inter_src
        dp_src = topo.intra_src if dp <= local_peers else topo.inter_src
        mfu = check_outputs(f"DistributedModel ({m.name} on {topo.name})", latency=step, throughput=throughput,
                            energy=energy, mfu=mfu, terms=(
            (compute + bubble, Source(None, entry=hw.name)),
            (tp_time, topo.intra_src if tp_in_node else topo.inter_src), (pp_time, stage_src), (exposed, dp_src)),
            mfu_source=mfu_source(m, hw, prof.compute_precision, prof.efficiency))
        feasible = memory.total <= memory.capacity
        # The single-device profile's memory verdict is about an unsharded replica: not this system's.
        reasons = [r for r in prof.reasons if r not in prof.memory_reasons]
        if not feasible:
            reasons.append(f"needs {memory.total / 2**30:.2f} GiB per device, has {memory.capacity / 2**30:.2f} GiB")
        return DistributedResult(
            latency=quantity(step, "s"), throughput=quantity(throughput, f"{prof.throughput_unit}/s"),
            bottleneck="Communication" if comm > compute + bubble else prof.bottleneck, mfu=mfu, feasible=feasible,
            energy=quantity(energy, "J"), devices=devices, tensor_parallel=tp,
            pipeline_parallel=pp, data_parallel=dp, microbatches=micro, compute_time_s=compute,
            bubble_time_s=bubble, tp_comm_time_s=tp_time, pp_comm_time_s=pp_time, dp_comm_time_s=dp_time,
            dp_comm_exposed_s=exposed, memory=memory, device_profile=prof, reasons=tuple(reasons))


# 0.1.x keywords of DistributedModel.solve this model does not implement, with the value that changes nothing.
_UNMODELLED_DEFAULTS = {"ep_size": 1, "v_stages": 1, "topology_override": None, "is_lora": False,
                        "overlap_comm": False, "overlap_efficiency": 0.85, "congestion_factor": 1.0,
                        "straggler_factor": 1.0, "gradient_accumulation_steps": 1}


def _refuse_unmodelled(options: dict[str, Any]) -> None:
    for key, value in options.items():
        if key not in _UNMODELLED_DEFAULTS:
            raise InvalidInputError(f"DistributedModel.solve got an unknown keyword {key!r}")
        if value != _UNMODELLED_DEFAULTS[key]:
            raise InvalidInputError(f"{key}={value!r} is not modelled yet (only its no-op value "
                                    f"{_UNMODELLED_DEFAULTS[key]!r} is accepted); gradient overlap with the backward "
                                    "pass is always modelled")


def _renamed(old: str, old_value: Any, new: str, new_value: Any, default: Any) -> Any:
    """The value of a keyword that 0.1.x spelled `old`; both given and different is an error."""
    if old_value is None:
        return new_value
    if new_value != default and new_value != old_value:
        raise InvalidInputError(f"{old}={old_value!r} is 0.1.x's name of {new}={new_value!r}: give one")
    return old_value


class _Topology(NamedTuple):
    device: HardwareSpec
    per_node: int           # devices per node
    devices: int
    intra_bw: float         # intra-node B/s per direction
    inter_bw: float         # inter-node B/s per device and direction
    inter_lat: float        # inter-node hop latency, s
    name: str               # the system entry
    intra_src: Source       # the figure intra_bw comes from
    inter_src: Source       # the figure inter_bw comes from


def _topology(system: Any) -> _Topology:
    """The devices and links of a node or cluster, every reference checked (a spec built in Python may name
    a node, fabric or accelerator that does not exist)."""
    reg = registries()
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
    links = node.nics_per_node * fabric._bandwidth / per_node  # a device's share of its node's NICs
    inter = links / oversubscription
    # Blame for a bad inter-node time: the fabric, unless the cluster's oversubscription slows the link down
    # more than the fabric does relative to the node's own intra-node bandwidth.
    inter_src = (Source("oversubscription", oversubscription, system.name)
                 if isinstance(system, ClusterSpec) and oversubscription > intra / links
                 else Source("bandwidth", fabric._bandwidth, fabric.name))
    return _Topology(hw, per_node, per_node * count, intra, inter, fabric._latency + INTER_NODE_STACK_LATENCY,
                     system.name, Source("intra_node_bandwidth", node._intra_node_bandwidth, node.name), inter_src)
