"""Running a sweep's chunks: in this process, or on any concurrent.futures.Executor (a ProcessPoolExecutor, a
dask.distributed Client.get_executor(), a Ray executor). A progress bar shows on a terminal when tqdm is
installed (optional), never otherwise."""
from __future__ import annotations

import sys
from typing import Any

from ..errors import InvalidInputError
from .grid import Space, chunks

BACKENDS = ("auto", "numpy", "python", "scalar")  # scalar: one full solve per point (the reference)
# Points per chunk handed to an executor: large enough that pickling the space and the result (a few hundred
# bytes of specs, ~50 bytes a point) stays small beside the solve, small enough to balance workers.
DEFAULT_EXECUTOR_CHUNK = 1 << 16
# Serving-tier points of a chunk from which numpy's vectorised steady state beats the scalar one per point: the
# crossover measured at 16-32 points for the default stack, vLLM and SGLang (benchmarks/bench_dse_tiers.py, small grids).
VECTORISE_MIN_POINTS = 24
# Points solved at once in this process: bounds the (points x phases x 3) float array of one vectorised chunk.
DEFAULT_LOCAL_CHUNK = 1 << 20


def has_numpy() -> bool:
    try:
        import numpy  # noqa: F401
    except ImportError:
        return False
    return True


def solve_chunk(space: Space, start: int, stop: int, backend: str = "auto") -> dict:
    """Solve flat points [start, stop) of `space` (a top-level function, so executors can pickle it)."""
    from .engine_tier import engine_tier_applies

    applies = engine_tier_applies(space)
    if backend == "scalar":  # the reference: one full solve per point
        if space.solver == "engine":
            from .engine_tier import solve_python
            return solve_python(space, start, stop, scalar=True)
        from .scalar_tier import solve_scalar
        return solve_scalar(space, start, stop)
    if space.solver == "serving":
        from .serving_tier import grouped_applies, solve_grouped
        if grouped_applies(space):
            # auto: numpy for chunks of VECTORISE_MIN_POINTS points or more (below, its per-pass array calls cost
            # more than the scalar steady state per point); backend="numpy" always
            return solve_grouped(space, start, stop, vectorised=backend != "python" and has_numpy(),
                                 min_points=VECTORISE_MIN_POINTS if backend == "auto" else 0)
    if space.solver == "serving" or (space.solver == "training" and not applies):
        from .scalar_tier import solve_scalar
        return solve_scalar(space, start, stop)
    if backend == "numpy" or (backend == "auto" and applies and has_numpy()):
        if not applies:
            raise InvalidInputError("backend='numpy' covers the engine defaults only; drop the Engine.solve options "
                                    f"({', '.join(k for k, _ in space.options)}) or use backend='auto'")
        from .engine_numpy import solve_numpy
        return solve_numpy(space, start, stop)
    from .engine_tier import solve_python
    return solve_python(space, start, stop)


def _progress(total: int, enabled: bool | None) -> Any:
    if enabled is False or (enabled is None and not sys.stderr.isatty()):
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        if enabled:  # asked for explicitly: say what is missing
            raise InvalidInputError("progress=True needs tqdm: pip install tqdm (or leave progress=None)") from None
        return None
    return tqdm(total=total, unit="pt", file=sys.stderr)


def run(space: Space, executor: Any = None, chunk_size: int | None = None, backend: str = "auto",
        progress: bool | None = None) -> list[dict]:
    if backend not in BACKENDS:
        raise InvalidInputError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if backend == "numpy" and not has_numpy():
        raise InvalidInputError("backend='numpy' needs numpy: pip install 'mlsysim[dse]'")
    if chunk_size is not None and (isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1):
        raise InvalidInputError(f"chunk_size must be a positive int, got {chunk_size!r}")
    size = chunk_size or (DEFAULT_EXECUTOR_CHUNK if executor is not None else DEFAULT_LOCAL_CHUNK)
    ranges = chunks(space.size, size)
    bar = _progress(space.size, progress)
    results: list[dict] = []
    try:
        if executor is None:
            for a, b in ranges:
                results.append(solve_chunk(space, a, b, backend))
                if bar is not None:
                    bar.update(b - a)
        else:
            futures = [executor.submit(solve_chunk, space, a, b, backend) for a, b in ranges]
            for f, (a, b) in zip(futures, ranges):  # in order: the table keeps the grid's order
                results.append(f.result())
                if bar is not None:
                    bar.update(b - a)
    finally:
        if bar is not None:
            bar.close()
    return results
