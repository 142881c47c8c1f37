"""A 0.1.x-style script: a year's TCO of an 8K-GPU cluster, hardware only and with facility costs."""
import mlsysim
from mlsysim.solvers import EconomicsModel


def test_economics_script():
    fleet = mlsysim.Systems.Clusters.Frontier_8K
    model = EconomicsModel()
    chips = model.solve(fleet, duration_days=365, kwh_price=0.10)
    full = model.solve(fleet, 365, 0.10, grid=mlsysim.Infra.Grids.US_Avg, infrastructure_multiplier=2.0)
    print(f"TCO: ${chips.tco_usd / 1e6:,.1f}M (capex share ${chips.capex_usd / 1e6:,.1f}M)")
    assert chips.tco_usd == chips.capex_usd + chips.total_opex_usd
    assert chips.total_opex_usd == chips.opex_energy_usd + chips.opex_maintenance_usd
    assert full.capex_usd == 2 * chips.capex_usd
    assert full.opex_energy_usd == chips.opex_energy_usd
    assert chips.total_energy_kwh.to("GWh").magnitude > 0
    assert chips.carbon_footprint_kg > 0 and chips.region_name == "US_Avg"
