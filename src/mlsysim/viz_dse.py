"""The Pareto front of a sweep (optional extra ``mlsysim[plot]``): every configuration that fits as a point of
(x, y), grouped by hardware (or model, precision), and the non-dominated ones joined as the front
(dse.pareto_indices: no other point is at least as good on both axes and better on one). Returns (fig, ax);
matplotlib is imported only when it draws."""
from __future__ import annotations

from typing import Any

from .errors import InvalidInputError
from .viz import _axes

# Axis label and the factor from the record's SI value to the plotted one, per field (presentation only).
AXES = {"latency": ("latency per pass (ms)", 1e3), "tpot": ("TPOT (ms)", 1e3), "ttft": ("TTFT (ms)", 1e3),
        "energy": ("energy per pass (J)", 1.0), "mfu": ("MFU", 1.0), "batch_size": ("batch size", 1.0),
        "usd_per_hour": ("cost (USD per device-hour)", 1.0), "per_dollar": ("items per USD", 1.0),
        "tokens_per_dollar": ("tokens per USD", 1.0), "throughput_per_dollar": ("items per USD", 1.0)}
GROUPS = ("hardware", "model", "precision")
COST_FIELDS = ("usd_per_hour", "per_dollar", "tokens_per_dollar", "throughput_per_dollar")
# Fields better when smaller (the default direction of an axis of the front).
SMALLER_IS_BETTER = ("latency", "tpot", "ttft", "energy", "usd_per_hour")


def _label(field: str, records: list[dict]) -> tuple[str, float]:
    if field == "throughput":
        units = {r.get("throughput_unit") for r in records}
        return (f"throughput ({units.pop()})" if len(units) == 1 else "throughput (items/s)"), 1.0
    if field not in AXES:
        raise InvalidInputError(f"cannot plot {field!r}; fields: throughput, {', '.join(AXES)}")
    return AXES[field]


def _records(table: Any, fields: tuple[str, str]) -> list[dict]:
    rows = [r for r in table if r["feasible"] and r["error"] is None]
    if any(f in COST_FIELDS for f in fields):
        from .dse.search import _with_derived, cost_per_hour
        from .errors import CatalogError

        prices = {}
        for hw in table.space.hardware:
            try:
                prices[hw.name] = cost_per_hour(hw)
            except CatalogError:
                pass
        rows = [_with_derived(r, prices, None) for r in rows]
    return [r for r in rows if all(r.get(f) is not None for f in fields)]


def plot_pareto(table: Any, x: str = "latency", y: str = "throughput", *, minimize: Any = None,
                group_by: str = "hardware", ax: Any = None, log: bool = True) -> tuple[Any, Any]:
    """Scatter of the configurations of `table` that fit, one colour per `group_by`, and their Pareto front.

    minimize: (x smaller is better, y smaller is better); default latency/energy/cost smaller, others larger.
    Artists carry gids: "points:<group>" per group, "pareto" for the front line."""
    if group_by not in GROUPS:
        raise InvalidInputError(f"group_by must be one of {', '.join(GROUPS)}, got {group_by!r}")
    from .dse.search import pareto_indices

    if minimize is None:
        minimize = (x in SMALLER_IS_BETTER, y in SMALLER_IS_BETTER)
    records = _records(table, (x, y))
    if not records:
        raise InvalidInputError(f"no configuration of the sweep fits and has both {x} and {y}: nothing to plot "
                                "(a larger device, a smaller batch, or a cost field needs a catalog price)")
    (xlabel, xs), (ylabel, ys) = _label(x, records), _label(y, records)
    fig, ax = _axes(ax, (7.0, 5.0))
    groups: dict[str, list[dict]] = {}
    for r in records:
        groups.setdefault(str(r[group_by]), []).append(r)
    for name, rows in groups.items():
        sc = ax.scatter([r[x] * xs for r in rows], [r[y] * ys for r in rows], s=18, alpha=0.6, label=name)
        sc.set_gid(f"points:{name}")
    front = [records[i] for i in pareto_indices([r[x] for r in records], [r[y] for r in records], tuple(minimize))]
    (line,) = ax.plot([r[x] * xs for r in front], [r[y] * ys for r in front], "k-", marker="o", markersize=5,
                      drawstyle="steps-post",  # the boundary of what is attainable is a staircase
                      label=f"Pareto front ({len(front)})")
    line.set_gid("pareto")
    if log:
        for axis, vals in (("x", [r[x] for r in records]), ("y", [r[y] for r in records])):
            if min(vals) > 0:
                (ax.set_xscale if axis == "x" else ax.set_yscale)("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    models = sorted({r["model"] for r in records})
    ax.set_title(f"{', '.join(models[:3])}{' ...' if len(models) > 3 else ''}: {len(records)} configurations "
                 f"that fit, {len(front)} on the front")
    ax.figure.tight_layout()
    return fig, ax


__all__ = ["plot_pareto"]
