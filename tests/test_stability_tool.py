"""tools/check_stability.py: a removed or renamed shipped entry fails, an added one passes."""
from __future__ import annotations

import importlib.util
import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

TOOL = Path(__file__).parents[1] / "tools" / "check_stability.py"


@pytest.fixture(scope="module")
def tool():
    spec = importlib.util.spec_from_file_location("check_stability", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_current_tree_passes(tool):
    assert tool.check(tool.current_surface()) == []


def test_removed_entry_fails_naming_entry_and_release(tool):
    surface = tool.current_surface()
    del surface["registry"]["Hardware.Jetson"]
    problems = tool.check(surface)
    assert any("Hardware.Jetson" in p and "0.1.0" in p for p in problems)


def test_renamed_display_name_fails(tool):
    surface = tool.current_surface()
    surface["registry"]["Models.GPT2"] = dict(surface["registry"]["Models.GPT2"], display_name="GPT-2 XL")
    assert any("Models.GPT2" in p for p in tool.check(surface))


def test_added_entry_passes(tool):
    surface = tool.current_surface()
    surface["registry"]["Hardware.FutureChip"] = {"kind": "HardwareSpec", "display_name": "Future"}
    assert tool.check(surface) == []


def test_changed_stable_signature_fails(tool):
    surface = tool.current_surface()
    surface["api"]["Engine.solve"] = ["model", "hardware", "precision", "batch_size", "efficiency"]
    assert tool.check(surface)


def test_record_covers_every_compat_path(tool):
    record = json.loads((TOOL.parent / "stability" / "0.1.0.json").read_text())
    tsv = Path(__file__).parent / "data" / "compat-names-0.1.tsv"
    paths = [line.split("\t")[0] for line in tsv.read_text().splitlines() if line and not line.startswith("#")]
    assert set(paths) <= set(record["registry"])


# -- the catalog is loaded leniently: a renamed entry is named by its path, not by a dangling reference -------

REPO = Path(__file__).parents[1]


@pytest.fixture
def catalog_copy(tmp_path):
    import shutil

    copy = tmp_path / "catalog"
    shutil.copytree(REPO / "catalog", copy)
    return copy


def _run_main(tool, capsys, *argv):
    rc = tool.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def test_renamed_referenced_hardware_is_reported_by_path_and_release(tool, catalog_copy, capsys):
    nvidia = catalog_copy / "hardware" / "nvidia.toml"
    text = nvidia.read_text()
    assert text.count('name = "H100"\n') == 1
    nvidia.write_text(text.replace('name = "H100"\n', 'name = "H100_SXM"\n'))
    rc, out, err = _run_main(tool, capsys, "--catalog", catalog_copy)
    assert rc == 1
    lines = err.splitlines()
    assert "stability: Hardware.H100: shipped in 0.1.0, now missing (removed or renamed)" in lines
    assert any(line.startswith("stability: Hardware.Cloud.H100: shipped in 0.1.0, now missing") for line in lines)
    dangling = [line for line in lines if "dangling reference" in line]
    assert len(dangling) == 1 and "Hardware.H100" in dangling[0]
    assert "Traceback" not in err and "stability OK" not in out


def test_unloadable_catalog_is_one_line(tool, catalog_copy, capsys):
    with open(catalog_copy / "hardware" / "amd.toml", "a") as fh:
        fh.write("\nthis is = = not toml [\n")
    rc, out, err = _run_main(tool, capsys, "--catalog", catalog_copy)
    assert rc == 1
    assert len(err.splitlines()) == 1
    assert err.startswith("stability: cannot load the catalog: ") and "amd.toml" in err


def test_unchanged_catalog_copy_passes(tool, catalog_copy, capsys):
    rc, out, err = _run_main(tool, capsys, "--catalog", catalog_copy)
    assert (rc, err) == (0, "") and out.startswith("stability OK: ")


# -- a broken record is reported in one line, not as a traceback -----------------------------------------

@pytest.mark.parametrize("content, what", [
    ('{"version": "0.1.0", "registry": {"Hardware.H100": {', "invalid JSON"),
    ('{"registry": {}, "api": {}}', "missing key 'version'"),
    ('{"version": "0.1.0", "api": {}}', "missing key 'registry'"),
    ('{"version": "0.1.0", "registry": {}}', "missing key 'api'"),
    ('{"version": 1, "registry": {}, "api": {}}', "'version' must be"),
    ('{"version": "0.1.0", "registry": [], "api": {}}', "'registry' must be"),
    ('{"version": "0.1.0", "registry": {"Hardware.H100": "NVIDIA H100"}, "api": {}}', "Hardware.H100"),
    ('{"version": "0.1.0", "registry": {}, "api": {"Engine.solve": "model"}}', "Engine.solve"),
    ('[]', "expected a JSON object"),
    ('', "invalid JSON"),
])
def test_invalid_record_is_one_line(tool, tmp_path, capsys, content, what):
    record = tmp_path / "0.1.0.json"
    record.write_text(content)
    rc, out, err = _run_main(tool, capsys, "--records", tmp_path)
    assert rc == 1
    assert err.startswith(f"stability: {record}: not a valid stability record: ")
    assert what in err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_valid_records_elsewhere_are_still_checked(tool, tmp_path):
    (tmp_path / "0.0.9.json").write_text("{")
    record = json.loads((TOOL.parent / "stability" / "0.1.0.json").read_text())
    record["registry"]["Hardware.Gone"] = {"kind": "HardwareSpec", "display_name": "Gone"}
    (tmp_path / "0.1.0.json").write_text(json.dumps(record))
    problems = tool.check(tool.current_surface(), tmp_path)
    assert any("0.0.9.json: not a valid stability record" in p for p in problems)
    assert any(p.startswith("Hardware.Gone: shipped in 0.1.0") for p in problems)


# -- Engine.solve defaults and the stable top-level names -----------------------------------------------

def test_record_holds_the_shipped_solve_defaults():
    record = json.loads((TOOL.parent / "stability" / "0.1.0.json").read_text())
    assert record["api"]["Engine.solve defaults"] == {"batch_size": 1, "precision": "fp16", "efficiency": None}


@pytest.mark.parametrize("param, new, shown", [
    ("batch_size", 8, "was 1, now 8"),
    ("precision", "bf16", 'was "fp16", now "bf16"'),
    ("efficiency", 0.5, "was null, now 0.5"),
])
def test_changed_solve_default_fails_naming_parameter_and_values(tool, monkeypatch, param, new, shown):
    import mlsysim

    original = mlsysim.Engine.solve
    signature = inspect.signature(original)
    changed = signature.replace(parameters=[p.replace(default=new) if p.name == param else p
                                            for p in signature.parameters.values()])

    def solve(*args, **kwargs):
        return original(*args, **kwargs)

    solve.__signature__ = changed
    monkeypatch.setattr(mlsysim.Engine, "solve", staticmethod(solve))
    problems = tool.check(tool.current_surface())
    assert any(param in p and "0.1.0" in p and shown in p for p in problems), problems


def test_missing_default_fails(tool):
    surface = tool.current_surface()
    del surface["api"]["Engine.solve defaults"]["precision"]
    assert any("precision" in p for p in tool.check(surface))


def test_missing_stable_top_level_name_fails(tool, monkeypatch):
    import mlsysim

    monkeypatch.setattr(mlsysim, "_REGISTRIES", tuple(r for r in mlsysim._REGISTRIES if r != "Hardware"))
    surface = tool.current_surface()
    problems = tool.check(surface)
    assert any("Hardware" in p and "missing" in p for p in problems), problems


def test_stable_names_check_leaves_the_registry_alone(tool):
    import mlsysim.registry

    before = mlsysim.registry._loaded
    surface = tool.current_surface()
    assert surface["names"] == ["Engine", "Hardware", "Models", "Scenarios", "ureg"]
    assert mlsysim.registry._loaded is before


# -- only the shipped catalog counts: MLSYSIM_CATALOG_PATH and the cache are ignored ----------------------

def _python(code: str, env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code, *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=300)


def _env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLSYSIM_")}
    env.update(extra)
    return env


SURFACE = f"""
import importlib.util, json
spec = importlib.util.spec_from_file_location("check_stability", {str(TOOL)!r})
tool = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tool)
print(json.dumps(sorted(tool.current_surface()["registry"])))
"""


def test_user_catalog_path_is_ignored(tool, tmp_path):
    import shutil

    user = tmp_path / "user"
    shutil.copytree(Path(__file__).parent / "fixtures" / "catalogs" / "valid", user)
    env = _env(MLSYSIM_CATALOG_PATH=str(user), MLSYSIM_CACHE_DIR=str(tmp_path / "cache"))
    # the fixture really is a user catalog that mlsysim merges
    seen = _python("import mlsysim; print([p for p in mlsysim.Hardware.paths() if 'PrivateNPU' in p])", env)
    assert "Hardware" in seen.stdout, seen.stderr
    paths = _python(SURFACE, env)
    assert paths.returncode == 0, paths.stderr
    assert not [p for p in json.loads(paths.stdout) if "PrivateNPU" in p]
    records = tmp_path / "records"
    recorded = subprocess.run([sys.executable, str(TOOL), "--record", "--records", str(records)], cwd=REPO,
                              env=env, capture_output=True, text=True, timeout=300)
    assert recorded.returncode == 0, recorded.stderr
    written = (records / f"{__import__('mlsysim').__version__}.json").read_text()
    assert "PrivateNPU" not in written
    assert written == (TOOL.parent / "stability" / f"{__import__('mlsysim').__version__}.json").read_text()
    checked = subprocess.run([sys.executable, str(TOOL)], cwd=REPO, env=env, capture_output=True, text=True,
                             timeout=300)
    assert checked.returncode == 0 and checked.stdout.startswith("stability OK: "), checked.stderr


def test_poisoned_cache_is_ignored(tmp_path):
    cache_dir = tmp_path / "cache"
    env = _env(MLSYSIM_CACHE_DIR=str(cache_dir))
    warm = _python("import mlsysim; mlsysim.Hardware.H100", env)
    assert warm.returncode == 0, warm.stderr
    (cache_file,) = cache_dir.glob("catalog-*.json")
    header, _, body = cache_file.read_bytes().partition(b"\n")
    _, fmt, key, _ = header.split(b" ")
    payload = json.loads(body)
    renamed = 0
    for item in payload:
        for row in item["entries"]:  # [array, name, display_name, category, aliases, refs, entry JSON]
            if row[0] == "hardware" and row[1] == "H100":
                row[2] = "Poisoned H100"
                row[6] = json.dumps(dict(json.loads(row[6]), display_name="Poisoned H100"))
                renamed += 1
    assert renamed == 1
    from mlsysim.catalog import cache

    cache.write(cache_file, key.decode(), int(fmt), payload)
    # the poisoned cache is trusted by mlsysim itself (it is a valid cache file) ...
    poisoned = _python("import mlsysim; print(mlsysim.Hardware.H100.display_name)", env)
    assert poisoned.stdout.strip() == "Poisoned H100", poisoned.stderr
    # ... but not by the stability check
    checked = subprocess.run([sys.executable, str(TOOL)], cwd=REPO, env=env, capture_output=True, text=True,
                             timeout=300)
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.startswith("stability OK: ")
