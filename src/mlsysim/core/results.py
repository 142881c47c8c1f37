"""PerformanceProfile: the result of Engine.solve. The six stable fields are pint Quantities / plain values;
the experimental detail is kept as plain floats (SI units) and wrapped on access."""
from __future__ import annotations

import json
import math
from typing import Any

import attrs

from .. import units as _units
from ..units import quantity
from . import profile_text, quantity_text

_new, _set = object.__new__, object.__setattr__
# Unit names of the throughput Quantity by item unit (one string per result, not one f-string per access).
_PER_SECOND = {"token": "token/s", "sample": "sample/s"}


@attrs.frozen(kw_only=True)
class MemoryBreakdown:
    """Bytes held on the device during the pass (plain floats, bytes)."""

    weights: float
    kv_cache: float
    activations: float
    gradients: float
    optimizer_state: float
    runtime_reserve: float
    capacity: float
    weights_capacity: float | None = None  # microcontrollers: flash holds the weights, `capacity` is SRAM

    @property
    def total(self) -> float:
        return self.weights + self.kv_cache + self.activations + self.gradients + self.optimizer_state \
            + self.runtime_reserve

    def as_dict(self) -> dict[str, float]:
        """The fields in declaration order (None left out), then the total (attrs.asdict's dict, ~4x faster)."""
        out = {"weights": self.weights, "kv_cache": self.kv_cache, "activations": self.activations,
               "gradients": self.gradients, "optimizer_state": self.optimizer_state,
               "runtime_reserve": self.runtime_reserve, "capacity": self.capacity,
               "weights_capacity": self.weights_capacity}
        if None in out.values():
            out = {k: v for k, v in out.items() if v is not None}
        out["total"] = self.total
        return out


# Not slotted: the solve's fast path (core/solve_plan.py) fills a new profile's __dict__ in one step through
# from_fields(), where attrs' generated __init__ sets its 29 fields one object.__setattr__ at a time (~4 us).
@attrs.frozen(kw_only=True, slots=False)
class PerformanceProfile:
    # --- stable (API promise v0.1.x): latency, throughput and energy are pint Quantities built on access from
    # the floats below (the solve itself builds no Quantity, and needs no pint) ---
    latency_s: float        # time of one forward pass / decode step / training step, s
    throughput_per_s: float  # throughput_unit per second (tokens/s or samples/s)
    bottleneck: str         # "Compute" or "Memory"
    mfu: float              # model FLOPs / (latency x dense peak at the compute precision)
    feasible: bool          # fits in memory
    energy_j: float         # joules per pass
    # --- experimental detail (plain floats in SI units) ---
    model: str
    hardware: str
    batch_size: int
    precision: str
    compute_precision: str
    seq_len: int | None
    is_training: bool
    compute_time_s: float
    memory_time_s: float
    overhead_s: float
    flops: float
    hardware_flops: float
    bytes_moved: float
    dense_peak_flops: float     # dense peak of the compute precision, FLOP/s (the MFU denominator)
    efficiency: float           # fraction of that peak applied (given, measured or class-calibrated)
    peak_flops_used: float      # dense peak x efficiency: the compute roof applied, FLOP/s
    bandwidth_used: float       # achievable memory bandwidth applied, B/s
    power_w: float
    memory: MemoryBreakdown
    throughput_unit: str
    reasons: tuple[str, ...] = ()         # every note, the memory ones included
    memory_reasons: tuple[str, ...] = ()  # why it does not fit (empty when feasible)
    # The stable Quantities once built (r.latency is r.latency); not part of equality, rebuilt after evolve
    _views: Any = attrs.field(default=None, init=False, eq=False, repr=False)

    @classmethod
    def from_fields(cls, values: dict[str, Any]) -> "PerformanceProfile":
        """A profile holding ``values`` as its fields, without __init__: the caller passes every init field
        by name, once (tests/test_solve_plan.py checks the fast path's keys against attrs.fields); there are
        no converters or validators to skip."""
        self = _new(cls)
        values["_views"] = None
        _set(self, "__dict__", values)
        return self

    def _view(self, name: str, value: float, unit_name: str) -> Any:
        views = self._views
        if views is None:
            views = {}
            object.__setattr__(self, "_views", views)
        q = views.get(name)
        if q is None:
            q = views[name] = quantity(value, unit_name)
        return q

    # Quantity views of the floats (created on access: the hot path stays on floats).
    @property
    def latency(self):
        """pint Quantity (s): time of one forward pass / decode step / training step."""
        return self._view("latency", self.latency_s, "s")

    @property
    def throughput(self):
        """pint Quantity: tokens/s or samples/s."""
        return self._view("throughput", self.throughput_per_s, _PER_SECOND.get(self.throughput_unit)
                          or f"{self.throughput_unit}/s")

    @property
    def energy(self):
        """pint Quantity (J): energy of one pass."""
        return self._view("energy", self.energy_j, "J")

    @property
    def latency_compute(self):
        return quantity(self.compute_time_s, "s")

    @property
    def latency_memory(self):
        return quantity(self.memory_time_s, "s")

    @property
    def latency_overhead(self):
        return quantity(self.overhead_s, "s")

    @property
    def memory_footprint(self):
        return quantity(self.memory.total, "B")

    @property
    def hfu(self) -> float:
        """Hardware FLOPs utilisation: executed FLOPs (recomputation included) / (latency x dense peak)
        (Chowdhery et al. 2022, PaLM, appendix B); >= mfu."""
        return self.hardware_flops / (self.latency_s * self.dense_peak_flops)

    @property
    def energy_per_inference(self):
        """0.1.x's name for the energy of one pass (``energy``)."""
        return self.energy

    def model_dump(self) -> dict[str, Any]:
        """0.1.x's (pydantic) view: the result's figures by name, quantities as pint Quantities. For JSON use
        to_dict(), whose keys name their units."""
        return {"latency": self.latency, "latency_compute": self.latency_compute,
                "latency_memory": self.latency_memory, "latency_overhead": self.latency_overhead,
                "throughput": self.throughput, "bottleneck": self.bottleneck, "mfu": self.mfu, "hfu": self.hfu,
                "feasible": self.feasible, "energy": self.energy, "memory_footprint": self.memory_footprint,
                "peak_flops_actual": self.peak_flops_actual, "peak_bw_actual": self.peak_bw_actual,
                "arithmetic_intensity": self.arithmetic_intensity, "power": self.power,
                "model": self.model, "hardware": self.hardware, "batch_size": self.batch_size,
                "precision": self.precision, "reasons": list(self.reasons)}

    @property
    def arithmetic_intensity(self):
        """FLOPs per byte moved (roofline x-axis)."""
        return quantity(self.hardware_flops / self.bytes_moved if self.bytes_moved else float("inf"), "flop/B")

    @property
    def peak_flops_actual(self):
        return quantity(self.peak_flops_used, "flop/s")

    @property
    def peak_bw_actual(self):
        return quantity(self.bandwidth_used, "B/s")

    @property
    def power(self):
        return quantity(self.power_w, "W")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: every quantity as a float in the unit its key names."""
        return {
            "model": self.model, "hardware": self.hardware, "batch_size": self.batch_size,
            "precision": self.precision, "compute_precision": self.compute_precision, "seq_len": self.seq_len,
            "is_training": self.is_training,
            "latency_s": self.latency_s,
            # one key whatever the model kind; the unit beside it ("token/s" or "sample/s"); a token and a sample
            # are dimensionless counts, so the value in 1/s is the float itself
            "throughput": self.throughput_per_s, "throughput_unit": f"{self.throughput_unit}/s",
            "bottleneck": self.bottleneck, "mfu": self.mfu, "feasible": self.feasible,
            "energy_j": self.energy_j,
            "compute_time_s": self.compute_time_s, "memory_time_s": self.memory_time_s,
            "overhead_s": self.overhead_s, "flops": self.flops, "hardware_flops": self.hardware_flops,
            "bytes_moved": self.bytes_moved,
            "arithmetic_intensity_flop_per_byte": self.hardware_flops / self.bytes_moved if self.bytes_moved else None,
            "dense_peak_flop_per_s": self.dense_peak_flops, "efficiency": self.efficiency,
            "peak_flops_used_flop_per_s": self.peak_flops_used, "bandwidth_used_bytes_per_s": self.bandwidth_used,
            "power_w": self.power_w, "memory_bytes": self.memory.as_dict(), "reasons": list(self.reasons),
        }

    def to_json(self, **kwargs: Any) -> str:
        """Valid JSON (RFC 8259): a non-finite number raises instead of printing `Infinity`."""
        return json.dumps(self.to_dict(), **{"allow_nan": False, **kwargs})

    def memory_checks(self) -> tuple[Any, ...]:
        """The memory-fit verdicts behind `feasible`, as ConstraintChecks (value and limit in bytes): one for
        the device memory, or on a microcontroller one for SRAM (everything but the weights) and one for the
        flash that holds the weights."""
        from ..specs.scenarios import ConstraintCheck

        m = self.memory

        def check(name: str, used: float, capacity: float) -> Any:
            return ConstraintCheck(name=name, passed=used <= capacity, value=quantity(used, "B"),
                                   limit=quantity(capacity, "B"))

        if m.weights_capacity is None:
            return (check("fits in memory", m.total, m.capacity),)
        return (check("fits in memory (SRAM)", m.total - m.weights, m.capacity),
                check("weights fit in flash", m.weights, m.weights_capacity))

    def _rows(self) -> list[tuple[str, str]]:
        """(label, text) pairs of the human summary: every figure in the unit that suits its magnitude."""
        labels, _, values = profile_text.rows(self)
        return list(zip(labels, values))

    def summary(self) -> str:
        """The human summary; built once per profile (its fields are frozen) and kept beside the Quantities."""
        views = self._views
        if views is None:
            views = {}
            object.__setattr__(self, "_views", views)
        else:
            text = views.get("summary")
            if text is not None:
                return text
        text = views["summary"] = profile_text.summary(self)
        return text

    def plot(self, ax: Any = None) -> Any:
        """This profile on its device's roofline (matplotlib: mlsysim[plot]); returns (fig, ax)."""
        return _plot(self, ax)

    def _repr_html_(self) -> str:
        """A small table for notebooks (Jupyter calls this to display the profile)."""
        from html import escape

        cells = "".join(f"<tr><th style='text-align:left'>{escape(k.strip())}</th><td>{escape(v)}</td></tr>"
                        for k, v in self._rows())
        notes = "".join(f"<li>{escape(r)}</li>" for r in self.reasons)
        return (f"<table><caption>PerformanceProfile: {escape(self.model)} on {escape(self.hardware)}</caption>"
                f"{cells}</table>" + (f"<ul>{notes}</ul>" if notes else ""))

    def __str__(self) -> str:
        return self.summary()


# --- the shared behaviour of every solver family's result ---------------------------------------------------
# A family's result is an ``attrs.frozen`` class deriving from SolverResult whose fields are pint Quantities
# (figures), plain numbers, strings, booleans, tuples or nested results. Field names follow 0.1.x's where 0.1.x
# had the family (bug fixes may change values, never names).

def _is_registry_quantity(value: Any) -> bool:
    """A Quantity of mlsysim's registry, told by its type (pint's `units` property builds a Unit per read)."""
    ureg = _units._ureg
    return ureg is not None and type(value) is ureg.Quantity


def _is_quantity(value: Any) -> bool:
    return _is_registry_quantity(value) or (hasattr(value, "units") and hasattr(value, "magnitude"))


def _plain(value: Any) -> Any:
    if _is_quantity(value):
        return value.magnitude
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if hasattr(value, "to_dict"):  # a result (PerformanceProfile, another family's result)
        return value.to_dict()
    if hasattr(value, "as_dict"):  # MemoryBreakdown
        return value.as_dict()
    return value


def _plot(result: Any, ax: Any) -> Any:
    from .. import _hooks

    if _hooks.result_plotter is None:
        from ..errors import MlsysimError

        raise MlsysimError("no plotter is installed: import mlsysim (it installs mlsysim._hooks.result_plotter)")
    return _hooks.result_plotter(result, ax)


class SolverResult:
    """Mixin: to_dict / to_json / summary / str / _repr_html_ for attrs result classes."""

    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: a quantity field `x` becomes `x` (its magnitude) and `x_unit` (the unit it is in)."""
        out: dict[str, Any] = {}
        for field in attrs.fields(type(self)):
            name = field.name
            value = getattr(self, name)
            if _is_quantity(value):
                out[name] = value.magnitude
                out[name + "_unit"] = quantity_text.unit_symbol(value)
            else:
                out[name] = _plain(value)
        return out

    def to_json(self, **kwargs: Any) -> str:
        """Valid JSON (RFC 8259): a non-finite number raises instead of printing `Infinity`."""
        return json.dumps(self.to_dict(), **{"allow_nan": False, "default": str, **kwargs})

    def _rows(self) -> list[tuple[str, str]]:
        rows = []
        for field in attrs.fields(type(self)):
            value = getattr(self, field.name)
            if _is_registry_quantity(value):  # neither a float, a sequence, a result nor a breakdown
                shown = quantity_text.human(value)
            elif isinstance(value, float) and not math.isfinite(value):
                shown = str(value)
            elif isinstance(value, (tuple, list)) and all(isinstance(v, str) for v in value):
                shown = "; ".join(value) if value else "none"
            elif hasattr(value, "to_dict"):  # a nested result: its headline
                latency = getattr(value, "latency", None)
                shown = type(value).__name__ + (f" (latency {quantity_text.human(latency)})"
                                                if latency is not None else "")
            elif hasattr(value, "as_dict"):
                shown = type(value).__name__
            else:
                shown = quantity_text.human(value)
            rows.append((field.name, shown))
        return rows

    def summary(self) -> str:
        rows = self._rows()
        width = max((len(k) for k, _ in rows), default=0)
        return "\n".join([type(self).__name__] + [f"  {k:<{width}}  {v}" for k, v in rows])

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        from html import escape

        cells = "".join(f"<tr><th style='text-align:left'>{escape(k)}</th><td>{escape(v)}</td></tr>"
                        for k, v in self._rows())
        return f"<table><caption>{escape(type(self).__name__)}</caption>{cells}</table>"
