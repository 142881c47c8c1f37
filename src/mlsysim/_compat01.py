"""Lazy name tables for 0.1.x's subpackage paths (``mlsysim.hardware``, ``mlsysim.models.types`` ...).

0.1.x spread its public names over subpackages; code written for it imports them from there. Each of those
modules here holds only a table: a name maps either to a registry path (``"Hardware"``, ``"Hardware.Cloud"``),
reached through :func:`mlsysim.registry.registries` when the name is first used, or to the spec class that
plays the 0.1.x type's role (``HardwareNode`` -> ``mlsysim.specs.HardwareSpec``). Importing such a module
loads neither the catalog nor the spec classes. Renamed types warn (DeprecationWarning, at the caller's line)
and name the type to use; registry names are today's objects and do not warn.
"""
from __future__ import annotations

import importlib
import sys
import warnings
from collections.abc import Callable
from typing import Any


class Registry:
    """A name that is a registry path (root and optional groups), resolved on use."""

    __slots__ = ("path",)

    def __init__(self, path: str):
        self.path = path


class Renamed:
    """A 0.1.x type name whose role is played by ``module.attribute`` here."""

    __slots__ = ("module", "attribute")

    def __init__(self, module: str, attribute: str):
        self.module, self.attribute = module, attribute


class Same:
    """A name that lives unchanged in another of our modules (a function, a helper)."""

    __slots__ = ("module", "attribute")

    def __init__(self, module: str, attribute: str):
        self.module, self.attribute = module, attribute


def _registry_object(path: str) -> Any:
    from .registry import registries

    root, *groups = path.split(".")
    obj = registries().roots[root]
    for group in groups:
        obj = getattr(obj, group)
    return obj


def _warn_at_caller(message: str) -> None:
    # `from package import X` probes with hasattr() inside importlib first, then fetches from the caller's
    # frame: warn once, at the caller's line (frame 0 is this helper, 1 the module __getattr__).
    if not sys._getframe(2).f_code.co_filename.startswith("<frozen importlib"):
        warnings.warn(message, DeprecationWarning, stacklevel=3)


def lazy_names(module_name: str, table: dict[str, Any]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of a compat module serving ``table``."""

    def __getattr__(name: str) -> Any:
        target = table.get(name)
        if isinstance(target, Registry):
            return _registry_object(target.path)
        if isinstance(target, Renamed):
            _warn_at_caller(f"{module_name}.{name} is the 0.1.x name of {target.module}.{target.attribute}, "
                            f"kept for compatibility; use `from {target.module} import {target.attribute}`")
            return getattr(importlib.import_module(target.module), target.attribute)
        if isinstance(target, Same):
            return getattr(importlib.import_module(target.module), target.attribute)
        raise AttributeError(f"module {module_name!r} has no attribute {name!r}; it provides: "
                             f"{', '.join(sorted(table))}")

    def __dir__() -> list[str]:
        return sorted(table)

    return __getattr__, __dir__
