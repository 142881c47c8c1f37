"""Plots (optional: ``pip install 'mlsysim[plot]'`` for matplotlib).

``plot_roofline(hardware, workloads)`` draws a device's roofline (Williams, Waterman & Patterson, "Roofline:
an insightful visual performance model for multicore architectures", CACM 52(4), 2009): attainable
performance = min(peak compute, memory bandwidth x arithmetic intensity), and places each workload at its
arithmetic intensity and achieved rate. ``plot_evaluation_scorecard(evaluation)`` draws demand / supply of
each check of a scorecard. Both return matplotlib's ``(fig, ax)``; matplotlib is imported only when they run.
"""
from __future__ import annotations

from typing import Any

from .errors import InvalidInputError, InvalidTypeError, MlsysimError

# Presentation choices (not physics): the x-axis spans this many decades either side of the ridge point and
# of the workloads plotted, the y-axis this many decades below the compute roof; points on the log grid.
X_DECADES_BELOW_RIDGE = 3
X_DECADES_ABOVE_RIDGE = 2
X_MARGIN_DECADES = 1
Y_DECADES_BELOW_PEAK = 4
ROOF_POINTS = 256
# SI prefixes for the y-axis unit, so the peak reads between 1 and 1000 (MFLOP/s on a microcontroller,
# TFLOP/s or PFLOP/s on an accelerator).
FLOP_RATE_UNITS = (("FLOP/s", 1.0), ("kFLOP/s", 1e3), ("MFLOP/s", 1e6), ("GFLOP/s", 1e9), ("TFLOP/s", 1e12),
                   ("PFLOP/s", 1e15), ("EFLOP/s", 1e18))


class PlotDependencyError(MlsysimError, ImportError):
    """matplotlib is not installed."""


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise PlotDependencyError("plotting needs matplotlib: pip install 'mlsysim[plot]'") from exc
    return plt


def _axes(ax: Any, figsize: tuple[float, float]) -> tuple[Any, Any]:
    if ax is not None:
        return ax.figure, ax
    return _pyplot().subplots(figsize=figsize)


def _rate_unit(peak: float) -> tuple[str, float]:
    chosen = FLOP_RATE_UNITS[0]
    for unit in FLOP_RATE_UNITS:
        if peak >= unit[1]:
            chosen = unit
    return chosen


def _dense_peak(hw: Any, precision: str) -> float:
    from .specs.fields import figure

    peak = figure(hw, f"peak_dense.{precision}") if isinstance(precision, str) else None
    if peak is None:
        have = ", ".join(p for p, _ in hw.peak_dense.items())
        raise InvalidInputError(f"{hw.display_name} has no dense {precision} peak to draw a roofline at; "
                                f"choose one of: {have}")
    return peak


def _profiles(hw: Any, workloads: Any, precision: str) -> list[Any]:
    """Each workload as a PerformanceProfile on `hw`: profiles as given, models solved at batch 1."""
    from .core.engine import Engine
    from .core.results import PerformanceProfile
    from .specs.models import ModelSpec

    if workloads is None:
        return []
    if isinstance(workloads, (str, ModelSpec, PerformanceProfile)):
        workloads = [workloads]
    out = []
    for w in workloads:
        if isinstance(w, PerformanceProfile):
            if w.hardware != hw.name:
                raise InvalidInputError(f"a profile solved on {w.hardware} cannot be placed on the roofline of "
                                        f"{hw.name}; solve it on {hw.name}")
            out.append(w)
        elif isinstance(w, (str, ModelSpec)):
            out.append(Engine.solve(w, hw, 1, precision))
        else:
            raise InvalidTypeError(f"workloads must be PerformanceProfiles, models or model registry names, got "
                                   f"{type(w).__name__}")
    return out


def plot_roofline(hardware: Any, workloads: Any = None, *, precision: str = "fp16", ax: Any = None) -> tuple[Any, Any]:
    """The roofline of `hardware` (registry name or HardwareSpec) at the dense `precision` peak, with
    `workloads` (PerformanceProfiles from Engine.solve on this hardware, or models, solved at batch 1 and
    `precision`) placed at (arithmetic intensity, achieved FLOP/s = hardware FLOPs / latency).

    Draws: the roof (gid "roofline"), the memory slope and compute ceiling, the ridge point (gid "ridge")
    at peak / bandwidth FLOP/B, a dashed compute ceiling for each other precision a profile computed in, and
    one marker per workload (gid "workload:<model>"). Uses the datasheet peak and bandwidth (the roof a
    kernel cannot exceed), not the calibrated values the solver applies. Returns (fig, ax).
    """
    from .core.inputs import resolve_hardware
    from .specs.fields import figure

    hw = resolve_hardware(hardware)
    peak = _dense_peak(hw, precision)
    bandwidth = figure(hw, "memory.bandwidth")
    profiles = _profiles(hw, workloads, precision)
    fig, ax = _axes(ax, (8.0, 5.0))
    import numpy as np

    ridge = peak / bandwidth  # FLOP/B where bandwidth x intensity meets the compute peak
    unit, scale = _rate_unit(peak)
    intensities = [p.arithmetic_intensity.m_as("flop/B") for p in profiles]
    finite = [i for i in intensities if np.isfinite(i) and i > 0]
    lo = min([ridge / 10 ** X_DECADES_BELOW_RIDGE] + [i / 10 ** X_MARGIN_DECADES for i in finite])
    hi = max([ridge * 10 ** X_DECADES_ABOVE_RIDGE] + [i * 10 ** X_MARGIN_DECADES for i in finite])
    x = np.logspace(np.log10(lo), np.log10(hi), ROOF_POINTS)
    x = np.unique(np.append(x, ridge))  # the roof's corner is on the curve exactly
    roof = np.minimum(bandwidth * x, peak) / scale  # Williams et al. 2009: min(peak, bandwidth x intensity)
    (line,) = ax.loglog(x, roof, color="tab:blue", linewidth=2.0, label=f"roofline ({precision})")
    line.set_gid("roofline")
    ax.fill_between(x[x <= ridge], roof[x <= ridge] / 10 ** Y_DECADES_BELOW_PEAK, roof[x <= ridge],
                    color="tab:orange", alpha=0.12, label="memory bound")
    ax.fill_between(x[x >= ridge], roof[x >= ridge] / 10 ** Y_DECADES_BELOW_PEAK, roof[x >= ridge],
                    color="tab:blue", alpha=0.08, label="compute bound")
    (marker,) = ax.plot([ridge], [peak / scale], "D", color="tab:red", markersize=7,
                        label=f"ridge {ridge:.3g} FLOP/B")
    marker.set_gid("ridge")
    ax.axvline(ridge, color="tab:red", linestyle=":", linewidth=0.8)
    for other in sorted({p.compute_precision for p in profiles} - {precision}):
        other_peak = _dense_peak(hw, other)
        (ceiling,) = ax.loglog(x, np.minimum(bandwidth * x, other_peak) / scale, linestyle="--", linewidth=1.0,
                               color="tab:gray", label=f"roofline ({other})")
        ceiling.set_gid(f"roofline:{other}")
    for p, intensity in zip(profiles, intensities):
        achieved = p.hardware_flops / p.latency.m_as("s") / scale  # FLOP actually executed per second
        (point,) = ax.plot([intensity], [achieved], "o", markersize=8,
                           label=f"{p.model} (batch {p.batch_size}, {p.bottleneck.lower()} bound)")
        point.set_gid(f"workload:{p.model}")
    ax.set_xlim(lo, hi)
    ax.set_ylim(peak / scale / 10 ** Y_DECADES_BELOW_PEAK, peak / scale * 2)
    ax.set_xlabel("arithmetic intensity (FLOP/B)")
    ax.set_ylabel(f"performance ({unit})")
    ax.set_title(f"Roofline: {hw.display_name} ({precision} {peak / scale:.4g} {unit}, "
                 f"{bandwidth / 1e9:.4g} GB/s)")
    ax.legend(loc="lower right", fontsize=8)
    return fig, ax


def plot_evaluation_scorecard(evaluation: Any, *, ax: Any = None) -> tuple[Any, Any]:
    """One horizontal bar per check of `evaluation` (a SystemEvaluation, or a ScenarioEvaluation from
    ``Scenarios.X.evaluate()``): predicted value / limit, green when it passes, red when it fails, with the
    limit drawn at 1. Bars carry gid "check:<name>". Returns (fig, ax)."""
    from .evaluation import SystemEvaluation
    from .specs.scenarios import ScenarioEvaluation

    if isinstance(evaluation, ScenarioEvaluation):
        evaluation = SystemEvaluation.from_scenario(evaluation)
    if not isinstance(evaluation, SystemEvaluation):
        raise InvalidTypeError(f"plot_evaluation_scorecard takes a SystemEvaluation or a ScenarioEvaluation, got "
                               f"{type(evaluation).__name__}")
    checks = evaluation.checks
    if not checks:
        raise InvalidInputError(f"{evaluation.scenario_name} has no checks to draw")
    ratios = [c.value.to(c.limit.units).magnitude / c.limit.magnitude for c in checks]  # demand / supply
    fig, ax = _axes(ax, (8.0, 1.0 + 0.5 * len(checks)))
    colours = ["tab:green" if c.passed else "tab:red" for c in checks]
    bars = ax.barh([c.name for c in checks], ratios, color=colours, alpha=0.8)
    for bar, check, ratio in zip(bars, checks, ratios):
        bar.set_gid(f"check:{check.name}")
        ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, f" {ratio:.1%}", va="center")
    ax.axvline(1.0, color="black", linestyle="--", linewidth=1.2, label="limit")
    ax.invert_yaxis()  # first check on top
    ax.set_xlim(0, max(max(ratios) * 1.2, 1.2))
    ax.set_xlabel("predicted / limit")
    ax.set_title(f"{evaluation.scenario_name}: {'PASS' if evaluation.passed_all else 'FAIL'}")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()  # room for the check names on the left
    return fig, ax
