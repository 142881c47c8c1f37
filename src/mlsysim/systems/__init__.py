"""0.1.x's ``mlsysim.systems``: the systems registry (clusters, nodes, fabrics, tiers).

``Systems`` is ``mlsysim.Systems``; the 0.1.x class names (``Fleet``, ``Node`` ...) live in
:mod:`mlsysim.systems.types`. Nothing is loaded until a name is used.
"""
from .._compat01 import Registry, lazy_names

__all__ = ["Systems"]
__getattr__, __dir__ = lazy_names(__name__, {"Systems": Registry("Systems")})
