"""Accelerator specs: one HardwareSpec per device, floats in canonical SI units (see mlsysim.units)."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import attrs

from ..errors import CatalogError
from .fields import QuantityAccess, as_tuple, integer, number, one_of, quantity, spec
from .economics import HardwareEconomics
from .provenance import Provenance

# Every precision the catalog and the engine know, fastest-to-slowest is NOT implied by this order.
PRECISIONS = ("fp64", "fp32", "tf32", "fp16", "bf16", "fp8", "int8", "int4", "fp4")
# Bytes per stored element (IEEE 754 / OCP FP8 & MX formats; tf32 is stored as fp32).
BYTES_PER_ELEMENT = {"fp64": 8.0, "fp32": 4.0, "tf32": 4.0, "fp16": 2.0, "bf16": 2.0, "fp8": 1.0, "int8": 1.0,
                     "int4": 0.5, "fp4": 0.5}
# The order in which a device's headline "peak FLOP/s" precision is chosen (see HardwareSpec.compute).
HEADLINE_PRECISIONS = ("fp16", "bf16", "fp32", "int8")
CATEGORIES = ("Cloud", "Workstation", "Edge", "Mobile", "Tiny")
# Rounding slack when a measured rate is compared with its datasheet peak (figures printed to 3-4 digits).
PEAK_TOLERANCE = 1e-3


@spec
class PrecisionTable(QuantityAccess):
    """Throughput per precision in FLOP/s (integer precisions count OP/s); None where the silicon has no units."""

    UNIT = "flop/s"
    _fp64: float | None = quantity("flop/s", optional=True)
    _fp32: float | None = quantity("flop/s", optional=True)
    _tf32: float | None = quantity("flop/s", optional=True)
    _fp16: float | None = quantity("flop/s", optional=True)
    _bf16: float | None = quantity("flop/s", optional=True)
    _fp8: float | None = quantity("flop/s", optional=True)
    _int8: float | None = quantity("flop/s", optional=True)
    _int4: float | None = quantity("flop/s", optional=True)
    _fp4: float | None = quantity("flop/s", optional=True)

    # Float view (FLOP/s), what the solvers read; ``table.fp16`` is the same figure as a pint Quantity.
    def get(self, precision: str) -> float | None:
        return getattr(self, "_" + precision) if precision in PRECISIONS else None

    def items(self) -> Iterator[tuple[str, float]]:
        return ((p, v) for p in PRECISIONS if (v := getattr(self, "_" + p)) is not None)

    def as_quantities(self) -> dict[str, Any]:
        """{precision: pint Quantity in flop/s} of every precision the silicon has units for."""
        return {p: getattr(self, p) for p, _ in self.items()}

    def __contains__(self, precision: object) -> bool:
        return isinstance(precision, str) and self.get(precision) is not None


@spec
class FlashSpec(QuantityAccess):
    """A memory level: how much it holds and how fast it streams (microcontroller flash, main memory)."""

    _capacity: float = quantity("B")
    _bandwidth: float = quantity("B/s")
    provenance: Provenance | None = None


@spec
class MemorySpec(FlashSpec):
    """Main memory (HBM, GDDR, LPDDR; a microcontroller's SRAM)."""

    kind: str


@spec
class OnChipSpec(QuantityAccess):
    _sram: float = quantity("B")
    _sram_bandwidth: float | None = quantity("B/s", optional=True)
    provenance: Provenance | None = None




@spec
class PowerSpec(QuantityAccess):
    _tdp: float = quantity("W")
    _idle: float = quantity("W")
    provenance: Provenance | None = None

    def __attrs_post_init__(self) -> None:
        if self._idle > self._tdp:
            raise CatalogError(f"idle power {self._idle} W exceeds TDP {self._tdp} W", field="power.idle",
                               expected="idle <= tdp")


@spec
class InterconnectSpec(QuantityAccess):
    device_link: str | None = None
    _device_link_bandwidth: float | None = quantity("B/s", optional=True)
    host_link: str | None = None
    _host_link_bandwidth: float | None = quantity("B/s", optional=True)
    provenance: Provenance | None = None


def _attention_table(value) -> tuple[tuple[int, float], ...]:
    return tuple((int(d), float(f)) for d, f in value)


def _check_attention(instance, attribute, value) -> None:
    keys = [d for d, _ in value]
    if keys != sorted(set(keys)) or any(not 0 < f <= 1 for _, f in value):
        raise CatalogError(f"{list(value)!r} is not [[size, fraction], ...] by increasing size with fractions in "
                           "(0, 1]", field=f"compute_units.{attribute.name}",
                           expected="distinct increasing head dims (sequence lengths), each with a fraction")


def _check_tile(instance, attribute, value) -> None:
    if len(value) != 2 or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in value):
        raise CatalogError(f"gemm_tile {list(value)!r} is not [rows, columns]", field="compute_units.gemm_tile",
                           expected="two positive integers, e.g. [128, 256]")


@spec
class ClockSpec(QuantityAccess):
    """The SM clock a short burst runs at and the one a long compute-bound load holds at the power limit: a GEMM
    rate measured in a burst (calibration.matmul_flops, benchmarks/device/measure_gpu.py: ~28 ms) is scaled by
    sustained / boost for the steady-state passes the engine predicts (mlsysim.core.shape_cost)."""

    _boost: float = quantity("Hz", doc="SM clock of a short burst (the device's maximum boost clock)")
    _sustained: float = quantity("Hz", doc="SM clock held by a long compute-bound load at the power limit")
    provenance: Provenance

    def __attrs_post_init__(self) -> None:
        if not 0 < self._sustained <= self._boost:
            raise CatalogError(f"sustained clock {self._sustained:.4g} Hz is not in (0, boost {self._boost:.4g} Hz]",
                               field="compute_units.clocks.sustained",
                               expected="a clock at or below the boost clock (power capping only lowers it)")


@spec
class ComputeUnits(QuantityAccess):
    """The SMs a GEMM's output tiles are spread over and the shape roof of this device's GEMM and attention
    kernels (mlsysim.core.gemm_roof): tile, pipeline ramp per tile, attention rate by head dimension."""

    sms: int = integer(doc="streaming multiprocessors")
    gemm_tile: tuple[int, ...] = attrs.field(converter=as_tuple, validator=_check_tile)
    gemm_k_ramp: float = number(doc="pipeline fill/drain per tile, in K-steps")
    provenance: Provenance
    attention: tuple[tuple[int, float], ...] = attrs.field(default=(), converter=_attention_table,
                                                          validator=_check_attention)
    # Attention rate by sequence length as a fraction of the long-sequence plateau (non-causal, causal).
    attention_seq: tuple[tuple[int, float], ...] = attrs.field(default=(), converter=_attention_table,
                                                              validator=_check_attention)
    attention_seq_causal: tuple[tuple[int, float], ...] = attrs.field(default=(), converter=_attention_table,
                                                                     validator=_check_attention)
    # Backward kernel rate by head dim (FLOPs as 2.5x forward) and its non-causal ramp by sequence length.
    attention_backward: tuple[tuple[int, float], ...] = attrs.field(default=(), converter=_attention_table,
                                                                   validator=_check_attention)
    attention_backward_seq: tuple[tuple[int, float], ...] = attrs.field(default=(), converter=_attention_table,
                                                                       validator=_check_attention)
    clocks: ClockSpec | None = None


@spec
class CoreSpec(QuantityAccess):
    """A microcontroller's CPU core: which micro-architecture (the kernel libraries' cycles-per-MAC tables are keyed
    by it), its clock, its cycles per MAC relative to the libraries' reference core, and the kernel library the
    engine assumes when no runtime is given (mlsysim.core.mcu_cycles)."""

    name: str = attrs.field(validator=attrs.validators.matches_re(r"^[a-z][a-z0-9+-]*$"))
    _clock: float = quantity("Hz", doc="core clock the kernels run at")
    provenance: Provenance
    mac_cycle_scale: float | None = number(optional=True, doc="cycles per MAC relative to the reference core")
    default_runtime: str | None = None


@spec
class HardwareCalibration(QuantityAccess):
    """Measured achievable figures of this exact device; they take precedence over class efficiencies."""

    provenance: Provenance
    matmul_flops: PrecisionTable | None = None
    _memory_bandwidth: float | None = quantity("B/s", optional=True)


@spec
class HardwareSpec(QuantityAccess):
    """One accelerator (GPU, TPU, NPU, SoC or microcontroller)."""

    name: str
    display_name: str
    vendor: str
    category: str = one_of(*CATEGORIES)
    release_year: int = integer(minimum=1990)
    calibration_class: str
    peak_dense: PrecisionTable
    memory: MemorySpec
    power: PowerSpec
    _launch_overhead: float = quantity("s", doc="fixed cost per kernel launch / layer dispatch")
    provenance: Provenance
    description: str = ""
    aliases: tuple[str, ...] = attrs.field(default=(), converter=as_tuple)
    peak_sparse: PrecisionTable | None = None
    on_chip: OnChipSpec | None = None
    flash: FlashSpec | None = None
    core: CoreSpec | None = None
    interconnect: InterconnectSpec | None = None
    calibration: HardwareCalibration | None = None
    compute_units: ComputeUnits | None = None
    economics: HardwareEconomics | None = None

    def __attrs_post_init__(self) -> None:
        if not any(True for _ in self.peak_dense.items()):
            raise CatalogError("needs at least one precision", entry=self.name, field="peak_dense",
                               expected=f"one or more of {', '.join(PRECISIONS)}")
        if self.peak_sparse is not None:
            for precision, sparse in self.peak_sparse.items():
                dense = self.peak_dense.get(precision)
                if dense is not None and sparse < dense:
                    raise CatalogError(f"sparse {precision} peak {sparse:.4g} is below the dense peak {dense:.4g}",
                                       entry=self.name, field=f"peak_sparse.{precision}",
                                       expected="dense figures in peak_dense, 2:4-sparsity figures in peak_sparse")
        self._check_calibration()

    def _check_calibration(self) -> None:
        """A measured rate above the datasheet peak is impossible (it would give an MFU above 1): a wrong
        unit, a sparse figure measured as dense, or the peak of another precision."""
        cal = self.calibration
        if cal is None:
            return
        if cal.matmul_flops is not None:
            for precision, measured in cal.matmul_flops.items():
                dense = self.peak_dense.get(precision)
                if dense is None:
                    raise CatalogError(f"a measured {precision} matmul rate for a device without {precision} units",
                                       entry=self.name, field=f"calibration.matmul_flops.{precision}",
                                       expected=f"precisions of peak_dense ({', '.join(p for p, _ in self.peak_dense.items())})")
                if measured > dense * (1.0 + PEAK_TOLERANCE):
                    raise CatalogError(f"measured {precision} matmul rate {measured / 1e12:.4g} TFLOP/s is above the "
                                       f"dense datasheet peak {dense / 1e12:.4g} TFLOP/s", entry=self.name,
                                       field=f"calibration.matmul_flops.{precision}",
                                       expected="a measured rate at or below peak_dense (dense, not 2:4 sparse)")
        measured, datasheet = cal._memory_bandwidth, self.memory._bandwidth
        if measured is not None and measured > datasheet * (1.0 + PEAK_TOLERANCE):
            raise CatalogError(f"measured memory bandwidth {measured / 1e9:.4g} GB/s is above the datasheet "
                               f"{datasheet / 1e9:.4g} GB/s", entry=self.name,
                               field="calibration.memory_bandwidth", expected="a measured rate at or below memory.bandwidth")

    @property
    def kind(self) -> str:
        return "hardware"

    @property
    def is_microcontroller(self) -> bool:
        """Weights execute in place from flash; activations live in SRAM."""
        return self.flash is not None

    def __repr__(self) -> str:
        return f"HardwareSpec({self.name!r}, {self.display_name!r})"

    # --- 0.1.x's flat figures, as pint Quantities -----------------------------------------------------
    @property
    def headline_precision(self) -> str:
        """The precision a device's single "peak FLOP/s" figure is quoted at: fp16 where the silicon has it
        (0.1.x's peak_flops), else the first of bf16, fp32, int8 it has (microcontrollers: fp32 or int8)."""
        return next((p for p in HEADLINE_PRECISIONS if p in self.peak_dense),
                    next(p for p, _ in self.peak_dense.items()))

    @property
    def compute(self) -> ComputeView:
        """0.1.x's ``hw.compute``: ``peak_flops`` (dense, at the headline precision) and ``precision_flops``
        (dense, every precision the silicon has)."""
        return ComputeView(peak_flops=getattr(self.peak_dense, self.headline_precision),
                           precision_flops=self.peak_dense.as_quantities())

    @property
    def peak_flops(self):
        return getattr(self.peak_dense, self.headline_precision)

    @property
    def tdp(self):
        return self.power.tdp

    power_budget = tdp

    @property
    def memory_bw(self):
        return self.memory.bandwidth

    @property
    def memory_capacity(self):
        return self.memory.capacity

    ram = memory_capacity

    @property
    def unit_cost(self):
        """Purchase price of one device (0.1.x's ``unit_cost``), None where the catalog has no price."""
        return self.economics.unit_cost if self.economics is not None else None

    @property
    def embodied_carbon_kg(self) -> float | None:
        """0.1.x's manufacturing footprint in kg CO2e (a float, as 0.1.x had it), None where unknown."""
        value = self.economics.embodied_carbon if self.economics is not None else None
        return None if value is None else value.m_as("kg")

    @property
    def dispatch_tax(self):
        """0.1.x's name for the fixed cost per kernel launch (``launch_overhead``)."""
        return self.launch_overhead

    def ridge_point(self, precision: str | None = None):
        """Roofline ridge point: dense peak / memory bandwidth, in flop/B (Williams et al. 2009)."""
        peak = self.peak_dense.get(precision or self.headline_precision)
        if peak is None:
            raise CatalogError(f"no {precision} units", entry=self.name, field=f"peak_dense.{precision}",
                               expected=f"one of {', '.join(p for p, _ in self.peak_dense.items())}")
        from ..units import quantity as wrap

        return wrap(peak / self.memory._bandwidth, "flop/B")


@attrs.frozen
class ComputeView:
    """Read-only view of a device's compute figures in 0.1.x's shape (built from peak_dense)."""

    peak_flops: Any
    precision_flops: dict
