"""Distributed training (experimental): layout, per-GPU compute at sharded shapes, collectives, pipeline
schedules, memory per ZeRO stage, the training stacks of the runtime catalog."""
from .model import DistributedModel
from .result import DistributedResult

__all__ = ["DistributedModel", "DistributedResult"]
