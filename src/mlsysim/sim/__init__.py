"""0.1.x's teaching simulations (``mlsysim.sim``), rebuilt on our solvers: a persona scales a scenario's
device to a fleet, and a simulation fills a ledger of performance, sustainability, economics and reliability.

Experimental and kept for 0.1.x code; the physics is that of Engine.solve and the fleet solvers
(SustainabilityModel, EconomicsModel, ReliabilityModel), whose results each ledger field comes from.
"""
from .ledger import EconomicMetrics, PerformanceMetrics, ReliabilityMetrics, SustainabilityMetrics, SystemLedger
from .personas import Persona, Personas
from .simulations import BaseSimulation, ResourceSimulation

__all__ = ["BaseSimulation", "EconomicMetrics", "PerformanceMetrics", "Persona", "Personas", "ReliabilityMetrics",
           "ResourceSimulation", "SustainabilityMetrics", "SystemLedger"]
