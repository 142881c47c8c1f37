"""0.1.x's ``mlsysim.hardware``: the hardware registry and the device type under its 0.1.x name.

``from mlsysim.hardware import Hardware, HardwareNode`` keeps working; ``Hardware`` is ``mlsysim.Hardware`` and
``HardwareNode`` is :class:`mlsysim.specs.HardwareSpec`. Nothing is loaded until a name is used.
"""
from .._compat01 import Registry, Renamed, lazy_names

__all__ = ["Hardware", "HardwareNode"]
__getattr__, __dir__ = lazy_names(__name__, {
    "Hardware": Registry("Hardware"),
    "HardwareNode": Renamed("mlsysim.specs", "HardwareSpec"),
})
