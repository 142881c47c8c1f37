"""The precision of a pass under an optional runtime, for solvers that rebuild a pass's cost beside
RooflineModel's result (the same rule as Engine.solve: a runtime's quantisation format has its real bits)."""
from __future__ import annotations

from typing import Any

from ..core.precision import ExecutionPrecision, resolve_precision
from ..core.solver import resolve_runtime, runtime_precision


def pass_precision(hw: Any, precision: str, runtime: Any, *, weight_only: bool = False,
                   training: bool = False) -> ExecutionPrecision:
    """ExecutionPrecision of `precision` on `hw`; under `runtime` (a RuntimeSpec or mlsysim.Runtimes name) it may
    name one of the runtime's quantisation formats (bits per weight with scales)."""
    if runtime is None:
        return resolve_precision(hw, precision, weight_only=weight_only, training=training)
    return runtime_precision(resolve_runtime(runtime, hw), hw, precision, weight_only, training)[0]
