"""Simulations: a scenario (model on a device, node or cluster) and a persona (fleet size) -> a SystemLedger."""
from __future__ import annotations

from typing import Any

from ..errors import InvalidInputError
from .ledger import EconomicMetrics, PerformanceMetrics, ReliabilityMetrics, SustainabilityMetrics, SystemLedger
from .personas import Persona

# Period a choice covers when it names none (0.1.x's default: one year).
DEFAULT_DURATION_DAYS = 365.0
SECONDS_PER_DAY = 86400.0
# Restart, reload and re-warm after a failure, passed to ReliabilityModel (its default: an assumption, not a
# measurement).
RECOVERY_TIME_S = 300.0


class BaseSimulation:
    """A scenario and a persona; `evaluate(choice)` turns a dict of choices into a SystemLedger."""

    def __init__(self, scenario: Any, persona: Persona):
        self.scenario = scenario
        self.persona = persona

    def evaluate(self, choice: dict[str, Any]) -> SystemLedger:
        raise NotImplementedError


class ResourceSimulation(BaseSimulation):
    """Energy, carbon, cost and reliability of the persona's fleet running the scenario's model.

    choice: ``region`` (an Infra grid name, default "US_Avg") and ``duration_days`` (default 365). A scenario
    on one device is scaled to `persona.scale_factor` devices; one on a node or cluster keeps that fleet.
    """

    def evaluate(self, choice: dict[str, Any]) -> SystemLedger:
        from ..core.engine import Engine
        from ..solvers._fleet import Fleet, resolve_fleet, resolve_grid
        from ..solvers.economics import EconomicsModel
        from ..solvers.reliability import ReliabilityModel
        from ..solvers.sustainability import SustainabilityModel
        from ..specs import ClusterSpec, HardwareSpec, NodeSpec
        from ..units import quantity

        unknown = set(choice) - {"region", "duration_days"}
        if unknown:
            raise InvalidInputError(f"unknown choice {', '.join(sorted(unknown))}; a ResourceSimulation takes "
                                    "region (an Infra grid name) and duration_days")
        system = self.scenario.system
        if isinstance(system, (NodeSpec, ClusterSpec)):
            fleet = resolve_fleet(system)
            device = fleet.accelerator
        elif isinstance(system, HardwareSpec):
            device = system
            count = int(round(self.persona.scale_factor))
            if count < 1:
                raise InvalidInputError(f"persona {self.persona.name} scales to {self.persona.scale_factor} devices")
            fleet = Fleet(name=f"{count} x {device.name}", accelerator=device, nodes=count,
                          accelerators_per_node=1, node_power_w=None)
        else:
            raise InvalidInputError(f"scenario {self.scenario.name} runs on {type(system).__name__}; a simulation "
                                    "needs a device, node or cluster")
        grid = resolve_grid(choice.get("region", "US_Avg"))
        days = float(choice.get("duration_days", DEFAULT_DURATION_DAYS))
        perf = Engine.solve(self.scenario.workload, device)
        impact = SustainabilityModel().solve(fleet, days, grid=grid)
        econ = EconomicsModel().solve(fleet, days, grid=grid)
        rel = ReliabilityModel().solve(fleet, job_duration_hours=days * 24.0, avg_recovery_time_s=RECOVERY_TIME_S)
        served = perf.throughput.m_as("1/s") * days * SECONDS_PER_DAY * fleet.accelerators
        return SystemLedger(
            mission_name=self.scenario.name, track_name=self.persona.name,
            choice_summary=f"region {grid.display_name}, {days:g} days, {fleet.accelerators:,} x {device.display_name}",
            performance=PerformanceMetrics(latency=perf.latency, throughput=perf.throughput * fleet.accelerators,
                                           mfu=perf.mfu, hfu=perf.hfu, bottleneck=perf.bottleneck),
            sustainability=SustainabilityMetrics(energy=impact.total_energy_kwh, carbon_kg=impact.carbon_footprint_kg,
                                                 pue=impact.pue, water_liters=impact.water_usage_liters),
            economics=EconomicMetrics(capex=econ.capex_usd, opex=econ.total_opex_usd, tco=econ.tco_usd,
                                      cost_per_million=econ.total_opex_usd / served * 1e6),
            reliability=ReliabilityMetrics(mttf=rel.fleet_mtbf, goodput=rel.goodput_ratio,
                                           recovery_time=quantity(RECOVERY_TIME_S, "s")))


