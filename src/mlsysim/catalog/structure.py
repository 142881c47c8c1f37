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


@lru_cache(maxsize=1)
def _classes() -> tuple[dict[str, type], dict[str, type], tuple[str, ...]]:
    from .. import specs

    by_array = {
        "hardware": specs.HardwareSpec, "scenarios": specs.ScenarioSpec, "fabrics": specs.FabricSpec,
        "nodes": specs.NodeSpec, "clusters": specs.ClusterSpec, "tiers": specs.TierSpec, "grids": specs.GridSpec,
        "racks": specs.RackSpec, "classes": specs.CalibrationClass, "runtimes": specs.RuntimeSpec,
    }
    return by_array, specs.SPEC_BY_ARCHITECTURE, specs.ARCHITECTURES


def spec_class(array: str, item: dict) -> type:
    by_array, by_architecture, architectures = _classes()
    if array == "models":
        arch = item.get("architecture")
        if arch not in by_architecture:
            raise CatalogError(f"unknown architecture {arch!r}", entry=item.get("name"), field="architecture",
                               expected=f"one of {', '.join(architectures)}")
        if arch == "encoder" and "patch_size" in item:  # patch front end: a vision transformer
            from ..specs import VisionTransformerSpec

            return VisionTransformerSpec
        if arch == "encoder" and "front_end" in item:  # convolutional audio front end: a speech encoder
            from ..specs import SpeechEncoderSpec

            return SpeechEncoderSpec
        return by_architecture[arch]
    return by_array[array]


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
