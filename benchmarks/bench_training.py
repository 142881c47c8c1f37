"""Time warm DistributedModel.solve per call (run: python benchmarks/bench_training.py). Issue-12 target: one
training solve under 100 us (compare builds on the same machine only). Reports the min over repeats (the machine
is shared: the minimum is the least-disturbed sample)."""
from __future__ import annotations

import sys
import time
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[1] / "src")
CASES = {
    "Llama3_70B TP8 PP4 VP5 ZeRO1 megatron, Frontier_8K": (("Llama3_70B", "Systems.Clusters.Frontier_8K", 2048,
                                                            "bf16"), dict(tensor_parallel=8, pipeline_parallel=4,
                                                                          virtual_pipeline_stages=5, zero_stage=1,
                                                                          runtime="megatron")),
    "Llama3_8B FSDP on DGX_H100": (("Llama3_8B", "Systems.Nodes.DGX_H100", 64, "bf16"),
                                   dict(zero_stage=3, runtime="pytorch_fsdp")),
    "Llama3_8B CP2 fp8 nemo on DGX_H100": (("Llama3_8B", "Systems.Nodes.DGX_H100", 64, "fp8"),
                                           dict(context_parallel=2, zero_stage=1, runtime="nemo")),
    "Llama3_70B TP8 PP4 uneven ends (first 19, last 19) megatron, Frontier_8K": (
        ("Llama3_70B", "Systems.Clusters.Frontier_8K", 2048, "bf16"),
        dict(tensor_parallel=8, pipeline_parallel=4, first_stage_layers=19, last_stage_layers=19, zero_stage=1,
             runtime="megatron")),
}


def main(repeats: int = 9, calls: int = 200) -> dict[str, float]:
    sys.path.insert(0, SRC)
    from mlsysim.solvers import DistributedModel

    d = DistributedModel()
    out = {}
    for name, (args, opts) in CASES.items():
        opts = dict(opts, seq_len=4096)
        d.solve(*args, **opts)
        samples = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            for _ in range(calls):
                d.solve(*args, **opts)
            samples.append((time.perf_counter() - t0) / calls)
        out[name] = min(samples)
        print(f"{name:<58} {out[name] * 1e6:9.0f} us")
    return out


if __name__ == "__main__":
    main()
