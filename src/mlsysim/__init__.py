"""mlsysim: a first-principles analytical simulator for ML systems.

Registries (``Hardware``, ``Models``, ``Scenarios``, ``Systems``, ``Infra``, ``Tiers``, ``Applications``,
``Archetypes``) are generated from the TOML catalog on first access; ``Engine`` and ``ureg`` load on first use
too, so ``import mlsysim`` itself stays cheap.
"""
from __future__ import annotations

import sys as _sys
import warnings as _warnings
from typing import Any as _Any

from . import _hooks
from ._version import __version__

_REGISTRIES = ("Hardware", "Models", "Scenarios", "Systems", "Infra", "Tiers", "Applications", "Archetypes", "Runtimes")
# Deprecated top-level names (API promise v0.1.x): name -> (module, attribute, where to import it from now).
_DEPRECATED = {
    "BaseModel": ("mlsysim.core.solver", "ForwardModel", "from mlsysim.core.solver import ForwardModel"),
    "ForwardModel": ("mlsysim.core.solver", "ForwardModel", "from mlsysim.core.solver import ForwardModel"),
    "RooflineModel": ("mlsysim.solvers", "RooflineModel", "from mlsysim.solvers import RooflineModel"),
    "ServingModel": ("mlsysim.solvers", "ServingModel", "from mlsysim.solvers import ServingModel"),
    "DistributedModel": ("mlsysim.solvers", "DistributedModel", "from mlsysim.solvers import DistributedModel"),
}

# 0.1.x's public classes: the real spec types under their 0.1.x names, kept only for compatibility (each
# access warns once per call site with a DeprecationWarning naming the type to use).
_COMPAT_CLASSES = {
    "HardwareNode": ("mlsysim.specs", "HardwareSpec"), "Workload": ("mlsysim.specs", "ModelSpec"),
    "TransformerWorkload": ("mlsysim.specs", "TransformerSpec"), "CNNWorkload": ("mlsysim.specs", "CNNSpec"),
    "Fleet": ("mlsysim.specs", "ClusterSpec"), "Node": ("mlsysim.specs", "NodeSpec"),
    "NetworkFabric": ("mlsysim.specs", "FabricSpec"), "Scenario": ("mlsysim.specs", "ScenarioSpec"),
}
# Public names that live in their own module, imported on first use.
_LAZY = {
    "Engine": ("mlsysim.core.engine", "Engine"), "PerformanceProfile": ("mlsysim.core.results", "PerformanceProfile"),
    "plot_roofline": ("mlsysim.viz", "plot_roofline"),
    "plot_evaluation_scorecard": ("mlsysim.viz", "plot_evaluation_scorecard"),
    "load_config": ("mlsysim.config", "load_config"), "SimulationConfig": ("mlsysim.config", "SimulationConfig"),
    "SystemEvaluator": ("mlsysim.evaluation", "SystemEvaluator"),
    "SystemEvaluation": ("mlsysim.evaluation", "SystemEvaluation"),
    "SequenceLengths": ("mlsysim.specs.sequences", "SequenceLengths"),
}

# Subpackages reachable as attributes without their own import (0.1.x imported them with the package).
_SUBPACKAGES = ("hardware", "models", "systems", "infra", "fmt", "show", "sim", "solvers", "specs", "core", "viz",
                "validation", "registry", "units", "errors")

__all__ = ["__version__", "ureg", *_REGISTRIES, *_LAZY, *_COMPAT_CLASSES]


def _evaluate_scenario(scenario: _Any, **overrides: _Any) -> _Any:
    """ScenarioSpec.evaluate's implementation, imported on first call (specs never import core)."""
    from .core.scenario_eval import evaluate_scenario

    return evaluate_scenario(scenario, **overrides)


def _resolve_path(path: str) -> _Any:
    """The spec at a full registry path, or None (what a spec's reference field names)."""
    from .registry import registries

    return registries().resolve_path(path)


def _scorecard(evaluation: _Any) -> _Any:
    from .evaluation import SystemEvaluation

    return SystemEvaluation.from_scenario(evaluation)


def _plot_result(result: _Any, ax: _Any = None) -> _Any:
    from .viz_workload import plot_result

    return plot_result(result, ax=ax)


_hooks.result_plotter = _plot_result
_hooks.scenario_evaluator = _evaluate_scenario
_hooks.scorecard = _scorecard
_hooks.resolve_path = _resolve_path


def _warn_at_caller(message: str) -> None:
    # `from mlsysim import X` first probes with hasattr() inside importlib, then fetches from the caller's
    # frame: warn once, at the caller's line, not at importlib's.
    if not _sys._getframe(2).f_code.co_filename.startswith("<frozen importlib"):
        _warnings.warn(message, DeprecationWarning, stacklevel=3)


def __getattr__(name: str) -> _Any:
    import importlib

    if name in _REGISTRIES:
        from .registry import registries

        return registries().roots[name]
    if name == "ureg":
        from .units import get_ureg

        return get_ureg()
    if name in _LAZY:
        module, attribute = _LAZY[name]
        value = getattr(importlib.import_module(module), attribute)
        globals()[name] = value  # later lookups skip this hook
        return value
    if name in _COMPAT_CLASSES:
        module, attribute = _COMPAT_CLASSES[name]
        _warn_at_caller(f"mlsysim.{name} is the 0.1.x name of {module}.{attribute}, kept for compatibility; "
                        f"use `from {module} import {attribute}`")
        return getattr(importlib.import_module(module), attribute)
    if name in _DEPRECATED:
        module, attribute, instead = _DEPRECATED[name]
        _warn_at_caller(f"mlsysim.{name} is deprecated and will be removed in 0.2.0; use `{instead}`")
        return getattr(importlib.import_module(module), attribute)
    if name in _SUBPACKAGES:
        return importlib.import_module(f"{__name__}.{name}")
    from .solvers import _EXPORTS as solver_names

    if name in solver_names:  # every 0.1.x solver family was importable from the top level (deprecated)
        _warn_at_caller(f"mlsysim.{name} is deprecated and will be removed in 0.2.0; use "
                        f"`from mlsysim.solvers import {name}`")
        return getattr(importlib.import_module("mlsysim.solvers"), name)
    raise AttributeError(f"module 'mlsysim' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The public names only (no `sys`, `warnings` or typing helpers), and subpackages already imported."""
    loaded = {n for n, v in globals().items() if not n.startswith("_") and type(v) is type(_sys)}
    return sorted(set(__all__) | loaded | {"__version__"})
