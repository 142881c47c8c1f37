"""Time warm ServingModel.solve per call (run: python benchmarks/bench_serving.py). Issue-10 targets: a
continuous-batching solve under 2 ms, a static one under 200 us (compare builds on the same machine only)."""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[1] / "src")
CASES = {
    "continuous, Llama3_70B TP4 on DGX_H100, 64 in flight": (("Llama3_70B", "DGX_H100", 64, "fp8"),
                                                              dict(tensor_parallel=4, runtime="vllm")),
    "continuous, Mixtral TP2 EP2, 32 in flight": (("Mixtral_8x7B", "DGX_H100", 32, "bf16"),
                                                  dict(tensor_parallel=2, expert_parallel=2)),
    "static, Llama3_8B on H100, batch 8": (("Llama3_8B", "H100", 8, "bf16"), dict(batching="static")),
}


def main(repeats: int = 5, calls: int = 200) -> None:
    sys.path.insert(0, SRC)
    from mlsysim.solvers import ServingModel

    s = ServingModel()
    for name, (args, opts) in CASES.items():
        opts = dict(opts, prompt_len=2048, output_len=256)
        s.solve(*args, **opts)
        samples = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            for _ in range(calls):
                s.solve(*args, **opts)
            samples.append((time.perf_counter() - t0) / calls)
        print(f"{name:<58} {statistics.median(samples) * 1e6:9.0f} us")


if __name__ == "__main__":
    main()
