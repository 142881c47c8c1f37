"""Guard the v0.1.x stability promise.

Checks, against the committed records in tools/stability/<release>.json:
  * every registry path shipped in a release still resolves, to an entry of the same kind and display name
    (entries may be added, never removed or renamed);
  * the stable API surface: Engine.solve's first five parameters, in order, and the six stable result fields.

Usage:
  python tools/check_stability.py            # exit 1 naming each removed/renamed entry and its release
  python tools/check_stability.py --record   # write tools/stability/<current version>.json (release time)
"""
from __future__ import annotations

import argparse
import inspect
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RECORDS = ROOT / "tools" / "stability"
sys.path.insert(0, str(ROOT / "src"))

STABLE_SOLVE_PARAMS = ["model", "hardware", "batch_size", "precision", "efficiency"]
STABLE_RESULT_FIELDS = ["latency", "throughput", "bottleneck", "mfu", "feasible", "energy"]


def current_surface() -> dict:
    import attrs

    import mlsysim
    from mlsysim.registry import registries

    reg = registries()
    paths = {}
    for root in reg.roots.values():
        for path in root.paths():
            spec = reg.resolve_path(path)
            paths[path] = {"kind": type(spec).__name__, "display_name": spec.display_name}
    params = list(inspect.signature(mlsysim.Engine.solve).parameters.values())
    fields = [f.name for f in attrs.fields(mlsysim.PerformanceProfile)]
    return {
        "version": mlsysim.__version__,
        "registry": dict(sorted(paths.items())),
        "api": {
            "Engine.solve": [p.name for p in params[:5]
                             if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)],
            "PerformanceProfile": [f for f in STABLE_RESULT_FIELDS if f in fields],
        },
    }


def check(surface: dict) -> list[str]:
    problems = []
    records = sorted(RECORDS.glob("*.json"))
    if not records:
        problems.append(f"no release record in {RECORDS}; run with --record at release time")
    for record_path in records:
        record = json.loads(record_path.read_text())
        release = record["version"]
        for path, old in record["registry"].items():
            new = surface["registry"].get(path)
            if new is None:
                problems.append(f"{path}: shipped in {release}, now missing (removed or renamed)")
            elif new != old:
                problems.append(f"{path}: shipped in {release} as {old['kind']} {old['display_name']!r}, "
                                f"now {new['kind']} {new['display_name']!r}")
        for name, expected in record["api"].items():
            if surface["api"].get(name) != expected:
                problems.append(f"stable API {name} changed since {release}: was {expected}, "
                                f"now {surface['api'].get(name)}")
    if surface["api"]["Engine.solve"] != STABLE_SOLVE_PARAMS:
        problems.append(f"Engine.solve positional parameters must be {STABLE_SOLVE_PARAMS}, "
                        f"are {surface['api']['Engine.solve']}")
    if surface["api"]["PerformanceProfile"] != STABLE_RESULT_FIELDS:
        problems.append(f"PerformanceProfile must carry {STABLE_RESULT_FIELDS}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record", action="store_true", help="write the record of the current release")
    args = parser.parse_args(argv)
    surface = current_surface()
    if args.record:
        RECORDS.mkdir(parents=True, exist_ok=True)
        out = RECORDS / f"{surface['version']}.json"
        out.write_text(json.dumps(surface, indent=1, ensure_ascii=False) + "\n")
        print(f"recorded {len(surface['registry'])} registry paths of {surface['version']} in {out}")
        return 0
    problems = check(surface)
    for p in problems:
        print(f"stability: {p}", file=sys.stderr)
    if problems:
        return 1
    print(f"stability OK: {len(surface['registry'])} registry paths, stable API unchanged")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
