"""0.1.x's ``mlsysim.infra``: the infrastructure registry (``Infra``) and its electricity grids (``Grids``).

``Infra`` is ``mlsysim.Infra`` and ``Grids`` is ``mlsysim.Infra.Grids``. Nothing is loaded until a name is used.
"""
from .._compat01 import Registry, lazy_names

__all__ = ["Infra", "Grids"]
__getattr__, __dir__ = lazy_names(__name__, {"Infra": Registry("Infra"), "Grids": Registry("Infra.Grids")})
