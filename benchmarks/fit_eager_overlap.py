"""Fit the eager launch model (mlsysim.core.runtime_costs.pass_time) on this project's eager vs CUDA-graph decode
timings of the same step (benchmarks/device/measure_gpu.py `decoder`, H200; tests/validation/device/*.log).

A decode step of N kernels runs in graph replay in G (measured: GPU work + the graph's gaps) and eagerly in E.
Additive rule (a fixed cost per kernel in series): E = G + N x c. Overlap rule (async host dispatch, a two-stage
pipeline): E = max(N x c_host, G + N x d), d the extra GPU time of a stream launch over a graph replay.
c_host: median of E / N over the steps where the host is the slower stage (E > 1.25 G);
d: median of (E - G) / N over the steps where the GPU is (E < 1.25 G). The catalog's async_gap is the graph gap
(launch.graph_kernel_cost of pytorch_cuda_graph, 2 us) + d, since the engine's graph-replay time is GPU work + 2 us
per kernel. Then both rules are scored on every step with the fitted constants.

Kernels per decode step, counted from the `decoder` code (ATen kernels, views free): per layer RMSNorm 8 (float,
pow, mean, add, rsqrt, to, mul, mul) x 2, QKV, O, gate-up and down matmuls 4, K and V cache writes 2, SDPA 1,
two residual adds 2, SiLU and the gated multiply 2 = 27; per step embedding gather 1 + final RMSNorm 8 + LM head 1.

Usage: python benchmarks/fit_eager_overlap.py
"""
from __future__ import annotations

import ast
import re
import statistics
from pathlib import Path

LOGS = sorted((Path(__file__).resolve().parents[1] / "tests" / "validation" / "device").glob("h200-*.log"))
PER_LAYER, PER_STEP = 27, 10
LAYERS = {"llama31_8b": 32, "llama2_13b": 40}
GRAPH_GAP = 2e-6  # pytorch_cuda_graph launch.graph_kernel_cost (catalog/runtimes/frameworks.toml)
HOST_BOUND = 1.25  # E / G above this: the host is the slower stage


def steps():
    """(name, kernels, graph seconds, eager seconds) of every decode step in the device logs."""
    out = []
    for log in LOGS:
        for line in log.read_text().splitlines():
            m = re.match(r"\[\s*[\d.]+s\] (decode_(\w+?)_b\d+\S*): (\{.*\})$", line)
            if not m or "step_s_eager" not in line:
                continue
            model = next(k for k in LAYERS if m.group(2).startswith(k))
            rec = ast.literal_eval(m.group(3))
            out.append((f"{log.stem}:{m.group(1)}", LAYERS[model] * PER_LAYER + PER_STEP,
                        rec["step_s_graph"], rec["step_s_eager"]))
    return out


if __name__ == "__main__":
    data = steps()
    host = [e / n for _, n, g, e in data if e > HOST_BOUND * g]
    gpu = [(e - g) / n for _, n, g, e in data if e <= HOST_BOUND * g]
    c_host, d = statistics.median(host), statistics.median(gpu)
    print(f"{len(data)} steps: host cost per kernel {c_host * 1e6:.1f} us (median of {len(host)} host-bound), "
          f"extra GPU time per stream launch {d * 1e6:.2f} us (median of {len(gpu)} GPU-bound) -> async_gap "
          f"{(GRAPH_GAP + d) * 1e6:.1f} us")
    add_err, ovl_err = [], []
    for name, n, g, e in data:
        additive = g + n * c_host
        overlap = max(n * c_host, g + n * d)
        add_err.append(abs(additive / e - 1) * 100)
        ovl_err.append(abs(overlap / e - 1) * 100)
        print(f"  {name:55s} N={n:5d} graph {g * 1e3:6.2f} ms eager {e * 1e3:6.2f} ms  additive "
              f"{additive * 1e3:6.2f} ({add_err[-1]:4.1f} %)  overlap {overlap * 1e3:6.2f} ({ovl_err[-1]:4.1f} %)")
    print(f"median error: additive {statistics.median(add_err):.1f} %, overlap {statistics.median(ovl_err):.1f} %")
