"""Accelerator specs: one HardwareSpec per device, floats in canonical SI units (see mlsysim.units)."""
from __future__ import annotations

from collections.abc import Iterator

import attrs

from ..errors import CatalogError
from .fields import QuantityAccess, as_tuple, integer, one_of, quantity
from .provenance import Provenance

# Every precision the catalog and the engine know, fastest-to-slowest is NOT implied by this order.
PRECISIONS = ("fp64", "fp32", "tf32", "fp16", "bf16", "fp8", "int8", "int4", "fp4")
CATEGORIES = ("Cloud", "Workstation", "Edge", "Mobile", "Tiny")
# Rounding slack when a measured rate is compared with its datasheet peak (figures printed to 3-4 digits).
PEAK_TOLERANCE = 1e-3


@attrs.frozen(kw_only=True)
class PrecisionTable(QuantityAccess):
    """Throughput per precision in FLOP/s (integer precisions count OP/s); None where the silicon has no units."""

    UNIT = "flop/s"
    fp64: float | None = quantity("flop/s", optional=True)
    fp32: float | None = quantity("flop/s", optional=True)
    tf32: float | None = quantity("flop/s", optional=True)
    fp16: float | None = quantity("flop/s", optional=True)
    bf16: float | None = quantity("flop/s", optional=True)
    fp8: float | None = quantity("flop/s", optional=True)
    int8: float | None = quantity("flop/s", optional=True)
    int4: float | None = quantity("flop/s", optional=True)
    fp4: float | None = quantity("flop/s", optional=True)

    def get(self, precision: str) -> float | None:
        return getattr(self, precision, None) if precision in PRECISIONS else None

    def items(self) -> Iterator[tuple[str, float]]:
        return ((p, v) for p in PRECISIONS if (v := getattr(self, p)) is not None)

    def __contains__(self, precision: object) -> bool:
        return isinstance(precision, str) and self.get(precision) is not None


@attrs.frozen(kw_only=True)
class FlashSpec(QuantityAccess):
    """A memory level: how much it holds and how fast it streams (microcontroller flash, main memory)."""

    capacity: float = quantity("B")
    bandwidth: float = quantity("B/s")
    provenance: Provenance | None = None


@attrs.frozen(kw_only=True)
class MemorySpec(FlashSpec):
    """Main memory (HBM, GDDR, LPDDR; a microcontroller's SRAM)."""

    kind: str


@attrs.frozen(kw_only=True)
class OnChipSpec(QuantityAccess):
    sram: float = quantity("B")
    sram_bandwidth: float | None = quantity("B/s", optional=True)
    provenance: Provenance | None = None




@attrs.frozen(kw_only=True)
class PowerSpec(QuantityAccess):
    tdp: float = quantity("W")
    idle: float = quantity("W")
    provenance: Provenance | None = None

    def __attrs_post_init__(self) -> None:
        if self.idle > self.tdp:
            raise CatalogError(f"idle power {self.idle} W exceeds TDP {self.tdp} W", field="power.idle",
                               expected="idle <= tdp")


@attrs.frozen(kw_only=True)
class InterconnectSpec(QuantityAccess):
    device_link: str | None = None
    device_link_bandwidth: float | None = quantity("B/s", optional=True)
    host_link: str | None = None
    host_link_bandwidth: float | None = quantity("B/s", optional=True)
    provenance: Provenance | None = None


@attrs.frozen(kw_only=True)
class HardwareCalibration(QuantityAccess):
    """Measured achievable figures of this exact device; they take precedence over class efficiencies."""

    provenance: Provenance
    matmul_flops: PrecisionTable | None = None
    memory_bandwidth: float | None = quantity("B/s", optional=True)


@attrs.frozen(kw_only=True)
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
    launch_overhead: float = quantity("s", doc="fixed cost per kernel launch / layer dispatch")
    provenance: Provenance
    description: str = ""
    aliases: tuple[str, ...] = attrs.field(default=(), converter=as_tuple)
    peak_sparse: PrecisionTable | None = None
    on_chip: OnChipSpec | None = None
    flash: FlashSpec | None = None
    interconnect: InterconnectSpec | None = None
    calibration: HardwareCalibration | None = None

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
        if cal.memory_bandwidth is not None and cal.memory_bandwidth > self.memory.bandwidth * (1.0 + PEAK_TOLERANCE):
            raise CatalogError(f"measured memory bandwidth {cal.memory_bandwidth / 1e9:.4g} GB/s is above the datasheet "
                               f"{self.memory.bandwidth / 1e9:.4g} GB/s", entry=self.name,
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
