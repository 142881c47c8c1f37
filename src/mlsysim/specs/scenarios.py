"""Scenarios: a model on a target with a batch, a precision and constraints that can be evaluated."""
from __future__ import annotations

from typing import Any

import attrs

from .. import _hooks
from ..errors import CatalogError, MlsysimError
from .fields import QuantityAccess, as_tuple, integer, one_of, quantity, spec
from .hardware import PRECISIONS
from .provenance import Provenance
from .sequences import SequenceLengths


# Keywords ScenarioSpec.evaluate accepts: the scenario's own workload fields, replaced for this evaluation ...
SCENARIO_OVERRIDES = ("hardware", "batch_size", "precision", "efficiency", "seq_len", "seq_lens", "runtime")
# ... and the keyword options of Engine.solve, passed through.
SOLVE_OPTIONS = ("is_training", "raise_errors", "zero_stage", "dp_size", "activation_recomputation", "weight_only")
EVALUATE_OVERRIDES = SCENARIO_OVERRIDES + SOLVE_OPTIONS


@spec
class Constraints(QuantityAccess):
    _max_latency: float | None = quantity("s", optional=True)
    _max_power: float | None = quantity("W", optional=True)
    _max_energy: float | None = quantity("J", optional=True)
    _max_memory: float | None = quantity("B", optional=True)


@spec
class ConstraintCheck:
    """One constraint's verdict with the measured (predicted) value and the limit, both pint Quantities."""

    name: str
    passed: bool
    value: Any
    limit: Any

    def __str__(self) -> str:
        from ..formatting import human

        return f"{'PASS' if self.passed else 'FAIL'} {self.name}: {human(self.value)} (limit {human(self.limit)})"


@spec
class ScenarioEvaluation:
    scenario: str
    profile: Any
    checks: tuple[ConstraintCheck, ...]

    @property
    def passed(self) -> bool:
        return self.profile.feasible and all(c.passed for c in self.checks)

    # --- 0.1.x's three-level scorecard (mlsysim.evaluation.SystemEvaluation), built on access ---------------
    def _scorecard(self) -> Any:
        if _hooks.scorecard is None:
            raise MlsysimError("no scorecard builder is installed: import mlsysim (the package installs "
                               "mlsysim._hooks.scorecard) before reading a scenario's levels")
        return _hooks.scorecard(self)

    @property
    def feasibility(self) -> Any:
        return self._scorecard().feasibility

    @property
    def performance(self) -> Any:
        return self._scorecard().performance

    @property
    def macro(self) -> Any:
        return self._scorecard().macro

    @property
    def passed_all(self) -> bool:
        """0.1.x's name for `passed`: no level of the scorecard failed."""
        return self._scorecard().passed_all

    def scorecard(self) -> str:
        """The feasibility / performance / macro scorecard text (0.1.x's SystemEvaluation.scorecard())."""
        return self._scorecard().scorecard()

    def summary(self) -> str:
        lines = [f"Scenario {self.scenario}: {'PASS' if self.passed else 'FAIL'}"]
        if not self.profile.feasible:
            lines.append("  FAIL fits in memory")
        lines += [f"  {c}" for c in self.checks]
        lines += [f"  note: {r}" for r in self.profile.reasons]
        return "\n".join(lines)


@spec
class ScenarioSpec(QuantityAccess):
    name: str
    display_name: str
    model: str
    target: str
    batch_size: int = integer()
    precision: str = one_of(*PRECISIONS)
    mode: str = one_of("inference", "training")
    constraints: Constraints
    provenance: Provenance
    seq_len: int | None = attrs.field(default=None)
    efficiency: float | None = None
    latency_metric: str = one_of("step", "ttft", default="step")
    # A ragged workload (MLPerf BERT: SQuAD v1.1 questions of ~177 real tokens, max 384) and the runtime that runs
    # it, whose pack/pad rule decides what the batch costs (mlsysim.core.ragged). Not with seq_len.
    seq_lens: SequenceLengths | None = None
    runtime: str | None = None
    description: str = ""
    aliases: tuple[str, ...] = attrs.field(default=(), converter=as_tuple)

    def __attrs_post_init__(self) -> None:
        if self.seq_len is not None and self.seq_lens is not None:
            raise CatalogError("seq_len and seq_lens are both set", entry=self.name, field="seq_lens",
                               expected="seq_len (every sequence that long) or seq_lens (a ragged batch), not both")

    def __repr__(self) -> str:
        return f"ScenarioSpec({self.name!r}, {self.display_name!r})"

    # --- 0.1.x's field names ------------------------------------------------------------------------------
    @property
    def workload(self) -> Any:
        """0.1.x's name for the model: the spec `model` names."""
        return _hooks.resolve_path(self.model) if isinstance(self.model, str) else self.model

    @property
    def system(self) -> Any:
        """0.1.x's name for the target: the spec `target` names (a device, node or cluster)."""
        return _hooks.resolve_path(self.target) if isinstance(self.target, str) else self.target

    @property
    def sla_latency(self) -> Any:
        """0.1.x's latency SLA: constraints.max_latency (None where the scenario sets none)."""
        return self.constraints.max_latency

    @property
    def power_budget(self) -> Any:
        """0.1.x's power budget: constraints.max_power (None where the scenario sets none)."""
        return self.constraints.max_power

    def evaluate(self, batch_size: Any = None, precision: Any = None, **overrides: Any) -> ScenarioEvaluation:
        """Solve the scenario with the engine and check every constraint. `batch_size` and `precision` may come
        positionally, in 0.1.x's order (``evaluate(32, "fp8")``); None keeps the scenario's own.

        Keyword overrides (experimental), each applied over the scenario's own value for this evaluation only:
          hardware -- evaluate on another target: a Hardware entry or name ("H200"), or a Systems node or
            cluster (spec or full path), in place of the scenario's own target;
          batch_size, precision, efficiency, seq_len, seq_lens, runtime -- replace the scenario's workload fields
            (seq_len given alone replaces a scenario's seq_lens: every sequence that long);
          is_training -- True/False (default: the scenario's mode is "training"); a latency constraint on time
            to first token needs inference;
          raise_errors, zero_stage, dp_size, activation_recomputation, weight_only -- Engine.solve's options
            (a training scenario on a node or cluster defaults to zero_stage=3, dp_size = its device count).
        Any other keyword raises InvalidInputError listing these.
        """
        if batch_size is not None:
            overrides["batch_size"] = batch_size
        if precision is not None:
            overrides["precision"] = precision
        evaluator = _hooks.scenario_evaluator
        if evaluator is None:
            raise MlsysimError("no scenario evaluator is installed: import mlsysim (the package installs it in "
                               "mlsysim._hooks.scenario_evaluator) before evaluating a scenario")
        return evaluator(self, **overrides)
