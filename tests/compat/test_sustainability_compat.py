"""A 0.1.x-style script: the footprint of a month of training on hydro power, and on the default grid."""
import mlsysim
from mlsysim.solvers import SustainabilityModel


def test_sustainability_script():
    fleet = mlsysim.Systems.Clusters.Frontier_8K
    model = SustainabilityModel()
    hydro = model.solve(fleet, duration_days=30, datacenter=mlsysim.Infra.Grids.Quebec, mfu=0.5)
    default = model.solve(fleet, 30, mfu=0.5)
    mwh = hydro.total_energy_kwh.to("MWh").magnitude
    assert mwh > hydro.it_energy_kwh.to("MWh").magnitude > 0
    assert hydro.pue >= 1.0
    assert hydro.region_name == "Quebec"
    assert hydro.carbon_footprint_kg < default.carbon_footprint_kg
    assert hydro.water_usage_liters > 0 and hydro.embodied_carbon_kg >= 0
    tonnes = default.carbon_footprint_kg / 1000
    assert tonnes > 0
