"""The one place raw (validated, unit-converted) catalog data becomes spec objects: a cattrs converter."""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from ..errors import CatalogError


@lru_cache(maxsize=1)
def converter():
    import attrs
    import cattrs
    from cattrs.gen import make_dict_structure_fn

    # forbid_extra_keys: a field the spec does not know is an error, never silently dropped.
    conv = cattrs.Converter(forbid_extra_keys=True, detailed_validation=False)
    # Catalog keys are the fields' aliases: a figure stored as `_bandwidth` is written `bandwidth`.
    conv.register_structure_hook_factory(
        attrs.has, lambda cls: make_dict_structure_fn(cls, conv, _cattrs_use_alias=True,
                                                      _cattrs_forbid_extra_keys=True))
    return conv


# Catalog table -> (spec module, class): resolved per table on first use, so a warm load that builds only a
# hardware and a model entry imports only those spec modules (specs/__init__.py is lazy too).
_CLASS_OF_ARRAY = {
    "hardware": ("hardware", "HardwareSpec"), "scenarios": ("scenarios", "ScenarioSpec"),
    "fabrics": ("systems", "FabricSpec"), "nodes": ("systems", "NodeSpec"), "clusters": ("systems", "ClusterSpec"),
    "tiers": ("systems", "TierSpec"), "grids": ("infra", "GridSpec"), "racks": ("infra", "RackSpec"),
    "classes": ("calibration", "CalibrationClass"), "runtimes": ("runtimes", "RuntimeSpec"),
}
# Model kinds outside specs/models.py's SPEC_BY_ARCHITECTURE: architecture -> (spec module, class).
_CLASS_OF_ARCHITECTURE = {"encoder_decoder": ("encoder_decoder", "EncoderDecoderSpec"), "ssm2": ("mamba2", "Mamba2Spec")}


def _spec_type(module: str, name: str) -> type:
    from importlib import import_module

    return getattr(import_module(f"mlsysim.specs.{module}"), name)


def spec_class(array: str, item: dict) -> type:
    if array == "models":
        from ..specs.models import ARCHITECTURES, SPEC_BY_ARCHITECTURE

        arch = item.get("architecture")
        if arch not in SPEC_BY_ARCHITECTURE and arch not in _CLASS_OF_ARCHITECTURE:
            raise CatalogError(f"unknown architecture {arch!r}", entry=item.get("name"), field="architecture",
                               expected=f"one of {', '.join(ARCHITECTURES)}")
        if arch == "encoder" and "patch_size" in item:  # patch front end: a vision transformer
            return _spec_type("vision_transformer", "VisionTransformerSpec")
        if arch == "encoder" and "front_end" in item:  # convolutional audio front end: a speech encoder
            return _spec_type("speech_encoder", "SpeechEncoderSpec")
        if arch in _CLASS_OF_ARCHITECTURE:
            return _spec_type(*_CLASS_OF_ARCHITECTURE[arch])
        return SPEC_BY_ARCHITECTURE[arch]
    return _spec_type(*_CLASS_OF_ARRAY[array])


def _field_path(item: dict, field: str | None) -> str | None:
    """A nested spec's validator knows only its own field name ("bandwidth"); name it from the entry
    ("memory.bandwidth") when exactly one place in the entry has that key."""
    if field is None or field in item or "." in field:
        return field
    found: list[str] = []
    stack: list[tuple[str, dict]] = [("", item)]
    while stack:
        prefix, node = stack.pop()
        for key, value in node.items():
            if isinstance(value, dict):
                stack.append((f"{prefix}{key}.", value))
            elif key == field and prefix:
                found.append(prefix + key)
    return found[0] if len(found) == 1 else field


def structure_cached(array: str, item: dict, *, file: str | None = None) -> Any:
    """A spec from an entry of the verified cache (cattrs structured it when the cache was written): built directly
    from the fields' types (catalog/direct.py, same result, no cattrs import); cattrs builds it where that cannot,
    so that a failure is the CatalogError naming file, entry and field that structure() raises."""
    from .direct import build

    try:
        return build(spec_class(array, item), item)
    except Exception:
        return structure(array, item, file=file)


def structure(array: str, item: dict, *, file: str | None = None) -> Any:
    """Build one spec; any failure becomes a CatalogError naming the file, entry and field."""
    cls = spec_class(array, item)
    try:
        return converter().structure(item, cls)
    except CatalogError as exc:
        if exc.file is None:
            raise CatalogError(exc.message, file=file, entry=exc.entry or item.get("name"),
                               field=_field_path(item, exc.field), expected=exc.expected) from None
        raise
    except Exception as exc:  # cattrs/attrs errors: unknown key, wrong type
        raise CatalogError(f"{type(exc).__name__}: {exc}", file=file, entry=item.get("name"),
                           expected=f"fields of {cls.__name__}") from None
