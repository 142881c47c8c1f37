"""Wall time of CLI commands in a fresh interpreter: `mlsysim --help` (target < 0.3 s, issue 11) and one eval.

    python benchmarks/bench_cli.py [--repeat 5]

Each run is `python -m mlsysim ...` in a new process (what a user waits for); prints min and median.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
COMMANDS = (["--help"], ["eval", "Llama3_8B", "H100", "--json"], ["zoo", "hardware", "--json"])


def time_command(args: list[str], repeat: int) -> list[float]:
    env = dict(os.environ, PYTHONPATH=str(SRC))
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "mlsysim", *args], env=env, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args()
    for command in COMMANDS:
        t = time_command(command, args.repeat)
        print(f"mlsysim {' '.join(command):<28} min {min(t) * 1e3:7.1f} ms   median {statistics.median(t) * 1e3:7.1f} ms")


if __name__ == "__main__":
    main()
