"""0.1.x's ``mlsysim.hardware.registry``: the hardware registry and its per-tier groups."""
from .._compat01 import Registry, lazy_names

__all__ = ["Hardware", "CloudHardware", "WorkstationHardware", "MobileHardware", "EdgeHardware", "TinyHardware"]
__getattr__, __dir__ = lazy_names(__name__, {
    "Hardware": Registry("Hardware"),
    "CloudHardware": Registry("Hardware.Cloud"),
    "WorkstationHardware": Registry("Hardware.Workstation"),
    "MobileHardware": Registry("Hardware.Mobile"),
    "EdgeHardware": Registry("Hardware.Edge"),
    "TinyHardware": Registry("Hardware.Tiny"),
})
