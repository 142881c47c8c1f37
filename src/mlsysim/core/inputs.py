"""Input checking shared by every solver: names or specs in, validated values out, clear errors."""
from __future__ import annotations

import math
from typing import Any

from ..errors import InvalidInputError, InvalidTypeError
from ..specs.hardware import HardwareSpec
from ..specs.models import ModelSpec


def resolve_model(model: Any) -> ModelSpec:
    if isinstance(model, ModelSpec):
        return model
    if isinstance(model, str):
        from ..registry import registries

        return registries().roots["Models"].get(model)
    raise InvalidTypeError(f"model must be a ModelSpec or a registry name such as 'Llama3_70B', "
                           f"got {type(model).__name__}")


def resolve_hardware(hardware: Any) -> HardwareSpec:
    if isinstance(hardware, HardwareSpec):
        return hardware
    if isinstance(hardware, str):
        from ..registry import registries

        return registries().roots["Hardware"].get(hardware)
    raise InvalidTypeError(f"hardware must be a HardwareSpec or a registry name such as 'H100', "
                           f"got {type(hardware).__name__}")


def check_positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidTypeError(f"{name} must be a positive int, got {value!r} ({type(value).__name__})")
    if value < 1:
        raise InvalidInputError(f"{name} must be a positive int (>= 1), got {value}")
    return value


def check_efficiency(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidTypeError(f"efficiency must be a float in (0, 1] or None (calibrated default), got {value!r}")
    if not math.isfinite(value) or not 0.0 < value <= 1.0:
        raise InvalidInputError(f"efficiency must be in (0, 1] (fraction of the dense peak reached), got {value}")
    return float(value)
