"""README's catalog block and docs/catalog.md are generated from the catalog: fail when stale."""
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("catalog_table", ROOT / "tools" / "catalog_table.py")
catalog_table = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(catalog_table)


def test_readme_catalog_block_is_current():
    text = catalog_table.README.read_text(encoding="utf-8")
    assert catalog_table.START in text and catalog_table.END in text
    assert catalog_table.readme_text(text) == text, \
        f"README catalog block is stale: run `{catalog_table.COMMAND}` and commit README.md and docs/catalog.md"


def test_docs_catalog_is_current():
    assert catalog_table.DOC.exists() and catalog_table.DOC.read_text(encoding="utf-8") == catalog_table.doc_text(), \
        f"docs/catalog.md is stale: run `{catalog_table.COMMAND}` and commit README.md and docs/catalog.md"


def test_one_row_per_registry_entry():
    from mlsysim import Hardware, Models

    doc = catalog_table.doc_text()
    for spec in list(Hardware) + list(Models):
        assert doc.count(f"| `{spec.name}` |") == 1, spec.name
    h100 = next(line for line in doc.splitlines() if line.startswith("| `H100` |"))
    assert "| 989.4 | 1979 | 80 | 3.35 | 700 |" in h100  # dense bf16, fp8, GiB, TB/s, W of the catalog entry
