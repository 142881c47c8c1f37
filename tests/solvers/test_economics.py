"""EconomicsModel: straight-line capex share, energy opex at the grid's price, maintenance, TCO sum."""
from __future__ import annotations

import pytest

import mlsysim
from mlsysim.errors import CatalogError, InvalidInputError, InvalidTypeError
from mlsysim.solvers import EconomicsModel, SustainabilityModel
from mlsysim.units import get_ureg

solve = EconomicsModel().solve


def test_frontier_cluster_for_a_year_by_hand():
    # 8192 H100 at 27,500 USD; 3-year straight line; 5 %/year maintenance; 1024 nodes x 10.2 kW x 8760 h x
    # PUE 1.2 at 0.0806 USD/kWh (US_Avg).
    r = solve(mlsysim.Systems.Clusters.Frontier_8K, 365)
    capex = 8192 * 27_500
    energy_kwh = 1024 * 10.2 * 8760 * 1.2
    assert r.capex_usd == pytest.approx(capex / 3)
    assert r.opex_maintenance_usd == pytest.approx(capex * 0.05)
    assert r.opex_energy_usd == pytest.approx(energy_kwh * 0.0806)
    assert r.total_opex_usd == pytest.approx(r.opex_energy_usd + r.opex_maintenance_usd)
    assert r.tco_usd == pytest.approx(r.capex_usd + r.total_opex_usd)
    assert (r.unit_cost_usd, r.electricity_price_usd_per_kwh, r.accelerators) == (27_500, 0.0806, 8192)


def test_energy_and_footprint_are_the_sustainability_model_s():
    e = solve("Research_256", 30, grid="Quebec", datacenter="Traditional", mfu=0.6)
    s = SustainabilityModel().solve("Research_256", 30, grid="Quebec", datacenter="Traditional", mfu=0.6)
    assert e.total_energy_kwh.m_as("kWh") == pytest.approx(s.total_energy_kwh.m_as("kWh"))
    assert e.carbon_footprint_kg == pytest.approx(s.carbon_footprint_kg)
    assert e.water_usage_liters == pytest.approx(s.water_usage_liters)
    assert (e.pue, e.region_name, e.facility_name) == (1.56, "Quebec", "Traditional")


def test_scaling_laws_of_each_term():
    base = solve("Research_256", 90)
    assert solve("Research_256", 90, amortization_years=6).capex_usd == pytest.approx(base.capex_usd / 2)
    doubled = solve("Research_256", 90, infrastructure_multiplier=2.0)
    assert doubled.capex_usd == pytest.approx(2 * base.capex_usd)
    assert doubled.opex_maintenance_usd == pytest.approx(2 * base.opex_maintenance_usd)
    assert doubled.opex_energy_usd == pytest.approx(base.opex_energy_usd)  # the multiplier is capex only
    assert solve("Research_256", 90, kwh_price=0.2).opex_energy_usd == pytest.approx(
        base.opex_energy_usd * 0.2 / 0.0806)
    longer = solve("Research_256", 180)
    assert longer.tco_usd == pytest.approx(2 * base.tco_usd)  # every term is linear in time
    assert solve("Research_256", 90, annual_maintenance_fraction=0).opex_maintenance_usd == 0.0
    assert solve("Research_256", 90, grid="Quebec").opex_energy_usd < base.opex_energy_usd


def test_quantities_for_price_and_duration():
    ureg = get_ureg()
    a = solve("Research_256", 30, kwh_price=0.1)
    b = solve("Research_256", ureg.Quantity(30, "day"), kwh_price=ureg.Quantity(10, "USD/MWh") * 10)
    assert b.tco_usd == pytest.approx(a.tco_usd)


def test_missing_catalog_figures_name_the_field_and_the_argument():
    with pytest.raises(CatalogError, match="unit_cost_usd") as exc:
        solve("DGX_A100", 30)  # the A100 80GB has no purchase price in the catalog
    assert exc.value.field == "economics.unit_cost"
    assert solve("DGX_A100", 30, unit_cost_usd=15_000).capex_usd == pytest.approx(8 * 15_000 * 30 / (3 * 365))
    with pytest.raises(CatalogError, match="kwh_price") as exc:
        solve("Research_256", 30, grid="Norway")
    assert exc.value.field == "electricity.price"
    assert solve("Research_256", 30, grid="Norway", kwh_price=0.05).region_name == "Norway"


@pytest.mark.parametrize("kwargs,error", [
    ({"duration_days": -5}, InvalidInputError),
    ({"duration_days": 30, "kwh_price": 0}, InvalidInputError),
    ({"duration_days": 30, "kwh_price": "cheap"}, InvalidTypeError),
    ({"duration_days": 30, "amortization_years": 0}, InvalidInputError),
    ({"duration_days": 30, "infrastructure_multiplier": 0.5}, InvalidInputError),
    ({"duration_days": 30, "mfu": -0.1}, InvalidInputError),
    ({"duration_days": 30, "unit_cost_usd": float("inf")}, InvalidInputError),
    ({"duration_days": 30, "annual_maintenance_fraction": -0.01}, InvalidInputError),
    ({"duration_days": 30, "kwh_price": get_ureg().Quantity(1, "kWh")}, InvalidInputError),
])
def test_bad_input_raises_mlsysim_errors(kwargs, error):
    with pytest.raises(error):
        solve("Research_256", **kwargs)
