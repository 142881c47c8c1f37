"""A three-level scorecard of a system: will it run (feasibility), is it fast enough (performance), is it worth
it (macro: power, energy, cost).

``SystemEvaluation.from_scenario(Scenarios.X.evaluate())`` reads a catalog scenario's verdicts into the three
levels. ``SystemEvaluator.evaluate(...)`` is 0.1.x's call shape for a model on hardware (or a fleet) without a
scenario; it is kept for compatibility and warns (DeprecationWarning, removal in 0.2.0): new code calls
``Engine.solve`` or evaluates a scenario.

Each level carries the checks it rests on (``mlsysim.specs.scenarios.ConstraintCheck``: a verdict, the
predicted value and the limit, pint Quantities) and plain-number metrics in the unit their key names
(``memory_used_gb`` in GB = 1e9 bytes, ``latency`` in ms, ``throughput`` in items/s: 0.1.x's keys and units).
"""
from __future__ import annotations

import warnings
from typing import Any

import attrs

from .errors import InvalidInputError, MlsysimError

PASS, FAIL, SKIPPED = "PASS", "FAIL", "SKIPPED"
# Bytes per decimal gigabyte (SI prefix giga = 1e9), the unit of 0.1.x's `memory_used_gb` metric.
BYTES_PER_GB = 1e9

# Which level each check of a scenario belongs to (the names mlsysim.core.scenario_eval and
# PerformanceProfile.memory_checks give their checks).
LEVEL_OF_CHECK = {
    "fits in memory": "feasibility", "fits in memory (SRAM)": "feasibility", "weights fit in flash": "feasibility",
    "memory": "feasibility",
    "latency": "performance", "time to first token": "performance",
    "power": "macro", "energy": "macro",
}
# Unit of the macro metric each macro check becomes (`power_w`, `energy_j`).
MACRO_UNITS = {"power": "W", "energy": "J"}


def _human(q: Any) -> str:
    from .core.formatting import human

    return human(q)


def _status(checks: tuple[Any, ...]) -> str:
    if not checks:
        return SKIPPED
    return PASS if all(c.passed for c in checks) else FAIL


def _checks_text(checks: tuple[Any, ...]) -> str:
    return "; ".join(f"{c.name} {_human(c.value)} of {_human(c.limit)}" for c in checks)


@attrs.frozen(kw_only=True)
class EvaluationLevel:
    """One level of the scorecard: PASS / FAIL, or SKIPPED where nothing was asked of it."""

    level_name: str
    status: str
    summary: str
    metrics: dict[str, Any] = attrs.field(factory=dict)
    checks: tuple[Any, ...] = ()

    @property
    def passed(self) -> bool:
        """Nothing failed (a skipped level has nothing to fail)."""
        return self.status != FAIL


@attrs.frozen(kw_only=True)
class SystemEvaluation:
    """The scorecard: ``feasibility``, ``performance`` and ``macro`` levels of ``scenario_name``; ``profile``
    is the solver result the levels were read from (a PerformanceProfile, or a DistributedResult for a fleet)."""

    scenario_name: str
    feasibility: EvaluationLevel
    performance: EvaluationLevel
    macro: EvaluationLevel
    profile: Any = None

    @property
    def levels(self) -> tuple[EvaluationLevel, EvaluationLevel, EvaluationLevel]:
        return self.feasibility, self.performance, self.macro

    @property
    def passed_all(self) -> bool:
        """No level failed. (0.1.x also counted a SKIPPED level as not passed, so a single-node evaluation,
        whose macro level is always skipped, could never pass.)"""
        return all(level.passed for level in self.levels)

    @property
    def checks(self) -> tuple[Any, ...]:
        """Every check of every level, feasibility first."""
        return tuple(c for level in self.levels for c in level.checks)

    def scorecard(self) -> str:
        lines = [f"System evaluation: {self.scenario_name}  [{'PASS' if self.passed_all else 'FAIL'}]"]
        width = max(len(level.level_name) for level in self.levels)
        for i, level in enumerate(self.levels, 1):
            lines.append(f"  {i}. {level.level_name:<{width}}  {level.status:<7}  {level.summary}")
        return "\n".join(lines)

    def summary(self) -> str:
        return self.scorecard()

    def __str__(self) -> str:
        return self.scorecard()

    def to_dict(self) -> dict[str, Any]:
        """One flat row (CSV / DataFrame): statuses and every metric, prefixed f_ / p_ / m_ by level."""
        out: dict[str, Any] = {"scenario": self.scenario_name, "f_status": self.feasibility.status,
                               "p_status": self.performance.status, "m_status": self.macro.status}
        for prefix, level in zip("fpm", self.levels):
            out |= {f"{prefix}_{k}": v for k, v in level.metrics.items()}
        return out

    @classmethod
    def from_scenario(cls, evaluation: Any) -> SystemEvaluation:
        """The scorecard of a catalog scenario's evaluation (``ScenarioSpec.evaluate()``'s result): the
        memory fit and memory constraint are the feasibility level, latency or time to first token the
        performance level, power and energy the macro level (SKIPPED where the scenario sets none)."""
        from .specs.scenarios import ScenarioEvaluation

        if not isinstance(evaluation, ScenarioEvaluation):
            raise InvalidInputError(f"from_scenario takes a ScenarioEvaluation (Scenarios.X.evaluate()), got "
                                    f"{type(evaluation).__name__}")
        profile = evaluation.profile
        grouped: dict[str, list[Any]] = {"feasibility": [], "performance": [], "macro": []}
        for check in (*profile.memory_checks(), *evaluation.checks):
            level = LEVEL_OF_CHECK.get(check.name)
            if level is None:
                raise MlsysimError(f"scenario {evaluation.scenario}: check {check.name!r} has no scorecard level; "
                                   f"known checks: {', '.join(LEVEL_OF_CHECK)}")
            grouped[level].append(check)
        feasibility = _feasibility(profile, tuple(grouped["feasibility"]))
        perf_checks = tuple(grouped["performance"])
        metrics = _performance_metrics(profile)
        for c in perf_checks:
            metrics[f"sla_{c.name.replace(' ', '_')}"] = c.limit.to("ms").magnitude
        performance = EvaluationLevel(level_name="Performance", status=_status(perf_checks) if perf_checks else PASS,
                                      summary=_performance_text(profile) + (f"; {_checks_text(perf_checks)}"
                                                                           if perf_checks else ""),
                                      metrics=metrics, checks=perf_checks)
        macro_checks = tuple(grouped["macro"])
        macro = EvaluationLevel(level_name="Power & energy", status=_status(macro_checks),
                                summary=_checks_text(macro_checks) if macro_checks else "no power or energy limit set",
                                metrics={f"{c.name}_{MACRO_UNITS[c.name].lower()}": c.value.to(MACRO_UNITS[c.name]).magnitude
                                         for c in macro_checks},
                                checks=macro_checks)
        return cls(scenario_name=evaluation.scenario, feasibility=feasibility, performance=performance,
                   macro=macro, profile=profile)


def _feasibility(profile: Any, checks: tuple[Any, ...]) -> EvaluationLevel:
    m = profile.memory
    # a microcontroller keeps its weights in flash: the device memory (SRAM) holds the rest
    used = m.total - (m.weights if m.weights_capacity is not None else 0.0)
    return EvaluationLevel(level_name="Feasibility", status=_status(checks), summary=_checks_text(checks),
                           metrics={"memory_used_gb": used / BYTES_PER_GB,
                                    "memory_capacity_gb": m.capacity / BYTES_PER_GB},
                           checks=checks)


def _performance_metrics(profile: Any) -> dict[str, Any]:
    return {"latency": profile.latency.to("ms").magnitude, "throughput": profile.throughput.to("1/s").magnitude,
            "mfu": profile.mfu}


def _performance_text(profile: Any) -> str:
    per = "training step" if profile.is_training else "pass"
    return (f"{profile.bottleneck} bound: {_human(profile.latency)} per {per}, {_human(profile.throughput)}, "
            f"MFU {profile.mfu:.1%}")


def _magnitude(value: Any, unit: str) -> float:
    """A solver field as a float in `unit`, whether the solver returned a Quantity or a plain number."""
    return value.m_as(unit) if hasattr(value, "m_as") else float(value)


class SystemEvaluator:
    """0.1.x's evaluator of a model on hardware or a fleet (kept for compatibility; removal in 0.2.0).

    Use ``Engine.solve(model, hardware, ...)`` for one device, ``mlsysim.solvers.DistributedModel`` for a
    fleet, and ``SystemEvaluation.from_scenario(Scenarios.X.evaluate())`` for a scorecard against limits.
    """

    @staticmethod
    def evaluate(scenario_name: str, model_obj: Any, hardware_obj: Any, batch_size: int = 1,
                 precision: str = "fp16", efficiency: float | None = None, fleet_obj: Any = None, nodes: int = 1,
                 duration_days: float | None = None) -> SystemEvaluation:
        """Scorecard of `model_obj` on `hardware_obj` (registry names or specs).

        With `fleet_obj` (a node or cluster, name or spec) and `nodes` > 1, the performance level is one
        training step of global batch `batch_size` on the fleet with tensor parallelism `nodes` (0.1.x passed
        `nodes` as the tensor-parallel degree) and data parallelism over the rest; otherwise it is one pass on
        one device. With `fleet_obj` and `duration_days` the macro level is the fleet's cost and carbon over
        that time (mlsysim.solvers.EconomicsModel); otherwise it is SKIPPED. `efficiency` None uses the
        hardware's calibrated value. There are no limits here, so performance and macro never FAIL.
        """
        warnings.warn("SystemEvaluator is deprecated and will be removed in 0.2.0; use Engine.solve(...) or "
                      "SystemEvaluation.from_scenario(Scenarios.X.evaluate())", DeprecationWarning, stacklevel=2)
        from .core.engine import Engine
        from .core.inputs import check_positive_int

        nodes = check_positive_int("nodes", nodes)
        if nodes > 1 and fleet_obj is None:
            raise InvalidInputError(f"nodes={nodes} needs a fleet_obj (a node or cluster, e.g. "
                                    "Systems.Research_256) to run on; without one, leave nodes=1")
        profile = Engine.solve(model_obj, hardware_obj, batch_size, precision, efficiency)
        feasibility = _feasibility(profile, profile.memory_checks())
        result: Any = profile
        if fleet_obj is not None and nodes > 1:
            from .core.distributed import DistributedModel

            result = DistributedModel().solve(model_obj, fleet_obj, batch_size, precision, efficiency,
                                              tensor_parallel=nodes)
            memory = result.memory  # per device, after sharding
            from .specs.scenarios import ConstraintCheck
            from .units import quantity

            fit = (ConstraintCheck(name="fits in memory", passed=result.feasible,
                                   value=quantity(memory.total, "B"), limit=quantity(memory.capacity, "B")),)
            feasibility = _feasibility(result, fit)
            step = result.latency.to("s").magnitude
            comm = result.tp_comm_time_s + result.pp_comm_time_s + result.dp_comm_exposed_s
            # Share of the step spent computing: what is left after the pipeline bubble and exposed communication.
            scaling = result.compute_time_s / step
            performance = EvaluationLevel(
                level_name="Fleet performance", status=PASS,
                summary=f"{result.bottleneck} bound: {_human(result.latency)} per step on {result.devices} devices "
                        f"(TP {result.tensor_parallel} x DP {result.data_parallel}), {_human(result.throughput)}, "
                        f"{scaling:.1%} of the step computing",
                metrics={"step_latency": step * 1e3, "comm_overhead": comm * 1e3,
                         "fleet_throughput": result.throughput.to("1/s").magnitude, "scaling_efficiency": scaling,
                         "mfu": result.mfu})
        else:
            performance = EvaluationLevel(level_name="Performance", status=PASS, summary=_performance_text(profile),
                                          metrics=_performance_metrics(profile))
        if fleet_obj is not None and duration_days is not None:
            macro = _economics(fleet_obj, duration_days)
        else:
            macro = EvaluationLevel(level_name="Macro", status=SKIPPED,
                                    summary=f"no {'fleet_obj' if fleet_obj is None else 'duration_days'} given")
        return SystemEvaluation(scenario_name=scenario_name, feasibility=feasibility, performance=performance,
                                macro=macro, profile=result)


def _economics(fleet: Any, duration_days: float) -> EvaluationLevel:
    import importlib

    try:
        economics = importlib.import_module("mlsysim.solvers.economics")
    except ModuleNotFoundError as exc:
        raise MlsysimError("the macro level needs mlsysim.solvers.EconomicsModel, which this install lacks; "
                           "call evaluate without duration_days") from exc
    econ = economics.EconomicsModel().solve(fleet, duration_days)
    tco = _magnitude(econ.tco_usd, "USD")
    return EvaluationLevel(
        level_name="Economics & sustainability", status=PASS,
        summary=f"TCO ${tco:,.0f} over {duration_days:g} days",
        metrics={"carbon_footprint": _magnitude(econ.carbon_footprint_kg, "kg") / 1000.0,  # tonnes, as 0.1.x
                 "energy_cost": _magnitude(econ.opex_energy_usd, "USD"), "capex": _magnitude(econ.capex_usd, "USD"),
                 "tco": tco})
