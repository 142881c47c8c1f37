"""Validate catalog TOML files against schemas/ (structure, units, dimensions).

Usage: python tools/validate_catalog.py [EXTRA_CATALOG_DIR ...]

Validates the shipped catalog (plus MLSYSIM_CATALOG_PATH or the directories given) as the import would,
without the cache, and prints one line naming the file, entry and field of the first problem.
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def main(argv: list[str]) -> int:
    from mlsysim.catalog.loader import CatalogError, load_catalog
    from mlsysim.registry import RegistrySet

    try:
        catalog = load_catalog(extra_dirs=[Path(a) for a in argv] if argv else None, use_cache=False)
        RegistrySet(catalog)  # cross-references: aliases, scenario targets, calibration classes
    except CatalogError as exc:
        print(f"catalog invalid: {exc}", file=sys.stderr)
        return 1
    counts = ", ".join(f"{len(v)} {k}" for k, v in catalog.entries_by_kind().items())
    print(f"catalog OK: {counts}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
