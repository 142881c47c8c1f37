"""Multi-device systems: network fabrics, nodes, clusters and deployment tiers."""
from __future__ import annotations

import attrs

from .fields import QuantityAccess, as_tuple, integer, number, one_of, quantity
from .provenance import Provenance


@attrs.frozen(kw_only=True)
class _Entry(QuantityAccess):
    name: str
    display_name: str
    provenance: Provenance
    description: str = ""
    aliases: tuple[str, ...] = attrs.field(default=(), converter=as_tuple)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, {self.display_name!r})"


@attrs.frozen(kw_only=True)
class FabricSpec(_Entry):
    kind: str = one_of("InfiniBand", "Ethernet", "RoCE", "NVLink", "ICI")
    bandwidth: float = quantity("B/s", doc="per port, per direction")
    latency: float = quantity("s", doc="one hop, port to port")


@attrs.frozen(kw_only=True)
class NodeSpec(_Entry):
    accelerator: str  # registry path, resolved by the registry (see Registry.resolve_path)
    accelerators_per_node: int = integer()
    intra_node_bandwidth: float = quantity("B/s")
    nics_per_node: int = integer()
    fabric: str
    host_memory: float = quantity("B")
    power: float = quantity("W")


@attrs.frozen(kw_only=True)
class ClusterSpec(_Entry):
    node: str
    node_count: int = integer()
    fabric: str
    oversubscription: float = number()


@attrs.frozen(kw_only=True)
class TierSpec(_Entry):
    representative_hardware: str
    power_budget: float = quantity("W")
    latency_budget: float = quantity("s")
    memory_budget: float = quantity("B")
