"""Measured efficiencies shared by a class of hardware (datacenter GPUs, microcontrollers, ...)."""
from __future__ import annotations

import attrs

from ..errors import CatalogError
from .fields import QuantityAccess, quantity, spec
from .provenance import Provenance


# How far runtime=None may sit from runtime=<its class's default_runtime> on a transformer pass (throughput,
# relative): both fuse the layer into a handful of kernels, and differ in kernel count and per-kernel cost
# (8 at the device's launch_overhead vs e.g. TensorRT-LLM's 7 replayed from a CUDA graph at 1 us). The largest
# gap is launch-bound batch-1 decode on a datacenter GPU (~20 %: Llama-3-8B on an H100); compute-bound passes
# agree within ~2 %. Tested in tests/test_default_runtime.py; README "Runtimes".
DEFAULT_RUNTIME_TOLERANCE = 0.25


def _fraction(instance, attribute, value) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 < value <= 1:
        raise CatalogError(f"must be in (0, 1], got {value!r}", entry=getattr(instance, "name", None),
                           field=attribute.name, expected="a fraction in (0, 1]")


@spec
class CalibrationClass(QuantityAccess):
    name: str
    description: str
    matmul_efficiency: float = attrs.field(validator=_fraction)
    memory_efficiency: float = attrs.field(validator=_fraction)
    _runtime_reserve: float = quantity("B")
    memory_bound_power_fraction: float = attrs.field(validator=_fraction)
    provenance: Provenance
    # What runtime=None stands for on this class: a catalog runtime name (tests/test_default_runtime.py checks it
    # names a runtime of this class and that runtime=None stays within its documented tolerance) and the
    # real stack in words, named in each result's reasons. runtime=None's numbers do not read them.
    default_runtime: str | None = None
    default_stack: str = ""
