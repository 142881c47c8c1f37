"""OrchestrationModel: how long training jobs wait for a shared cluster (a queue over its job slots)."""
from __future__ import annotations

import math
from typing import Any

import attrs

from ..core.inputs import check_positive_int
from ..errors import InvalidInputError
from ..units import quantity
from ._fleet import as_float, as_nonnegative, resolve_fleet
from ._queueing import MAX_SERVERS, erlang_c
from ._result import SolverResult

# Coefficient of variation of job durations when none is given: 1, the exponential of the M/M/c queue.
# Job durations on shared GPU clusters are highly variable (heavy-tailed; Jeon et al., "Analysis of Large-Scale
# Multi-Tenant GPU Clusters for DNN Training Workloads", USENIX ATC 2019), so deterministic service (CV 0,
# 0.1.x's M/D/1) understates waits. Estimate.
DEFAULT_JOB_DURATION_CV = 1.0


@attrs.frozen(kw_only=True)
class OrchestrationResult(SolverResult):
    """Utilisation, mean wait (days, a pint Quantity) and mean queue length of the cluster's job queue."""

    cluster_utilization: float
    avg_wait_time_days: Any
    avg_queue_length: float
    is_stable: bool
    job_slots: int = 1
    wait_probability: float = 0.0
    avg_turnaround_days: Any = None


class OrchestrationModel:
    """A first-come-first-served queue of training jobs on `job_slots` identical slots of a fleet.

    Models: Poisson arrivals at `arrival_rate_jobs_per_day`; each job holds one slot for a mean of
    `avg_job_duration_days`; a fleet of N accelerators running jobs of `accelerators_per_job` has
    c = floor(N / accelerators_per_job) slots (default: one job at a time on the whole fleet, 0.1.x's reading of
    avg_job_duration_days). Utilisation rho = lambda / (c mu); the probability of waiting is Erlang C; the mean
    wait is the M/M/c one scaled by (1 + CV^2) / 2 for job-duration variability (Allen-Cunneen; exact for
    c = 1, the Pollaczek-Khinchine formula); mean queue length by Little's law, L_q = lambda W_q.

    Does not model: priorities, preemption, backfilling, gang-scheduling of jobs of different sizes,
    fragmentation, failures and restarts.
    """

    def solve(self, fleet: Any, arrival_rate_jobs_per_day: float, avg_job_duration_days: float, *,
              accelerators_per_job: int | None = None,
              job_duration_cv: float = DEFAULT_JOB_DURATION_CV) -> OrchestrationResult:
        """`fleet`: a cluster or node (spec or name); `arrival_rate_jobs_per_day`: lambda; `avg_job_duration_days`:
        mean run time of a job once it starts; `accelerators_per_job`: size of each job (default: all of the
        fleet); `job_duration_cv`: coefficient of variation of run times (0: all equal, 1: exponential)."""
        f = resolve_fleet(fleet)
        arrivals = as_float("arrival_rate_jobs_per_day", arrival_rate_jobs_per_day, "1/day")
        duration = as_float("avg_job_duration_days", avg_job_duration_days, "day")
        cv = as_nonnegative("job_duration_cv", job_duration_cv)
        if accelerators_per_job is None:
            slots = 1
        else:
            size = check_positive_int("accelerators_per_job", accelerators_per_job)
            if size > f.accelerators:
                raise InvalidInputError(f"accelerators_per_job {size} exceeds the fleet's {f.accelerators} "
                                        f"accelerators ({f.name})")
            slots = f.accelerators // size
        if slots > MAX_SERVERS:
            raise InvalidInputError(f"{slots} job slots is more than the {MAX_SERVERS} a queue is solved for: use "
                                    "larger accelerators_per_job")

        offered = arrivals * duration                 # a = lambda / mu, in Erlangs
        rho = offered / slots                         # utilisation of the slots
        if rho >= 1.0:  # arrivals outpace service: the queue grows without bound
            inf = math.inf
            return OrchestrationResult(cluster_utilization=rho, avg_wait_time_days=quantity(inf, "day"),
                                       avg_queue_length=inf, is_stable=False, job_slots=slots, wait_probability=1.0,
                                       avg_turnaround_days=quantity(inf, "day"))
        p_wait = erlang_c(slots, offered)
        # M/M/c mean wait C / (c mu - lambda), scaled by (c_a^2 + c_s^2) / 2 with Poisson arrivals (c_a = 1).
        wait = p_wait * duration / (slots * (1.0 - rho)) * (1.0 + cv * cv) / 2.0
        return OrchestrationResult(
            cluster_utilization=rho, avg_wait_time_days=quantity(wait, "day"),
            avg_queue_length=arrivals * wait,       # Little's law: L_q = lambda W_q
            is_stable=True, job_slots=slots, wait_probability=p_wait,
            avg_turnaround_days=quantity(wait + duration, "day"))
