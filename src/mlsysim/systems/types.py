"""0.1.x's ``mlsysim.systems.types``: its system class names, mapped to our spec classes.

The classes play the same role (``isinstance`` checks and annotations work); their constructors are ours, see
each spec's docstring.
"""
from .._compat01 import Renamed, lazy_names

__all__ = ["Fleet", "Node", "NetworkFabric", "DeploymentTier"]
__getattr__, __dir__ = lazy_names(__name__, {
    "Fleet": Renamed("mlsysim.specs", "ClusterSpec"),
    "Node": Renamed("mlsysim.specs", "NodeSpec"),
    "NetworkFabric": Renamed("mlsysim.specs", "FabricSpec"),
    "DeploymentTier": Renamed("mlsysim.specs", "TierSpec"),
})
