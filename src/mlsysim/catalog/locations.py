"""Where the catalog and schemas live: inside the wheel (``mlsysim/_data``) or, for a source checkout and an
editable install, the repository's own ``catalog/`` and ``schemas/`` (so an edit shows on the next import)."""
from __future__ import annotations

import os
from pathlib import Path

from ..errors import CatalogError

PACKAGE_DIR = Path(__file__).resolve().parents[1]
ENV_EXTRA = "MLSYSIM_CATALOG_PATH"
ENV_CACHE = "MLSYSIM_CACHE_DIR"

# Sub-directories of a catalog root, each validated by schemas/<kind>.schema.json.
KINDS = ("calibration", "hardware", "models", "systems", "infra", "scenarios", "runtimes")
# Top-level arrays each file kind may hold (one item = one registry entry).
ENTRY_ARRAYS = {
    "hardware": ("hardware",), "models": ("models",), "scenarios": ("scenarios",),
    "systems": ("fabrics", "nodes", "clusters", "tiers"), "infra": ("grids", "racks"), "calibration": ("classes",),
    "runtimes": ("runtimes",),
}


def _data_root() -> Path:
    wheel = PACKAGE_DIR / "_data"
    if (wheel / "catalog").is_dir():
        return wheel
    repo = PACKAGE_DIR.parents[1]  # src/mlsysim -> repository root
    if (repo / "catalog").is_dir() and (repo / "schemas").is_dir():
        return repo
    raise CatalogError(f"no catalog found next to {PACKAGE_DIR}", expected="an installed wheel with mlsysim/_data "
                       "or a source checkout with catalog/ and schemas/ at the repository root")


def shipped_catalog_dir() -> Path:
    return _data_root() / "catalog"


def schema_dir() -> Path:
    return _data_root() / "schemas"


def extra_catalog_dirs() -> list[Path]:
    """User catalogs named in MLSYSIM_CATALOG_PATH (os.pathsep-separated), merged at import."""
    raw = os.environ.get(ENV_EXTRA, "")
    dirs = [Path(p).expanduser() for p in raw.split(os.pathsep) if p.strip()]
    for d in dirs:
        if not d.is_dir():
            raise CatalogError(f"{ENV_EXTRA} names {d}, which is not a directory",
                               expected=f"a directory laid out like the shipped catalog ({', '.join(KINDS)}/*.toml)")
    return dirs


def cache_dir() -> Path | None:
    """Directory of the validated-catalog cache; MLSYSIM_CACHE_DIR='' disables caching."""
    env = os.environ.get(ENV_CACHE)
    if env == "":
        return None
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "mlsysim"
