"""The one place raw (validated, unit-converted) catalog data becomes spec objects: a cattrs converter."""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from ..errors import CatalogError


@lru_cache(maxsize=1)
def converter():
    import cattrs

    # forbid_extra_keys: a field the spec does not know is an error, never silently dropped.
    return cattrs.Converter(forbid_extra_keys=True, detailed_validation=False)


def spec_class(array: str, item: dict) -> type:
    from .. import specs

    if array == "models":
        arch = item.get("architecture")
        if arch not in specs.SPEC_BY_ARCHITECTURE:
            raise CatalogError(f"unknown architecture {arch!r}", entry=item.get("name"), field="architecture",
                               expected=f"one of {', '.join(specs.ARCHITECTURES)}")
        return specs.SPEC_BY_ARCHITECTURE[arch]
    return {
        "hardware": specs.HardwareSpec, "scenarios": specs.ScenarioSpec, "fabrics": specs.FabricSpec,
        "nodes": specs.NodeSpec, "clusters": specs.ClusterSpec, "tiers": specs.TierSpec, "grids": specs.GridSpec,
        "racks": specs.RackSpec, "classes": specs.CalibrationClass,
    }[array]


def structure(array: str, item: dict, *, file: str | None = None) -> Any:
    """Build one spec; any failure becomes a CatalogError naming the file, entry and field."""
    cls = spec_class(array, item)
    try:
        return converter().structure(item, cls)
    except CatalogError as exc:
        if exc.file is None and exc.entry is None:
            raise CatalogError(str(exc), file=file, entry=item.get("name")) from None
        if exc.file is None:
            msg = str(exc).split(": ", 1)[-1] if exc.entry else str(exc)
            raise CatalogError(msg, file=file, entry=exc.entry or item.get("name"), field=exc.field) from None
        raise
    except Exception as exc:  # cattrs/attrs errors: unknown key, wrong type
        raise CatalogError(f"{type(exc).__name__}: {exc}", file=file, entry=item.get("name"),
                           expected=f"fields of {cls.__name__}") from None
