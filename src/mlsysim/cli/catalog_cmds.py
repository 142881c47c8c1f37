"""Catalog commands: `list`, `show`, `zoo`, `schema`, `catalog validate|check-stability|add-model`, `validate`."""
from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from ._io import BAD_INPUT, OK, add_json, dumps, out, table

REGISTRIES = ["hardware", "models", "scenarios", "systems", "infra", "runtimes"]
ZOO = ["hardware", "models", "scenarios", "systems", "runtimes"]


def register(sub: argparse._SubParsersAction) -> None:
    ls = sub.add_parser("list", help="list registry entries")
    ls.add_argument("registry", choices=REGISTRIES)
    add_json(ls)
    ls.set_defaults(handler=_list)

    sh = sub.add_parser("show", help="every field of a catalog entry with units and provenance")
    sh.add_argument("name", help="registry name or path, e.g. H100, Models.Llama3_70B, Systems.Nodes.DGX_H100")
    add_json(sh)
    sh.set_defaults(handler=_show)

    zoo = sub.add_parser("zoo", help="tables of the catalog with each entry's key figures")
    zoo.add_argument("registry", choices=ZOO)
    zoo.add_argument("--category", default=None, help="only entries of this category / group (case-insensitive)")
    add_json(zoo)
    zoo.set_defaults(handler=_zoo)

    sc = sub.add_parser("schema", help="print the JSON Schema of a catalog file kind")
    sc.add_argument("kind", help="hardware, models, scenarios, systems, infra, runtimes, calibration or common")
    add_json(sc)  # the schema is JSON either way
    sc.set_defaults(handler=_schema)

    cat = sub.add_parser("catalog", help="catalog maintenance: validate, check-stability, add-model")
    csub = cat.add_subparsers(dest="catalog_command", required=True, parser_class=type(cat))
    va = csub.add_parser("validate", help="validate a catalog directory or TOML file as the import would")
    va.add_argument("path", help="a catalog directory (hardware/, models/, ...) or one <kind>/<file>.toml")
    add_json(va)
    va.set_defaults(handler=_catalog_validate)
    st = csub.add_parser("check-stability", help="registry entries are never removed or renamed (source checkout)")
    st.add_argument("--catalog", default=None, help="check this catalog directory instead of the shipped one")
    add_json(st)
    st.set_defaults(handler=_check_stability)
    am = csub.add_parser("add-model", help="a catalog [[models]] TOML entry from a local Hugging Face config.json")
    am.add_argument("config", help="path to config.json (or the directory holding it)")
    am.add_argument("--name", default=None, help="registry name (default: the directory / file name)")
    am.add_argument("--display-name", default=None)
    am.add_argument("--hf-id", default=None, help="Hugging Face repository id, e.g. Qwen/Qwen3-8B")
    am.add_argument("--source", default=None, help="provenance source (default: the file read), e.g. its HF URL")
    am.add_argument("--family", default=None, help="override the detected recipe (llama, qwen3_moe, ...)")
    am.add_argument("-o", "--output", default=None,
                    help="append the entry to this TOML file (created with schema_version when new)")
    add_json(am)
    am.set_defaults(handler=_add_model)

    vd = sub.add_parser("validate", help="accuracy report: predictions vs published measurements")
    vd.add_argument("--cases", default=None, help="a cases CSV (default: the shipped tests/validation/cases.csv)")
    add_json(vd)
    vd.set_defaults(handler=_validate)


def _root(name: str):
    from ..registry import registries

    return registries().roots[name.capitalize()]


def _list(args: argparse.Namespace) -> int:
    rows = [{"name": s.name, "display_name": s.display_name, "kind": type(s).__name__} for s in _root(args.registry)]
    if args.json:
        out(dumps(rows))
    else:
        width = max(len(r["name"]) for r in rows)
        for r in rows:
            out(f"{r['name']:<{width}}  {r['display_name']}")
    return OK


def _find(name: str) -> Any:
    from ..errors import UnknownEntryError
    from ..registry import ROOTS, registries

    roots = registries().roots
    head = name.split(".")[0]
    order = [head] if head in roots else list(ROOTS)
    for root in order:
        try:
            return roots[root].get(name)
        except UnknownEntryError:
            continue
    raise UnknownEntryError("the catalog", name, [n for r in order for n in roots[r].names()])


def _show(args: argparse.Namespace) -> int:
    from ..specs.describe import describe

    spec = _find(args.name)
    rows = describe(spec)
    if args.json:
        out(dumps({"kind": type(spec).__name__, "name": spec.name, "fields": dict(rows)}))
        return OK
    width = max(len(k) for k, _ in rows)
    out(f"{type(spec).__name__} {spec.name}")
    for key, text in rows:
        out(f"  {key:<{width}}  {text}")
    return OK


def _num(value: float, digits: int = 4) -> float:
    return float(f"{value:.{digits}g}")


def _zoo_row(kind: str, spec: Any) -> dict:
    """Key figures of one entry, in fixed units (the column names say which)."""
    if kind == "hardware":
        flops = spec.compute.precision_flops
        peak = flops.get("fp16") or spec.compute.peak_flops
        return {"name": spec.name, "category": spec.category, "fp16_tflops": _num(peak.m_as("TFLOP/s")),
                "memory_gib": _num(spec.memory.capacity.m_as("GiB")),
                "bandwidth_tb_s": _num(spec.memory.bandwidth.m_as("TB/s")), "release_year": spec.release_year}
    if kind == "models":
        row = {"name": spec.name, "category": spec.category, "architecture": spec.architecture,
               "params_b": _num(spec.parameter_count / 1e9)}
        if spec.active_parameter_count != spec.parameter_count:
            row["active_b"] = _num(spec.active_parameter_count / 1e9)
        if hasattr(spec, "layers"):
            row["layers"] = spec.layers
        return row
    if kind == "scenarios":
        return {"name": spec.name, "model": getattr(spec.model, "name", spec.model),
                "target": getattr(spec.target, "name", spec.target), "mode": spec.mode,
                "batch_size": spec.batch_size, "precision": spec.precision}
    if kind == "systems":
        row = {"name": spec.name, "kind": type(spec).__name__.removesuffix("Spec")}
        if hasattr(spec, "accelerators_per_node"):
            row.update(accelerator=spec.accelerator.name, devices=spec.accelerators_per_node)
        elif hasattr(spec, "node_count"):
            row.update(accelerator=spec.node.accelerator.name,
                       devices=spec.node_count * spec.node.accelerators_per_node)
        return row
    return {"name": spec.name, "display_name": spec.display_name,
            "precisions": ",".join(spec.precisions or ()) if spec.precisions else "",
            "hardware_classes": ",".join(spec.hardware_classes or ()) if spec.hardware_classes else ""}


def _group(kind: str, spec: Any) -> str:
    if kind in ("hardware", "models"):
        return spec.category
    return type(spec).__name__.removesuffix("Spec")


def _zoo(args: argparse.Namespace) -> int:
    from ..errors import InvalidInputError

    specs = list(_root(args.registry))
    if args.registry == "systems":
        specs = [s for s in specs if type(s).__name__ in ("NodeSpec", "ClusterSpec")]
    if args.category:
        groups = sorted({_group(args.registry, s) for s in specs})
        specs = [s for s in specs if _group(args.registry, s).casefold() == args.category.casefold()]
        if not specs:
            raise InvalidInputError(f"no {args.registry} of category {args.category!r}; categories: "
                                    f"{', '.join(groups)}")
    rows = [_zoo_row(args.registry, s) for s in specs]
    if args.json:
        out(dumps(rows))
    else:
        columns = list(dict.fromkeys(k for r in rows for k in r))
        table(rows, columns)
    return OK


def _schema(args: argparse.Namespace) -> int:
    from ..catalog.locations import KINDS, schema_dir
    from ..errors import InvalidInputError

    kinds = (*KINDS, "common")
    if args.kind not in kinds:
        raise InvalidInputError(f"unknown schema kind {args.kind!r}; known: {', '.join(kinds)}")
    out(dumps(json.loads((schema_dir() / f"{args.kind}.schema.json").read_text(encoding="utf-8"))))
    return OK


def _catalog_validate(args: argparse.Namespace) -> int:
    from ..catalog.loader import load_catalog
    from ..catalog.locations import KINDS
    from ..errors import InvalidInputError
    from ..registry import RegistrySet

    from ..catalog.locations import shipped_catalog_dir

    path = Path(args.path).expanduser()
    shipped = shipped_catalog_dir().resolve()
    with tempfile.TemporaryDirectory() as tmp:
        if path.exists() and (path.resolve() == shipped or shipped in path.resolve().parents):
            root = None  # part of the shipped catalog: validate it as shipped (a copy would clash with itself)
        elif path.is_file():
            if path.parent.name not in KINDS:
                raise InvalidInputError(f"{path} must sit in a directory named for its kind ({', '.join(KINDS)})")
            root = Path(tmp)
            (root / path.parent.name).mkdir()
            shutil.copy(path, root / path.parent.name / path.name)
        elif path.is_dir():
            root = path
        else:
            raise InvalidInputError(f"no catalog directory or TOML file at {path}")
        catalog = load_catalog(extra_dirs=[root] if root else None, use_cache=False)
        RegistrySet(catalog)  # cross-references: aliases, scenario targets, calibration classes
    counts = {k: len(v) for k, v in catalog.entries_by_kind().items()}
    if args.json:
        out(dumps({"valid": True, "path": str(path), "entries": counts}))
    else:
        out(f"catalog OK ({path} with the shipped catalog): "
            + ", ".join(f"{n} {k}" for k, n in counts.items()))
    return OK


def _stability_tool():
    import importlib.util

    from ..catalog.locations import PACKAGE_DIR
    from ..errors import InvalidInputError

    tool = PACKAGE_DIR.parents[1] / "tools" / "check_stability.py"
    if not tool.is_file():
        raise InvalidInputError("check-stability compares with the release records in tools/stability/ of a "
                                "source checkout; run it from the repository (python -m mlsysim in src/)")
    spec = importlib.util.spec_from_file_location("mlsysim_check_stability", tool)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def _check_stability(args: argparse.Namespace) -> int:
    import os

    from ..errors import CatalogError

    tool = _stability_tool()
    saved = os.environ.pop(tool.ENV_EXTRA, None)  # records hold shipped entries only
    try:
        surface = tool.current_surface(Path(args.catalog) if args.catalog else None)
    except tool.CatalogUnloadable as exc:
        raise CatalogError(f"cannot load the catalog: {exc}") from None
    finally:
        if saved is not None:
            os.environ[tool.ENV_EXTRA] = saved
    problems = tool.check(surface, tool.RECORDS)
    if args.json:
        out(dumps({"stable": not problems, "registry_paths": len(surface["registry"]), "problems": problems}))
    elif not problems:
        out(f"stability OK: {len(surface['registry'])} registry paths, stable API unchanged")
    for p in problems if not args.json else ():
        from ._io import error

        error(f"stability: {p}")
    return OK if not problems else BAD_INPUT


def _add_model(args: argparse.Namespace) -> int:
    from ..catalog.loader import build_spec
    from ..hf_config import catalog_entry, to_toml

    entry = catalog_entry(args.config, name=args.name, display_name=args.display_name, family=args.family,
                          source=args.source, hf_id=args.hf_id)
    spec = build_spec("models", entry, label=args.config)  # what `import` will say about it, said now
    if args.output:
        target = Path(args.output)
        exists = target.is_file() and target.stat().st_size > 0
        with open(target, "a", encoding="utf-8") as fh:
            fh.write(("\n" if exists else "") + to_toml(entry, header=not exists))
    if args.json:
        out(dumps({"entry": entry, "parameters": spec.parameter_count,
                   "active_parameters": spec.active_parameter_count, "written_to": args.output}))
    elif args.output:
        out(f"appended {entry['name']} ({spec.parameter_count / 1e9:.4g}B parameters) to {args.output}")
    else:
        out(to_toml(entry).rstrip("\n"))
    return OK


def _validate(args: argparse.Namespace) -> int:
    from .. import validation
    from ..errors import InvalidInputError
    from ..validation.distributed import run as run_distributed
    from ..validation.serving import breakdown, run as run_serving

    cases = Path(args.cases) if args.cases else validation.DEFAULT_CASES
    if not cases.is_file():
        raise InvalidInputError(f"no validation cases at {cases}; pass --cases PATH")
    results = validation.run(cases)
    extra = {"distributed": cases.parent / "distributed_cases.csv", "serving": cases.parent / "serving_cases.csv"}
    if extra["distributed"].is_file():
        results += run_distributed(extra["distributed"])
    if extra["serving"].is_file():
        results += run_serving(extra["serving"])
    if args.json:
        rows = [{"id": r.id, "metric": r.metric, "role": r.role, "model": r.model, "hardware": r.hardware,
                 "runtime": r.runtime, "measured": r.measured, "predicted": r.predicted, "error_pct": r.error}
                for r in results]
        out(dumps({"cases": str(cases), "median_error_pct": validation.median_errors(results), "rows": rows}))
        return OK
    out(validation.report(results))
    if extra["serving"].is_file():
        out(breakdown(results, extra["serving"]))
    return OK
