"""SustainabilityModel: IT power from idle/TDP and node power, PUE, grid carbon intensity, WUE, embodied share."""
from __future__ import annotations

import json
import math

import pytest

import mlsysim
from mlsysim.errors import InvalidInputError, InvalidTypeError, MlsysimError
from mlsysim.solvers import SustainabilityModel
from mlsysim.solvers.sustainability import DEFAULT_SERVICE_LIFE_YEARS
from mlsysim.units import get_ureg

kwh = lambda q: q.m_as("kWh")  # noqa: E731
solve = SustainabilityModel().solve


def test_research_cluster_for_thirty_days_by_hand():
    # 32 DGX H100 nodes at their 10.2 kW maximum (mfu 1: every GPU at TDP, host at its max) for 720 h,
    # AI_Standard facility (PUE 1.2, WUE 0.3 L/kWh), US_Avg grid (367 g/kWh), 150 kg per H100 over 6 years.
    r = solve(mlsysim.Systems.Clusters.Research_256, 30)
    it = 32 * 10.2 * 720
    assert kwh(r.it_energy_kwh) == pytest.approx(it)
    assert kwh(r.total_energy_kwh) == pytest.approx(it * 1.2)
    assert r.operational_carbon_kg == pytest.approx(it * 1.2 * 0.367)
    assert r.water_usage_liters == pytest.approx(it * 0.3)
    assert r.embodied_carbon_kg == pytest.approx(150 * 256 * 30 / (DEFAULT_SERVICE_LIFE_YEARS * 365))
    assert r.carbon_footprint_kg == pytest.approx(r.operational_carbon_kg + r.embodied_carbon_kg)
    assert (r.pue, r.region_name, r.facility_name, r.accelerators) == (1.2, "US_Avg", "AI_Standard", 256)


def test_idle_fleet_draws_idle_gpus_plus_host():
    # mfu 0: each H100 at its 70 W idle; the host share (10.2 kW - 8 x 700 W = 4.6 kW) stays.
    r = solve("DGX_H100", 1, mfu=0.0)
    assert r.it_power.m_as("W") == pytest.approx(4600 + 8 * 70)


def test_power_is_linear_in_utilisation_and_energy_in_time():
    p = [solve("Frontier_8K", 10, mfu=u).it_power.m_as("W") for u in (0.0, 0.25, 0.5, 1.0)]
    assert p == sorted(p) and p[2] - p[1] == pytest.approx(p[1] - p[0])
    one, ten = solve("Frontier_8K", 1), solve("Frontier_8K", 10)
    assert kwh(ten.total_energy_kwh) == pytest.approx(10 * kwh(one.total_energy_kwh))
    assert ten.embodied_carbon_kg == pytest.approx(10 * one.embodied_carbon_kg)


def test_carbon_follows_the_grid_and_water_follows_it_energy():
    by_grid = {g: solve("Research_256", 30, grid=g) for g in ("Quebec", "Norway", "US_Avg", "Poland")}
    carbon = [by_grid[g].operational_carbon_kg for g in ("Quebec", "Norway", "US_Avg", "Poland")]
    assert carbon == sorted(carbon)
    for g, r in by_grid.items():  # same facility: energy and water do not depend on the grid
        intensity = getattr(mlsysim.Infra.Grids, g).carbon_intensity.m_as("g/kWh")
        assert r.operational_carbon_kg == pytest.approx(kwh(r.total_energy_kwh) * intensity / 1000)
        assert r.water_usage_liters == pytest.approx(kwh(r.it_energy_kwh) * 0.3)  # WUE is per kWh of IT energy


def test_facility_sets_pue_and_wue():
    std, trad = solve("Research_256", 30), solve("Research_256", 30, datacenter="Traditional")
    assert kwh(std.it_energy_kwh) == pytest.approx(kwh(trad.it_energy_kwh))
    assert kwh(trad.total_energy_kwh) / kwh(trad.it_energy_kwh) == pytest.approx(1.56)
    assert trad.water_usage_liters / kwh(trad.it_energy_kwh) == pytest.approx(1.8)


def test_datacenter_may_name_a_grid_as_in_0_1():
    r = solve("Research_256", 30, datacenter=mlsysim.Infra.Grids.Quebec)
    assert (r.region_name, r.facility_name) == ("Quebec", "AI_Standard")
    assert solve("Research_256", 30, datacenter="Quebec", grid="Quebec").region_name == "Quebec"
    with pytest.raises(InvalidInputError, match="pass the grid once"):
        solve("Research_256", 30, datacenter="Quebec", grid="Poland")


def test_embodied_carbon_sources():
    assert "catalog Hardware.H100" in solve("Research_256", 30).embodied_carbon_source
    given = solve("Research_256", 30, embodied_carbon_per_device=300.0)
    assert given.embodied_carbon_kg == pytest.approx(300 * 256 * 30 / (6 * 365))
    off = solve("Research_256", 30, embodied_carbon_per_device=0.0)
    assert off.embodied_carbon_kg == 0.0 and "not counted" in off.embodied_carbon_source
    b200 = solve("DGX_B200", 30)  # no catalog figure: not counted, and the result says why
    assert b200.embodied_carbon_kg == 0.0 and "no economics.embodied_carbon" in b200.embodied_carbon_source
    # a longer service life spreads the same footprint thinner
    assert solve("Research_256", 30, lifetime_years=12).embodied_carbon_kg == pytest.approx(
        solve("Research_256", 30).embodied_carbon_kg / 2)


def test_quantities_are_accepted_where_units_are_documented():
    ureg = get_ureg()
    a = solve("Research_256", 30)
    b = solve("Research_256", ureg.Quantity(720, "hour"))
    assert kwh(b.total_energy_kwh) == pytest.approx(kwh(a.total_energy_kwh))


@pytest.mark.parametrize("kwargs,error", [
    ({"fleet": "Research_256", "duration_days": 0}, InvalidInputError),
    ({"fleet": "Research_256", "duration_days": math.nan}, InvalidInputError),
    ({"fleet": "Research_256", "duration_days": "30"}, InvalidTypeError),
    ({"fleet": "Research_256", "duration_days": 30, "mfu": 1.5}, InvalidInputError),
    ({"fleet": "Research_256", "duration_days": 30, "embodied_carbon_per_device": -1}, InvalidInputError),
    ({"fleet": "Research_256", "duration_days": 30, "datacenter": 3}, InvalidTypeError),
    ({"fleet": "Cloud", "duration_days": 30}, InvalidTypeError),          # Systems.Cloud is an accelerator
    ({"fleet": 42, "duration_days": 30}, InvalidTypeError),
    ({"fleet": "NoSuchCluster", "duration_days": 30}, MlsysimError),
    ({"fleet": "Research_256", "duration_days": 30, "grid": "Atlantis"}, MlsysimError),
])
def test_bad_input_raises_mlsysim_errors(kwargs, error):
    with pytest.raises(error):
        solve(**kwargs)


def test_result_serialises():
    data = json.loads(solve("Research_256", 30).to_json())
    assert data["it_energy_kwh_unit"] == "kWh" and data["region_name"] == "US_Avg"
