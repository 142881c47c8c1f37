"""PlacementOptimizer: the grid (region) where a fleet costs least once its carbon is priced."""
from __future__ import annotations

from typing import Any

import attrs

from ..errors import InvalidInputError, InvalidTypeError
from ..specs.fields import figure
from ._fleet import KG_PER_TONNE, as_nonnegative, resolve_grid
from ._result import SolverResult
from .economics import EconomicsModel

# 0.1.x's default carbon price, USD per tonne CO2e: the order of the EU ETS allowance price of 2023 (about
# 80-100 EUR/t, https://ember-energy.org/data/carbon-price-viewer/) and of the US EPA's 2023 social cost of
# carbon (190 USD/t at a 2% discount rate). Estimate.
DEFAULT_CARBON_TAX_PER_TON = 100.0


@attrs.frozen(kw_only=True)
class PlacementOptimizerResult(SolverResult):
    """The best region and every candidate, sorted by objective (TCO + carbon tax), in USD and tonnes."""

    objective_value: float
    best_config: dict
    total_searched: int
    best_region: str
    lowest_tco: float
    carbon_footprint: float  # tonnes CO2e of operation in the best region
    pue: float
    top_candidates: tuple


def _candidate_grids(regions: Any) -> list:
    from ..registry import registries

    if regions is None:  # every catalog grid that has a price
        grids = [g for g in registries().roots["Infra"].Grids if figure(g, "electricity.price") is not None]
        if not grids:
            raise InvalidInputError("no grid in the catalog has an electricity price: pass regions")
        return grids
    if isinstance(regions, (str, bytes)) or not hasattr(regions, "__iter__"):
        raise InvalidTypeError(f"regions must be a list of grid names or GridSpecs, got {type(regions).__name__}")
    grids = [resolve_grid(r) for r in regions]
    if not grids:
        raise InvalidInputError("regions is empty: name at least one grid, e.g. ['US_Avg', 'Quebec']")
    return list({id(g): g for g in grids}.values())  # each grid once, in the order given


class PlacementOptimizer:
    """Choose the grid minimising TCO + carbon_tax_per_ton x operational tonnes CO2e (EconomicsModel per grid).

    Every candidate shares the facility (`datacenter`, PUE and WUE) and the fleet; grids differ in carbon
    intensity and electricity price. Embodied carbon does not depend on the site, so it is not taxed here.

    Does not model: network latency to users, land, water scarcity, grid capacity or interconnection queues,
    climate-driven PUE differences between sites.
    """

    def solve(self, fleet: Any, duration_days: float, regions: Any = None,
              carbon_tax_per_ton: float = DEFAULT_CARBON_TAX_PER_TON, mfu: float = 1.0, *,
              datacenter: Any = None) -> PlacementOptimizerResult:
        """`regions`: grid names or specs (default: every catalog grid with an electricity price);
        `carbon_tax_per_ton` in USD per tonne CO2e (0: cost only)."""
        tax = as_nonnegative("carbon_tax_per_ton", carbon_tax_per_ton, "USD/tonne")
        model = EconomicsModel()
        candidates = []
        for grid in _candidate_grids(regions):
            r = model.solve(fleet, duration_days, grid=grid, datacenter=datacenter, mfu=mfu)
            tonnes = r.operational_carbon_kg / KG_PER_TONNE
            candidates.append({"region": grid.name, "tco": r.tco_usd, "carbon": tonnes, "pue": r.pue,
                               "objective": r.tco_usd + tax * tonnes,  # priced carbon: cost + tax x tonnes
                               "electricity_price": r.electricity_price_usd_per_kwh,
                               "carbon_intensity": figure(grid, "carbon_intensity")})
        ranked = sorted(candidates, key=lambda c: c["objective"])
        best = ranked[0]
        return PlacementOptimizerResult(
            objective_value=best["objective"], best_config={"region": best["region"]}, total_searched=len(ranked),
            best_region=best["region"], lowest_tco=best["tco"], carbon_footprint=best["carbon"], pue=best["pue"],
            top_candidates=tuple(ranked))
