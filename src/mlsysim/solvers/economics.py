"""EconomicsModel: total cost of ownership of a fleet over a period (capex share, energy, maintenance)."""
from __future__ import annotations

from typing import Any

import attrs

from ..errors import CatalogError, InvalidInputError
from ..specs.fields import figure
from ._fleet import DAYS_PER_YEAR, as_float, as_nonnegative, resolve_fleet, split_site
from ._result import SolverResult
from .sustainability import SustainabilityModel

# Yearly maintenance (support contracts, spares, repair labour) as a fraction of capex. Estimate: vendors
# price extended hardware support as a yearly percentage of the purchase price, and 5%/year is the figure
# mlsysim 0.1.x used; kept so the two releases' TCOs stay comparable. Pass annual_maintenance_fraction to change it.
ANNUAL_MAINTENANCE_FRACTION = 0.05
# The accelerators are the floor of a fleet's capex: a multiplier below 1 would price a fleet below its chips.
MIN_INFRASTRUCTURE_MULTIPLIER = 1.0


@attrs.frozen(kw_only=True)
class EconomicsResult(SolverResult):
    """TCO of a fleet over a period, in US dollars, with the energy and footprint it is computed from."""

    capex_usd: float
    opex_energy_usd: float
    opex_maintenance_usd: float
    total_opex_usd: float
    tco_usd: float
    it_energy_kwh: Any
    total_energy_kwh: Any
    carbon_footprint_kg: float
    water_usage_liters: float
    pue: float
    region_name: str
    facility_name: str = ""
    unit_cost_usd: float = 0.0
    electricity_price_usd_per_kwh: float = 0.0
    accelerators: int = 0
    embodied_carbon_kg: float = 0.0
    operational_carbon_kg: float = 0.0


def unit_cost(fleet: Any, given: Any) -> float:
    if given is not None:
        return as_float("unit_cost_usd", given, "USD")
    value = figure(fleet.accelerator, "economics.unit_cost")
    if value is None:
        raise CatalogError(f"no purchase price for Hardware.{fleet.accelerator.name}", entry=fleet.accelerator.name,
                           field="economics.unit_cost",
                           expected="an economics = { unit_cost = \"... USD\", provenance = {...} } table in its "
                                    "catalog entry, or the unit_cost_usd argument")
    return value


def electricity_price(grid: Any, given: Any) -> float:
    if given is not None:
        return as_float("kwh_price", given, "USD/kWh")
    value = figure(grid, "electricity.price")
    if value is None:
        raise CatalogError(f"no electricity price for grid {grid.name!r}", entry=grid.name, field="electricity.price",
                           expected="an electricity = { price = \"... USD/kWh\", provenance = {...} } table in "
                                    "catalog/infra/grids.toml, or the kwh_price argument (USD per kWh)")
    return value


class EconomicsModel:
    """Total cost of ownership of a fleet over `duration_days`.

    Models: capex = accelerators x unit cost x infrastructure_multiplier, depreciated straight-line over
    `amortization_years` (the period's share is duration / amortisation period); energy opex = facility energy
    (IT energy x PUE, from SustainabilityModel) x electricity price; maintenance opex = capex x
    `annual_maintenance_fraction` per year.

    Does not model: financing cost or residual value, staff, software licences, network and storage capex
    beyond what infrastructure_multiplier stands for, demand charges and time-of-use tariffs, price changes
    over the period.
    """

    def solve(self, fleet: Any, duration_days: float, kwh_price: float | None = None, datacenter: Any = None,
              grid: Any = None, mfu: float = 1.0, amortization_years: float = 3.0,
              infrastructure_multiplier: float = 1.0, *, unit_cost_usd: float | None = None,
              annual_maintenance_fraction: float = ANNUAL_MAINTENANCE_FRACTION) -> EconomicsResult:
        """`kwh_price` in USD per kWh (default: the grid's catalog price); `datacenter` the facility (rack name or
        spec) or, as in 0.1.x, a grid; `unit_cost_usd` overrides the catalog's per-accelerator price."""
        f = resolve_fleet(fleet)
        days = as_float("duration_days", duration_days, "day")
        years = as_float("amortization_years", amortization_years, "year")
        multiplier = as_float("infrastructure_multiplier", infrastructure_multiplier)
        if multiplier < MIN_INFRASTRUCTURE_MULTIPLIER:
            raise InvalidInputError(f"infrastructure_multiplier must be >= 1 (1: accelerators only; 2-2.5: with "
                                    f"network, cooling and building), got {multiplier!r}")
        maintenance = as_nonnegative("annual_maintenance_fraction", annual_maintenance_fraction)
        site_grid, facility = split_site(datacenter, grid)
        price = electricity_price(site_grid, kwh_price)
        cost = unit_cost(f, unit_cost_usd)

        energy = SustainabilityModel().solve(fleet, days, datacenter=facility, mfu=mfu, grid=site_grid)
        capex_total = cost * f.accelerators * multiplier
        capex_period = capex_total * days / (years * DAYS_PER_YEAR)     # straight-line depreciation
        opex_energy = energy.total_energy_kwh.m_as("kWh") * price
        opex_maintenance = capex_total * maintenance * days / DAYS_PER_YEAR
        opex = opex_energy + opex_maintenance
        return EconomicsResult(
            capex_usd=capex_period, opex_energy_usd=opex_energy, opex_maintenance_usd=opex_maintenance,
            total_opex_usd=opex, tco_usd=capex_period + opex, it_energy_kwh=energy.it_energy_kwh,
            total_energy_kwh=energy.total_energy_kwh, carbon_footprint_kg=energy.carbon_footprint_kg,
            water_usage_liters=energy.water_usage_liters, pue=energy.pue, region_name=energy.region_name,
            facility_name=energy.facility_name, unit_cost_usd=cost, electricity_price_usd_per_kwh=price,
            accelerators=f.accelerators, embodied_carbon_kg=energy.embodied_carbon_kg,
            operational_carbon_kg=energy.operational_carbon_kg)
