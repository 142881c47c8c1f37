"""0.1.x's ``mlsysim.infra.types``: its grid and rack class names, mapped to our spec classes.

0.1.x's ``Datacenter`` (a grid plus a PUE override) has no class here: the solvers that take a
``datacenter`` accept a grid or a rack entry (see each solver's docstring).
"""
from .._compat01 import Renamed, lazy_names

__all__ = ["GridProfile", "RackProfile"]
__getattr__, __dir__ = lazy_names(__name__, {
    "GridProfile": Renamed("mlsysim.specs", "GridSpec"),
    "RackProfile": Renamed("mlsysim.specs", "RackSpec"),
})
