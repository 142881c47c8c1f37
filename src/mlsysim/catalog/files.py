"""Find and read every catalog file, refusing anything that would otherwise be skipped or followed silently.

Layout: <root>/<kind>/<name>.toml. Each file is read exactly once; the same bytes are hashed for the cache key
and parsed, so a file edited during an import can never store new contents under an old key.
Refused with one CatalogError naming the path: an unreadable directory or file, a dangling or looping
symlink, a symlink that leaves the catalog root, a file in the wrong place, a file over MAX_FILE_BYTES.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

from ..errors import CatalogError
from . import locations

# Largest catalog file read: the shipped files are < 100 KiB; a 10,000-entry user catalog is ~6 MB. A larger
# file is a mistake (a data dump in the catalog directory), not something to parse for minutes.
MAX_FILE_BYTES = 32 * 2**20
LAYOUT = f"<catalog>/<kind>/<name>.toml with kind one of {', '.join(locations.KINDS)}"


class CatalogFile:
    """One catalog file: its kind ("hardware"), its label in messages (catalog/hardware/nvidia.toml or
    <user dir>/...), and its bytes, read once."""

    __slots__ = ("kind", "label", "data")

    def __init__(self, kind: str, label: str, data: bytes):
        self.kind, self.label, self.data = kind, label, data


def _entry_target(entry: os.DirEntry, parent_real: str, root_real: str, label: str) -> tuple[os.stat_result, str]:
    """stat() and real path of what a directory entry names. A symlink is resolved and checked (_target); any other
    entry's real path is its directory's plus its name: one stat() instead of realpath's lstat() per component."""
    try:
        link = entry.is_symlink()
    except OSError:
        link = True  # _target reports what cannot be read
    if link:
        return _target(Path(entry.path), root_real, label)
    try:
        return entry.stat(follow_symlinks=False), os.path.join(parent_real, entry.name)
    except OSError as exc:
        raise CatalogError(f"cannot stat: {exc.strerror}", file=label) from None


def _target(path: Path, root_real: str, label: str) -> tuple[os.stat_result, str]:
    """stat() and real path of what `path` names, refusing dangling/looping links and links out of the catalog
    root."""
    try:
        real = os.path.realpath(path, strict=True)
    except (OSError, RuntimeError) as exc:  # ENOENT: dangling link; ELOOP / RuntimeError: a symlink loop
        raise CatalogError(f"cannot follow this path: {exc.strerror if isinstance(exc, OSError) else exc}",
                           file=label, expected="a readable file or directory (fix or remove the broken symlink)") from None
    if os.path.commonpath([real, root_real]) != root_real:
        raise CatalogError(f"symlink leads outside the catalog root, to {real}", file=label,
                           expected="files inside the catalog directory (copy the file in instead of linking)")
    try:
        return os.stat(real), real
    except OSError as exc:
        raise CatalogError(f"cannot stat: {exc.strerror}", file=label) from None


def _scan(directory: Path, label: str) -> list[os.DirEntry]:
    try:
        with os.scandir(directory) as it:
            return sorted(it, key=lambda e: e.name)
    except OSError as exc:
        raise CatalogError(f"cannot list directory: {exc.strerror}", file=label,
                           expected="a directory mlsysim can read (check its permissions)") from None


def _read(path: str, label: str, size: int) -> bytes:
    if size > MAX_FILE_BYTES:
        raise CatalogError(f"file is {size} bytes, over the {MAX_FILE_BYTES // 2**20} MiB limit", file=label,
                           expected="catalog files of ordinary size (split large user catalogs into several files)")
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise CatalogError(f"cannot read: {exc.strerror}", file=label,
                           expected="a file mlsysim can read (check its permissions)") from None
    if len(data) > MAX_FILE_BYTES:
        raise CatalogError(f"file grew over the {MAX_FILE_BYTES // 2**20} MiB limit while being read", file=label)
    return data


def catalog_files(root: Path, label_root: str) -> list[CatalogFile]:
    """Every *.toml of one catalog root, sorted by kind order then label."""
    root_real = os.path.realpath(root)
    out: list[CatalogFile] = []
    for top in _scan(root, label_root):
        top_label = f"{label_root}/{top.name}"
        st, top_real = _entry_target(top, root_real, root_real, top_label)
        if stat.S_ISREG(st.st_mode):
            if top.name.lower().endswith(".toml"):
                raise CatalogError("catalog file is outside the layout", file=top_label, expected=LAYOUT)
            continue  # README, .DS_Store: not catalog data
        if not stat.S_ISDIR(st.st_mode):
            continue
        children = _scan(Path(top.path), top_label)
        for child in children:
            label = f"{top_label}/{child.name}"
            cst, child_real = _entry_target(child, top_real, root_real, label)
            if stat.S_ISDIR(cst.st_mode):
                if _contains_toml(Path(child.path), child_real, root_real, label):
                    raise CatalogError("catalog file is outside the layout", file=label, expected=LAYOUT)
                continue
            if not child.name.lower().endswith(".toml"):
                continue
            if top.name not in locations.KINDS or not child.name.endswith(".toml"):
                # A file the loader would not read must not be skipped silently.
                raise CatalogError("catalog file is outside the layout", file=label, expected=LAYOUT)
            if not stat.S_ISREG(cst.st_mode):
                raise CatalogError("not a regular file", file=label, expected="a TOML file")
            out.append(CatalogFile(top.name, label, _read(child.path, label, cst.st_size)))
    return sorted(out, key=lambda f: (locations.KINDS.index(f.kind), f.label))


def _contains_toml(directory: Path, directory_real: str, root_real: str, label: str, depth: int = 0) -> bool:
    """Whether a directory below a kind directory holds *.toml files (they would never be read)."""
    if depth > 8:  # deeper trees are not a catalog layout anyone writes
        return False
    for entry in _scan(directory, label):
        sub = f"{label}/{entry.name}"
        st, real = _entry_target(entry, directory_real, root_real, sub)
        if stat.S_ISDIR(st.st_mode):
            if _contains_toml(Path(entry.path), real, root_real, sub, depth + 1):
                return True
        elif entry.name.lower().endswith(".toml"):
            return True
    return False


def all_catalog_files(extra_dirs: list[Path] | None) -> list[CatalogFile]:
    """The shipped catalog, then each MLSYSIM_CATALOG_PATH directory (or `extra_dirs`)."""
    files = catalog_files(locations.shipped_catalog_dir(), "catalog")
    for d in (extra_dirs if extra_dirs is not None else locations.extra_catalog_dirs()):
        files += catalog_files(d, str(d))
    return files
