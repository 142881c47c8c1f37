"""Record Engine.solve outputs over a seeded random grid (tests/data/solve_grid.json), the reference the speed
property test (tests/test_speed_identity.py) compares every later implementation with. Rerun only on purpose:
a physics change that moves results is recorded here, in the same commit that explains it.

run: PYTHONPATH=src python tools/record_solve_grid.py            (a fresh grid from the registry as it is)
     PYTHONPATH=src python tools/record_solve_grid.py --rerun    (same cases, results recomputed: after a merge or
                                                                  a physics change, so the cases stay comparable)
"""
from __future__ import annotations

import json
import random
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "tests" / "data" / "solve_grid.json"
SEED, N = 20261203, 400
PRECISIONS = ("fp32", "fp16", "bf16", "fp8", "int8", "int4", None)


def grid(models: list[str], hardware: list[str]) -> list[dict]:
    rng = random.Random(SEED)
    cases = []
    for _ in range(N):
        case = {"model": rng.choice(models), "hardware": rng.choice(hardware),
                "batch_size": rng.choice((1, 2, 3, 8, 32, 128, 1024)), "precision": rng.choice(PRECISIONS)}
        r = rng.random()
        if r < 0.3:
            case["seq_len"] = rng.choice((1, 128, 512, 4096))
        elif r < 0.45:
            case["is_training"] = True
        elif r < 0.55:
            case["efficiency"] = round(rng.uniform(0.05, 1.0), 3)
        elif r < 0.6:
            case["weight_only"] = True
        elif r < 0.7:
            case["runtime"] = rng.choice(("vllm", "llamacpp", "tensorrt"))
        cases.append(case)
    return cases


def run(case: dict) -> dict:
    from mlsysim import Engine

    kw = {k: v for k, v in case.items() if v is not None or k != "precision"}
    try:
        r = Engine.solve(**kw)
    except Exception as e:  # an error is a result too: the same input must keep raising the same class
        return {"error": type(e).__name__}
    return {"latency_s": r.latency.m_as("s"), "throughput": r.throughput.m_as("1/s"),
            "throughput_units": str(r.throughput.units), "energy_j": r.energy.m_as("J"),
            "bottleneck": r.bottleneck, "mfu": r.mfu, "feasible": r.feasible, "to_dict": r.to_dict(),
            "summary": r.summary()}


def main() -> None:
    import sys

    import mlsysim

    if "--rerun" in sys.argv[1:]:
        cases = [row["case"] for row in json.loads(OUT.read_text())]
    else:
        cases = grid(sorted(mlsysim.Models.names()), sorted(mlsysim.Hardware.names()))
    rows = [{"case": c, "result": run(c)} for c in cases]
    OUT.write_text(json.dumps(rows, indent=0, sort_keys=True) + "\n")
    print(f"{len(rows)} cases, {sum('error' in r['result'] for r in rows)} errors -> {OUT}")


if __name__ == "__main__":
    main()
