"""Input checking shared by every solver: names or specs in, validated values out, clear errors."""
from __future__ import annotations

import math
from typing import Any

from ..errors import InvalidInputError, InvalidTypeError
from ..specs.hardware import HardwareSpec
from ..specs.models import ModelSpec


def _resolve(value: Any, spec_type: type, root: str, example: str) -> Any:
    if isinstance(value, spec_type):
        return value
    if isinstance(value, str):
        from ..registry import registries

        return registries().roots[root].get(value)
    raise InvalidTypeError(f"{root.lower().rstrip('s')} must be a {spec_type.__name__} or a registry name such as "
                           f"{example!r}, got {type(value).__name__}")


def resolve_model(model: Any) -> ModelSpec:
    return _resolve(model, ModelSpec, "Models", "Llama3_70B")


def resolve_hardware(hardware: Any) -> HardwareSpec:
    return _resolve(hardware, HardwareSpec, "Hardware", "H100")


# Counts above 2**53 lose integer precision as floats, and no batch or context comes near it.
MAX_COUNT = 2**53


def check_positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidTypeError(f"{name} must be a positive int, got {value!r} ({type(value).__name__})")
    if not 1 <= value <= MAX_COUNT:
        raise InvalidInputError(f"{name} must be a positive int no larger than 2**53, got {value}")
    return value


def check_bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidTypeError(f"{name} must be True or False, got {value!r}")
    return value


def check_efficiency(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidTypeError(f"efficiency must be a float in (0, 1] or None (calibrated default), got {value!r}")
    if not math.isfinite(value) or not 0.0 < value <= 1.0:
        raise InvalidInputError(f"efficiency must be in (0, 1] (fraction of the dense peak reached), got {value}")
    return float(value)
