"""Late-bound hooks: the bottom layer calls into a higher one without importing it.

``specs`` (data) sits below ``core`` (solvers), yet ``ScenarioSpec.evaluate`` needs a solver. Rather than the
lower layer importing the higher one, the package facade (``mlsysim/__init__.py``, always imported first)
installs the function here, and the spec calls whatever is installed. This module imports nothing.
"""
from __future__ import annotations

# evaluate(scenario: ScenarioSpec, **overrides) -> ScenarioEvaluation; installed by mlsysim/__init__.py.
scenario_evaluator = None

# resolve_path(path: str) -> spec | None, the registry lookup of a full path ("Systems.Nodes.DGX_H100");
# installed by mlsysim/__init__.py, used by spec reference fields (cluster.node, node.accelerator).
resolve_path = None

# scorecard(evaluation: ScenarioEvaluation) -> SystemEvaluation, 0.1.x's three-level view of a scenario's
# verdicts; installed by mlsysim/__init__.py (mlsysim.evaluation sits above specs).
scorecard = None

# plot(result, ax=None) -> (fig, ax), ``result.plot()`` of PerformanceProfile and ServingResult; installed by
# mlsysim/__init__.py (the plots, mlsysim.viz_workload, sit above core).
result_plotter = None
