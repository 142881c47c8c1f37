"""Solver classes (experimental API): prefer ``mlsysim.Engine.solve``."""
from .core.solver import ForwardModel, RooflineModel

__all__ = ["ForwardModel", "RooflineModel"]
