"""A 0.1.x-style script: where should a 90-day run go once carbon costs 100 USD a tonne?"""
from mlsysim.solvers import PlacementOptimizer
import mlsysim


def test_placement_script():
    fleet = mlsysim.Systems.Clusters.Production_2K
    result = PlacementOptimizer().solve(fleet, duration_days=90, regions=["US_Avg", "Quebec"],
                                        carbon_tax_per_ton=100.0)
    assert result.best_region == result.best_config["region"] == "Quebec"
    assert result.total_searched == 2
    for row in result.top_candidates:
        print(row["region"], round(row["tco"]), round(row["carbon"], 1), row["pue"], round(row["objective"]))
    assert result.objective_value == result.top_candidates[0]["objective"]
    assert result.lowest_tco > 0 and result.carbon_footprint > 0 and result.pue >= 1
