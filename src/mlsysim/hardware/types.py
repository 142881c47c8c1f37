"""0.1.x's ``mlsysim.hardware.types``: its device-description class names, mapped to our spec classes.

The classes play the same role (``isinstance`` checks and annotations work); their constructors are ours, see
each spec's docstring. Nothing is loaded until a name is used.
"""
from .._compat01 import Renamed, lazy_names

__all__ = ["HardwareNode", "ComputeCore", "MemoryHierarchy", "StorageHierarchy", "IOInterconnect"]
__getattr__, __dir__ = lazy_names(__name__, {
    "HardwareNode": Renamed("mlsysim.specs", "HardwareSpec"),
    "ComputeCore": Renamed("mlsysim.specs.hardware", "ComputeView"),  # what HardwareSpec.compute returns
    "MemoryHierarchy": Renamed("mlsysim.specs", "MemorySpec"),
    "StorageHierarchy": Renamed("mlsysim.specs", "FlashSpec"),  # a capacity + bandwidth memory level
    "IOInterconnect": Renamed("mlsysim.specs", "InterconnectSpec"),
})
