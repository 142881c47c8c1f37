"""Registries generated from the catalog: ``Hardware.H100``, ``Hardware.Cloud.H100``, ``Hardware.get("h100")``.

Every entry has a canonical path (Root.Group.name), a flat path for roots that have one (Root.name) and the
aliases its catalog entry declares (full paths, possibly under another root such as Applications or Tiers).
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

from .errors import CatalogError, InvalidInputError, UnknownEntryError

# Catalog table -> (root namespace, group (None: the entry's category), flat alias Root.name?)
PLACEMENT: dict[str, tuple[str, str | None, bool]] = {
    "hardware": ("Hardware", None, True),
    "models": ("Models", None, True),
    "scenarios": ("Scenarios", "", True),
    "fabrics": ("Systems", "Fabrics", False),
    "nodes": ("Systems", "Nodes", False),
    "clusters": ("Systems", "Clusters", False),
    "tiers": ("Systems", "Tiers", False),
    "grids": ("Infra", "Grids", False),
    "racks": ("Infra", "Racks", False),
    "runtimes": ("Runtimes", "", True),
}
ROOTS = ("Hardware", "Models", "Scenarios", "Systems", "Infra", "Tiers", "Applications", "Archetypes", "Runtimes")


class Namespace:
    """One level of registry paths. Attribute access gives entries and sub-namespaces.

    Children are sub-namespaces or catalog entries (mlsysim.catalog.loader.LoadedEntry); an entry's spec is
    built when it is first reached, so placing 10,000 user entries costs no structuring.
    """

    __slots__ = ("_path", "_children", "_canonical", "_entries", "_index")

    def __init__(self, path: str, canonical: dict[int, str]):
        self._path = path
        self._children: dict[str, Any] = {}
        self._canonical = canonical  # id(entry) -> canonical path, shared by the whole registry set
        # Built on first use, once the registry set is complete (it never changes afterwards): the sorted
        # entries, and a case-folded index of names, display names and path suffixes for O(1) get().
        self._entries: list[Any] | None = None
        self._index: dict[str, Any] | None = None

    # -- attribute protocol -------------------------------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            child = self._children[name]
        except KeyError:
            # Suggestions are computed only if the message is read: hasattr() misses stay O(1).
            raise UnknownEntryError(self._path, name, self._suggestions) from None
        return child if isinstance(child, Namespace) else child.spec

    def __dir__(self) -> list[str]:
        return sorted(set(self._children) | {"get", "names", "paths", "entries", "list"})

    def __repr__(self) -> str:
        return f"<{self._path}: {len(self)} entries>"

    # -- collection protocol ------------------------------------------------------------------------------
    def entries(self) -> list[Any]:
        """Unique specs under this namespace, sorted by name. Entries that live elsewhere and are only
        aliased here (Hardware.Networks.* are Systems fabrics) are left out, unless the namespace holds
        nothing but aliases (Applications, Archetypes, Tiers)."""
        return [e.spec for e in self._loaded()]

    def list(self, sort_by: str | None = None, reverse: bool = False) -> list[Any]:
        """entries(), optionally sorted by a dotted figure (``"memory.bandwidth"``, ``"release_year"``); 0.1.x's
        call shape. An entry without that figure is an error naming it, never sorted as zero."""
        items = self.entries()
        if sort_by is None:
            return items[::-1] if reverse else items

        def key(spec: Any) -> float:
            value = spec
            for part in sort_by.split("."):
                value = getattr(value, part, None)
                if value is None:
                    raise InvalidInputError(f"{spec.name} has no {sort_by!r} to sort by; pick a figure every entry "
                                            f"under {self._path} has, or filter with entries() first")
            return value.to_base_units().magnitude if hasattr(value, "to_base_units") else value

        return sorted(items, key=key, reverse=reverse)

    def _loaded(self) -> list[Any]:
        if self._entries is None:
            seen: dict[int, Any] = {}
            for entry in self._reachable():
                seen.setdefault(id(entry), entry)
            own = [e for e in seen.values() if self._canonical[id(e)].startswith(self._path + ".")]
            self._entries = sorted(own or seen.values(), key=lambda e: e.name)
        return self._entries

    def _reachable(self) -> list[Any]:
        out = []
        for child in self._children.values():
            out += child._reachable() if isinstance(child, Namespace) else [child]
        return out

    def __iter__(self) -> Iterator[Any]:
        return iter(self.entries())

    def __len__(self) -> int:
        return len(self._loaded())

    def __contains__(self, item: object) -> bool:
        if isinstance(item, str):
            try:
                self.get(item)
                return True
            except UnknownEntryError:
                return False
        return any(item is e for e in self.entries())

    def names(self) -> list[str]:
        """Canonical entry names under this namespace."""
        return [e.name for e in self._loaded()]

    def paths(self, prefix: str | None = None) -> list[str]:
        """Every path (canonical, flat and alias) that reaches an entry under this namespace."""
        base = self._path if prefix is None else prefix
        out = []
        for key, child in sorted(self._children.items()):
            if isinstance(child, Namespace):
                out += child.paths(f"{base}.{key}")
            else:
                out.append(f"{base}.{key}")
        return out

    # -- lookup by string -----------------------------------------------------------------------------------
    def get(self, name: str) -> Any:
        """Find an entry by flat name, dotted path, full path, display name or Hugging Face id (models), all
        case-insensitive, in O(1)."""
        child = self._children.get(name) if type(name) is str else None
        if child is not None and not isinstance(child, Namespace):  # the exact flat name: what the walk finds first
            return child.spec
        if not isinstance(name, str) or not name.strip():
            raise UnknownEntryError(self._path, str(name), self._suggestions)
        text = name.strip()
        root = self._path.split(".")[0]
        for candidate in (text, text[len(self._path) + 1:] if text.startswith(self._path + ".") else None,
                          text[len(root) + 1:] if text.startswith(root + ".") else None):
            if candidate:
                found = self._walk_entry(candidate)
                if found is not None:
                    return found.spec
        found = self._lookup_index().get(text.casefold())
        if found is not None:
            return found.spec
        raise UnknownEntryError(self._path, text, self._suggestions)

    def _lookup_index(self) -> dict[str, Any]:
        """casefolded name, display name, Hugging Face id, path and every dotted path suffix -> entry (first in
        sort order wins, as the linear search it replaces did: names, then display names, then paths)."""
        if self._index is None:
            index: dict[str, Any] = {}
            for entry in self._loaded():
                index.setdefault(entry.name.casefold(), entry)
            for entry in self._loaded():
                index.setdefault(entry.display_name.casefold(), entry)
            for entry in self._loaded():
                if "hf_id" in entry.refs:
                    index.setdefault(entry.refs["hf_id"].casefold(), entry)
            for path in self.paths():
                parts = path.casefold().split(".")
                target = self._walk_entry(path[len(self._path) + 1:])
                for i in range(len(parts)):
                    index.setdefault(".".join(parts[i:]), target)
            self._index = index
        return self._index

    def _walk_entry(self, dotted: str) -> Any:
        node: Any = self
        for part in dotted.split("."):
            if not isinstance(node, Namespace) or part not in node._children:
                return None
            node = node._children[part]
        return None if isinstance(node, Namespace) else node

    def _walk(self, dotted: str) -> Any:
        entry = self._walk_entry(dotted)
        return None if entry is None else entry.spec

    def _suggestions(self) -> list[str]:
        out = set(self._children)
        for entry in self._loaded():
            out.update((entry.name, entry.display_name))
        return sorted(out)


class ModelsNamespace(Namespace):
    """The Models root: a Namespace plus the offline Hugging Face config importer."""

    __slots__ = ()

    @staticmethod
    def from_hf_config(path_or_dict: Any, **options: Any) -> Any:
        """A ModelSpec from a local Hugging Face config.json (path, directory or dict); nothing is downloaded.
        Options: name=, display_name=, family=, source=, hf_id= (see mlsysim.hf_config)."""
        from .hf_config import from_hf_config

        return from_hf_config(path_or_dict, **options)

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | {"from_hf_config"})


# What a reference field must name: the catalog tables it may point into.
_TARGETS = {"a model": ("models",), "hardware, a node or a cluster": ("hardware", "nodes", "clusters"),
            "hardware": ("hardware",), "a fabric": ("fabrics",), "a node": ("nodes",)}
_REFERENCES = {
    "scenarios": (("model", "a model"), ("target", "hardware, a node or a cluster")),
    "nodes": (("accelerator", "hardware"), ("fabric", "a fabric")),
    "clusters": (("node", "a node"), ("fabric", "a fabric")),
    "tiers": (("representative_hardware", "hardware"),),
}


class RegistrySet:
    """All root namespaces built from one catalog, plus the calibration classes the engine reads."""

    def __init__(self, catalog: Any, *, check_references: bool = True):
        """check_references=False skips the cross-entry reference checks (tools/check_stability.py loads a
        catalog leniently so that a removed entry is reported by its path, not by a dangling reference)."""
        self._canonical: dict[int, str] = {}
        self.roots = {r: (ModelsNamespace if r == "Models" else Namespace)(r, self._canonical) for r in ROOTS}
        self.calibration: dict[str, Any] = {}
        self._calibration_files: dict[str, str] = {}
        self._origin: dict[str, tuple[Any, str]] = {}
        self._display: dict[tuple[str, str], tuple[Any, str]] = {}
        self._all: list[Any] = []
        for entry in catalog.entries:
            if entry.array == "classes":
                if entry.name in self.calibration:
                    raise CatalogError(f"calibration class defined twice (also in "
                                       f"{self._calibration_files[entry.name]})",
                                       file=entry.file, entry=entry.name, field="name")
                self.calibration[entry.name] = entry.spec
                self._calibration_files[entry.name] = entry.file
                continue
            self._all.append(entry)
            root, group, flat = PLACEMENT[entry.array]
            group = entry.category if group is None else group
            canonical = ".".join(p for p in (root, group, entry.name) if p)
            self._canonical[id(entry)] = canonical
            self._place(canonical, entry, "name")
            if flat and group:
                self._place(f"{root}.{entry.name}", entry, "name")
            # Display names are looked up too (Hardware.get("NVIDIA H100")): they must be unique per registry.
            key = (root, entry.display_name.casefold())
            if key in self._display:
                other, other_file = self._display[key]
                raise CatalogError(f"display name {entry.display_name!r} is already used by entry {other.name!r} "
                                   f"in {other_file}", file=entry.file, entry=entry.name, field="display_name",
                                   expected="a display name no other entry of the registry has")
            self._display[key] = (entry, entry.file)
            hf_id = entry.refs.get("hf_id")  # a Hugging Face id is looked up like a display name: unique too
            if hf_id is not None:
                hf_key = (root, hf_id.casefold())
                if hf_key in self._display:
                    other, other_file = self._display[hf_key]
                    raise CatalogError(f"hf_id {hf_id!r} is already used by entry {other.name!r} in {other_file}",
                                       file=entry.file, entry=entry.name, field="hf_id",
                                       expected="a Hugging Face id (or display name) no other entry has")
                self._display[hf_key] = (entry, entry.file)
            for alias in entry.aliases:
                if alias.split(".")[0] not in ROOTS:
                    raise CatalogError(f"alias {alias!r} is under no registry", file=entry.file, entry=entry.name,
                                       field="aliases", expected=f"a path starting with one of {', '.join(ROOTS)}")
                self._place(alias, entry, "aliases")
        if check_references:
            self._check_references()

    def _place(self, path: str, entry: Any, field: str) -> None:
        previous = self._origin.get(path)
        if previous is not None:
            if previous[0] is entry:
                return
            raise CatalogError(f"{path} is already defined by entry {previous[0].name!r} in {previous[1]}",
                               file=entry.file, entry=entry.name, field=field,
                               expected="a unique name (rename one entry; shipped names never change)")
        parts = path.split(".")
        node = self.roots[parts[0]]
        for i, part in enumerate(parts[1:-1], start=1):
            child = node._children.get(part)
            if child is None:
                child = node._children[part] = Namespace(".".join(parts[: i + 1]), self._canonical)
            elif not isinstance(child, Namespace):
                raise CatalogError(f"{'.'.join(parts[:i + 1])} is an entry and cannot also hold {path}",
                                   file=entry.file, entry=entry.name, field=field)
            node = child
        if isinstance(node._children.get(parts[-1]), Namespace):
            raise CatalogError(f"{path} is a group and cannot also be an entry", file=entry.file, entry=entry.name,
                               field=field)
        node._children[parts[-1]] = entry
        self._origin[path] = (entry, entry.file)

    def _resolve_entry(self, path: str) -> Any | None:
        root, _, rest = path.partition(".")
        return self.roots[root]._walk_entry(rest) if root in self.roots and rest else None

    def resolve_path(self, path: str) -> Any | None:
        """The spec at a full registry path ("Hardware.H100"), or None."""
        entry = self._resolve_entry(path)
        return None if entry is None else entry.spec

    def _check_references(self) -> None:
        """Every path an entry names exists and is of the right kind; decided on the catalog's index, so no
        spec is built for it."""
        for entry in self._all:
            if entry.array == "hardware":
                cls = entry.refs.get("calibration_class")
                if cls not in self.calibration:
                    raise CatalogError(f"unknown calibration class {cls!r}", file=entry.file, entry=entry.name,
                                       field="calibration_class",
                                       expected=f"one of {', '.join(sorted(self.calibration))} "
                                                "(catalog/calibration/*.toml)")
            for field, what in _REFERENCES.get(entry.array, ()):
                path = entry.refs.get(field)
                target = self._resolve_entry(path) if isinstance(path, str) else None
                if target is None or target.array not in _TARGETS[what]:
                    raise CatalogError(f"{path!r} does not name {what}", file=entry.file, entry=entry.name,
                                       field=field, expected=f"a registry path of {what}")


_lock = threading.Lock()
_loaded: RegistrySet | None = None


def registries() -> RegistrySet:
    """Load and validate the whole catalog once per process (all or nothing; thread-safe: threads making
    their first call at once wait for one load and share its registry)."""
    global _loaded
    if _loaded is not None:
        return _loaded
    with _lock:
        if _loaded is None:
            from .catalog.loader import load_catalog

            _loaded = RegistrySet(load_catalog())
    return _loaded


def _forget() -> None:
    global _loaded
    with _lock:
        _loaded = None


registries.cache_clear = _forget  # type: ignore[attr-defined]  # the lru_cache spelling tests and users know


def reload() -> RegistrySet:
    """Forget the loaded catalog (after editing files or MLSYSIM_CATALOG_PATH) and load it again."""
    _forget()
    return registries()
