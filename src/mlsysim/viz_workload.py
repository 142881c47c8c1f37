"""Workload plots (optional matplotlib, ``mlsysim[plot]``): one model's phases on a device's rooflines, and
serving latency against concurrency. ``mlsysim plot roofline|serving`` and ``result.plot()`` draw these.

Each phase point sits at (arithmetic intensity, achieved FLOP/s) of its PerformanceProfile (Williams et al.
2009): prefill and decode from ServingModel's per-phase profiles, training from Engine.solve(is_training=True).
"""
from __future__ import annotations

from typing import Any

from .errors import InvalidInputError
from .viz import _axes, _dense_peak, _pyplot, _rate_unit, plot_roofline

# Presentation choices (not physics): phase marker shapes and the concurrency grid of a serving plot.
PHASE_MARKERS = {"prefill": "s", "decode": "o", "training": "^", "forward": "o"}
DEFAULT_CONCURRENCY = (1, 2, 4, 8, 16, 32, 64, 128)
DEFAULT_PROMPT_LEN = 1024
DEFAULT_OUTPUT_LEN = 256


def phase_profiles(model: Any, hardware: Any, *, precision: str = "fp16", batch_size: int = 1,
                   prompt_len: int = DEFAULT_PROMPT_LEN, output_len: int = DEFAULT_OUTPUT_LEN,
                   training: bool = True) -> dict[str, Any]:
    """{phase: PerformanceProfile}: prefill and decode for a decoder LLM (ServingModel), the forward pass for
    any other model, and a training step (when `training`)."""
    from .core.engine import Engine
    from .core.inputs import resolve_model
    from .specs.models import TransformerSpec

    m = resolve_model(model)
    phases: dict[str, Any] = {}
    decoder = isinstance(m, TransformerSpec) and m.architecture != "encoder"
    if decoder:
        from .core.serving import ServingModel

        served = ServingModel().solve(m, hardware, batch_size, precision, prompt_len=prompt_len,
                                      output_len=output_len, batching="static")
        phases["prefill"], phases["decode"] = served.prefill, served.decode
    else:
        phases["forward"] = Engine.solve(m, hardware, batch_size, precision)
    if training:
        phases["training"] = Engine.solve(m, hardware, batch_size, "bf16" if precision == "fp16" else precision,
                                          is_training=True, seq_len=prompt_len if decoder else None)
    return phases


def plot_workload_roofline(model: Any, hardware: Any, *, precision: str = "fp16", precisions: Any = None,
                           batch_size: int = 1, prompt_len: int = DEFAULT_PROMPT_LEN,
                           output_len: int = DEFAULT_OUTPUT_LEN, training: bool = True,
                           ax: Any = None) -> tuple[Any, Any]:
    """The device's roofline at `precision` and a dashed ceiling for each of `precisions` (default: every
    dense precision the device lists), with the model's prefill, decode and training points (gid
    "phase:<name>"). Returns (fig, ax)."""
    from .core.inputs import resolve_hardware
    from .specs.fields import figure

    hw = resolve_hardware(hardware)
    fig, ax = plot_roofline(hw, None, precision=precision, ax=ax)
    import numpy as np

    peak = _dense_peak(hw, precision)
    unit, scale = _rate_unit(peak)
    bandwidth = figure(hw, "memory.bandwidth")
    lo, hi = ax.get_xlim()
    profiles = phase_profiles(model, hw, precision=precision, batch_size=batch_size, prompt_len=prompt_len,
                              output_len=output_len, training=training)
    points = {name: (p.arithmetic_intensity.m_as("flop/B"), p.hardware_flops / p.latency.m_as("s") / scale)
              for name, p in profiles.items()}
    finite = [x for x, _ in points.values() if np.isfinite(x) and x > 0]
    lo, hi = min([lo] + [x / 10 for x in finite]), max([hi] + [x * 10 for x in finite])
    grid = np.logspace(np.log10(lo), np.log10(hi), 256)
    wanted = [p for p, _ in hw.peak_dense.items()] if precisions is None else list(precisions)
    ceilings: dict[float, list[str]] = {}  # precisions sharing a peak share one dashed line
    for other in wanted:
        if other != precision and _dense_peak(hw, other) != peak:
            ceilings.setdefault(_dense_peak(hw, other), []).append(other)
    for ceiling, names in sorted(ceilings.items()):
        (line,) = ax.loglog(grid, np.minimum(bandwidth * grid, ceiling) / scale, linestyle="--", linewidth=1.0,
                            label=f"roofline ({', '.join(names)})")
        line.set_gid(f"roofline:{'/'.join(names)}")
    for name, (x, y) in points.items():
        p = profiles[name]
        (marker,) = ax.plot([x], [y], PHASE_MARKERS[name], markersize=9,
                            label=f"{name} ({p.compute_precision}, batch {p.batch_size}, {p.bottleneck.lower()})")
        marker.set_gid(f"phase:{name}")
    ax.set_xlim(lo, hi)
    top = max([peak] + [_dense_peak(hw, o) for o in wanted]) / scale
    ax.set_ylim(ax.get_ylim()[0], top * 2)
    ax.set_title(f"Roofline: {getattr(profiles[next(iter(profiles))], 'model', '')} on {hw.display_name}")
    ax.legend(loc="lower right", fontsize=7)
    return fig, ax


def plot_serving(model: Any, hardware: Any, *, concurrency: Any = DEFAULT_CONCURRENCY, precision: str = "fp16",
                 prompt_len: int = DEFAULT_PROMPT_LEN, output_len: int = DEFAULT_OUTPUT_LEN,
                 tensor_parallel: int = 1, runtime: Any = None, axes: Any = None) -> tuple[Any, Any]:
    """TTFT (left) and TPOT (right) against requests in flight, from ServingModel (continuous batching).
    Points the KV cache cannot hold are left out and named in the title. Returns (fig, (ax_ttft, ax_tpot))."""
    from .core.serving import ServingModel

    levels = sorted({int(c) for c in concurrency})
    if not levels or levels[0] < 1:
        raise InvalidInputError(f"concurrency must be positive integers, got {list(concurrency)!r}")
    solver = ServingModel()
    xs, ttft, tpot, dropped = [], [], [], []
    for c in levels:
        r = solver.solve(model, hardware, c, precision, prompt_len=prompt_len, output_len=output_len,
                         tensor_parallel=tensor_parallel, runtime=runtime)
        if not r.feasible:
            dropped.append(c)
            continue
        xs.append(c)
        ttft.append(r.ttft.m_as("ms"))
        tpot.append(r.tpot.m_as("ms"))
    if not xs:
        raise InvalidInputError(f"no concurrency level in {levels} fits in memory; try tensor_parallel > 1")
    if axes is None:
        fig, axes = _pyplot().subplots(1, 2, figsize=(10.0, 4.0))
    else:
        fig = axes[0].figure
    for ax, ys, label, gid in ((axes[0], ttft, "TTFT (ms)", "ttft"), (axes[1], tpot, "TPOT (ms)", "tpot")):
        (line,) = ax.plot(xs, ys, "o-")
        line.set_gid(gid)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("concurrency (requests in flight)")
        ax.set_ylabel(label)
        ax.grid(True, which="both", alpha=0.3)
    name = getattr(model, "display_name", model)
    note = f"; does not fit at {dropped}" if dropped else ""
    fig.suptitle(f"{name} on {getattr(hardware, 'display_name', hardware)}: prompt {prompt_len}, "
                 f"output {output_len}, tp {tensor_parallel}{note}")
    fig.tight_layout()
    return fig, axes


def plot_result(result: Any, ax: Any = None) -> tuple[Any, Any]:
    """`result.plot()`: a PerformanceProfile on its device's roofline, or a ServingResult's prefill and decode
    profiles on the roofline of the device they ran on."""
    from .core.results import PerformanceProfile

    if isinstance(result, PerformanceProfile):
        return plot_roofline(result.hardware, [result], precision=result.compute_precision, ax=ax)
    prefill, decode = getattr(result, "prefill", None), getattr(result, "decode", None)
    if isinstance(prefill, PerformanceProfile) and isinstance(decode, PerformanceProfile):
        fig, ax = plot_roofline(decode.hardware, None, precision=decode.compute_precision, ax=ax)
        peak = _dense_peak(_axes_hw(decode.hardware), decode.compute_precision)
        _, scale = _rate_unit(peak)
        for name, p in (("prefill", prefill), ("decode", decode)):
            (marker,) = ax.plot([p.arithmetic_intensity.m_as("flop/B")], [p.hardware_flops / p.latency.m_as("s")
                                / scale], PHASE_MARKERS[name], markersize=9, label=f"{name} (batch {p.batch_size})")
            marker.set_gid(f"phase:{name}")
        ax.legend(loc="lower right", fontsize=7)
        return fig, ax
    raise InvalidInputError(f"{type(result).__name__} has no plot; plot PerformanceProfile or ServingResult")


def _axes_hw(name: str) -> Any:
    from .core.inputs import resolve_hardware

    return resolve_hardware(name)


__all__ = ["phase_profiles", "plot_workload_roofline", "plot_serving", "plot_result", "_axes"]
