"""Import + first Engine.solve in a fresh interpreter (run: python benchmarks/bench_import.py [--repeats N]).

Each statement runs in N fresh subprocesses with a warm catalog cache (a scratch MLSYSIM_CACHE_DIR, filled by
an untimed first run) and compiled bytecode (PYTHONDONTWRITEBYTECODE is dropped, as an installed wheel has its
.pyc files); the minimum wall time and the minimum CPU time (user + system of the child) are reported, since a
loaded shared machine only ever adds time. Builds given with --against (another checkout's src/) and mlsysim
0.1.1 (when /tmp/orig/bin/python exists) run interleaved with this one, so they see the same load.
Target (issue 11): import + first solve <= 150 ms wall on this machine.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[1] / "src")
ORIG_PYTHON = "/tmp/orig/bin/python"  # a scratch venv with mlsysim 0.1.1, where one is installed
FIRST_SOLVE = "import mlsysim; mlsysim.Engine.solve('Llama3_8B', 'H100', 1, 'fp16')"
# 0.1.1 takes specs, not names: the same solve spelled so that both versions run it.
FIRST_SOLVE_SPECS = "import mlsysim; mlsysim.Engine.solve(mlsysim.Models.Llama3_8B, mlsysim.Hardware.H100, 1, 'fp16')"
TARGET_MS = 150.0  # issue 11, on the project's 2-core development machine
STATEMENTS = {
    "python -c pass (interpreter start)": "pass",
    "import mlsysim": "import mlsysim",
    "import + Hardware.H100": "import mlsysim; mlsysim.Hardware.H100",
    "import + first Engine.solve": FIRST_SOLVE,
    "import + first solve (specs)": FIRST_SOLVE_SPECS,
}


def _env(src: str | None, cache: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH")}
    env["MLSYSIM_CACHE_DIR"] = cache
    if src is not None:
        env["PYTHONPATH"] = src
    return env


def _run(python: str, stmt: str, env: dict[str, str]) -> tuple[float, float]:
    """(wall s, CPU s) of one fresh interpreter running `stmt`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run([python, "-W", "ignore", "-c", stmt], check=True, env=env, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def measure(builds: dict[str, tuple[str, str | None]], statements: dict[str, str], repeats: int,
            skip: dict[str, set[str]] | None = None) -> dict[str, dict[str, dict[str, float]]]:
    """builds: label -> (python, src dir or None for the installed package); skip: label -> statement names that
    build cannot run. Returns {build: {statement: {"wall_ms", "cpu_ms"}}}, minima over `repeats` runs, the
    builds interleaved run by run."""
    skip = skip or {}
    out: dict[str, dict[str, dict[str, float]]] = {b: {} for b in builds}
    with tempfile.TemporaryDirectory(prefix="mlsysim-bench-import-") as scratch:
        envs = {label: _env(src, os.path.join(scratch, str(i))) for i, (label, (_, src)) in enumerate(builds.items())}
        runs = [(label, name) for name in statements for label in builds if name not in skip.get(label, set())]
        for label, name in runs:  # warm: catalog cache written, bytecode compiled
            _run(builds[label][0], statements[name], envs[label])
        best = {run: (float("inf"), float("inf")) for run in runs}
        for _ in range(repeats):  # round robin: a burst of load on the machine hits every build alike
            for label, name in runs:
                wall, cpu = _run(builds[label][0], statements[name], envs[label])
                best[label, name] = (min(best[label, name][0], wall), min(best[label, name][1], cpu))
        for (label, name), (wall, cpu) in best.items():
            out[label][name] = {"wall_ms": wall * 1e3, "cpu_ms": cpu * 1e3}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15, help="fresh interpreters per statement and build")
    parser.add_argument("--against", action="append", default=[], metavar="SRC",
                        help="another build's src/ directory, timed interleaved with this one")
    parser.add_argument("--no-orig", action="store_true", help="leave mlsysim 0.1.1 out even where it is installed")
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON only")
    args = parser.parse_args(argv)
    builds: dict[str, tuple[str, str | None]] = {"this build": (sys.executable, SRC)}
    for i, src in enumerate(args.against, start=1):
        builds[f"against {i}"] = (sys.executable, str(Path(src).resolve()))
    skip = {}
    if os.path.exists(ORIG_PYTHON) and not args.no_orig:
        builds["mlsysim 0.1.1"] = (ORIG_PYTHON, None)
        skip["mlsysim 0.1.1"] = {"import + first Engine.solve"}  # 0.1.1 cannot solve by name
    results = measure(builds, STATEMENTS, args.repeats, skip)
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(f"fresh interpreter, warm catalog cache, min of {args.repeats} runs (wall / CPU user+sys):")
    for label, rows in results.items():
        print(f"  {label} ({builds[label][1] or builds[label][0]})")
        for name, r in rows.items():
            print(f"    {name:<36} {r['wall_ms']:7.1f} ms wall  {r['cpu_ms']:7.1f} ms CPU")
    first = results["this build"]["import + first Engine.solve"]["wall_ms"]
    print(f"target import + first solve <= {TARGET_MS:.0f} ms wall: {'met' if first <= TARGET_MS else 'NOT met'} "
          f"({first:.1f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
