"""Frozen attrs spec classes: the typed form of every catalog entry.

Each spec module is imported on first use of one of its names (PEP 562 ``__getattr__``): building the attrs
classes of every module costs ~60 ms, and a first ``Engine.solve`` needs only hardware, models and calibration.
"""
from __future__ import annotations

import importlib as _importlib

# Public name -> the spec module defining it (all of them; ``from mlsysim.specs import *`` imports every module).
_WHERE = {
    "CalibrationClass": "calibration",
    **dict.fromkeys(("CATEGORIES", "PRECISIONS", "FlashSpec", "HardwareCalibration", "HardwareSpec",
                     "InterconnectSpec", "MemorySpec", "OnChipSpec", "PowerSpec", "PrecisionTable"), "hardware"),
    **dict.fromkeys(("GridElectricity", "HardwareEconomics", "RentalPrice"), "economics"),
    **dict.fromkeys(("GridSpec", "RackSpec"), "infra"),
    **dict.fromkeys(("ARCHITECTURES", "CNNSpec", "DiffusionSpec", "FixedGraphSpec", "LayerTable", "MLAGeometry",
                     "MLPSpec", "ModelSpec", "MoESpec", "RecommendationSpec", "SSMSpec", "TransformerSpec"), "models"),
    "Provenance": "provenance",
    **dict.fromkeys(("ConvFrontEnd", "EncoderDecoderSpec"), "encoder_decoder"),
    "Mamba2Spec": "mamba2", "SpeechEncoderSpec": "speech_encoder", "VisionTransformerSpec": "vision_transformer",
    **dict.fromkeys(("ClassLaunchCost", "ClassReserve", "CoreCycles", "DequantCost", "FusionLevel", "KernelCounts",
                     "LaunchCost", "MemoryReserve", "QuantFormat", "RuntimeSpec"), "runtimes"),
    **dict.fromkeys(("Constraints", "ScenarioSpec"), "scenarios"),
    "SequenceLengths": "sequences",
    **dict.fromkeys(("ClusterSpec", "FabricSpec", "NodeSpec", "TierSpec"), "systems"),
}

__all__ = [*_WHERE, "SPEC_BY_ARCHITECTURE"]
_MODULES = frozenset(_WHERE.values()) | {"fields", "describe"}


def _spec_by_architecture() -> dict:
    """architecture -> spec class. Model kinds defined beside specs/models.py are registered by architecture too
    (a ViT is an "encoder" with a patch front end, a speech encoder one with a conv front end:
    catalog/structure.py picks VisionTransformerSpec when the entry has patch_size, SpeechEncoderSpec when it has
    front_end)."""
    from .encoder_decoder import EncoderDecoderSpec
    from .mamba2 import Mamba2Spec
    from .models import SPEC_BY_ARCHITECTURE

    SPEC_BY_ARCHITECTURE.update({"encoder_decoder": EncoderDecoderSpec, "ssm2": Mamba2Spec})
    return SPEC_BY_ARCHITECTURE


def __getattr__(name: str):
    if name == "SPEC_BY_ARCHITECTURE":
        value = _spec_by_architecture()
    elif name in _WHERE:
        value = getattr(_importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    elif name in _MODULES:  # a submodule read as an attribute (``mlsysim.specs.fields``) before its import
        return _importlib.import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # later lookups skip this hook
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
