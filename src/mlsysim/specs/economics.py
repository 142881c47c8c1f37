"""Cost, carbon and reliability figures of catalog entries: optional sub-tables of a hardware entry
(``economics = {...}``) and of a grid entry (``electricity = {...}``).

Each table carries its own provenance: prices, footprints and failure rates come from sources of a different
kind (analyst estimates, life-cycle studies, fleet logs) and date than a device's datasheet.
"""
from __future__ import annotations

import attrs

from ..errors import CatalogError
from .fields import QuantityAccess, as_tuple, quantity, spec
from .provenance import Provenance


@spec
class RentalPrice(QuantityAccess):
    """One public price-list quote for renting the accelerator, per accelerator-hour (an instance price divided by
    the accelerators it holds), on demand and/or under a commitment (reserved_term says which)."""

    provider: str
    offering: str
    provenance: Provenance
    _on_demand: float | None = quantity("USD/h", optional=True, doc="list price per accelerator-hour, no commitment")
    _reserved: float | None = quantity("USD/h", optional=True, doc="price per accelerator-hour under reserved_term")
    reserved_term: str = ""

    def __attrs_post_init__(self) -> None:
        if self._on_demand is None and self._reserved is None:
            raise CatalogError(f"rental quote of {self.provider} ({self.offering}) has no price",
                               field="economics.rental", expected="on_demand and/or reserved in USD/h")
        if self._reserved is not None and not self.reserved_term:
            raise CatalogError(f"rental quote of {self.provider} ({self.offering}) gives a reserved price without "
                               "its term", field="economics.rental.reserved_term",
                               expected="the commitment, e.g. '1-year committed use' or '3-year reserved'")
        # a commitment buys a discount: a reserved rate above the same offering's on-demand rate is a slip
        if self._reserved is not None and self._on_demand is not None and self._reserved > self._on_demand:
            raise CatalogError(f"rental quote of {self.provider} ({self.offering}): reserved {self._reserved:g} "
                               f"USD/h above on-demand {self._on_demand:g} USD/h", field="economics.rental.reserved",
                               expected="a reserved (committed) rate at or below the on-demand rate")


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
    rental: tuple[RentalPrice, ...] = attrs.field(default=(), converter=as_tuple)


@spec
class GridElectricity(QuantityAccess):
    """The price a large consumer pays for a kWh on this grid."""

    provenance: Provenance
    _price: float = quantity("USD/kWh", doc="average price of a kWh to a large (industrial) consumer")
