"""The ledger a simulation fills: one block per concern, each figure from the solver named beside it."""
from __future__ import annotations

from typing import Any

import attrs


@attrs.frozen(kw_only=True)
class PerformanceMetrics:  # Engine.solve of one device; throughput x the fleet's devices
    latency: Any
    throughput: Any
    mfu: float
    hfu: float
    bottleneck: str


@attrs.frozen(kw_only=True)
class SustainabilityMetrics:  # SustainabilityModel over the period
    energy: Any        # facility energy, kWh
    carbon_kg: float
    pue: float
    water_liters: float


@attrs.frozen(kw_only=True)
class EconomicMetrics:  # EconomicsModel over the period, USD
    capex: float
    opex: float
    tco: float
    cost_per_million: float  # operating cost per million items (tokens or samples) served at full throughput


@attrs.frozen(kw_only=True)
class ReliabilityMetrics:  # ReliabilityModel over the period
    mttf: Any
    goodput: float
    recovery_time: Any


@attrs.frozen(kw_only=True)
class SystemLedger:
    performance: PerformanceMetrics
    sustainability: SustainabilityMetrics
    economics: EconomicMetrics
    reliability: ReliabilityMetrics
    mission_name: str
    track_name: str
    choice_summary: str

    def summary(self) -> str:
        p, s, e, r = self.performance, self.sustainability, self.economics, self.reliability
        from ..formatting import human

        return "\n".join([
            f"{self.mission_name} / {self.track_name}: {self.choice_summary}",
            f"  performance     {human(p.latency)} per pass, {human(p.throughput)} fleet-wide, MFU {p.mfu:.1%}, "
            f"{p.bottleneck} bound",
            f"  sustainability  {human(s.energy)}, {s.carbon_kg:,.0f} kg CO2e, PUE {s.pue:g}, {s.water_liters:,.0f} L",
            f"  economics       capex ${e.capex:,.0f}, opex ${e.opex:,.0f}, TCO ${e.tco:,.0f}",
            f"  reliability     fleet MTBF {human(r.mttf)}, goodput {r.goodput:.1%}"])
