"""Costs a runtime adds beyond the roofline, read from its catalog entry (catalog/runtimes/*.toml):

- launch cost per kernel on the device's hardware class (LaunchCost.by_class: llama.cpp's Metal back end on
  Apple silicon differs from its CUDA back end), in the phases it replays from graphs or not;
- dequantisation of a weight-only format: DequantCost.ops_per_weight ALU operations per weight on the device's
  fp32 vector units, in series with the packed weight stream (a batch-1 mat-vec whose inner loop unpacks and
  scales each block: costly where fp32 rate / bandwidth is low, A100, and cheap where it is high, L40S);
- memory it reserves (MemoryReserve: fixed bytes, per class where it differs, + a fraction of capacity + a share of
  the memory the model leaves free), in place of the class reserve;
- how its launch cost combines with the GPU work (pass_time): added, or overlapped where the host dispatches
  asynchronously and runs ahead of the GPU (eager PyTorch, LaunchCost.async_gap).

All plain-float reads of spec fields: called on Engine.solve's hot path.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import CatalogError
from ..specs.calibration import CalibrationClass
from ..specs.hardware import HardwareSpec
from ..specs.models import ModelSpec, SSMSpec, TransformerSpec

if TYPE_CHECKING:  # annotations only: no runtime spec module on a solve without a runtime
    from ..specs.runtimes import QuantFormat, RuntimeSpec


def per_kernel_cost(rt: RuntimeSpec, phase: str, hardware_class: str) -> tuple[float, str, str]:
    """(seconds per kernel, how it is launched, catalog field it comes from) for `phase` on `hardware_class`."""
    launch = rt.launch
    override = launch.override(hardware_class)
    if override is not None:
        field = f"launch.by_class.{hardware_class}"
        if override._graph_kernel_cost is not None and phase in launch.graph_phases:
            return override._graph_kernel_cost, " replayed from a CUDA graph", field + ".graph_kernel_cost"
        return override._kernel_cost, "", field + ".kernel_cost"
    if phase in launch.graph_phases:
        return launch._graph_kernel_cost, " replayed from a CUDA graph", "launch.graph_kernel_cost"
    return launch._kernel_cost, "", "launch.kernel_cost"


def weight_bandwidth(weight_bw: float, fmt: QuantFormat | None, weight_only: bool, hw: HardwareSpec) -> float:
    """Bytes per second of packed weights once dequantisation is counted: 1 / (1 / weight_bw + ops_per_weight /
    (bytes_per_weight x fp32 rate)), the stream and the unpacking ALU work of each weight in series
    (DequantCost). Unchanged without a dequant cost or when the math runs on the storage format's own units."""
    if fmt is None or not weight_only or fmt.dequant is None:
        return weight_bw
    alu = hw.peak_dense._fp32
    if alu is None:
        raise CatalogError(f"{hw.display_name} has no fp32 rate to run {fmt.name} dequantisation on",
                           entry=hw.name, field="peak_dense.fp32", expected="the device's fp32 vector rate")
    return 1.0 / (1.0 / weight_bw + fmt.dequant.ops_per_weight / (fmt.bits_per_weight / 8.0 * alu))


def memory_reserve(rt: RuntimeSpec | None, cls: CalibrationClass, capacity: float, cost: Any = None) -> float:
    """Bytes the stack holds back from the model: the runtime's memory_reserve where it states one, else the
    hardware class's runtime_reserve (also the runtime=None figure). `cost` (the solver's WorkloadCost: weights
    and activations held) sizes a reserve that is a share of the memory the model leaves free (TensorRT-LLM);
    without it that share is taken of the whole device (an upper bound)."""
    if rt is None or rt.memory_reserve is None:
        return cls._runtime_reserve
    used = 0.0 if cost is None else cost.weights + cost.activations
    return rt.memory_reserve.bytes_on(capacity, used, cls.name)


def pass_time(rt: RuntimeSpec | None, model: ModelSpec, busy: float, overhead: float, per_kernel: float,
              training: bool, prefill: bool) -> float:
    """Seconds of a pass of N = overhead / per_kernel kernels. A GPU-side gap per kernel (a graph replay, a
    runtime without launch.async_gap) adds: busy + overhead. An asynchronous host dispatch is a two-stage pipeline, the host issuing kernels into the
    stream's queue while the GPU drains it: the pass takes the slower stage, max(N x host cost, GPU time + N x
    async_gap) (PyTorch, 'CUDA semantics: asynchronous execution',
    https://pytorch.org/docs/stable/notes/cuda.html#asynchronous-execution; the GPU idles only when the host falls
    behind: NVIDIA, 'Getting Started with CUDA Graphs', https://developer.nvidia.com/blog/cuda-graphs/).
    benchmarks/fit_eager_overlap.py fits async_gap and checks both rules on this project's eager vs graph timings."""
    gap = rt.launch._async_gap if rt is not None else None
    if gap is None:
        return busy + overhead
    # The phase as mlsysim.core.solver.runtime_kernels names it (a decode step of a decoder or a state-space model).
    decoder = isinstance(model, SSMSpec) or isinstance(model, TransformerSpec) and model.architecture != "encoder"
    phase = "training" if training else ("prefill" if prefill or not decoder else "decode")
    if phase in rt.launch.graph_phases or per_kernel <= 0:
        return busy + overhead
    return max(overhead, busy + overhead / per_kernel * gap)  # overhead = N kernels x the host's cost per kernel
