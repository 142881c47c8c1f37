"""Solver families (experimental API, see the stability promise): prefer ``mlsysim.Engine.solve`` for a
single-device question.

Each family lives in its own module of this package and is imported on first use, so ``import
mlsysim.solvers`` costs nothing until a solver is named. ``__all__`` lists every family 0.1.x shipped and the
results they return.
"""
from __future__ import annotations

import importlib
from typing import Any

# Public name -> module (relative to the package root) that defines it.
_EXPORTS: dict[str, str] = {
    # single device, serving and distributed training (physics in mlsysim.core)
    "ForwardModel": "mlsysim.core.solver", "RooflineModel": "mlsysim.core.solver",
    "ServingModel": "mlsysim.core.serving", "ServingResult": "mlsysim.core.serving",
    "DistributedModel": "mlsysim.core.distributed", "DistributedResult": "mlsysim.core.distributed",
    "SolverResult": "mlsysim.core.results",
    # inference families
    "SingleNodeModel": "mlsysim.solvers.single_node",
    "ContinuousBatchingModel": "mlsysim.solvers.continuous_batching",
    "ContinuousBatchingResult": "mlsysim.solvers.continuous_batching",
    "WeightStreamingModel": "mlsysim.solvers.weight_streaming",
    "WeightStreamingResult": "mlsysim.solvers.weight_streaming",
    "InferenceScalingModel": "mlsysim.solvers.inference_scaling",
    "InferenceScalingResult": "mlsysim.solvers.inference_scaling",
    "CompressionModel": "mlsysim.solvers.compression", "CompressionResult": "mlsysim.solvers.compression",
    "EfficiencyModel": "mlsysim.solvers.efficiency", "EfficiencyResult": "mlsysim.solvers.efficiency",
    "TailLatencyModel": "mlsysim.solvers.tail_latency", "TailLatencyResult": "mlsysim.solvers.tail_latency",
    "BatchingOptimizer": "mlsysim.solvers.batching", "BatchingOptimizerResult": "mlsysim.solvers.batching",
    # fleet, cost and sustainability families
    "EconomicsModel": "mlsysim.solvers.economics", "EconomicsResult": "mlsysim.solvers.economics",
    "SustainabilityModel": "mlsysim.solvers.sustainability",
    "SustainabilityResult": "mlsysim.solvers.sustainability",
    "PlacementOptimizer": "mlsysim.solvers.placement", "PlacementOptimizerResult": "mlsysim.solvers.placement",
    "ReliabilityModel": "mlsysim.solvers.reliability", "ReliabilityResult": "mlsysim.solvers.reliability",
    "CheckpointModel": "mlsysim.solvers.checkpoint", "CheckpointResult": "mlsysim.solvers.checkpoint",
    "OrchestrationModel": "mlsysim.solvers.orchestration", "OrchestrationResult": "mlsysim.solvers.orchestration",
    # design families
    "TopologyModel": "mlsysim.solvers.topology", "TopologyResult": "mlsysim.solvers.topology",
    "ScalingModel": "mlsysim.solvers.scaling", "ScalingResult": "mlsysim.solvers.scaling",
    "DataModel": "mlsysim.solvers.data", "DataResult": "mlsysim.solvers.data",
    "TransformationModel": "mlsysim.solvers.transformation", "TransformationResult": "mlsysim.solvers.transformation",
    "ParallelismOptimizer": "mlsysim.solvers.parallelism",
    "ParallelismOptimizerResult": "mlsysim.solvers.parallelism",
    "SensitivitySolver": "mlsysim.solvers.sensitivity", "SensitivityResult": "mlsysim.solvers.sensitivity",
    "SynthesisSolver": "mlsysim.solvers.synthesis", "SynthesisResult": "mlsysim.solvers.synthesis",
    "ResponsibleEngineeringModel": "mlsysim.solvers.responsible",
    "ResponsibleEngineeringResult": "mlsysim.solvers.responsible",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'mlsysim.solvers' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this hook
    return value


def __dir__() -> list[str]:
    return __all__
