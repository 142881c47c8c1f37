"""Design-space exploration (experimental): sweep a grid of configurations, search it, find its Pareto front.

    from mlsysim import dse
    t = dse.sweep(models=["Llama3_8B", "Llama3_70B"], hardware=["H100", "A100"], batch_sizes=[1, 8, 64],
                  precisions=["fp16", "fp8"])
    best = dse.search(t, "tokens_per_dollar", constraints={"latency": ("<=", 0.05), "feasible": True})
    front = dse.pareto(t, "latency", "throughput", minimize=(True, False))

numpy (`pip install 'mlsysim[dse]'`) vectorises the engine tier; without it the same arithmetic runs in a loop.
"""
from __future__ import annotations

from .layouts import LayoutSearch, serving_layouts, training_plans
from .search import cost_per_hour, pareto, search
from .sweep import sweep
from .table import Table

__all__ = ["sweep", "search", "pareto", "cost_per_hour", "Table", "serving_layouts", "training_plans", "LayoutSearch"]
