"""mlsysim.sim, 0.1.x's lab simulations, on our solvers: each ledger figure is the named solver's."""
import pytest

import mlsysim
from mlsysim.errors import CatalogError, InvalidInputError
from mlsysim.sim import Personas, ResourceSimulation
from mlsysim.solvers import EconomicsModel, SustainabilityModel


def test_ledger_figures_come_from_the_solvers_and_scale_with_the_fleet():
    s = mlsysim.Scenarios.ChatbotServing
    one = ResourceSimulation(s, Personas.CloudTitan).evaluate({"region": "Quebec", "duration_days": 30})
    many = ResourceSimulation(s, Personas.EdgeGuardian).evaluate({"region": "Quebec", "duration_days": 30})
    assert many.performance.throughput.m_as("1/s") == pytest.approx(1e4 * one.performance.throughput.m_as("1/s"))
    assert many.sustainability.carbon_kg > 1e3 * one.sustainability.carbon_kg
    assert one.performance.mfu == mlsysim.Engine.solve(s.workload, s.system).mfu
    from mlsysim.solvers._fleet import Fleet

    fleet = Fleet(name="1 x H100", accelerator=s.system, nodes=1, accelerators_per_node=1, node_power_w=None)
    assert one.economics.tco == EconomicsModel().solve(fleet, 30, grid="Quebec").tco_usd
    assert one.sustainability.energy == SustainabilityModel().solve(fleet, 30, grid="Quebec").total_energy_kwh
    assert 0 < one.reliability.goodput <= 1 and "Quebec" in one.summary()


def test_cleaner_grid_lowers_carbon_not_energy():
    s = mlsysim.Scenarios.ChatbotServing
    q = ResourceSimulation(s, Personas.CloudTitan).evaluate({"region": "Quebec"})
    us = ResourceSimulation(s, Personas.CloudTitan).evaluate({"region": "US_Avg"})
    assert q.sustainability.carbon_kg < us.sustainability.carbon_kg
    assert q.sustainability.energy == us.sustainability.energy


def test_bad_choices_are_clear_errors():
    sim = ResourceSimulation(mlsysim.Scenarios.ChatbotServing, Personas.get("cloud titan"))
    with pytest.raises(InvalidInputError, match="unknown choice"):
        sim.evaluate({"regoin": "Quebec"})
    with pytest.raises(CatalogError, match="electricity price"):
        sim.evaluate({"region": "Poland"})
    assert mlsysim.sim.Personas.TinyPioneer.scale_factor == 1e7
