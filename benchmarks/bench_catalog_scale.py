"""Import cost of a large user catalog (MLSYSIM_CATALOG_PATH): cold (validate + fill the cache) and warm.

    python benchmarks/bench_catalog_scale.py [--entries 10000] [--repeat 3]

Writes a user catalog of N accelerator entries (10 files) to a temporary directory and times, each in a fresh
interpreter, `import mlsysim; mlsysim.Hardware.<last entry>` with an empty cache directory (cold) and again
with the cache filled (warm), plus exact-name lookups and misses in the loaded registry.
Target of the reliability issue: cold < 3 s, warm < 0.3 s at 10,000 entries on a 2-core CI machine.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
ENTRY = """
[[hardware]]
name = "Bench{i}"
display_name = "Bench Accelerator {i}"
vendor = "Bench"
category = "Edge"
release_year = 2025
calibration_class = "edge_soc"
launch_overhead = "10 us"
peak_dense = {{ fp16 = "{fp16} TFLOP/s", int8 = "{int8} TOP/s" }}
memory = {{ kind = "LPDDR5", capacity = "16 GiB", bandwidth = "{bw} GB/s" }}
power = {{ tdp = "30 W", idle = "3 W" }}
provenance = {{ source = "synthetic benchmark entry", checked = "2026-12-02", kind = "estimate" }}
"""


def write_catalog(root: Path, entries: int, files: int = 10) -> str:
    (root / "hardware").mkdir(parents=True)
    per = -(-entries // files)
    for f in range(files):
        lines = ["schema_version = 1"]
        for i in range(f * per, min(entries, (f + 1) * per)):
            lines.append(ENTRY.format(i=i, fp16=10 + i % 90, int8=20 + i % 180, bw=50 + i % 400))
        (root / "hardware" / f"bench{f}.toml").write_text("\n".join(lines), encoding="utf-8")
    return f"Bench{entries - 1}"


def timed(code: str, env: dict) -> list[float]:
    """Run `code` in a fresh interpreter; its own printed numbers, then the total wall time."""
    probe = f"import time; t = time.perf_counter(); {code}; print(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    return [float(x) for x in out.stdout.split()]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        last = write_catalog(Path(tmp) / "user", args.entries)
        env = dict(os.environ, PYTHONPATH=str(SRC), MLSYSIM_CATALOG_PATH=str(Path(tmp) / "user"))
        load = f"import mlsysim; mlsysim.Hardware.{last}"
        cold, warm = [], []
        for r in range(args.repeat):
            env["MLSYSIM_CACHE_DIR"] = str(Path(tmp) / f"cache{r}")
            cold.append(timed(load, env)[-1])
            warm.append(timed(load, env)[-1])
        lookups, misses = timed(
            f"{load}; h = mlsysim.Hardware; t0 = time.perf_counter(); [h.get('{last}') for _ in range(1000)]; "
            "print((time.perf_counter() - t0) / 1000); t0 = time.perf_counter(); "
            "[h.get('bench-nope', ) if 0 else getattr(h, 'NoSuchChip', None) for _ in range(100)]; "
            "print((time.perf_counter() - t0) / 100)", env)[:2]
        print(f"{args.entries} user entries: cold import {statistics.median(cold):.2f} s, "
              f"warm import {statistics.median(warm):.3f} s (median of {args.repeat}); "
              f"exact lookup {lookups * 1e6:.1f} us, attribute miss {misses * 1e3:.2f} ms")


if __name__ == "__main__":
    main()
