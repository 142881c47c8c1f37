"""Load the whole catalog (shipped + MLSYSIM_CATALOG_PATH) into spec objects, all or nothing.

Warm path (nothing changed): read and hash the file bytes, read the verified cache, build each entry on first use
(directly from its fields, catalog/direct.py; no cattrs).
Cold path (any catalog or schema byte changed): TOML (tomli), the compiled schema-and-units pass (jsonschema
for the exact message when a file is wrong), structure every entry with cattrs, then rewrite the cache.
"""
from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Any

from .._version import __version__
from ..errors import CatalogError
from . import cache, locations
from .files import CatalogFile, all_catalog_files
from .structure import structure, structure_cached

# Bump when the normalised format or the conversion rules change, so old caches are ignored.
LOADER_FORMAT = 5


# Registry paths an entry names, per catalog table (checked by the registry at load).
REFERENCE_FIELDS = {
    "hardware": ("calibration_class",), "scenarios": ("model", "target"), "nodes": ("accelerator", "fabric"),
    "clusters": ("node", "fabric"), "tiers": ("representative_hardware",),
}
# Names an entry is also looked up by (Models.get("Qwen/Qwen3-32B")), per catalog table: carried with the
# reference fields in the entry's index, so the registry indexes them without building the spec.
LOOKUP_FIELDS = {"models": ("hf_id",)}
_materialise = threading.Lock()


class LoadedEntry:
    """One catalog entry: what the registry needs to place and check it, and its spec, built on first use.

    A cold load structures every entry (that is the validation); a warm load reads entries from the verified
    cache of a load that structured all of them, so each spec is built only when it is first reached.
    """

    __slots__ = ("array", "file", "name", "display_name", "category", "aliases", "refs", "_raw", "_spec")

    def __init__(self, array: str, file: str, index: list, raw: Any, spec: Any = None):
        self.array, self.file = array, file       # catalog table ("hardware", "fabrics", ...), defining file
        self.name, self.display_name, self.category, aliases, self.refs = index
        self.aliases = tuple(aliases)
        self._raw, self._spec = raw, spec          # raw: the entry's validated data, or its JSON text

    @property
    def spec(self) -> Any:
        if self._spec is None:
            with _materialise:  # one spec object per entry, whichever thread reaches it first
                if self._spec is None:
                    if isinstance(self._raw, str):  # a row of the verified cache
                        self._spec = structure_cached(self.array, json.loads(self._raw), file=self.file)
                    else:
                        self._spec = structure(self.array, self._raw, file=self.file)
                    self._raw = None
        return self._spec


def _index(array: str, raw: dict) -> list:
    """[name, display_name, category, aliases, {reference or lookup field: value}] of one validated entry."""
    return [raw["name"], raw.get("display_name", raw["name"]), raw.get("category"), list(raw.get("aliases", ())),
            {f: raw[f] for f in REFERENCE_FIELDS.get(array, ()) + LOOKUP_FIELDS.get(array, ()) if f in raw}]


class Catalog:
    """The loaded entries, in file order, and the labels of the files they came from."""

    __slots__ = ("entries", "files")

    def __init__(self, entries: tuple[LoadedEntry, ...], files: tuple[str, ...]):
        self.entries, self.files = entries, files

    def entries_by_kind(self) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = {}
        for e in self.entries:
            out.setdefault(e.array, []).append(e.spec)
        return out


def _schema_files() -> list[tuple[str, bytes]]:
    """(file name, bytes) of every schema, read once: hashed into the cache key and parsed from the same bytes."""
    directory = os.fspath(locations.schema_dir())
    out = []
    # os.listdir and sorted names: the order of sorted(Path.glob()), without building a Path per file
    for name in sorted(n for n in os.listdir(directory) if n.endswith(".schema.json")):
        try:
            with open(os.path.join(directory, name), "rb") as fh:
                out.append((name, fh.read()))
        except OSError as exc:
            raise CatalogError(f"cannot read schema: {exc.strerror}", file=f"schemas/{name}") from None
    return out


def _code_files() -> list[tuple[str, bytes]]:
    """The modules that decide what a validated entry becomes (specs, catalog conversion): a cached payload
    from an older version of them is never reused, even when the version number did not change."""
    package = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
    out = []
    for directory in ("catalog", "specs"):
        folder = os.path.join(package, directory)
        for name in sorted(n for n in os.listdir(folder) if n.endswith(".py")):
            try:
                with open(os.path.join(folder, name), "rb") as fh:
                    out.append((f"{directory}/{name}", fh.read()))
            except OSError:  # an unreadable module could not have been imported either
                out.append((f"{directory}/{name}", b""))
    return out


def _fingerprint(files: list[CatalogFile], schema_files: list[tuple[str, bytes]]) -> str:
    """Hash of every byte that decides the validated result: loader format, schemas, catalog files."""
    h = hashlib.sha256(f"{LOADER_FORMAT}|{__version__}".encode())
    for label, data in _code_files() + schema_files + [(f.label, f.data) for f in files]:
        h.update(label.encode() + b"\0" + len(data).to_bytes(8, "little") + data)
    return h.hexdigest()


class _Validation:
    """Schemas of this import: the compiled fast pass per kind, jsonschema only when a file needs it."""

    def __init__(self, schema_files: list[tuple[str, bytes]]):
        self.raw = {name.removesuffix(".schema.json"): json.loads(data) for name, data in schema_files}
        self._fast: dict[str, Any] = {}
        self._reference = None

    def fast(self, kind: str):
        if kind not in self._fast:
            from .fastcheck import Compiler, Unsupported

            try:
                self._fast[kind] = Compiler(self.raw).top(self.raw[kind])
            except Unsupported:  # a schema feature the fast pass lacks: jsonschema validates this kind
                self._fast[kind] = None
        return self._fast[kind]

    def reference(self):
        if self._reference is None:
            from .validate import SchemaSet

            self._reference = SchemaSet(self.raw)
        return self._reference

    def file(self, f: CatalogFile) -> dict:
        from .fastcheck import Reject
        from .validate import check_schema, convert_units, parse_toml

        data = parse_toml(f.data, f.label)
        fast = self.fast(f.kind)
        if fast is not None:
            try:
                return fast(data)[0]
            except Reject:
                pass  # the reference path names the problem (or accepts what the fast pass was unsure of)
        check_schema(self.reference(), f.kind, data, f.label)
        return convert_units(self.reference(), f.kind, data, f.label)


def _structured(validated: list[dict]) -> tuple[list[LoadedEntry], list[dict]]:
    """Structure every entry of the validated files (all or nothing); also the cache payload for them."""
    entries, payload = [], []
    for item in validated:
        rows = []
        for array in locations.ENTRY_ARRAYS[item["kind"]]:
            for raw in item["data"].get(array, ()):
                spec = structure(array, raw, file=item["file"])
                index = _index(array, raw)
                entries.append(LoadedEntry(array, item["file"], index, None, spec))
                rows.append([array, *index, json.dumps(raw, separators=(",", ":"), allow_nan=False)])
        payload.append({"kind": item["kind"], "file": item["file"], "entries": rows})
    return entries, payload


def _from_cache(payload: list[dict]) -> list[LoadedEntry]:
    return [LoadedEntry(row[0], item["file"], row[1:6], row[6]) for item in payload for row in item["entries"]]


def load_catalog(extra_dirs: list[Path] | None = None, *, use_cache: bool = True) -> Catalog:
    """Every entry of the shipped catalog and the user catalogs (all or nothing).

    The cache is only ever a shortcut to the same result: it is keyed on the bytes parsed (and on the code
    that validates and structures them), verified on read, and written (atomically) only after every entry
    has been structured, so a warm load may build each spec when it is first used.
    """
    files = all_catalog_files(extra_dirs)
    schema_files = _schema_files()
    key = _fingerprint(files, schema_files)
    labels = [f.label for f in files]
    cache_root = locations.cache_dir() if use_cache else None
    cache_path = cache_root / f"catalog-{key[:32]}.json" if cache_root else None
    payload = cache.read(cache_path, key, LOADER_FORMAT, labels)
    if payload is not None:
        return Catalog(tuple(_from_cache(payload)), tuple(labels))
    validation = _Validation(schema_files)
    entries, payload = _structured([{"kind": f.kind, "file": f.label, "data": validation.file(f)} for f in files])
    cache.write(cache_path, key, LOADER_FORMAT, payload)
    return Catalog(tuple(entries), tuple(labels))


def build_spec(array: str, data: dict, *, label: str = "<python>") -> Any:
    """Build one spec from catalog-style data (unit strings allowed) with the full catalog validation.

    ``array`` is the catalog table name: "hardware", "models", "scenarios", "fabrics", "nodes", ...
    """
    from .validate import SchemaSet, check_schema, convert_units

    kind = next((k for k, arrays in locations.ENTRY_ARRAYS.items() if array in arrays), None)
    if kind is None:
        raise CatalogError(f"unknown catalog table {array!r}",
                           expected=f"one of {', '.join(a for arrays in locations.ENTRY_ARRAYS.values() for a in arrays)}")
    schemas = SchemaSet({name.removesuffix(".schema.json"): json.loads(raw) for name, raw in _schema_files()})
    doc = {"schema_version": 1, array: [data]}
    check_schema(schemas, kind, doc, label)
    return structure(array, convert_units(schemas, kind, doc, label)[array][0], file=label)
