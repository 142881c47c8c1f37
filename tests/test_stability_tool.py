"""tools/check_stability.py: a removed or renamed shipped entry fails, an added one passes."""
from __future__ import annotations

import importlib.util
import json
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
