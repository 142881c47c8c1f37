"""Datacenter infrastructure: electricity grids and rack/facility profiles."""
from __future__ import annotations

import attrs

from .fields import QuantityAccess, as_tuple, number, quantity, spec
from .economics import GridElectricity
from .provenance import Provenance


@spec
class GridSpec(QuantityAccess):
    name: str
    display_name: str
    provenance: Provenance
    region: str
    _carbon_intensity: float = quantity("g/kWh", doc="gCO2e per kWh consumed")
    description: str = ""
    aliases: tuple[str, ...] = attrs.field(default=(), converter=as_tuple)
    electricity: GridElectricity | None = None


@spec
class RackSpec(QuantityAccess):
    name: str
    display_name: str
    provenance: Provenance
    _power_per_rack: float = quantity("W")
    pue: float = number(doc="facility energy / IT energy, >= 1")
    _wue: float = quantity("L/kWh", doc="litres of water per kWh of IT energy")
    description: str = ""
    aliases: tuple[str, ...] = attrs.field(default=(), converter=as_tuple)
