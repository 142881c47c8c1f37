"""Runtimes: the software stack that runs a model (llama.cpp, vLLM, TensorRT, TFLite Micro ...), as data.

A runtime states how many kernels it launches per transformer layer, what each launch costs, which element-wise
ops it fuses, whether it packs ragged batches, and the quantisation formats it runs with their real storage cost
(scales and zero points included). The engine reads these through ``Engine.solve(..., runtime=...)``.
"""
from __future__ import annotations

import attrs

from ..errors import CatalogError
from .fields import QuantityAccess, as_tuple, integer, number, quantity, spec
from .hardware import PRECISIONS
from .provenance import Provenance

# Phases a runtime may replay from a captured graph (CUDA/HIP graphs).
PHASES = ("decode", "prefill", "training")
# Storage element formats a quantisation format may use (mlsysim.core.precision.QUANTISED_STORAGE).
STORAGE_FORMATS = ("fp8", "int8", "int4", "fp4")
# Slack when a format's stated bits per weight is compared with its block layout: catalog figures are written
# to 3-4 significant digits (4.156 for 4 + 20/128 = 4.15625).
LAYOUT_TOLERANCE = 1e-3


def _choices(allowed: tuple[str, ...], field: str):
    def check(instance, attribute, value) -> None:
        bad = [v for v in value if v not in allowed]
        if bad or len(set(value)) != len(value):
            raise CatalogError(f"{list(value)!r} has {'unknown ' + ', '.join(map(repr, bad)) if bad else 'repeats'}",
                               entry=getattr(instance, "name", None), field=field,
                               expected=f"distinct values of {', '.join(allowed)}")
    return check


def _bits(instance, attribute, value) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 64:
        raise CatalogError(f"must be a number of bits in (0, 64], got {value!r}",
                           field=f"quantization.{getattr(instance, 'name', '?')}.{attribute.name}")


@spec
class DequantCost(QuantityAccess):
    """What dequantising a weight-only format costs: ALU operations per weight (unpack, offset, scale, the
    activation's own quantisation shared over a row) run on the device's fp32 vector units (peak_dense.fp32)
    in addition to streaming the packed weights: time per weight = bits / 8 / bandwidth + ops_per_weight / fp32
    rate (no overlap of the two, the bound a batch-1 mat-vec whose loads wait on the unpacking reaches)."""

    ops_per_weight: float = number(doc="fp32-vector operations per weight spent dequantising")
    provenance: Provenance


@spec
class QuantFormat(QuantityAccess):
    """One quantisation format: stored element format, bits per weight with its scales, and the block layout
    those bits come from (bits_per_weight = element_bits + (scale_bits + zero_bits) / block_size)."""

    name: str
    storage: str
    bits_per_weight: float = attrs.field(validator=_bits)
    weight_only: bool = attrs.field(validator=attrs.validators.instance_of(bool))
    provenance: Provenance
    block_size: int | None = attrs.field(default=None, validator=attrs.validators.optional(
        attrs.validators.and_(attrs.validators.instance_of(int), attrs.validators.ge(1))))
    element_bits: float | None = attrs.field(default=None, validator=_bits)
    scale_bits: float | None = attrs.field(default=None, validator=_bits)
    zero_bits: float | None = attrs.field(default=None, validator=_bits)
    dequant: DequantCost | None = None

    def __attrs_post_init__(self) -> None:
        if self.dequant is not None and not self.weight_only:
            raise CatalogError("dequant is set on a format whose math runs on its own units", field=self._field("dequant"),
                               expected="a dequantisation cost only on weight_only formats")
        if self.storage not in STORAGE_FORMATS:
            raise CatalogError(f"{self.storage!r} is not a storage format", field=self._field("storage"),
                               expected=f"one of {', '.join(STORAGE_FORMATS)}")
        layout = (self.block_size, self.element_bits, self.scale_bits)
        if any(v is not None for v in layout) and any(v is None for v in layout):
            raise CatalogError("a block layout needs block_size, element_bits and scale_bits together",
                               field=self._field("block_size"),
                               expected="all three, or none (per-tensor scaling, mixed formats)")
        derived = self.layout_bits
        if derived is not None and abs(derived - self.bits_per_weight) > LAYOUT_TOLERANCE * derived:
            raise CatalogError(f"bits_per_weight {self.bits_per_weight:g} disagrees with its block layout "
                               f"({self.element_bits:g} + ({self.scale_bits:g} + {self.zero_bits or 0:g}) / "
                               f"{self.block_size} = {derived:.6g})", field=self._field("bits_per_weight"),
                               expected="the bits its block layout gives")

    def _field(self, name: str) -> str:
        # Errors name the runtime entry (added by the loader) and this format inside it.
        return f"quantization.{self.name}.{name}"

    @property
    def layout_bits(self) -> float | None:
        """Bits per weight its block layout gives: element bits plus the block's scale and zero point shared by
        block_size weights; None without a layout."""
        if self.block_size is None:
            return None
        return self.element_bits + (self.scale_bits + (self.zero_bits or 0.0)) / self.block_size

    @property
    def bytes_per_weight(self) -> float:
        return self.bits_per_weight / 8.0


@spec
class KernelCounts(QuantityAccess):
    """Kernels launched per transformer layer, by phase, and once per pass outside the layers."""

    decode: int = integer(doc="kernels per transformer layer per decode step")
    prefill: int = integer(doc="kernels per transformer layer in a prompt / encoder / whole-input pass")
    per_pass: int = integer(minimum=0, doc="kernels outside the layers: embedding, final norm, LM head, sampling")
    provenance: Provenance


@spec
class ClassLaunchCost(QuantityAccess):
    """A runtime's launch cost on one hardware class where it differs from the runtime's own figure (another back
    end: llama.cpp's Metal on Apple silicon, its CUDA back end on a workstation GPU). Without graph_kernel_cost
    the class replays no graphs: every kernel costs kernel_cost."""

    hardware_class: str
    _kernel_cost: float = quantity("s", doc="per kernel launched one by one on this class")
    provenance: Provenance
    _graph_kernel_cost: float | None = quantity("s", optional=True, doc="per kernel replayed from a graph")

    def __attrs_post_init__(self) -> None:
        if self._graph_kernel_cost is not None and self._graph_kernel_cost > self._kernel_cost:
            raise CatalogError(f"graph_kernel_cost {self._graph_kernel_cost:g} s exceeds kernel_cost "
                               f"{self._kernel_cost:g} s", field=f"launch.by_class.{self.hardware_class}",
                               expected="a graph replay costs at most what a one-by-one launch costs")


@spec
class LaunchCost(QuantityAccess):
    """Fixed time per kernel beyond its roofline time: launched one by one, or replayed from a captured graph."""

    _kernel_cost: float = quantity("s", doc="per kernel launched one by one")
    graph_phases: tuple[str, ...] = attrs.field(converter=as_tuple, validator=_choices(PHASES, "graph_phases"))
    provenance: Provenance
    _graph_kernel_cost: float | None = quantity("s", optional=True, doc="per kernel replayed from a graph")
    by_class: tuple[ClassLaunchCost, ...] = attrs.field(default=(), converter=as_tuple)
    # Set: kernel_cost is host-side dispatch time and launches are asynchronous, so outside graph_phases the host
    # runs ahead of the GPU and each kernel still costs async_gap of GPU time (mlsysim.core.runtime_costs.pass_time).
    _async_gap: float | None = quantity("s", optional=True, doc="GPU time per asynchronously launched kernel")

    def __attrs_post_init__(self) -> None:
        names = [o.hardware_class for o in self.by_class]
        if len(set(names)) != len(names):
            raise CatalogError(f"launch.by_class repeats a hardware class: {names}", field="launch.by_class",
                               expected="one override per hardware class")
        if self.graph_phases and self._graph_kernel_cost is None:
            raise CatalogError("graph_phases is set but graph_kernel_cost is not", field="launch.graph_kernel_cost",
                               expected="the per-kernel cost of a graph replay (GPU-side gap), in seconds")
        if self._graph_kernel_cost is not None and self._graph_kernel_cost > self._kernel_cost:
            raise CatalogError(f"graph_kernel_cost {self._graph_kernel_cost:g} s exceeds kernel_cost "
                               f"{self._kernel_cost:g} s", field="launch.graph_kernel_cost",
                               expected="a graph replay costs at most what a one-by-one launch costs")

    def per_kernel(self, phase: str, hardware_class: str | None = None) -> float:
        """Seconds per kernel in `phase` on `hardware_class` (its by_class override, else the runtime's figure)."""
        for override in self.by_class:
            if override.hardware_class == hardware_class:
                graph = override._graph_kernel_cost
                return graph if graph is not None and phase in self.graph_phases else override._kernel_cost
        return self._graph_kernel_cost if phase in self.graph_phases else self._kernel_cost

    def override(self, hardware_class: str | None) -> ClassLaunchCost | None:
        """The by_class entry of `hardware_class`, or None (the runtime's own figures apply)."""
        for override in self.by_class:
            if override.hardware_class == hardware_class:
                return override
        return None


@spec
class FusionLevel(QuantityAccess):
    """Element-wise ops fused into a neighbouring kernel (True) or run as kernels of their own (False)."""

    norm: bool = attrs.field(validator=attrs.validators.instance_of(bool))
    activation: bool = attrs.field(validator=attrs.validators.instance_of(bool))
    residual: bool = attrs.field(validator=attrs.validators.instance_of(bool))
    batchnorm: bool = attrs.field(validator=attrs.validators.instance_of(bool))
    provenance: Provenance | None = None
    # Optional flags (absent = fused): training dropout fused into its neighbours, and grouped-query attention
    # reading each K/V head once (False: K/V repeated per query head first, Hugging Face repeat_kv).
    dropout: bool | None = attrs.field(default=None, validator=attrs.validators.optional(
        attrs.validators.instance_of(bool)))
    gqa: bool | None = attrs.field(default=None, validator=attrs.validators.optional(
        attrs.validators.instance_of(bool)))
    # Decode steps only (absent: as gqa): a stack that repeats K/V for prompts may still read each head once when
    # decoding (torch SDPA enable_gqa at q_len 1: FlashAttention's seqlenq_ngroups_swapped layout).
    gqa_decode: bool | None = attrs.field(default=None, validator=attrs.validators.optional(
        attrs.validators.instance_of(bool)))

    # KV cache appended in place (absent or True: a preallocated or paged cache written at the new position) or
    # re-copied whole every decode step (False: Hugging Face DynamicCache, torch.cat of the cache and the new row).
    kv_inplace: bool | None = attrs.field(default=None, validator=attrs.validators.optional(
        attrs.validators.instance_of(bool)))

    def reads_kv_once(self, decode: bool) -> bool:
        """Attention reads each K/V head once for its query group in this phase (False: K/V repeated first)."""
        flag = self.gqa_decode if decode and self.gqa_decode is not None else self.gqa
        return flag is not False


# Layer types of the microcontroller cycles model (mlsysim.core.mcu_cycles), as a model's layer_table names them:
# the network's first convolution (few input channels), depthwise, any other convolution (standard or pointwise),
# fully connected. specs.models.LAYER_KINDS adds "none" for kernels without MACs (pooling).
MAC_LAYER_KINDS = ("first", "depthwise", "conv", "dense")


@spec
class LayerCycles(QuantityAccess):
    """Cycles per int8 MAC of a kernel library's kernels on its reference core, by layer type."""

    first: float = number(doc="the network's first convolution (1-3 input channels)")
    depthwise: float = number(doc="depthwise convolution")
    conv: float = number(doc="standard and pointwise convolution")
    dense: float = number(doc="fully connected layer")

    def get(self, kind: str) -> float:
        if kind not in MAC_LAYER_KINDS:
            raise CatalogError(f"unknown layer type {kind!r}", field="mcu.cycles_per_mac",
                               expected=f"one of {', '.join(MAC_LAYER_KINDS)}")
        return getattr(self, kind)


@spec
class CoreCycles(QuantityAccess):
    """A kernel library's cycles per MAC measured on one more core (its own per-layer counts there), used on that
    core in place of the reference-core table x the core's mac_cycle_scale."""

    core: str
    cycles_per_mac: LayerCycles
    provenance: Provenance


@spec
class McuKernels(QuantityAccess):
    """A microcontroller kernel library's int8 cost: cycles per MAC by layer type on its reference core, and the
    cores it has kernels for (other cores scale by their core.mac_cycle_scale, except those with a table of their
    own in by_core)."""

    reference_core: str
    cores: tuple[str, ...] = attrs.field(converter=as_tuple)
    cycles_per_mac: LayerCycles
    provenance: Provenance
    by_core: tuple[CoreCycles, ...] = attrs.field(default=(), converter=as_tuple)

    def __attrs_post_init__(self) -> None:
        if self.reference_core not in self.cores:
            raise CatalogError(f"reference_core {self.reference_core!r} is not among cores {list(self.cores)}",
                               field="mcu.reference_core", expected="one of the cores it lists")
        names = [t.core for t in self.by_core]
        bad = [n for n in names if n not in self.cores or n == self.reference_core]
        if bad or len(set(names)) != len(names):
            what = f"cores outside cores or the reference core {bad}" if bad else "repeats"
            raise CatalogError(f"mcu.by_core {names} has {what}",
                               field="mcu.by_core", expected="one table per listed core other than the reference core")

    def table_for(self, core: str) -> LayerCycles:
        """The cycles-per-MAC table that applies on `core`: its own by_core table, else the reference core's."""
        for t in self.by_core:
            if t.core == core:
                return t.cycles_per_mac
        return self.cycles_per_mac

    def measured_on(self, core: str) -> bool:
        """Whether the table for `core` was measured on it (reference core or by_core): no core scale applies."""
        return core == self.reference_core or any(t.core == core for t in self.by_core)


# --- serving defaults (issue 10: LLM serving as deployed) ---------------------------------------------------
# Kept in its own block so other runtime fields (fusion ...) merge beside it.
def _unit_fraction(instance, attribute, value) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
        raise CatalogError(f"must be a fraction in (0, 1], got {value!r}", field=f"serving.{attribute.name}",
                           expected="a share of the device (0, 1]")


@spec
class ServingDefaults(QuantityAccess):
    """How a serving runtime schedules and stores a batch by default: chunked-prefill token budget per step,
    running-request cap, KV block size, share of GPU memory it takes, host work per step, and the share of the
    device's measured GEMM rate and streaming bandwidth its kernels reach (fitted, see tests/validation)."""

    max_num_batched_tokens: int = integer(doc="token budget of one step (decode tokens + prefill chunk)")
    kv_block_size: int = integer(doc="tokens per KV-cache block (page)")
    gpu_memory_utilization: float = attrs.field(validator=_unit_fraction)
    _step_overhead: float = quantity("s", doc="host work per scheduler step: scheduling, input prep, sampling")
    bandwidth_efficiency: float = attrs.field(validator=_unit_fraction)
    compute_efficiency: float = attrs.field(validator=_unit_fraction)
    provenance: Provenance
    max_num_seqs: int | None = attrs.field(default=None)
    # KV blocks "on_demand" (allocated as a sequence grows; admission by the tokens held now, preemption when the
    # pool runs out: vLLM KVCacheManager.allocate_slots, SGLang retract_decode) or "reserve_max" (a request is
    # admitted only when its prompt + max output fits: TRT-LLM CapacitySchedulerPolicy GUARANTEED_NO_EVICT)
    kv_allocation: str = attrs.field(default="reserve_max", validator=attrs.validators.in_(("on_demand", "reserve_max")))
    # prefill chunks ride in the decode steps (vLLM/TRT-LLM chunked prefill) or run as their own steps
    # (SGLang without --enable-mixed-chunk: Scheduler.get_next_batch_to_run runs a prefill batch first)
    mixed_prefill: bool = attrs.field(default=True)
    # the mean mixed step: at the mean prefill tokens per step ("mean_load") or the expectation over the Poisson
    # count of prompt chunks a step carries ("chunk_count", core.serving.scheduler.expected_mixed_step)
    prefill_step_model: str = attrs.field(default="mean_load", validator=attrs.validators.in_(("mean_load", "chunk_count")))
    # share of the streaming bandwidth its decode attention kernel reaches over the paged cache (block-table
    # gathers, split-KV reduction, short per-sequence reads: Kwon et al. 2023 sec. 7.2 measure the paged kernel
    # 20-26 % slower than a contiguous one); fitted. None: the runtime's bandwidth_efficiency alone
    attention_efficiency: float | None = attrs.field(default=None, validator=attrs.validators.optional(_unit_fraction))
    # latency a request spends outside the engine before its first token reaches the client: HTTP/OpenAI
    # frontend, tokenisation, inter-process hops, detokenisation of the first chunk; fitted. None: none
    _frontend_latency: float | None = quantity("s", optional=True, doc="HTTP frontend + tokeniser latency per request")
    # host work per request in a step beside step_overhead (the scheduler and output loops walk the running
    # requests: vLLM V1 Scheduler.schedule / update_from_output); fitted. None: none
    _request_overhead: float | None = quantity("s", optional=True, doc="host work per running request per step")


# --- issue 12: training stacks (DistributedModel) -------------------------------------------------------
def _share(instance, attribute, value) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise CatalogError(f"must be a share in [0, 1], got {value!r}", field=f"training.{attribute.name}",
                           expected="the share of that communication hidden behind compute, 0 to 1")


@spec
class DeviceEfficiency(QuantityAccess):
    """A training stack's fitted efficiency on one device, where it differs from the stack's default."""

    hardware: str
    compute_efficiency: float = attrs.field(validator=_unit_fraction)


@spec
class TrainingMemoryBehaviour(QuantityAccess):
    """What a training stack's tensor / pipeline parallelism keeps in memory, where it differs from Megatron-Core
    (every flag False there)."""

    # The all-gathered sequence-parallel inputs of the column-parallel linears are saved for backward (PyTorch
    # DTensor PrepareModuleInput / ColwiseParallel) rather than the shard re-gathered in backward (Megatron).
    tp_saves_gathered_inputs: bool = attrs.field(validator=attrs.validators.instance_of(bool))
    # Cross-entropy on vocabulary-sharded logits through DTensor loss_parallel under TP (its backward's buffers).
    tp_loss_parallel: bool = attrs.field(validator=attrs.validators.instance_of(bool))
    # Every stage keeps each micro-batch's output until the step ends (torch.distributed.pipelining before 2.8).
    pp_keeps_stage_outputs: bool = attrs.field(validator=attrs.validators.instance_of(bool))
    provenance: Provenance
    # FSDP all-gathers the float8 linears' weights in float8 (1 B) where the data-parallel shard group is larger than
    # one (torchao WeightWithDynamicFloat8CastTensor.fsdp_pre_all_gather; torchtitan float8.py enables it only when
    # dp_shard > 1): the gathered copy of those weights is 1 B, not the 16-bit width.
    fsdp_float8_all_gather: bool = attrs.field(default=False, validator=attrs.validators.instance_of(bool))
    # Context-parallel ring attention all-gathers every rank's K/V once per layer and rotates fp32 dK/dV (PyTorch
    # context_parallel with the "allgather" rotate method, torchtitan's default): its backward's buffers.
    cp_all_gather_kv: bool = attrs.field(default=False, validator=attrs.validators.instance_of(bool))


@spec
class TrainingDefaults(QuantityAccess):
    """How a training stack overlaps communication with compute, by kind (share of each collective it hides,
    0 = none, 1 = all it can), its gradient bucket size, and the share of the device's shape-roof GEMM rate its
    training step reaches (fitted per runtime on the calibration split, see tests/validation)."""

    tp_comm_overlap: float = attrs.field(validator=_share)
    grad_reduce_overlap: float = attrs.field(validator=_share)
    param_gather_overlap: float = attrs.field(validator=_share)
    pp_comm_overlap: float = attrs.field(validator=_share)
    cp_comm_overlap: float = attrs.field(validator=_share)
    _bucket_size: float = quantity("B", doc="gradient bucket: the last one's reduction is never hidden")
    compute_efficiency: float = attrs.field(validator=_unit_fraction)
    provenance: Provenance
    device_efficiency: tuple[DeviceEfficiency, ...] = attrs.field(default=(), converter=as_tuple)
    memory: TrainingMemoryBehaviour | None = None  # absent: Megatron-Core's (every flag False)
    # Share of the EP all-to-all hidden behind another micro-batch's compute (DualPipe, Megatron-Core
    # --overlap-moe-expert-parallel-comm); absent: 0, every stack's default.
    ep_comm_overlap: float = attrs.field(default=0.0, validator=_share)

    def efficiency_on(self, hardware_name: str) -> float:
        """compute_efficiency on the device named `hardware_name` (its own fit, else the stack's)."""
        for d in self.device_efficiency:
            if d.hardware == hardware_name:
                return d.compute_efficiency
        return self.compute_efficiency


@spec
class ClassReserve(QuantityAccess):
    """A runtime's fixed reserve on one hardware class where it differs (SGLang sizes its reserve by GPU memory)."""

    hardware_class: str
    _fixed: float = quantity("B", doc="bytes held on this class in place of the runtime's fixed figure")
    provenance: Provenance


def _free_fraction(instance, attribute, value) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
        raise CatalogError(f"must be a fraction in (0, 1], got {value!r}", field=f"memory_reserve.{attribute.name}",
                           expected="the share of the free memory the KV cache takes (TensorRT-LLM default 0.9)")


@spec
class MemoryReserve(QuantityAccess):
    """Device memory the runtime holds back from the model: a fixed amount (CUDA context, compute buffers,
    workspace) plus a fraction of the device's capacity it never allocates (vLLM gpu_memory_utilization = 0.92
    leaves 0.08), plus, for a runtime that sizes its KV cache as a share of the memory left free after loading
    the model (TensorRT-LLM KvCacheConfig.free_gpu_memory_fraction), the rest of that free memory."""

    capacity_fraction: float = attrs.field(validator=attrs.validators.and_(
        attrs.validators.instance_of((int, float)), attrs.validators.ge(0), attrs.validators.lt(1)))
    provenance: Provenance
    _fixed: float | None = quantity("B", optional=True, doc="bytes held whatever the device")
    kv_free_fraction: float | None = attrs.field(default=None, validator=_free_fraction)
    by_class: tuple[ClassReserve, ...] = attrs.field(default=(), converter=as_tuple)

    def __attrs_post_init__(self) -> None:
        names = [o.hardware_class for o in self.by_class]
        if len(set(names)) != len(names):
            raise CatalogError(f"memory_reserve.by_class repeats a hardware class: {names}",
                               field="memory_reserve.by_class", expected="one override per hardware class")

    def bytes_on(self, capacity: float, used: float = 0.0, hardware_class: str | None = None) -> float:
        """Bytes reserved on a device of `capacity` bytes holding `used` bytes of model state (weights,
        activations): fixed (the class override where one is given) + capacity_fraction x capacity, and with
        kv_free_fraction f the (1 - f) share of what is then left free (used = 0 gives the upper bound)."""
        held, share = self.parts(capacity, hardware_class)
        if share:
            free = capacity - held - used
            held = held + share * (free + abs(free)) / 2.0  # max(free, 0), also on numpy arrays
        return held

    def parts(self, capacity: float, hardware_class: str | None = None) -> tuple[float, float]:
        """(bytes held whatever the model holds, share of the then-free memory also held) on a device of
        `capacity` bytes: bytes_on = held + share x max(capacity - held - used, 0)."""
        fixed = self._fixed or 0.0
        for override in self.by_class:
            if override.hardware_class == hardware_class:
                fixed = override._fixed
                break
        share = 0.0 if self.kv_free_fraction is None else 1.0 - self.kv_free_fraction
        return fixed + self.capacity_fraction * capacity, share


@spec
class RuntimeSpec(QuantityAccess):
    """A software stack: its kernel structure, launch cost, fusion level and quantisation formats."""

    name: str
    display_name: str
    provenance: Provenance
    hardware_classes: tuple[str, ...] = attrs.field(converter=as_tuple)
    precisions: tuple[str, ...] = attrs.field(converter=as_tuple, validator=_choices(PRECISIONS, "precisions"))
    kernels: KernelCounts
    launch: LaunchCost
    fusion: FusionLevel
    packs_ragged: bool = attrs.field(validator=attrs.validators.instance_of(bool))
    quantization: tuple[QuantFormat, ...] = attrs.field(default=(), converter=as_tuple)
    mcu: McuKernels | None = None
    memory_reserve: MemoryReserve | None = None
    attention: str = ""
    description: str = ""
    notes: str = ""
    aliases: tuple[str, ...] = attrs.field(default=(), converter=as_tuple)
    serving: ServingDefaults | None = None  # issue 10: serving defaults (LLM servers)
    training: TrainingDefaults | None = None  # issue 12: training-stack overlap and fitted efficiency

    def __attrs_post_init__(self) -> None:
        if not self.hardware_classes:
            raise CatalogError("no hardware class", entry=self.name, field="hardware_classes",
                               expected="the calibration classes (catalog/calibration) it runs on")
        unknown = [o.hardware_class for o in self.launch.by_class if o.hardware_class not in self.hardware_classes]
        if unknown:
            raise CatalogError(f"launch.by_class names {unknown} outside hardware_classes {list(self.hardware_classes)}",
                               entry=self.name, field="launch.by_class", expected="classes the runtime runs on")
        names = [f.name for f in self.quantization]
        if len(set(names)) != len(names):
            raise CatalogError(f"quantization formats repeat a name: {names}", entry=self.name, field="quantization",
                               expected="one entry per format name")
        clash = [n for n in names if n in PRECISIONS]
        if clash:
            raise CatalogError(f"format {clash[0]!r} has the name of a plain precision", entry=self.name,
                               field="quantization", expected="a name of its own (q4_0, fp8_e4m3 ...)")

    def quant_format(self, name: str) -> QuantFormat | None:
        """The quantisation format called `name` (case-insensitive), or None."""
        for fmt in self.quantization:
            if fmt.name == name:
                return fmt
        key = name.strip().lower()
        if key != name:
            for fmt in self.quantization:
                if fmt.name == key:
                    return fmt
        return None

    def formats(self) -> list[str]:
        """Every precision= name it accepts: plain precisions, then its quantisation formats."""
        return list(self.precisions) + [f.name for f in self.quantization]
