"""sweep(): the design space of models x hardware x batch sizes x precisions x sequence lengths, solved."""
from __future__ import annotations

from typing import Any

from .grid import make_space
from .run import run
from .table import Table


def sweep(models: Any = None, hardware: Any = None, batch_sizes: Any = None, precisions: Any = None,
          seq_lens: Any = None, *, solver: str = "engine", efficiency: float | None = None, executor: Any = None,
          chunk_size: int | None = None, drop_infeasible: bool = False, backend: str = "auto",
          progress: bool | None = None, **options: Any) -> Table:
    """Solve every point of the grid; returns a Table (one record per point, in grid order).

    models, hardware: registry names or specs, one or a list; with solver="serving" or "training" hardware may name
        Systems nodes ("DGX_H100": ServingModel / DistributedModel split the model over the node's GPUs by
        tensor_parallel= etc.; training also takes clusters). batch_sizes (default 1), precisions (default: each
    device's default, fp16 where it has fp16 units), seq_lens (default: each model's context; the prompt length
    for solver="serving").
    solver: "engine" (Engine.solve: one pass; vectorised with numpy when installed, `mlsysim[dse]`), "serving"
        (ServingModel.solve's figures; options such as output_len=, tensor_parallel=, runtime=; closed-loop
        continuous batching on any runtime and layout runs grouped and vectorised, serving_tier), "training"
        (Engine.solve(is_training=True) on a device: with only zero_stage=, dp_size=, activation_recomputation= it
        runs on the engine tier's arithmetic, otherwise one Engine.solve per point; DistributedModel.solve per
        point on a node or cluster).
    efficiency: as Engine.solve's (None: calibrated). Other keywords go to the tier's solve; with the engine tier
        they take every point through Engine.solve itself.
    executor: any concurrent.futures.Executor; the grid is split into chunks of chunk_size points.
    drop_infeasible: drop the points that do not fit or cannot run (kept and marked otherwise).
    backend: "auto", "numpy" or "python" (the engine tier's arithmetic and the serving tier's steady state, with
        or without numpy; both agree with the solvers), or "scalar" (one full Engine.solve / ServingModel.solve
        per point: the reference the others are tested against).
    progress: None shows a bar on a terminal when tqdm is installed; True/False forces it on/off.
    """
    space = make_space(models, hardware, batch_sizes, precisions, seq_lens, solver, efficiency, options)
    return Table(space, run(space, executor, chunk_size, backend, progress), drop_infeasible)
