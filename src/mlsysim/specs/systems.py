"""Multi-device systems: network fabrics, nodes, clusters and deployment tiers."""
from __future__ import annotations

import attrs

from .fields import QuantityAccess, as_tuple, integer, number, one_of, quantity, spec
from .provenance import Provenance


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
    kind: str = one_of("InfiniBand", "Ethernet", "RoCE", "NVLink", "ICI")
    _bandwidth: float = quantity("B/s", doc="per port, per direction")
    _latency: float = quantity("s", doc="one hop, port to port")


@spec
class NodeSpec(_Entry):
    accelerator: str  # registry path, resolved by the registry (see Registry.resolve_path)
    accelerators_per_node: int = integer()
    _intra_node_bandwidth: float = quantity("B/s")
    nics_per_node: int = integer()
    fabric: str
    _host_memory: float = quantity("B")
    _power: float = quantity("W")


@spec
class ClusterSpec(_Entry):
    node: str
    node_count: int = integer()
    fabric: str
    oversubscription: float = number()


@spec
class TierSpec(_Entry):
    representative_hardware: str
    _power_budget: float = quantity("W")
    _latency_budget: float = quantity("s")
    _memory_budget: float = quantity("B")
