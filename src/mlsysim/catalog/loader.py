"""Load the whole catalog (shipped + MLSYSIM_CATALOG_PATH) into spec objects, all or nothing.

Hot path (nothing changed): hash file bytes, read the cached validated JSON, structure with cattrs.
Cold path (any catalog or schema byte changed): TOML + JSON Schema + pint units, then rewrite the cache.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import attrs

from .._version import __version__
from ..errors import CatalogError
from . import locations
from .structure import structure

# Bump when the normalised format or the conversion rules change, so old caches are ignored.
LOADER_FORMAT = 3


@attrs.frozen
class LoadedEntry:
    array: str          # "hardware", "models", "fabrics", ...
    spec: Any
    file: str           # label of the file that defined it (for error messages)


@attrs.frozen
class Catalog:
    entries: tuple[LoadedEntry, ...]
    files: tuple[str, ...]

    def entries_by_kind(self) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = {}
        for e in self.entries:
            out.setdefault(e.array, []).append(e.spec)
        return out


def _catalog_files(root: Path, label_root: str) -> list[tuple[str, str, Path]]:
    files = []
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() == ".toml"):
        kind = path.parent.name
        label = f"{label_root}/{path.relative_to(root).as_posix()}"
        if path.parent.parent != root or kind not in locations.KINDS or path.suffix != ".toml":
            # A file the loader would not read must not be skipped silently.
            raise CatalogError("catalog file is outside the layout", file=label,
                               expected=f"<catalog>/<kind>/<name>.toml with kind one of {', '.join(locations.KINDS)}")
        files.append((kind, label, path))
    return sorted(files, key=lambda f: (locations.KINDS.index(f[0]), f[1]))


def _all_files(extra_dirs: list[Path] | None) -> list[tuple[str, str, Path]]:
    files = _catalog_files(locations.shipped_catalog_dir(), "catalog")
    for d in (extra_dirs if extra_dirs is not None else locations.extra_catalog_dirs()):
        files += _catalog_files(d, str(d))
    return files


def _fingerprint(files: list[tuple[str, str, Path]], schema_files: list[Path]) -> str:
    """Hash of every byte that decides the validated result: loader format, schemas, catalog files."""
    h = hashlib.sha256(f"{LOADER_FORMAT}|{__version__}".encode())
    for label, path in [(p.name, p) for p in schema_files] + [(label, p) for _, label, p in files]:
        h.update(label.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def _validated(files: list[tuple[str, str, Path]]) -> list[dict]:
    from .validate import SchemaSet, check_schema, convert_units, read_toml

    schemas = SchemaSet(locations.schema_dir())
    out = []
    for kind, label, path in files:
        data = read_toml(path, label)
        check_schema(schemas, kind, data, label)
        out.append({"kind": kind, "file": label, "data": convert_units(schemas, kind, data, label)})
    return out


def _read_cache(path: Path | None) -> list[dict] | None:
    if path is None:
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _write_cache(path: Path | None, payload: list[dict]) -> None:
    if path is None:
        return
    try:  # a cache is an optimisation: an unwritable location only costs the next import time
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".catalog-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(payload, fh)
        os.replace(tmp, path)
    except OSError:
        pass


def load_catalog(extra_dirs: list[Path] | None = None, *, use_cache: bool = True) -> Catalog:
    files = _all_files(extra_dirs)
    schema_files = sorted(locations.schema_dir().glob("*.schema.json"))
    key = _fingerprint(files, schema_files)
    cache_root = locations.cache_dir() if use_cache else None
    cache_path = cache_root / f"catalog-{key[:32]}.json" if cache_root else None
    payload = _read_cache(cache_path)
    if payload is None:
        payload = _validated(files)
        _write_cache(cache_path, payload)
    entries = []
    for item in payload:
        for array in locations.ENTRY_ARRAYS[item["kind"]]:
            for raw in item["data"].get(array, ()):
                entries.append(LoadedEntry(array, structure(array, raw, file=item["file"]), item["file"]))
    return Catalog(tuple(entries), tuple(i["file"] for i in payload))


def build_spec(array: str, data: dict, *, label: str = "<python>") -> Any:
    """Build one spec from catalog-style data (unit strings allowed) with the full catalog validation.

    ``array`` is the catalog table name: "hardware", "models", "scenarios", "fabrics", "nodes", ...
    """
    from .validate import SchemaSet, check_schema, convert_units

    kind = next((k for k, arrays in locations.ENTRY_ARRAYS.items() if array in arrays), None)
    if kind is None:
        raise CatalogError(f"unknown catalog table {array!r}",
                           expected=f"one of {', '.join(a for arrays in locations.ENTRY_ARRAYS.values() for a in arrays)}")
    schemas = SchemaSet(locations.schema_dir())
    doc = {"schema_version": 1, array: [data]}
    check_schema(schemas, kind, doc, label)
    return structure(array, convert_units(schemas, kind, doc, label)[array][0], file=label)
