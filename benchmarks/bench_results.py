"""Time what a user pays per call beyond the solve: reading a stable field in a unit, summary(), to_dict(),
ServingModel's static solve, and import + first solve in a fresh process; the same statements timed under
another interpreter (e.g. mlsysim 0.1.1: --other /tmp/orig/bin/python) beside this build.

run: python benchmarks/bench_results.py [--other PYTHON]
Medians of repeated loops; compare builds on the same machine only.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[1] / "src")
PROBE = r'''
import statistics, time, warnings, json  # CPU time of this process (a loaded machine inflates wall time)
warnings.simplefilter("ignore")
import mlsysim
from mlsysim import Engine, Hardware, Models
m, h = Models.Llama3_70B if hasattr(Models, "Llama3_70B") else Models.get("Llama3_70B"), Hardware.H100
def t(f, n):
    f()
    s = []
    for _ in range(5):
        t0 = time.process_time()
        for _ in range(n): f()
        s.append((time.process_time() - t0) / n)
    return min(s) * 1e6
r = Engine.solve(m, h, batch_size=8, precision="fp8")
out = {"Engine.solve (warm)": t(lambda: Engine.solve(m, h, batch_size=8, precision="fp8"), 2000),
       "r.latency.to('ms')": t(lambda: r.latency.to("ms"), 2000),
       "r.throughput.to('1/s')": t(lambda: r.throughput.to("1/s"), 2000),
       "r.energy.to('mJ')": t(lambda: r.energy.to("mJ"), 2000)}
if hasattr(r, "summary"):
    out["summary()"] = t(lambda: r.summary(), 300)  # this build keeps a profile's text: a repeated call is a read
    # a fresh profile each call (the first summary() of every result): subtract the warm solve above
    out["summary() of a new result (solve excluded)"] = t(
        lambda: Engine.solve(m, h, batch_size=8, precision="fp8").summary(), 300) - out["Engine.solve (warm)"]
if hasattr(r, "to_dict"):
    out["to_dict()"] = t(lambda: r.to_dict(), 1000)
try:
    from mlsysim.solvers import ServingModel
except ImportError:
    from mlsysim import ServingModel
sm = ServingModel()
try:  # this build's default is continuous batching; 0.1.1 had only the static batch (no batching= argument)
    sm.solve(m, h, seq_len=2048, batch_size=8, batching="static")
    static = {"batching": "static"}
except TypeError:
    static = {}
out["ServingModel.solve (static)"] = t(lambda: sm.solve(m, h, seq_len=2048, batch_size=8, **static), 300)
out["ServingModel.solve (default batching)"] = t(lambda: sm.solve(m, h, seq_len=2048, batch_size=8), 300)
sr = sm.solve(m, h, seq_len=2048, batch_size=8, **static)  # another family's result (SolverResult's text)
for name in ("summary", "to_dict"):
    if hasattr(sr, name):
        out[f"ServingResult.{name}()"] = t(getattr(sr, name), 100)
print(json.dumps(out))
'''
FIRST = "import mlsysim; mlsysim.Engine.solve(mlsysim.Models.Llama3_8B, mlsysim.Hardware.H100)"


def measure(python: str, env: dict[str, str]) -> dict[str, float]:
    res = subprocess.run([python, "-c", PROBE], check=True, capture_output=True, text=True, env=env)
    out = json.loads(res.stdout.strip().splitlines()[-1])
    import statistics
    import time
    samples = []
    for i in range(6):
        t0 = time.perf_counter()
        subprocess.run([python, "-c", FIRST], check=True, env=env, capture_output=True)
        if i:  # the first run warms the catalog cache
            samples.append(time.perf_counter() - t0)
    out["import + first solve (fresh process), ms"] = statistics.median(samples) * 1e3
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--other", help="another interpreter with mlsysim installed (e.g. 0.1.1)")
    args = ap.parse_args()
    import os
    cols = {"this build": measure(sys.executable, {**os.environ, "PYTHONPATH": SRC})}
    if args.other:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        try:
            cols["other"] = measure(args.other, env)
        except subprocess.CalledProcessError as e:
            print(f"other interpreter failed: {e.stderr[-400:]}")
    keys = list(cols["this build"])
    print(f"{'':<44}" + "".join(f"{c:>14}" for c in cols) + "   (us unless named)")
    for k in keys:
        print(f"{k:<44}" + "".join(f"{cols[c].get(k, float('nan')):14.1f}" for c in cols))


if __name__ == "__main__":
    main()
