"""0.1.x's ``mlsysim.infra.registry``: the infrastructure registry and its groups."""
from .._compat01 import Registry, lazy_names

__all__ = ["Infra", "Grids", "Racks"]
__getattr__, __dir__ = lazy_names(__name__, {
    "Infra": Registry("Infra"), "Grids": Registry("Infra.Grids"), "Racks": Registry("Infra.Racks"),
})
