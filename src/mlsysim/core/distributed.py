"""Distributed training on a node or cluster (experimental): the model lives in mlsysim.core.training; this
module keeps the import path `from mlsysim.core.distributed import DistributedModel, DistributedResult`."""
from __future__ import annotations

from .training import DistributedModel, DistributedResult
from .training.layout import INTER_NODE_STACK_LATENCY, INTRA_NODE_HOP_LATENCY
from .training.layout import topology as _topology

__all__ = ["DistributedModel", "DistributedResult", "INTRA_NODE_HOP_LATENCY", "INTER_NODE_STACK_LATENCY",
           "_topology"]
