"""0.1.x's ``mlsysim.systems.registry``: the systems registry and its groups."""
from .._compat01 import Registry, lazy_names

__all__ = ["Systems", "Tiers", "Nodes", "Fabrics", "Clusters"]
__getattr__, __dir__ = lazy_names(__name__, {
    "Systems": Registry("Systems"),
    "Tiers": Registry("Systems.Tiers"),
    "Nodes": Registry("Systems.Nodes"),
    "Fabrics": Registry("Systems.Fabrics"),
    "Clusters": Registry("Systems.Clusters"),
})
