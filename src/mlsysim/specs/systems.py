"""Multi-device systems: network fabrics, nodes, clusters and deployment tiers."""
from __future__ import annotations

import attrs

from ..errors import CatalogError
from .fields import QuantityAccess, as_tuple, integer, number, one_of, quantity, reference, spec
from .provenance import Provenance


# How a node's accelerators are wired (NodeSpec.topology).
TOPOLOGIES = ("switch", "torus-2d", "torus-3d")


@spec
class _Entry(QuantityAccess):
    name: str
    display_name: str
    provenance: Provenance
    description: str = ""
    aliases: tuple[str, ...] = attrs.field(default=(), converter=as_tuple)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, {self.display_name!r})"


@spec
class FabricSpec(_Entry):
    kind: str = one_of("InfiniBand", "Ethernet", "RoCE", "NVLink", "ICI", "InfinityFabric")
    _bandwidth: float = quantity("B/s", doc="per port, per direction")
    _latency: float = quantity("s", doc="one hop, port to port")


@spec
class NodeSpec(_Entry):
    _accelerator: str = reference("registry path of the accelerator, e.g. 'Hardware.H100'")
    accelerators_per_node: int = integer()
    _intra_node_bandwidth: float = quantity("B/s")
    nics_per_node: int = integer()
    _fabric: str = reference("registry path of the fabric its NICs attach to")
    _host_memory: float = quantity("B")
    _power: float = quantity("W")
    # The scale-up domain may span hosts (an NVL72 rack's 18 trays, a TPU pod's ICI torus over 32 hosts): `hosts`
    # counts them (host_memory and nics_per_node are totals over all of them); `topology` says how the
    # accelerators are wired: through switches (NVLink Switch, all-to-all at full per-device bandwidth) or as a
    # torus of direct links (TPU ICI, Trainium NeuronLink), where a ring collective still drives every port of a
    # device but an all-to-all crosses the torus bisection (Google's TPU pages print it per pod).
    topology: str = one_of(*TOPOLOGIES, default="switch")
    hosts: int = integer(default=1, doc="host machines (CPU servers / trays) the domain spans")

    def __attrs_post_init__(self) -> None:
        if self.accelerators_per_node % self.hosts:
            raise CatalogError(f"{self.accelerators_per_node} accelerators do not divide over {self.hosts} hosts",
                               entry=self.name, field="hosts",
                               expected="hosts such that every host carries the same number of accelerators")

    @property
    def accelerators_per_host(self) -> int:
        return self.accelerators_per_node // self.hosts

    @property
    def intra_node_bw(self):
        """0.1.x's name of ``intra_node_bandwidth`` (both directions summed, as vendors print it)."""
        return self.intra_node_bandwidth


@spec
class ClusterSpec(_Entry):
    _node: str = reference("registry path of the node")
    node_count: int = integer()
    _fabric: str = reference("registry path of the inter-node fabric")
    oversubscription: float = number()

    # --- 0.1.x's Fleet shape ------------------------------------------------------------------------
    @property
    def count(self) -> int:
        """Nodes in the cluster (0.1.x's ``Fleet.count``)."""
        return self.node_count

    @property
    def total_accelerators(self) -> int:
        return self.node_count * self.node.accelerators_per_node

    @property
    def oversubscription_ratio(self) -> float:
        return self.oversubscription


@spec
class TierSpec(_Entry):
    representative_hardware: str
    _power_budget: float = quantity("W")
    _latency_budget: float = quantity("s")
    _memory_budget: float = quantity("B")

    # --- 0.1.x's names ---------------------------------------------------------------------------------
    @property
    def ram(self):
        """0.1.x's name for memory_budget."""
        return self.memory_budget

    @property
    def typical_latency_budget(self):
        """0.1.x's name for latency_budget."""
        return self.latency_budget

    @property
    def storage(self):
        raise AttributeError(f"{type(self).__name__} has no storage figure: 0.1.x tiers carried one, but no "
                             "sourced per-tier storage budget exists in the catalog and no solver reads it")
