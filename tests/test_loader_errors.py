"""A malformed catalog fails with ONE error naming the file, the entry, the field and what is expected;
nothing is half-built. Each fixture under tests/fixtures/catalogs/<case> is a private catalog
(MLSYSIM_CATALOG_PATH) merged with the shipped one."""
from __future__ import annotations

from pathlib import Path

import pytest

from mlsysim.catalog.loader import load_catalog
from mlsysim.errors import CatalogError
from mlsysim.registry import RegistrySet

FIXTURES = Path(__file__).parent / "fixtures" / "catalogs"


def build(case: str) -> RegistrySet:
    return RegistrySet(load_catalog(extra_dirs=[FIXTURES / case], use_cache=False))


def test_valid_private_catalog_is_merged():
    reg = build("valid")
    npu = reg.roots["Hardware"].PrivateNPU
    assert npu is reg.roots["Hardware"].Edge.PrivateNPU
    assert npu.memory.bandwidth.m_as("B/s") == pytest.approx(200e9)
    assert reg.roots["Hardware"].H100.display_name == "NVIDIA H100"  # shipped entries still there


# case -> fragments the single error message must contain (file, entry, field, expectation)
CASES = {
    "syntax_error": ["accel.toml", "TOML syntax error"],
    "missing_field": ["accel.toml", "'PrivateNPU'", "'vendor'", "required"],
    "unknown_field": ["accel.toml", "'PrivateNPU'", "clock"],
    "wrong_dimension": ["accel.toml", "'PrivateNPU'", "'memory.bandwidth'", "B/s"],
    "negative_bandwidth": ["accel.toml", "'PrivateNPU'", "'memory.bandwidth'", "non-negative"],
    "unknown_unit": ["accel.toml", "'PrivateNPU'", "'memory.bandwidth'", "furlongs"],
    "duplicate_name": ["accel.toml", "'PrivateNPU'", "already defined"],
    "clash_with_shipped": ["accel.toml", "'H100'", "catalog/hardware/nvidia.toml"],
    "unknown_calibration_class": ["accel.toml", "'PrivateNPU'", "calibration_class", "datacenter_gpu"],
    "wrong_schema_version": ["accel.toml", "schema_version"],
    "sparse_below_dense": ["accel.toml", "'PrivateNPU'", "peak_sparse.fp16", "dense"],
    "idle_above_tdp": ["accel.toml", "'PrivateNPU'", "idle"],
    "display_name_clash": ["accel.toml", "'PrivateNPU'", "NVIDIA H100", "'H100'", "catalog/hardware/nvidia.toml"],
    "stray_file": ["extra.toml", "outside the layout", "hardware"],
    "bad_geometry": ["private.toml", "'TinyLM'", "head_dim", "minimum"],
    "wrong_published": ["private.toml", "'TinyLM'", "published_parameters", "geometry gives"],
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_broken_catalog_names_file_entry_field(case):
    with pytest.raises(CatalogError) as info:
        build(case)
    message = str(info.value)
    for fragment in CASES[case]:
        assert fragment in message, f"{fragment!r} missing from: {message}"
    assert "Traceback" not in message and "\n" not in message


def test_failed_load_leaves_previous_registry_intact(monkeypatch):
    import mlsysim
    from mlsysim import registry

    before = mlsysim.Hardware
    monkeypatch.setenv("MLSYSIM_CATALOG_PATH", str(FIXTURES / "duplicate_name"))
    registry.registries.cache_clear()
    with pytest.raises(CatalogError):
        registry.registries()
    monkeypatch.delenv("MLSYSIM_CATALOG_PATH")
    registry.registries.cache_clear()
    after = mlsysim.Hardware
    assert "PrivateNPU" not in after.names()
    assert len(after) == len(before)


def test_missing_catalog_path_directory_is_an_error(monkeypatch, tmp_path):
    from mlsysim.catalog import locations

    monkeypatch.setenv("MLSYSIM_CATALOG_PATH", str(tmp_path / "nope"))
    with pytest.raises(CatalogError, match="MLSYSIM_CATALOG_PATH"):
        locations.extra_catalog_dirs()


def test_cache_is_keyed_on_contents(tmp_path, monkeypatch):
    """Editing a file is seen on the next load: the cache never skips validation of changed bytes."""
    import shutil

    monkeypatch.setenv("MLSYSIM_CACHE_DIR", str(tmp_path / "cache"))
    private = tmp_path / "private"
    shutil.copytree(FIXTURES / "valid", private)
    first = RegistrySet(load_catalog(extra_dirs=[private]))
    assert first.roots["Hardware"].PrivateNPU.power.tdp.m_as("W") == 30
    f = private / "hardware" / "accel.toml"
    f.write_text(f.read_text().replace('tdp = "30 W"', 'tdp = "35 W"'))
    assert RegistrySet(load_catalog(extra_dirs=[private])).roots["Hardware"].PrivateNPU.power.tdp.m_as("W") == 35
    f.write_text(f.read_text().replace('bandwidth = "200 GB/s"', 'bandwidth = "200 GB"'))
    with pytest.raises(CatalogError, match="memory.bandwidth"):
        load_catalog(extra_dirs=[private])


def test_spec_built_in_python_gets_the_same_validation():
    from mlsysim.catalog.loader import build_spec
    from mlsysim.specs import HardwareSpec, MemorySpec

    data = {
        "name": "MyChip", "display_name": "My Chip", "vendor": "Me", "category": "Cloud", "release_year": 2026,
        "calibration_class": "datacenter_gpu", "launch_overhead": "5 us",
        "peak_dense": {"bf16": "500 TFLOP/s"}, "memory": {"kind": "HBM3", "capacity": "96 GiB",
                                                        "bandwidth": "4 TB/s"},
        "power": {"tdp": "600 W", "idle": "60 W"},
        "provenance": {"source": "my notes", "checked": "2026-11-26", "kind": "estimate"},
    }
    chip = build_spec("hardware", data)
    assert isinstance(chip, HardwareSpec) and chip.memory.capacity.m_as("B") == 96 * 2**30
    with pytest.raises(CatalogError, match="memory.bandwidth"):
        build_spec("hardware", data | {"memory": {"kind": "HBM3", "capacity": "96 GiB", "bandwidth": "4 TB"}})
    with pytest.raises(CatalogError, match="bandwidth"):
        MemorySpec(kind="HBM3", capacity=1e9, bandwidth=-1.0)


def test_readme_minimal_accelerator_entry_is_valid(tmp_path):
    """The contributor guide's example must keep loading as the schema evolves."""
    import re
    import textwrap

    readme = (Path(__file__).parents[1] / "README.md").read_text()
    block = re.search(r"```toml\n(.*?)```", readme, re.S).group(1)
    (tmp_path / "hardware").mkdir()
    (tmp_path / "hardware" / "mine.toml").write_text("schema_version = 1\n\n" + textwrap.dedent(block))
    reg = RegistrySet(load_catalog(extra_dirs=[tmp_path], use_cache=False))
    assert reg.roots["Hardware"].Edge.MyChip.memory.capacity.m_as("B") == 16 * 2**30
