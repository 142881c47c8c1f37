"""SustainabilityModel: the energy, carbon and water of running a fleet for a number of days."""
from __future__ import annotations

from typing import Any

import attrs

from ..specs.fields import figure
from ..units import quantity
from ._fleet import (DAYS_PER_YEAR, G_PER_KG, HOURS_PER_DAY, W_PER_KW, as_float, as_fraction, as_nonnegative,
                     resolve_fleet, split_site)
from ._result import SolverResult

# Service life over which a device's manufacturing footprint is spread: the 6-year replacement period Luccioni
# et al. assume for the Jean Zay GPUs (JMLR 24(253), 2023, "Estimating the Carbon Footprint of BLOOM"), also
# the useful life Microsoft (FY2023) and Alphabet (2023) book their servers over. Estimate.
DEFAULT_SERVICE_LIFE_YEARS = 6.0


@attrs.frozen(kw_only=True)
class SustainabilityResult(SolverResult):
    """Energy (pint Quantities in kWh), carbon (kg CO2e) and water (litres) of a fleet over a period."""

    it_energy_kwh: Any
    total_energy_kwh: Any
    carbon_footprint_kg: float  # operational + amortised embodied
    water_usage_liters: float
    pue: float
    region_name: str
    embodied_carbon_kg: float = 0.0
    operational_carbon_kg: float = 0.0
    it_power: Any = None
    facility_name: str = ""
    accelerators: int = 0
    embodied_carbon_source: str = ""


def embodied_per_device(fleet: Any, given: Any) -> tuple[float, str]:
    """(kg CO2e of one accelerator, where it came from): the argument if given, else the catalog figure."""
    if given is not None:
        value = as_nonnegative("embodied_carbon_per_device", given, "kg")
        return value, "argument embodied_carbon_per_device" if value > 0 else "not counted (argument is 0)"
    value = figure(fleet.accelerator, "economics.embodied_carbon")
    if value is None:
        return 0.0, (f"not counted: Hardware.{fleet.accelerator.name} has no economics.embodied_carbon in the "
                     "catalog; pass embodied_carbon_per_device (kg CO2e per accelerator)")
    return value, f"catalog Hardware.{fleet.accelerator.name}.economics.embodied_carbon"


class SustainabilityModel:
    """Energy, operational and embodied carbon, and water of a fleet running for `duration_days`.

    Models: IT power from each accelerator's idle and TDP (linear in the busy fraction `mfu`) plus each node's
    host at its maximum; facility energy = IT energy x PUE; operational carbon = facility energy x the grid's
    average carbon intensity; on-site water = IT energy x WUE (The Green Grid's definition, litres per kWh of IT
    energy); embodied carbon of the accelerators spread evenly over `lifetime_years`.

    Does not model: marginal (rather than average) grid intensity, hourly variation of the grid or of PUE,
    water consumed off site by power generation, embodied carbon of host servers, network and building,
    storage and network-switch energy outside the nodes.
    """

    def solve(self, fleet: Any, duration_days: float, datacenter: Any = None, mfu: float = 1.0,
              embodied_carbon_per_device: float | None = None, *, grid: Any = None,
              lifetime_years: float = DEFAULT_SERVICE_LIFE_YEARS) -> SustainabilityResult:
        """`fleet`: a cluster or node (spec or name). `datacenter`: the facility, a rack name/spec (PUE, WUE),
        or, as in 0.1.x, a grid name/spec; `grid`: the electricity grid (default DEFAULT_GRID). `mfu`: busy
        fraction of the accelerators for power (1.0: TDP). `embodied_carbon_per_device` in kg CO2e (default:
        the catalog's figure, else not counted, as the result says)."""
        f = resolve_fleet(fleet)
        days = as_float("duration_days", duration_days, "day")
        utilization = as_fraction("mfu", mfu)
        life_years = as_float("lifetime_years", lifetime_years, "year")
        site_grid, facility = split_site(datacenter, grid)
        per_device, source = embodied_per_device(f, embodied_carbon_per_device)

        hours = days * HOURS_PER_DAY
        it_power_w = f.it_power_w(utilization)
        it_kwh = it_power_w * hours / W_PER_KW                                  # E = P t
        pue = float(facility.pue)
        total_kwh = it_kwh * pue                                                # PUE = facility / IT energy
        operational_kg = total_kwh * figure(site_grid, "carbon_intensity") / G_PER_KG
        water_l = it_kwh * figure(facility, "wue")                              # WUE = site water / IT energy
        # Straight-line share of the manufacturing footprint: the fraction of the service life this run uses.
        embodied_kg = per_device * f.accelerators * days / (life_years * DAYS_PER_YEAR)

        return SustainabilityResult(
            it_energy_kwh=quantity(it_kwh, "kWh"), total_energy_kwh=quantity(total_kwh, "kWh"),
            carbon_footprint_kg=operational_kg + embodied_kg, water_usage_liters=water_l, pue=pue,
            region_name=site_grid.name, embodied_carbon_kg=embodied_kg, operational_carbon_kg=operational_kg,
            it_power=quantity(it_power_w, "W"), facility_name=facility.name, accelerators=f.accelerators,
            embodied_carbon_source=source)
