"""Cost, carbon and reliability figures of catalog entries: optional sub-tables of a hardware entry
(``economics = {...}``) and of a grid entry (``electricity = {...}``).

Each table carries its own provenance: prices, footprints and failure rates come from sources of a different
kind (analyst estimates, life-cycle studies, fleet logs) and date than a device's datasheet.
"""
from __future__ import annotations

from .fields import QuantityAccess, quantity, spec
from .provenance import Provenance


@spec
class HardwareEconomics(QuantityAccess):
    """What one accelerator costs to buy, what making it emitted, and how often it interrupts a job.

    Every figure is optional: an entry lists what its sources give, and a solver that needs a missing one
    says so (or takes it as an argument).
    """

    provenance: Provenance
    _unit_cost: float | None = quantity("USD", optional=True, doc="purchase price of one accelerator")
    _embodied_carbon: float | None = quantity(
        "kg", optional=True, doc="cradle-to-gate manufacturing emissions of one accelerator, kg CO2-equivalent")
    _mtbf: float | None = quantity(
        "h", optional=True, doc="mean time between job-interrupting failures, per accelerator (fleet-measured: "
                                "all causes in its server counted against the accelerators)")


@spec
class GridElectricity(QuantityAccess):
    """The price a large consumer pays for a kWh on this grid."""

    provenance: Provenance
    _price: float = quantity("USD/kWh", doc="average price of a kWh to a large (industrial) consumer")
