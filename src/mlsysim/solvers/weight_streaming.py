"""Weight streaming: the weights live off the device and cross a link every step, layer by layer.

This is Cerebras' weight-streaming execution (weights in MemoryX, activations and KV cache on the wafer;
Lie et al. 2022, "Cerebras Architecture Deep Dive", Hot Chips 34) and equally GPU weight offload to host
memory (FlexGen, Sheng et al. 2023; DeepSpeed ZeRO-Inference). Each layer's weights are prefetched while the
previous layer computes (double buffering), so one step of L layers takes
    t_inject + (L - 1) x max(t_inject, t_compute) + t_compute
(a two-stage pipeline: fill, steady state, drain), with t_inject = layer weight bytes / link bandwidth and
t_compute = the layer's share of the device-resident roofline pass (RooflineModel). The device holds the KV
cache, the live activations, two layers of weights and the runtime reserve.

Not modelled: per-layer differences (every layer is the pass's average), weight compression on the link,
expert routing known only after the router runs (a MoE streams the experts the batch touches, as if known
in advance), weight reuse across steps from a device-side cache, and link protocol overheads beyond the
catalog's per-direction figure.
"""
from __future__ import annotations

from typing import Any

import attrs

from ..core.inputs import check_positive_int, resolve_hardware, resolve_model
from ..core.results import PerformanceProfile
from ..core.solver import RooflineModel
from ..core.workload import workload_cost
from ..errors import InvalidInputError, UnsupportedModelError
from ..specs.fields import figure
from ..specs.models import TransformerSpec
from ..units import quantity
from ._queueing import choice, positive_float
from ._result import SolverResult
from ._runtime import pass_precision

_ROOFLINE = RooflineModel()
PHASES = ("decode", "prefill")
# Layers of weights the device buffers at once: the one computing and the one arriving (double buffering).
WEIGHT_BUFFERS = 2
# Largest batch the balance-point search tries; device time grows at least linearly with the batch, so any
# real link is hidden far below it.
_MAX_SEARCH_BATCH = 2**40


@attrs.frozen(kw_only=True)
class WeightStreamingResult(SolverResult):
    feasible: bool                    # KV cache + activations + weight buffers + runtime fit on the device
    throughput_tokens_per_sec: float  # tokens/s of the step (0 when it does not fit)
    bottleneck: str                   # "Interconnect-Bandwidth-Bound", "Compute-Bound" or "Memory-Bound"
    layer_compute_time: Any           # one layer on the device (average)
    layer_injection_time: Any         # one layer's weights over the link (average)
    optimal_batch_size: int           # smallest batch whose device time hides the weight stream
    wafer_memory_utilization: float   # device memory needed / capacity
    step_time: Any
    weights_streamed_per_step: Any
    link_bandwidth: Any
    phase: str
    device_memory_required: Any
    constraint_trace: tuple[str, ...] = ()


class WeightStreamingModel:
    """A decoder LLM whose weights stream over the host link each step (Cerebras MemoryX, GPU offload)."""

    def solve(self, model: Any, hardware: Any, seq_len: int, batch_size: int = 1, precision: str = "fp16",
              efficiency: float | None = None, phase: str = "decode", *,
              link_bandwidth: Any = None, runtime: Any = None) -> WeightStreamingResult:
        """phase: "decode" (one token per sequence per step, context seq_len) or "prefill" (prompts of seq_len
        tokens). link_bandwidth: B/s (float or Quantity) of the weight link; default the hardware's
        interconnect.host_link_bandwidth. efficiency None uses the device calibration. runtime (experimental):
        the software stack of the device-resident pass (mlsysim.Runtimes), as Engine.solve's runtime=; `precision`
        may name its quantisation formats (the streamed bytes take their bits per weight)."""
        m, hw = resolve_model(model), resolve_hardware(hardware)
        if not isinstance(m, TransformerSpec) or m.architecture == "encoder":
            raise UnsupportedModelError(f"weight streaming is modelled for decoder transformers; {m.display_name} "
                                        f"is {getattr(m, 'architecture', type(m).__name__)}")
        seq = check_positive_int("seq_len", seq_len)
        batch = check_positive_int("batch_size", batch_size)
        phase = choice("phase", phase, PHASES)
        if link_bandwidth is None:
            link = figure(hw, "interconnect.host_link_bandwidth")
            if link is None:
                raise InvalidInputError(f"{hw.display_name} has no interconnect.host_link_bandwidth in the catalog; "
                                        "pass link_bandwidth= (B/s, or a Quantity such as '64 GB/s')")
        else:
            link = positive_float("link_bandwidth", link_bandwidth, "B/s")
        capacity = figure(hw, "memory.capacity")
        prefill = phase == "prefill"
        step = _Step(m, hw, seq, precision, efficiency, prefill, link, runtime)

        t_inject, t_compute, prof, streamed = step.layer_times(batch)
        layers = m.layers
        step_time = t_inject + (layers - 1) * max(t_inject, t_compute) + t_compute  # double-buffered pipeline
        required = step.device_memory(prof)
        feasible = required <= capacity
        tokens = batch * seq if prefill else batch
        bottleneck = "Interconnect-Bandwidth-Bound" if t_inject > t_compute else f"{prof.bottleneck}-Bound"

        optimal, opt_prof = step.balance_batch()
        gb = 1e9
        trace = [f"device memory: {required / gb:.3g} GB (KV {prof.memory.kv_cache / gb:.3g}, activations "
                 f"{prof.memory.activations / gb:.3g}, {WEIGHT_BUFFERS} layer buffers, runtime) of "
                 f"{capacity / gb:.3g} GB on {hw.display_name}: {'fits' if feasible else 'FAILED'}",
                 f"{streamed / gb:.3g} GB of weights cross the {link / gb:.3g} GB/s link per step"]
        opt_required = step.device_memory(opt_prof)
        if opt_required > capacity:
            trace.append(f"the balance batch {optimal} needs {opt_required / gb:.3g} GB, more than the device holds")
        return WeightStreamingResult(
            feasible=feasible, throughput_tokens_per_sec=tokens / step_time if feasible else 0.0,
            bottleneck=bottleneck, layer_compute_time=quantity(t_compute * 1e3, "ms"),
            layer_injection_time=quantity(t_inject * 1e3, "ms"), optimal_batch_size=optimal,
            wafer_memory_utilization=required / capacity, step_time=quantity(step_time * 1e3, "ms"),
            weights_streamed_per_step=quantity(streamed, "B"), link_bandwidth=quantity(link, "B/s"), phase=phase,
            device_memory_required=quantity(required, "B"), constraint_trace=tuple(trace))


@attrs.frozen
class _Step:
    model: TransformerSpec
    hardware: Any
    seq_len: int
    precision: str
    efficiency: float | None
    prefill: bool
    link: float
    runtime: Any = None

    def layer_times(self, batch: int) -> tuple[float, float, PerformanceProfile, float]:
        """Per-layer injection and device times, the device-resident profile, and the bytes streamed."""
        prof = _ROOFLINE.solve(self.model, self.hardware, batch, self.precision, self.efficiency,
                               seq_len=self.seq_len, prefill=self.prefill, runtime=self.runtime)
        prec = pass_precision(self.hardware, self.precision, self.runtime)
        streamed = workload_cost(self.model, batch, self.seq_len, prec, None, self.prefill).weight_traffic
        layers = self.model.layers
        return streamed / self.link / layers, prof.latency.to("s").magnitude / layers, prof, streamed

    def device_memory(self, prof: PerformanceProfile) -> float:
        mem = prof.memory
        buffers = WEIGHT_BUFFERS * mem.weights / self.model.layers
        return mem.kv_cache + mem.activations + mem.runtime_reserve + buffers

    def balance_batch(self) -> tuple[int, PerformanceProfile]:
        """Smallest batch whose per-layer device time covers the per-layer weight injection (doubling, then
        bisection; device time grows with the batch while the dense weight stream does not)."""
        def hidden(b: int) -> tuple[bool, PerformanceProfile]:
            inject, compute, prof, _ = self.layer_times(b)
            return compute >= inject, prof

        ok, prof = hidden(1)
        if ok:
            return 1, prof
        lo, hi = 1, 2
        while not (res := hidden(hi))[0]:
            if hi >= _MAX_SEARCH_BATCH:  # pragma: no cover - a link faster than any device's compute
                raise InvalidInputError(f"no batch up to {_MAX_SEARCH_BATCH} hides a {self.link:.3g} B/s weight link")
            lo, hi = hi, hi * 2
        prof = res[1]
        while hi - lo > 1:
            mid = (lo + hi) // 2
            ok, mid_prof = hidden(mid)
            if ok:
                hi, prof = mid, mid_prof
            else:
                lo = mid
        return hi, prof


__all__ = ["WeightStreamingModel", "WeightStreamingResult"]
