"""What the fleet, cost and sustainability families share: a fleet (cluster or node) resolved to its
accelerators and their power, a grid and a facility resolved from names or specs, and argument checks.

0.1.x passed a ``Fleet`` object; here a fleet is a ``Systems.Clusters.<X>`` ClusterSpec (``node_count`` nodes
of ``node``), a ``Systems.Nodes.<X>`` NodeSpec (one node), or the registry name of either.
"""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from typing import Any

from ..core.inputs import resolve_reference
from ..errors import CatalogError, InvalidInputError, InvalidTypeError
from ..specs.fields import figure
from ..specs.hardware import HardwareSpec
from ..specs.infra import GridSpec, RackSpec
from ..specs.systems import ClusterSpec, NodeSpec

HOURS_PER_DAY = 24.0
DAYS_PER_YEAR = 365.0  # a calendar year; amortisation schedules count whole years of 365 days
SECONDS_PER_HOUR = 3600.0
G_PER_KG = 1000.0
KG_PER_TONNE = 1000.0
W_PER_KW = 1000.0

# Defaults where 0.1.x let the fleet carry a site: the grid 0.1.x fell back to (Grids.US_Avg), and the
# catalog's AI rack archetype (liquid-cooled H100 racks, PUE 1.2, WUE 0.3 L/kWh) for the facility, whose
# PUE and WUE the grid carried in 0.1.x. Results name both, so the default is never silent.
DEFAULT_GRID = "US_Avg"
DEFAULT_FACILITY = "AI_Standard"


@dataclass(frozen=True)
class Fleet:
    """A fleet reduced to what the families compute with (plain floats, SI units)."""

    name: str
    accelerator: HardwareSpec
    nodes: int
    accelerators_per_node: int
    node_power_w: float | None  # maximum input power of one node (CPUs, NICs, fans included); None: bare devices

    @property
    def accelerators(self) -> int:
        return self.nodes * self.accelerators_per_node

    def it_power_w(self, utilization: float) -> float:
        """IT power of the fleet at a busy fraction `utilization` of the accelerators.

        Each accelerator draws idle + (TDP - idle) x utilization (the linear utilisation-power model of Barroso
        & Hoelzle, "The Case for Energy-Proportional Computing", IEEE Computer 2007); the rest of each node
        (host CPUs, memory, NICs, fans: node power minus its accelerators' TDP) is taken at its maximum.
        """
        tdp, idle = figure(self.accelerator, "power.tdp"), figure(self.accelerator, "power.idle")
        per_device = idle + (tdp - idle) * utilization
        host = 0.0
        if self.node_power_w is not None:
            host = self.node_power_w - self.accelerators_per_node * tdp
            if host < 0:
                raise CatalogError(f"node power {self.node_power_w:.4g} W is below its {self.accelerators_per_node} "
                                   f"accelerators' TDP ({self.accelerators_per_node * tdp:.4g} W)",
                                   entry=self.name, field="power",
                                   expected="the node's maximum input power, accelerators included")
        return self.nodes * (host + self.accelerators_per_node * per_device)


def _registry_entry(root: str, name: str) -> Any:
    from ..registry import registries

    return registries().roots[root].get(name)


def resolve_fleet(fleet: Any) -> Fleet:
    """A ClusterSpec, a NodeSpec or the registry name of either, as a Fleet (a Fleet passes through)."""
    if isinstance(fleet, Fleet):
        return fleet
    if isinstance(fleet, str):
        fleet = _registry_entry("Systems", fleet)
        if not isinstance(fleet, (ClusterSpec, NodeSpec)):
            raise InvalidTypeError(f"fleet names {type(fleet).__name__} {getattr(fleet, 'name', fleet)!r}, not a "
                                   "cluster or a node: pass a Systems.Clusters.<X> or Systems.Nodes.<X> name or spec")
    if isinstance(fleet, ClusterSpec):
        node = resolve_reference(fleet, "node", NodeSpec, "a node", "Systems")
        count = fleet.node_count
    elif isinstance(fleet, NodeSpec):
        node, count = fleet, 1
    else:
        raise InvalidTypeError(f"fleet must be a ClusterSpec (Systems.Clusters.<X>), a NodeSpec (Systems.Nodes.<X>) "
                               f"or a registry name such as 'Frontier_8K', got {type(fleet).__name__}")
    accelerator = resolve_reference(node, "accelerator", HardwareSpec, "hardware", "Hardware")
    return Fleet(name=fleet.name, accelerator=accelerator, nodes=count,
                 accelerators_per_node=node.accelerators_per_node, node_power_w=figure(node, "power"))


def resolve_grid(grid: Any) -> GridSpec:
    """An Infra.Grids.<X> GridSpec or its registry name (None: DEFAULT_GRID)."""
    if grid is None:
        grid = DEFAULT_GRID
    if isinstance(grid, str):
        grid = _registry_entry("Infra", grid)
    if not isinstance(grid, GridSpec):
        raise InvalidTypeError(f"grid must be a GridSpec (Infra.Grids.<X>) or a grid name such as 'Quebec', got "
                               f"{type(grid).__name__} {getattr(grid, 'name', '')!r}".rstrip(" '"))
    return grid


def resolve_facility(facility: Any) -> RackSpec:
    """An Infra.Racks.<X> RackSpec (PUE, WUE) or its registry name (None: DEFAULT_FACILITY)."""
    if facility is None:
        facility = DEFAULT_FACILITY
    if isinstance(facility, str):
        facility = _registry_entry("Infra", facility)
    if not isinstance(facility, RackSpec):
        raise InvalidTypeError(f"datacenter must be a RackSpec (Infra.Racks.<X>: PUE and WUE) or a rack name such as "
                               f"'AI_Standard', got {type(facility).__name__}")
    return facility


def split_site(datacenter: Any, grid: Any) -> tuple[GridSpec, RackSpec]:
    """0.1.x's `datacenter` held a grid (with PUE and WUE) or a datacenter; here grids (carbon, price) and racks
    (PUE, WUE) are separate entries. `datacenter` may name either; `grid` only a grid."""
    if isinstance(datacenter, str):
        datacenter = _registry_entry("Infra", datacenter)
    if isinstance(datacenter, GridSpec):
        if grid is not None and resolve_grid(grid) is not datacenter:
            raise InvalidInputError(f"datacenter names grid {datacenter.name!r} and grid names "
                                    f"{resolve_grid(grid).name!r}: pass the grid once, the facility (a rack) as "
                                    "datacenter")
        return datacenter, resolve_facility(None)
    return resolve_grid(grid), resolve_facility(datacenter)


# --- argument checks ----------------------------------------------------------------------------------------

def as_float(name: str, value: Any, unit: str | None = None) -> float:
    """A finite positive float; a pint Quantity is converted to `unit` (the documented unit of the argument)."""
    if hasattr(value, "units") and hasattr(value, "magnitude"):
        if unit is None:
            raise InvalidTypeError(f"{name} is a plain number, got a Quantity {value!r}")
        try:
            value = value.m_as(unit)
        except Exception:  # pint raises DimensionalityError or UndefinedUnitError
            raise InvalidInputError(f"{name} must be in {unit} (or convertible to it), got {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        shown = f" in {unit}" if unit else ""
        raise InvalidTypeError(f"{name} must be a positive number{shown}, got {value!r} ({type(value).__name__})")
    value = float(value)
    if not math.isfinite(value) or value < sys.float_info.min:
        raise InvalidInputError(f"{name} must be positive and finite, got {value!r}")
    return value


def as_nonnegative(name: str, value: Any, unit: str | None = None) -> float:
    """A finite float >= 0 (zero allowed: no recovery time, no carbon tax); Quantities as in as_float."""
    if hasattr(value, "units") and hasattr(value, "magnitude") and unit is not None:
        try:
            value = value.m_as(unit)
        except Exception:  # pint raises DimensionalityError or UndefinedUnitError
            raise InvalidInputError(f"{name} must be in {unit} (or convertible to it), got {value!r}") from None
    if not isinstance(value, bool) and isinstance(value, (int, float)) and value == 0:
        return 0.0
    return as_float(name, value, unit)


def as_fraction(name: str, value: Any) -> float:
    """A float in [0, 1]."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidTypeError(f"{name} must be a number in [0, 1], got {value!r}")
    if not (0.0 <= value <= 1.0):  # NaN fails
        raise InvalidInputError(f"{name} must be in [0, 1], got {value!r}")
    return float(value)
