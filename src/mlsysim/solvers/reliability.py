"""ReliabilityModel: how often a synchronous job on a fleet is interrupted, and what checkpointing costs."""
from __future__ import annotations

import math
from typing import Any

import attrs

from ..errors import CatalogError
from ..specs.fields import figure
from ..units import quantity
from ._fleet import SECONDS_PER_HOUR, as_float, as_nonnegative, resolve_fleet
from ._result import SolverResult


@attrs.frozen(kw_only=True)
class ReliabilityResult(SolverResult):
    """Fleet MTBF and the Young/Daly checkpoint schedule (times as pint Quantities)."""

    fleet_mtbf: Any
    failure_probability: float
    optimal_checkpoint_interval: Any
    expected_failures: float
    goodput_ratio: float = 1.0
    device_mtbf: Any = None
    accelerators: int = 0
    expected_wall_time: Any = None
    mtbf_source: str = ""


def _device_mtbf(fleet: Any, given: Any) -> tuple[float, str]:
    if given is not None:
        return as_float("device_mtbf_hours", given, "hour"), "argument device_mtbf_hours"
    value = figure(fleet.accelerator, "economics.mtbf")
    if value is None:
        raise CatalogError(f"no failure rate for Hardware.{fleet.accelerator.name}", entry=fleet.accelerator.name,
                           field="economics.mtbf",
                           expected="an economics = { mtbf = \"... h\", provenance = {...} } table in its catalog "
                                    "entry, or the device_mtbf_hours argument")
    return value, f"catalog Hardware.{fleet.accelerator.name}.economics.mtbf"


class ReliabilityModel:
    """Failures of a synchronous job on every accelerator of a fleet, and its optimal checkpoint interval.

    Models: independent exponential failures, so the fleet's MTBF is the per-accelerator MTBF / N (series
    system); P(at least one failure in T) = 1 - exp(-T / MTBF_fleet); expected failures T / MTBF_fleet; Young's
    optimal interval sqrt(2 C MTBF_fleet) (Young 1974); goodput = useful work / wall time for that interval under
    exponential failures with restart cost R (Daly 2006, "A higher order estimate of the optimum checkpoint
    interval for restart dumps", FGCS 22, eq. 13): tau / (M e^(R/M) (e^((tau + C)/M) - 1)).

    Does not model: correlated failures (a switch or power domain taking many nodes at once), failure rates
    that change with age (infant mortality, wear-out), spare capacity, asynchronous or in-memory checkpoints.
    """

    def solve(self, fleet: Any, job_duration_hours: float, checkpoint_time_s: float = 60.0,
              avg_recovery_time_s: float = 300.0, *, device_mtbf_hours: float | None = None) -> ReliabilityResult:
        """`job_duration_hours`: failure-free compute time of the job; `checkpoint_time_s`: time to write one
        checkpoint (C); `avg_recovery_time_s`: restart, reload and re-warm after a failure (R);
        `device_mtbf_hours` overrides the catalog's per-accelerator MTBF."""
        f = resolve_fleet(fleet)
        job_s = as_float("job_duration_hours", job_duration_hours, "hour") * SECONDS_PER_HOUR
        checkpoint_s = as_float("checkpoint_time_s", checkpoint_time_s, "s")
        recovery_s = as_nonnegative("avg_recovery_time_s", avg_recovery_time_s, "s")
        device_h, source = _device_mtbf(f, device_mtbf_hours)

        fleet_mtbf_s = device_h * SECONDS_PER_HOUR / f.accelerators        # series system of N devices
        interval_s = math.sqrt(2.0 * checkpoint_s * fleet_mtbf_s)          # Young (1974)
        ratio = job_s / fleet_mtbf_s
        failure_probability = -math.expm1(-ratio)                          # 1 - e^(-T/M), exponential failures
        # Daly (2006): expected wall time per useful second, exponential failures, restart cost R.
        m = fleet_mtbf_s
        wall_per_useful = m * math.exp(recovery_s / m) * math.expm1((interval_s + checkpoint_s) / m) / interval_s
        goodput = 1.0 / wall_per_useful if math.isfinite(wall_per_useful) else 0.0
        return ReliabilityResult(
            fleet_mtbf=quantity(fleet_mtbf_s / SECONDS_PER_HOUR, "hour"), failure_probability=failure_probability,
            optimal_checkpoint_interval=quantity(interval_s, "s"), expected_failures=ratio, goodput_ratio=goodput,
            device_mtbf=quantity(device_h, "hour"), accelerators=f.accelerators,
            expected_wall_time=quantity(job_s * wall_per_useful / SECONDS_PER_HOUR, "hour"), mtbf_source=source)
