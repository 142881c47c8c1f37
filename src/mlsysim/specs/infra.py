"""Datacenter infrastructure: electricity grids and rack/facility profiles."""
from __future__ import annotations

import attrs

from .fields import QuantityAccess, as_tuple, number, quantity, spec
from .economics import GridElectricity
from .provenance import Provenance

# 0.1.x grids carried a PUE; ours answer grid.pue with this rack archetype's (catalog/infra/racks.toml).
REFERENCE_RACK = "AI_Standard"


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

    # --- 0.1.x's figures -------------------------------------------------------------------------------
    @property
    def carbon_intensity_g_kwh(self) -> float:
        """0.1.x's carbon intensity as a bare float in gCO2e/kWh (read ``carbon_intensity``, a Quantity)."""
        return self._carbon_intensity  # stored in the declared unit, g/kWh

    @property
    def pue(self) -> float:
        """0.1.x grids carried a PUE; PUE is a property of the facility, so ours live on racks. Kept for
        0.1.x code: the PUE of the reference rack archetype (REFERENCE_RACK), with a DeprecationWarning."""
        import warnings

        from .. import _hooks

        warnings.warn(f"grid.pue is the PUE of Infra.Racks.{REFERENCE_RACK} (PUE belongs to the facility, not the "
                      f"grid): read Infra.Racks.<rack>.pue", DeprecationWarning, stacklevel=2)
        return _hooks.resolve_path(f"Infra.Racks.{REFERENCE_RACK}").pue


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

    @property
    def power_kw(self) -> float:
        """0.1.x's IT power per rack as a bare float in kW (read ``power_per_rack``, a Quantity)."""
        return self._power_per_rack / 1e3
