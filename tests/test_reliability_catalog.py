"""Reliability of catalog loading, written as the cases were reported: poisoned and foreign caches, a file
edited during an import, planted pickles, symlinks, unreadable parts, expression bombs, deep nesting,
impossible figures."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mlsysim.catalog import cache, files, loader
from mlsysim.catalog.quantities import QUANTITY_PATTERN, QuantityError, parse_quantity
from mlsysim.errors import CatalogError

ROOT = Path(__file__).resolve().parents[1]
SRC = str(ROOT / "src")
VALID = ROOT / "tests" / "fixtures" / "catalogs" / "valid"


def user_catalog(tmp_path: Path, body: str | None = None, name: str = "user") -> Path:
    """A copy of the valid fixture catalog; `body` replaces its accelerator file."""
    root = tmp_path / name
    shutil.copytree(VALID, root)
    if body is not None:
        (root / "hardware" / "accel.toml").write_text(body, encoding="utf-8")
    return root


def entry(**fields: str) -> str:
    base = {"name": '"PrivateNPU"', "display_name": '"Private NPU v1"', "vendor": '"Example Corp"',
            "category": '"Edge"', "release_year": "2025", "calibration_class": '"edge_soc"',
            "launch_overhead": '"10 us"', "peak_dense": '{ fp16 = "50 TFLOP/s", int8 = "100 TOP/s" }',
            "memory": '{ kind = "LPDDR5", capacity = "16 GiB", bandwidth = "200 GB/s" }',
            "power": '{ tdp = "30 W", idle = "3 W" }',
            "provenance": '{ source = "internal datasheet rev B", checked = "2026-11-26", kind = "datasheet" }'}
    base.update(fields)
    return "schema_version = 1\n\n[[hardware]]\n" + "\n".join(f"{k} = {v}" for k, v in base.items()) + "\n"


def private_npu(extra: Path, cache_dir: Path | None):
    """Load shipped + `extra` with the given cache directory; the PrivateNPU spec."""
    os.environ["MLSYSIM_CACHE_DIR"] = str(cache_dir) if cache_dir else ""
    cat = loader.load_catalog([extra])
    return next(e.spec for e in cat.entries if e.array == "hardware" and e.spec.name == "PrivateNPU"), cat


@pytest.fixture(autouse=True)
def _restore_cache_env():
    old = os.environ.get("MLSYSIM_CACHE_DIR")
    yield
    os.environ["MLSYSIM_CACHE_DIR"] = old if old is not None else ""


# ------------------------------------------------------------------------------------------ the cache
@pytest.mark.parametrize("poison", [b"[]", b"{}", b"null", b'[{"kind": "hardware"}]', b"\x80\x04garbage",
                                    b"", b"MLSYSIM-CATALOG-CACHE 4 x y\n[]"])
def test_poisoned_cache_file_is_ignored_and_rewritten(tmp_path, poison):
    extra, cdir = user_catalog(tmp_path), tmp_path / "cache"
    spec, cat = private_npu(extra, cdir)
    (path,) = cdir.glob("catalog-*.json")
    path.write_bytes(poison)
    again, cat2 = private_npu(extra, cdir)
    assert again == spec and len(cat2.entries) == len(cat.entries)
    assert path.read_bytes().startswith(cache.MAGIC)  # rewritten with a good copy


def test_truncated_cache_file_is_ignored(tmp_path):
    extra, cdir = user_catalog(tmp_path), tmp_path / "cache"
    spec, _ = private_npu(extra, cdir)
    (path,) = cdir.glob("catalog-*.json")
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])  # a writer killed mid-write
    assert private_npu(extra, cdir)[0] == spec


def test_edited_payload_with_stale_digest_is_ignored(tmp_path):
    extra, cdir = user_catalog(tmp_path), tmp_path / "cache"
    spec, _ = private_npu(extra, cdir)
    (path,) = cdir.glob("catalog-*.json")
    path.write_bytes(path.read_bytes().replace(b"200000000000.0", b"999000000000.0"))
    assert private_npu(extra, cdir)[0].memory.bandwidth == spec.memory.bandwidth == spec.memory.bandwidth.__class__(200e9, "B/s")


def test_cache_from_another_catalog_is_not_accepted(tmp_path):
    cdir = tmp_path / "cache"
    a = user_catalog(tmp_path, entry(memory='{ kind = "LPDDR5", capacity = "16 GiB", bandwidth = "200 GB/s" }'), "a")
    b = user_catalog(tmp_path, entry(memory='{ kind = "LPDDR5", capacity = "16 GiB", bandwidth = "300 GB/s" }'), "b")
    private_npu(a, cdir)
    (a_file,) = cdir.glob("catalog-*.json")
    private_npu(b, cdir)
    (b_file,) = [p for p in cdir.glob("catalog-*.json") if p != a_file]
    shutil.copyfile(a_file, b_file)  # a foreign cache under b's name
    assert private_npu(b, cdir)[0].memory.bandwidth.m_as("B/s") == 300e9


def test_file_edited_during_import_never_stores_new_contents_under_the_old_key(tmp_path, monkeypatch):
    extra, cdir = user_catalog(tmp_path), tmp_path / "cache"
    accel = extra / "hardware" / "accel.toml"
    original = accel.read_text()
    edited = original.replace("200 GB/s", "999 GB/s")
    real_write = cache.write

    def edit_then_write(*args, **kwargs):  # the edit lands after the files were read, before the cache write
        accel.write_text(edited)
        return real_write(*args, **kwargs)

    monkeypatch.setattr(cache, "write", edit_then_write)
    first, _ = private_npu(extra, cdir)
    monkeypatch.setattr(cache, "write", real_write)
    assert first.memory.bandwidth.m_as("B/s") == 200e9  # what was read is what was loaded
    assert private_npu(extra, cdir)[0].memory.bandwidth.m_as("B/s") == 999e9  # the edit is seen on the next import
    accel.write_text(original)  # `git checkout` back
    assert private_npu(extra, cdir)[0].memory.bandwidth.m_as("B/s") == 200e9


def test_cache_write_is_atomic_and_leaves_no_temporary_files(tmp_path):
    extra, cdir = user_catalog(tmp_path), tmp_path / "cache"
    private_npu(extra, cdir)
    names = sorted(p.name for p in cdir.iterdir())
    assert len(names) == 1 and names[0].startswith("catalog-") and names[0].endswith(".json")


def test_planted_pickle_in_the_cache_directory_never_runs(tmp_path):
    """Nothing under MLSYSIM_CACHE_DIR is unpickled: plant pickles that would create a marker file."""
    cdir, marker = tmp_path / "cache", tmp_path / "PWNED"

    class Boom:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    import pickle

    blob = pickle.dumps(Boom())
    for sub in ("", "pint", "pint/registry", "pint/txt"):
        (cdir / sub).mkdir(parents=True, exist_ok=True)
        for name in ("registry.pickle", "default_en.pickle", "cache.pickle", "catalog.json"):
            (cdir / sub / name).write_bytes(blob)
    env = dict(os.environ, PYTHONPATH=SRC, MLSYSIM_CACHE_DIR=str(cdir))
    code = ("import mlsysim; r = mlsysim.Engine.solve('Llama3_8B', 'H100'); r.latency.to('ms'); "
            "mlsysim.ureg.Quantity(1, 'kWh').to('J')")
    for _ in range(2):  # the first run fills the cache, the second reads it
        subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True)
    assert not marker.exists()


def test_unit_registry_has_no_disk_cache():
    from mlsysim.units import get_ureg

    assert getattr(get_ureg(), "_cache_folder", None) is None


# -------------------------------------------------------------------------------- files and symlinks
def test_symlinked_kind_directory_is_never_skipped_silently(tmp_path):
    root, store = tmp_path / "user", tmp_path / "user" / ".store"
    store.mkdir(parents=True)
    (store / "accel.toml").write_text(entry())
    (root / "hardware").symlink_to(store)
    # .store holds a TOML file at kind level under an unknown name: refused, so nothing is ever skipped.
    with pytest.raises(CatalogError, match="outside the layout"):
        files.catalog_files(root, "user")


def test_symlink_to_a_file_inside_the_root_is_read(tmp_path):
    root = user_catalog(tmp_path)
    (root / "hardware" / "accel.toml").rename(root / "hardware" / "accel.toml.orig")
    (root / "hardware" / "accel.toml").symlink_to(root / "hardware" / "accel.toml.orig")
    (found,) = files.catalog_files(root, "user")
    assert found.label == "user/hardware/accel.toml" and b"PrivateNPU" in found.data


@pytest.mark.parametrize("case", ["dangling", "loop", "outside_file", "outside_dir"])
def test_bad_symlinks_are_refused_naming_the_path(tmp_path, case):
    root = user_catalog(tmp_path)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "x.toml").write_text(entry(name='"Other"', display_name='"Other"'))
    link = root / "hardware" / "link.toml"
    if case == "dangling":
        link.symlink_to(tmp_path / "missing.toml")
    elif case == "loop":
        link.symlink_to(root / "hardware" / "loop2.toml")
        (root / "hardware" / "loop2.toml").symlink_to(link)
    elif case == "outside_file":
        link.symlink_to(outside / "x.toml")
    else:
        link = root / "models"
        link.symlink_to(outside)
    with pytest.raises(CatalogError) as err:
        files.catalog_files(root, "user")
    assert str(root.name) in str(err.value) and link.name in str(err.value)
    if case.startswith("outside"):
        assert "outside the catalog root" in str(err.value)


def test_unreadable_directory_is_an_error_not_a_skip(tmp_path, monkeypatch):
    root = user_catalog(tmp_path)
    real = os.scandir

    def scandir(path):
        if Path(path) == root / "hardware":
            raise PermissionError(13, "Permission denied")
        return real(path)

    monkeypatch.setattr(files.os, "scandir", scandir)
    with pytest.raises(CatalogError, match="cannot list directory: Permission denied") as err:
        files.catalog_files(root, "user")
    assert "user/hardware" in str(err.value)


def test_unreadable_file_is_a_catalog_error(tmp_path, monkeypatch):
    root = user_catalog(tmp_path)
    real = open

    def guarded(path, *args, **kwargs):
        if str(path).endswith("accel.toml"):
            raise PermissionError(13, "Permission denied")
        return real(path, *args, **kwargs)

    monkeypatch.setattr("builtins.open", guarded)
    with pytest.raises(CatalogError, match="cannot read: Permission denied") as err:
        files.catalog_files(root, "user")
    assert "user/hardware/accel.toml" in str(err.value)


def test_oversized_file_is_refused(tmp_path, monkeypatch):
    root = user_catalog(tmp_path)
    monkeypatch.setattr(files, "MAX_FILE_BYTES", 100)
    with pytest.raises(CatalogError, match="over the"):
        files.catalog_files(root, "user")


# ----------------------------------------------------------------------------- quantities and nesting
def test_expression_bomb_is_refused_at_once(tmp_path):
    root = user_catalog(tmp_path, entry(memory='{ kind = "LPDDR5", capacity = "2 B * 9 ** 9 ** 9", '
                                               'bandwidth = "200 GB/s" }'))
    env = dict(os.environ, PYTHONPATH=SRC, MLSYSIM_CACHE_DIR="", MLSYSIM_CATALOG_PATH=str(root))
    out = subprocess.run([sys.executable, "-m", "mlsysim", "list", "hardware"], env=env, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "memory.capacity" in out.stderr and "PrivateNPU" in out.stderr


@pytest.mark.parametrize("text", ["2 B * 9 ** 9 ** 9", "1e999 B", "-5 W", "5", "5 W W W W W", "3 (B)", "2 B + 1 B",
                                  "1e9 B ** 99", "nan W", "inf B", "9" * 80 + " B", "1 B; import os", "1e-320 W"])
def test_strict_grammar_rejects(text):
    with pytest.raises(QuantityError):
        parse_quantity(text, "B" if "B" in text else "W")


@pytest.mark.parametrize("text,unit,value", [("989.4 TFLOP/s", "flop/s", 989.4e12), ("80 GiB", "B", 80 * 2**30),
                                             ("3.35 TB/s", "B/s", 3.35e12), ("5 us", "s", 5e-6),
                                             ("5 µs", "s", 5e-6), ("400 Gbit/s", "B/s", 50e9),
                                             ("1.2e3 mW", "W", 1.2), ("500 g/kWh", "g/kWh", 500.0)])
def test_strict_grammar_reads_catalog_figures(text, unit, value):
    assert parse_quantity(text, unit) == pytest.approx(value, rel=1e-12)


def test_schema_pattern_is_the_loader_grammar():
    common = json.loads((ROOT / "schemas" / "common.schema.json").read_text())
    assert common["$defs"]["quantity"]["pattern"] == QUANTITY_PATTERN


def test_deeply_nested_array_is_a_catalog_error(tmp_path):
    root = user_catalog(tmp_path, entry(description="[" * 5000 + "]" * 5000))
    with pytest.raises(CatalogError, match="nested too deeply"):
        loader.load_catalog([root], use_cache=False)
    root = user_catalog(tmp_path, entry(description="[" * 40 + "]" * 40), "moderate")
    with pytest.raises(CatalogError, match="nested too deeply"):
        loader.load_catalog([root], use_cache=False)


# --------------------------------------------------------------------------------- impossible figures
@pytest.mark.parametrize("field,value,match", [
    ("memory", '{ kind = "LPDDR5", capacity = "16 GiB", bandwidth = "1e-300 B/s" }', "memory.bandwidth"),
    ("memory", '{ kind = "LPDDR5", capacity = "16 GiB", bandwidth = "3.35 B/s" }', "plausible range"),
    ("calibration", '{ matmul_flops = { fp16 = "500 TFLOP/s" }, provenance = { source = "bench", '
                    'checked = "2026-11-26", kind = "measured" } }', "above the dense datasheet peak"),
    ("calibration", '{ memory_bandwidth = "2 TB/s", provenance = { source = "bench", checked = "2026-11-26", '
                    'kind = "measured" } }', "above the datasheet"),
    ("calibration", '{ matmul_flops = { fp8 = "10 TFLOP/s" }, provenance = { source = "bench", '
                    'checked = "2026-11-26", kind = "measured" } }', "without fp8 units"),
])
def test_impossible_figures_are_catalog_errors_at_load(tmp_path, field, value, match):
    root = user_catalog(tmp_path, entry(**{field: value}))
    with pytest.raises(CatalogError, match=match) as err:
        loader.load_catalog([root], use_cache=False)
    assert "PrivateNPU" in str(err.value) and "accel.toml" in str(err.value)
