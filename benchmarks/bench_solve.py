"""Time warm Engine.solve per call and cold import (run: python benchmarks/bench_solve.py).

Reports the minimum CPU time of repeated loops (wall time for fresh interpreters); compare against another build on the same machine only.
"""
from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[1] / "src")
CASES = [("Llama3_70B", "H100", 8, "fp8"), ("ResNet50", "A100", 256, "int8"), ("DS_CNN", "STM32L4R5", 1, "int8"),
         ("Mixtral_8x7B", "H200", 32, "fp16")]
# With a runtime (core/runtime_plan.py): a serving stack, eager PyTorch and its CUDA-graph replay (decode and a CNN),
# llama.cpp.
RUNTIME_CASES = [("Llama3_70B", "H100", 8, "fp8", "vllm"), ("Llama3_8B", "H200", 1, "bf16", "pytorch_eager"),
                 ("Llama3_8B", "H200", 1, "bf16", "pytorch_cuda_graph"),
                 ("ResNet50", "H200", 256, "bf16", "pytorch_eager"), ("Llama3_8B", "A100", 1, "fp16", "llamacpp"),
                 ("DS_CNN", "STM32L4R5", 1, "int8", "cmsis_nn")]


def time_solve(repeats: int = 5, calls: int = 2000) -> dict[str, float]:
    sys.path.insert(0, SRC)
    from mlsysim import Engine, Hardware, Models

    out = {}
    for m, h, b, p, rt in [(*c, None) for c in CASES] + RUNTIME_CASES:
        model, hw = Models.get(m), Hardware.get(h)
        Engine.solve(model, hw, b, p, runtime=rt)  # warm (pint registry, caches)
        samples = []
        for _ in range(repeats):
            t0 = time.process_time()  # CPU time: a loaded shared machine inflates wall time
            for _ in range(calls):
                Engine.solve(model, hw, b, p, runtime=rt)
            samples.append((time.process_time() - t0) / calls)
        out[f"{m} on {h}" + (f" ({rt})" if rt else "")] = min(samples)
    return out


def time_distinct(batches: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64, 128)) -> dict[str, float]:
    """Per point of a sweep whose points are all distinct (every plan and workload cache cold on its first use):
    what a design-space loop pays, beside the warm repeated call above. Min over 3 passes of fresh caches."""
    sys.path.insert(0, SRC)
    from mlsysim import Engine, Hardware, Models
    from mlsysim.core import solve_plan

    points = [(Models.get(m), Hardware.get(h), b, p) for m, h, _, p in CASES for b in batches
              for h in ("H100", "A100", "H200", "MI300X")]
    points = [pt for pt in points if pt[1].core is None]
    best = {}
    for _ in range(3):
        for label, clear in (("every point new (caches cleared)", True), ("same points again (caches warm)", False)):
            if clear:
                solve_plan.clear()
            t0 = time.process_time()
            for m, h, b, p in points:
                try:
                    Engine.solve(m, h, b, p)
                except Exception:
                    pass
            per = (time.process_time() - t0) / len(points)
            best[label] = min(best.get(label, per), per)
    return best


def time_import(repeats: int = 7) -> dict[str, float]:
    """Wall time of a fresh interpreter running the statement (catalog cache warm after the first run)."""
    stmts = {"import mlsysim; mlsysim.Hardware.H100": "import mlsysim; mlsysim.Hardware.H100",
             "first Engine.solve": "import mlsysim; mlsysim.Engine.solve('Llama3_8B', 'H100')",
             "python -c pass (baseline)": "pass"}
    out = {}
    for label, stmt in stmts.items():
        subprocess.run([sys.executable, "-c", stmt], check=True, env={"PYTHONPATH": SRC})
        samples = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-c", stmt], check=True, env={"PYTHONPATH": SRC})
            samples.append(time.perf_counter() - t0)
        out[label] = statistics.median(samples)
    return out


if __name__ == "__main__":
    print("warm Engine.solve, median per call:")
    for label, t in time_solve().items():
        print(f"  {label:<46} {t * 1e6:8.1f} us")
    print("a sweep of distinct points, CPU time per point:")
    for label, t in time_distinct().items():
        print(f"  {label:<34} {t * 1e6:8.1f} us")
    print("fresh interpreter wall time, median:")
    for label, t in time_import().items():
        print(f"  {label:<28} {t * 1e3:8.1f} ms")
