"""Where a serving replica runs: the devices, the links between them and how the model is split across them.

A replica is tensor_parallel x data_parallel x pipeline_parallel GPUs: attention and dense layers split over
TP (Megatron-LM column/row split, Shoeybi et al. 2019), attention replicated over DP ranks that each serve
their own requests (DeepSeek-V3 report sec. 3.4: attention DP + expert parallelism), experts spread over EP
groups, layers over PP stages. Every figure is a plain float (bytes, B/s, seconds).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...errors import InvalidInputError, InvalidTypeError
from ...specs.hardware import HardwareSpec
from ...specs.models import MoESpec, TransformerSpec
from ...specs.systems import FabricSpec, NodeSpec
from ..inputs import check_positive_int, resolve_reference
from ..solver import registries
from ..torus import node_torus, torus_link

# Per-hop latency of an NVLink ring step inside a node (the same estimate DistributedModel uses:
# nccl-tests small-message all-reduce on an 8-GPU HGX node takes ~10-15 us over 14 ring steps).
INTRA_NODE_HOP_LATENCY = 1e-6


@dataclass(frozen=True)
class Layout:
    device: HardwareSpec
    system: str                 # the node entry, or the device name when a bare device was given
    tp: int
    dp: int
    ep: int
    pp: int
    link_bw: float              # B/s per direction between two GPUs of the replica
    hop_latency: float          # s per ring hop
    per_node: int | None        # GPUs in the node (None: a bare device, no node limit known)
    a2a_bw: float               # B/s per GPU of the expert-parallel all-to-all (link_bw unless a torus node)

    @property
    def gpus(self) -> int:
        return self.tp * self.dp * self.pp

    @property
    def expert_tp(self) -> int:
        """GPUs one expert is split over: the tp x dp GPUs of a stage shared by ep expert groups."""
        return self.tp * self.dp // self.ep


def resolve_serving_hardware(hardware: Any) -> tuple[HardwareSpec, NodeSpec | None]:
    """A device (HardwareSpec or Hardware name) or a node (NodeSpec or Systems name)."""
    if isinstance(hardware, HardwareSpec):
        return hardware, None
    if isinstance(hardware, NodeSpec):
        return resolve_reference(hardware, "accelerator", HardwareSpec, "hardware", "Hardware"), hardware
    if not isinstance(hardware, str):
        raise InvalidTypeError(f"hardware must be a device ('H100') or a node ('DGX_H100'), got "
                               f"{type(hardware).__name__}")
    roots = registries().roots
    try:
        return roots["Hardware"].get(hardware), None
    except Exception as device_error:
        try:
            node = roots["Systems"].get(hardware)
        except Exception:
            raise device_error from None
        if not isinstance(node, NodeSpec):
            raise InvalidInputError(f"{hardware!r} is a {type(node).__name__}; ServingModel runs on a device "
                                    f"('H100') or one node ('DGX_H100'): a replica lives inside one node") from None
        return resolve_reference(node, "accelerator", HardwareSpec, "hardware", "Hardware"), node


def build_layout(m: TransformerSpec, hardware: Any, tp: Any, dp: Any, ep: Any, pp: Any) -> Layout:
    hw, node = resolve_serving_hardware(hardware)
    tp, dp, ep, pp = (check_positive_int(n, v) for n, v in (("tensor_parallel", tp), ("data_parallel", dp),
                                                            ("expert_parallel", ep), ("pipeline_parallel", pp)))
    if m.heads % tp:
        raise InvalidInputError(f"tensor_parallel={tp} does not divide the {m.heads} attention heads of "
                                f"{m.display_name}; use a divisor of {m.heads}")
    if m.mla is None and m.kv_heads % tp and tp % m.kv_heads:
        raise InvalidInputError(f"tensor_parallel={tp} and the {m.kv_heads} KV heads of {m.display_name} do not "
                                f"divide one another; use a TP that divides or is a multiple of {m.kv_heads}")
    if pp > m.layers:
        raise InvalidInputError(f"pipeline_parallel={pp} exceeds the {m.layers} layers of {m.display_name}")
    if ep > 1:
        if not isinstance(m, MoESpec):
            raise InvalidInputError(f"expert_parallel={ep} needs a mixture-of-experts model; {m.display_name} is "
                                    f"dense: use expert_parallel=1")
        if m.experts % ep:
            raise InvalidInputError(f"expert_parallel={ep} does not divide the {m.experts} experts of "
                                    f"{m.display_name}; use a divisor of {m.experts}")
        if (tp * dp) % ep:
            raise InvalidInputError(f"expert_parallel={ep} must divide tensor_parallel x data_parallel = {tp * dp} "
                                    f"(the GPUs of a stage the experts spread over)")
    gpus = tp * dp * pp
    if node is not None:
        if gpus > node.accelerators_per_node:
            raise InvalidInputError(f"tensor_parallel x data_parallel x pipeline_parallel = {gpus} GPUs but "
                                    f"{node.display_name} has {node.accelerators_per_node}; lower the degrees or "
                                    f"serve several replicas")
        link = node._intra_node_bandwidth / 2.0  # catalog prints both directions summed
        name, per_node = node.name, node.accelerators_per_node
        hop, a2a = INTRA_NODE_HOP_LATENCY, link
        dims, port_bw = node_torus(node.topology, per_node, node._intra_node_bandwidth)
        if dims:  # torus: the TP group's ring and the EP all-to-all over the stage's tp x dp chips (core.torus)
            link, hop = torus_link(dims, port_bw, INTRA_NODE_HOP_LATENCY, tp, tp, "ring")
            a2a = torus_link(dims, port_bw, INTRA_NODE_HOP_LATENCY, tp * dp, ep, "all_to_all")[0]
        resolve_reference(node, "fabric", FabricSpec, "a fabric", "Systems")
    else:
        ic = hw.interconnect
        both = (ic._device_link_bandwidth or ic._host_link_bandwidth) if ic is not None else None
        if gpus > 1 and not both:
            raise InvalidInputError(f"{hw.display_name} has no device or host link figure in the catalog; "
                                    f"{gpus} GPUs cannot be linked: use one GPU or a Systems node")
        link = (both or 0.0) / 2.0  # NVLink / PCIe figures are printed with both directions summed
        name, per_node = hw.name, None
        hop, a2a = INTRA_NODE_HOP_LATENCY, link
    return Layout(hw, name, tp, dp, ep, pp, link, hop, per_node, a2a)
