"""First use from many processes and threads at once, against a cold cache directory (a CI matrix, a
ProcessPoolExecutor sweep, a threaded server): every one succeeds, with identical results."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[1] / "src")
WORKERS = 16
SOLVE = ("import json, mlsysim; r = mlsysim.Engine.solve('Llama3_8B', 'H100'); "
         "print(json.dumps([r.latency.to('s').magnitude, r.throughput.magnitude, r.energy.to('J').magnitude]))")

THREADS = f"""
import json, threading, mlsysim
barrier = threading.Barrier({WORKERS})
results, errors = [None] * {WORKERS}, []

def work(i):
    try:
        barrier.wait()
        results[i] = mlsysim.Engine.solve('Llama3_8B', 'H100')
    except BaseException as exc:
        errors.append(repr(exc))

threads = [threading.Thread(target=work, args=(i,)) for i in range({WORKERS})]
for t in threads: t.start()
for t in threads: t.join()
total = results[0].latency
for r in results[1:]:
    total = total + r.latency  # one unit registry: quantities of different threads combine
print(json.dumps({{"errors": errors, "latencies": [r.latency.to('s').magnitude for r in results],
                  "registries": len({{id(r.latency._REGISTRY) for r in results}}),
                  "total": total.to('s').magnitude}}))
"""


def _env(cache: Path) -> dict:
    return dict(os.environ, PYTHONPATH=SRC, MLSYSIM_CACHE_DIR=str(cache))


def test_sixteen_processes_on_a_cold_cache_all_succeed_identically(tmp_path):
    cache = tmp_path / "cache"
    procs = [subprocess.Popen([sys.executable, "-c", SOLVE], env=_env(cache), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(WORKERS)]
    outs = [p.communicate(timeout=300) for p in procs]
    codes = [p.returncode for p in procs]
    assert codes == [0] * WORKERS, [err for _, err in outs if err][:1]
    results = {out for out, _ in outs}
    assert len(results) == 1 and json.loads(results.pop())[0] > 0
    # The cache those writers left is whole and is used by the next process.
    again = subprocess.run([sys.executable, "-c", SOLVE], env=_env(cache), capture_output=True, text=True,
                           check=True)
    assert again.stdout == outs[0][0]
    assert not [p for p in cache.iterdir() if p.name.startswith(".catalog-")]  # no temporary files left


def test_sixteen_threads_making_their_first_call_at_once(tmp_path):
    for run in ("cold", "warm"):
        out = subprocess.run([sys.executable, "-c", THREADS], env=_env(tmp_path / "cache"), capture_output=True,
                             text=True, timeout=300)
        assert out.returncode == 0, out.stderr
        data = json.loads(out.stdout)
        assert data["errors"] == [], run
        assert len(set(data["latencies"])) == 1, run
        assert data["registries"] == 1, run
        assert abs(data["total"] - WORKERS * data["latencies"][0]) <= 1e-12 * data["total"]
