"""Frozen attrs spec classes: the typed form of every catalog entry."""
from .calibration import CalibrationClass
from .hardware import (CATEGORIES, PRECISIONS, FlashSpec, HardwareCalibration, HardwareSpec, InterconnectSpec,
                       MemorySpec, OnChipSpec, PowerSpec, PrecisionTable)
from .economics import GridElectricity, HardwareEconomics, RentalPrice
from .infra import GridSpec, RackSpec
from .models import (ARCHITECTURES, SPEC_BY_ARCHITECTURE, CNNSpec, DiffusionSpec, FixedGraphSpec, LayerTable, MLAGeometry,
                     MLPSpec, ModelSpec, MoESpec, RecommendationSpec, SSMSpec, TransformerSpec)
from .provenance import Provenance
from .encoder_decoder import ConvFrontEnd, EncoderDecoderSpec
from .mamba2 import Mamba2Spec
from .speech_encoder import SpeechEncoderSpec
from .vision_transformer import VisionTransformerSpec
from .runtimes import (ClassLaunchCost, ClassReserve, CoreCycles, DequantCost, FusionLevel, KernelCounts, LaunchCost,
                       MemoryReserve, QuantFormat, RuntimeSpec)
from .scenarios import Constraints, ScenarioSpec
from .sequences import SequenceLengths
from .systems import ClusterSpec, FabricSpec, NodeSpec, TierSpec

__all__ = [
    "CATEGORIES", "PRECISIONS", "ARCHITECTURES", "SPEC_BY_ARCHITECTURE", "CalibrationClass", "FlashSpec", "RentalPrice",
    "HardwareCalibration", "HardwareSpec", "InterconnectSpec", "MemorySpec", "OnChipSpec", "PowerSpec",
    "PrecisionTable", "GridSpec", "RackSpec", "CNNSpec", "DiffusionSpec", "FixedGraphSpec", "LayerTable", "MLAGeometry",
    "MLPSpec", "ModelSpec", "MoESpec", "RecommendationSpec", "SSMSpec", "TransformerSpec", "Provenance",
    "Constraints", "ScenarioSpec", "ClusterSpec", "FabricSpec", "NodeSpec", "TierSpec",
    "ClassLaunchCost", "DequantCost", "FusionLevel", "KernelCounts", "LaunchCost", "MemoryReserve", "QuantFormat",
    "RuntimeSpec", "SequenceLengths", "ConvFrontEnd", "EncoderDecoderSpec", "Mamba2Spec", "SpeechEncoderSpec", "VisionTransformerSpec",
    "ClassLaunchCost", "ClassReserve",
    "CoreCycles", "DequantCost", "FusionLevel", "KernelCounts", "LaunchCost", "MemoryReserve", "QuantFormat",
    "RuntimeSpec", "SequenceLengths",
]

# Model kinds defined beside specs/models.py, registered by architecture (a ViT is an "encoder" with a patch
# front end, a speech encoder one with a conv front end: catalog/structure.py picks VisionTransformerSpec when the
# entry has patch_size, SpeechEncoderSpec when it has front_end).
SPEC_BY_ARCHITECTURE.update({"encoder_decoder": EncoderDecoderSpec, "ssm2": Mamba2Spec})
