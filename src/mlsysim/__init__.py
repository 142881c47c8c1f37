"""mlsysim: a first-principles analytical simulator for ML systems.

Registries (``Hardware``, ``Models``, ``Scenarios``, ``Systems``, ``Infra``, ``Tiers``, ``Applications``,
``Archetypes``) are generated from the TOML catalog on first access; ``Engine`` and ``ureg`` load on first use
too, so ``import mlsysim`` itself stays cheap.
"""
from __future__ import annotations

import sys
import warnings
from typing import Any

from . import _hooks
from ._version import __version__

_REGISTRIES = ("Hardware", "Models", "Scenarios", "Systems", "Infra", "Tiers", "Applications", "Archetypes")
# Deprecated top-level names (API promise v0.1.x): name -> (module, attribute, where to import it from now).
_DEPRECATED = {
    "BaseModel": ("mlsysim.core.solver", "ForwardModel", "from mlsysim.core.solver import ForwardModel"),
    "ForwardModel": ("mlsysim.core.solver", "ForwardModel", "from mlsysim.core.solver import ForwardModel"),
    "RooflineModel": ("mlsysim.solvers", "RooflineModel", "from mlsysim.solvers import RooflineModel"),
    "ServingModel": ("mlsysim.solvers", "ServingModel", "from mlsysim.solvers import ServingModel"),
    "DistributedModel": ("mlsysim.solvers", "DistributedModel", "from mlsysim.solvers import DistributedModel"),
}

__all__ = ["__version__", "Engine", "ureg", "PerformanceProfile", *_REGISTRIES]


def _evaluate_scenario(scenario: Any, **overrides: Any) -> Any:
    """ScenarioSpec.evaluate's implementation, imported on first call (specs never import core)."""
    from .core.scenario_eval import evaluate_scenario

    return evaluate_scenario(scenario, **overrides)


_hooks.scenario_evaluator = _evaluate_scenario


def __getattr__(name: str) -> Any:
    if name in _REGISTRIES:
        from .registry import registries

        return registries().roots[name]
    if name == "Engine":
        from .core.engine import Engine

        return Engine
    if name == "PerformanceProfile":
        from .core.results import PerformanceProfile

        return PerformanceProfile
    if name == "ureg":
        from .units import get_ureg

        return get_ureg()
    if name in _DEPRECATED:
        module, attribute, instead = _DEPRECATED[name]
        import importlib

        value = getattr(importlib.import_module(module), attribute)
        caller = sys._getframe(1)
        # `from mlsysim import X` first probes with hasattr() inside importlib, then fetches from the caller's
        # frame: warn once, at the caller's line, not at importlib's.
        if not caller.f_code.co_filename.startswith("<frozen importlib"):
            warnings.warn(f"mlsysim.{name} is deprecated and will be removed in 0.2.0; use `{instead}`",
                          DeprecationWarning, stacklevel=2)
        return value
    raise AttributeError(f"module 'mlsysim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
