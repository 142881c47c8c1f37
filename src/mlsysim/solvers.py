"""Solver classes (experimental API): prefer ``mlsysim.Engine.solve`` for single-device questions."""
from .core.distributed import DistributedModel, DistributedResult
from .core.serving import ServingModel, ServingResult
from .core.solver import ForwardModel, RooflineModel

__all__ = ["ForwardModel", "RooflineModel", "ServingModel", "ServingResult", "DistributedModel", "DistributedResult"]
