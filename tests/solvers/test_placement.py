"""PlacementOptimizer: minimise TCO + carbon tax x operational tonnes over candidate grids."""
from __future__ import annotations

import pytest

from mlsysim.catalog.loader import build_spec
from mlsysim.errors import InvalidInputError, InvalidTypeError, MlsysimError
from mlsysim.solvers import EconomicsModel, PlacementOptimizer

solve = PlacementOptimizer().solve
FIXTURE = {"source": "test fixture", "checked": "2026-01-01", "kind": "estimate"}


def grid(name, intensity, price):
    return build_spec("grids", {"name": name, "display_name": name, "region": "test", "provenance": FIXTURE,
                                "carbon_intensity": f"{intensity} g/kWh",
                                "electricity": {"price": f"{price} USD/kWh", "provenance": FIXTURE}})


def test_default_candidates_are_the_priced_grids_and_quebec_wins():
    r = solve("Research_256", 90)
    assert {c["region"] for c in r.top_candidates} == {"US_Avg", "Quebec"}  # Norway, Poland have no price
    assert r.best_region == "Quebec" and r.best_config == {"region": "Quebec"} and r.total_searched == 2


def test_objective_is_tco_plus_taxed_operational_carbon():
    r = solve("Research_256", 90, ["US_Avg", "Quebec"], carbon_tax_per_ton=250.0)
    for c in r.top_candidates:
        econ = EconomicsModel().solve("Research_256", 90, grid=c["region"])
        assert c["tco"] == pytest.approx(econ.tco_usd)
        assert c["carbon"] == pytest.approx(econ.operational_carbon_kg / 1000)
        assert c["objective"] == pytest.approx(c["tco"] + 250.0 * c["carbon"])
    objectives = [c["objective"] for c in r.top_candidates]
    assert objectives == sorted(objectives) and r.objective_value == objectives[0]
    assert r.lowest_tco == pytest.approx(r.top_candidates[0]["tco"])


def test_the_carbon_price_decides_between_cheap_dirty_and_clean_power():
    dirty, clean = grid("CheapDirty", 900, 0.02), grid("DearClean", 10, 0.06)
    assert solve("Research_256", 90, [dirty, clean], carbon_tax_per_ton=0).best_region == "CheapDirty"
    assert solve("Research_256", 90, [dirty, clean], carbon_tax_per_ton=1000).best_region == "DearClean"
    # Break-even tax: the price gap over the carbon gap, per tonne.
    a, b = (solve("Research_256", 90, [g], carbon_tax_per_ton=0).top_candidates[0] for g in (dirty, clean))
    breakeven = (b["tco"] - a["tco"]) / (a["carbon"] - b["carbon"])
    assert solve("Research_256", 90, [dirty, clean], carbon_tax_per_ton=0.99 * breakeven).best_region == "CheapDirty"
    assert solve("Research_256", 90, [dirty, clean], carbon_tax_per_ton=1.01 * breakeven).best_region == "DearClean"


def test_zero_tax_ranks_by_tco_and_duplicates_count_once():
    r = solve("Research_256", 30, ["Quebec", "US_Avg", "Quebec"], carbon_tax_per_ton=0)
    assert r.total_searched == 2 and all(c["objective"] == c["tco"] for c in r.top_candidates)


@pytest.mark.parametrize("regions,tax,error", [
    ([], 100.0, InvalidInputError),
    ("US_Avg", 100.0, InvalidTypeError),             # a bare string is not a list of regions
    (["US_Avg", "Iowa"], 100.0, MlsysimError),       # 0.1.x skipped unknown names silently
    (["Norway"], 100.0, MlsysimError),               # no electricity price in the catalog
    (["US_Avg"], -1.0, InvalidInputError),
    ([42], 100.0, InvalidTypeError),
])
def test_bad_input_raises_mlsysim_errors(regions, tax, error):
    with pytest.raises(error):
        solve("Research_256", 30, regions, carbon_tax_per_ton=tax)
