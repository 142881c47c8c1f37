"""Frozen attrs spec classes: the typed form of every catalog entry."""
from .calibration import CalibrationClass
from .hardware import (CATEGORIES, PRECISIONS, FlashSpec, HardwareCalibration, HardwareSpec, InterconnectSpec,
                       MemorySpec, OnChipSpec, PowerSpec, PrecisionTable)
from .economics import GridElectricity, HardwareEconomics
from .infra import GridSpec, RackSpec
from .models import (ARCHITECTURES, SPEC_BY_ARCHITECTURE, CNNSpec, DiffusionSpec, FixedGraphSpec, LayerTable, MLAGeometry,
                     MLPSpec, ModelSpec, MoESpec, RecommendationSpec, SSMSpec, TransformerSpec)
from .provenance import Provenance
from .runtimes import (ClassLaunchCost, ClassReserve, CoreCycles, DequantCost, FusionLevel, KernelCounts, LaunchCost,
                       MemoryReserve, QuantFormat, RuntimeSpec)
from .scenarios import Constraints, ScenarioSpec
from .sequences import SequenceLengths
from .systems import ClusterSpec, FabricSpec, NodeSpec, TierSpec

__all__ = [
    "CATEGORIES", "PRECISIONS", "ARCHITECTURES", "SPEC_BY_ARCHITECTURE", "CalibrationClass", "FlashSpec",
    "HardwareCalibration", "HardwareSpec", "InterconnectSpec", "MemorySpec", "OnChipSpec", "PowerSpec",
    "PrecisionTable", "GridSpec", "RackSpec", "CNNSpec", "DiffusionSpec", "FixedGraphSpec", "LayerTable", "MLAGeometry",
    "MLPSpec", "ModelSpec", "MoESpec", "RecommendationSpec", "SSMSpec", "TransformerSpec", "Provenance",
    "Constraints", "ScenarioSpec", "ClusterSpec", "FabricSpec", "NodeSpec", "TierSpec",
    "ClassLaunchCost", "ClassReserve",
    "CoreCycles", "DequantCost", "FusionLevel", "KernelCounts", "LaunchCost", "MemoryReserve", "QuantFormat",
    "RuntimeSpec", "SequenceLengths",
]
