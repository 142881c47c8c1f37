"""Guard the v0.1.x stability promise.

Checks, against the committed records in tools/stability/<release>.json:
  * every registry path shipped in a release still resolves, to an entry of the same kind and display name
    (entries may be added, never removed or renamed);
  * the stable API surface: Engine.solve's first five parameters, in order, and their defaults; the six stable
    result fields of PerformanceProfile; the top-level names Hardware, Models, Scenarios, ureg and Engine.

Only the shipped catalog counts: MLSYSIM_CATALOG_PATH and the validated-catalog cache are ignored. The catalog
is loaded leniently (no cross-entry reference checks), so a removed entry is named by its path and release; a
dangling reference is then reported on one line of its own.

Usage:
  python tools/check_stability.py            # exit 1 naming each removed/renamed entry and its release
  python tools/check_stability.py --record   # write tools/stability/<current version>.json (release time)
Options (for tests and experiments): --catalog DIR checks a copy of the catalog instead of the shipped one;
--records DIR reads (or, with --record, writes) the release records there.
"""
from __future__ import annotations

import argparse
import contextlib
import inspect
import json
import os
import sys
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parents[1]
RECORDS = ROOT / "tools" / "stability"
sys.path.insert(0, str(ROOT / "src"))

ENV_EXTRA = "MLSYSIM_CATALOG_PATH"  # user catalogs: never part of a stability record
STABLE_SOLVE_PARAMS = ["model", "hardware", "batch_size", "precision", "efficiency"]
STABLE_SOLVE_DEFAULTS = {"batch_size": 1, "precision": "fp16", "efficiency": None}
STABLE_RESULT_FIELDS = ["latency", "throughput", "bottleneck", "mfu", "feasible", "energy"]
STABLE_NAMES = ["Engine", "Hardware", "Models", "Scenarios", "ureg"]
NO_DEFAULT = "<no default>"


class CatalogUnloadable(Exception):
    """The catalog could not be loaded at all (a syntax or schema error, an unreadable file)."""


@contextlib.contextmanager
def _catalog_root(directory: Path | None) -> Iterator[None]:
    """Make the loader read `directory` as the shipped catalog (mlsysim has no parameter for this)."""
    if directory is None:
        yield
        return
    from mlsysim.catalog import locations

    original = locations.shipped_catalog_dir
    locations.shipped_catalog_dir = lambda: Path(directory)
    try:
        yield
    finally:
        locations.shipped_catalog_dir = original


def load_registries(catalog_dir: Path | None = None) -> tuple[Any, str | None]:
    """(lenient registry set of the shipped catalog, or of `catalog_dir`; the dangling-reference error or None).

    Never reads MLSYSIM_CATALOG_PATH (extra_dirs=[]) or the cache (use_cache=False).
    Raises CatalogUnloadable when the catalog cannot be loaded even leniently.
    """
    from mlsysim.catalog.loader import load_catalog
    from mlsysim.errors import MlsysimError
    from mlsysim.registry import RegistrySet

    try:
        with _catalog_root(catalog_dir):
            catalog = load_catalog(extra_dirs=[], use_cache=False)
        reg = RegistrySet(catalog, check_references=False)
    except (MlsysimError, OSError) as exc:
        raise CatalogUnloadable(_one_line(exc)) from None
    try:
        RegistrySet(catalog)  # the strict reference checks, on their own
    except MlsysimError as exc:
        return reg, _one_line(exc)
    return reg, None


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _json_value(value: Any) -> Any:
    """A default as it is recorded: JSON scalars as themselves, anything else by type and repr."""
    if value is inspect.Parameter.empty:
        return NO_DEFAULT
    if value is None or type(value) in (bool, int, float, str):
        return value
    if isinstance(value, str):  # a str subclass marking a default (Engine.solve's "fp16") records as its text
        return str(value)
    return f"<{type(value).__name__} {value!r}>"


def _same(a: Any, b: Any) -> bool:
    """Equal and of the same JSON type (True is not 1, 1.0 is not 1)."""
    return type(a) is type(b) and a == b


def _present_names(reg: Any) -> list[str]:
    """Which STABLE_NAMES `mlsysim` provides; the registries are answered from `reg`, not by loading again."""
    import mlsysim
    import mlsysim.registry as registry

    saved = getattr(registry, "_loaded", None)
    registry._loaded = reg
    present = []
    try:
        for name in STABLE_NAMES:
            try:
                getattr(mlsysim, name)
            except AttributeError:
                continue
            except Exception:  # the name exists; loading what it names failed (reported elsewhere)
                pass
            present.append(name)
    finally:
        registry._loaded = saved
    return present


def current_surface(catalog_dir: Path | None = None) -> dict:
    """The stable surface of this tree: registry paths of the shipped catalog (or `catalog_dir`) and the API.

    Raises CatalogUnloadable when the catalog cannot be loaded.
    """
    import attrs

    import mlsysim

    reg, dangling = load_registries(catalog_dir)
    paths = {}
    for root in reg.roots.values():
        for path in root.paths():
            spec = reg.resolve_path(path)
            paths[path] = {"kind": type(spec).__name__, "display_name": spec.display_name}
    params = list(inspect.signature(mlsysim.Engine.solve).parameters.values())
    positional = [p for p in params[:5] if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    # A stable field is an attrs field or a property of the result (latency, throughput, energy: Quantities built
    # on access from the stored floats)
    fields = [f.name for f in attrs.fields(mlsysim.PerformanceProfile)] + \
        [n for n, v in vars(mlsysim.PerformanceProfile).items() if isinstance(v, property)]
    return {
        "version": mlsysim.__version__,
        "registry": dict(sorted(paths.items())),
        "api": {
            "Engine.solve": [p.name for p in positional],
            "Engine.solve defaults": {p.name: _json_value(p.default) for p in positional
                                      if p.name in STABLE_SOLVE_DEFAULTS},
            "PerformanceProfile": [f for f in STABLE_RESULT_FIELDS if f in fields],
        },
        "names": _present_names(reg),
        "dangling_reference": dangling,
    }


def record_of(surface: dict) -> dict:
    """What --record writes: the version, the registry paths and the API (not the checks of this run)."""
    return {"version": surface["version"], "registry": surface["registry"], "api": surface["api"]}


def _show(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def read_record(path: Path) -> dict:
    """One release record, or ValueError saying in one line what is wrong with it."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"cannot read it: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text: {exc.reason} at byte {exc.start}") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON: {exc.msg} (line {exc.lineno} column {exc.colno})") from None
    except RecursionError:
        raise ValueError("invalid JSON: nested too deeply") from None
    if not isinstance(record, dict):
        raise ValueError(f"expected a JSON object, found {type(record).__name__}")
    for key, kind in (("version", str), ("registry", dict), ("api", dict)):
        if key not in record:
            raise ValueError(f"missing key {key!r}")
        if not isinstance(record[key], kind):
            raise ValueError(f"{key!r} must be a JSON {'string' if kind is str else 'object'}, "
                             f"found {type(record[key]).__name__}")
    if not record["version"].strip():
        raise ValueError("'version' is empty")
    if path.suffix == ".json" and path.stem != record["version"]:
        raise ValueError(f"version {record['version']!r} does not match the file name")
    for reg_path, entry in record["registry"].items():
        if not (isinstance(entry, dict) and isinstance(entry.get("kind"), str)
                and isinstance(entry.get("display_name"), str)):
            raise ValueError(f"registry path {reg_path!r} must map to an object with string 'kind' and "
                             f"'display_name'")
    for name, value in record["api"].items():
        if name == "Engine.solve defaults":
            if not isinstance(value, dict):
                raise ValueError(f"api {name!r} must be a JSON object")
        elif not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            raise ValueError(f"api {name!r} must be a list of strings")
    return record


def _fmt(value: Any) -> str:
    return value if value == NO_DEFAULT else json.dumps(value)


def check(surface: dict, records_dir: Path | None = None) -> list[str]:
    """Every way `surface` breaks the promise recorded in `records_dir` (default tools/stability), one line each."""
    records_dir = RECORDS if records_dir is None else Path(records_dir)
    problems = []
    records = sorted(records_dir.glob("*.json"))
    if not records:
        problems.append(f"no release record in {records_dir}; run with --record at release time")
    defaults = surface["api"].get("Engine.solve defaults", {})
    flagged_defaults: set[str] = set()
    for record_path in records:
        try:
            record = read_record(record_path)
        except ValueError as exc:
            problems.append(f"{_show(record_path)}: not a valid stability record: {exc}")
            continue
        release = record["version"]
        for path, old in record["registry"].items():
            new = surface["registry"].get(path)
            if new is None:
                problems.append(f"{path}: shipped in {release}, now missing (removed or renamed)")
            elif new != old:
                problems.append(f"{path}: shipped in {release} as {old['kind']} {old['display_name']!r}, "
                                f"now {new['kind']} {new['display_name']!r}")
        for name, expected in record["api"].items():
            if name == "Engine.solve defaults":
                for param, old in expected.items():
                    new = defaults.get(param, NO_DEFAULT)
                    if not _same(new, old):
                        flagged_defaults.add(param)
                        problems.append(f"stable API Engine.solve default of {param} changed since {release}: "
                                        f"was {_fmt(old)}, now {_fmt(new)}")
            elif surface["api"].get(name) != expected:
                problems.append(f"stable API {name} changed since {release}: was {expected}, "
                                f"now {surface['api'].get(name)}")
    if surface["api"]["Engine.solve"] != STABLE_SOLVE_PARAMS:
        problems.append(f"Engine.solve positional parameters must be {STABLE_SOLVE_PARAMS}, "
                        f"are {surface['api']['Engine.solve']}")
    for param, stable in STABLE_SOLVE_DEFAULTS.items():
        new = defaults.get(param, NO_DEFAULT)
        if param not in flagged_defaults and not _same(new, stable):
            problems.append(f"Engine.solve default of {param} must be {_fmt(stable)}, is {_fmt(new)}")
    if surface["api"]["PerformanceProfile"] != STABLE_RESULT_FIELDS:
        problems.append(f"PerformanceProfile must carry {STABLE_RESULT_FIELDS}")
    missing = [n for n in STABLE_NAMES if n not in surface.get("names", STABLE_NAMES)]
    if missing:
        problems.append(f"stable top-level names missing from mlsysim: {', '.join(missing)}")
    if surface.get("dangling_reference"):
        problems.append(f"the catalog has a dangling reference: {surface['dangling_reference']}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record", action="store_true", help="write the record of the current release")
    parser.add_argument("--catalog", type=Path, metavar="DIR",
                        help="check this catalog directory instead of the shipped one")
    parser.add_argument("--records", type=Path, metavar="DIR", default=RECORDS,
                        help=f"directory of the release records (default {_show(RECORDS)})")
    args = parser.parse_args(argv)
    try:
        surface = current_surface(args.catalog)
    except CatalogUnloadable as exc:
        print(f"stability: cannot load the catalog: {exc}", file=sys.stderr)
        return 1
    if args.record:
        if surface["dangling_reference"]:
            print(f"stability: not recording, the catalog has a dangling reference: "
                  f"{surface['dangling_reference']}", file=sys.stderr)
            return 1
        args.records.mkdir(parents=True, exist_ok=True)
        out = args.records / f"{surface['version']}.json"
        out.write_text(json.dumps(record_of(surface), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"recorded {len(surface['registry'])} registry paths of {surface['version']} in {out}")
        return 0
    problems = check(surface, args.records)
    for p in problems:
        print(f"stability: {p}", file=sys.stderr)
    if problems:
        return 1
    print(f"stability OK: {len(surface['registry'])} registry paths, stable API unchanged")
    return 0


if __name__ == "__main__":
    os.environ.pop(ENV_EXTRA, None)  # records hold shipped entries only
    raise SystemExit(main())
