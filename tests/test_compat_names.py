"""Every registry path that code written for mlsysim 0.1.x reaches must resolve, to the same kind of entry
with the same display name (tests/data/compat-names-0.1.tsv, read off the published 0.1.0/0.1.1 packages)."""
from __future__ import annotations

from pathlib import Path

import pytest

import mlsysim
from mlsysim import specs

TSV = Path(__file__).parent / "data" / "compat-names-0.1.tsv"
ROWS = [line.split("\t") for line in TSV.read_text().splitlines() if line and not line.startswith("#")]

# Old class names -> our spec classes.
KIND = {
    "HardwareNode": specs.HardwareSpec, "NetworkFabric": specs.FabricSpec, "Node": specs.NodeSpec,
    "Fleet": specs.ClusterSpec, "DeploymentTier": specs.TierSpec, "GridProfile": specs.GridSpec,
    "RackProfile": specs.RackSpec, "Scenario": specs.ScenarioSpec, "TransformerWorkload": specs.TransformerSpec,
    "CNNWorkload": specs.CNNSpec, "SSMWorkload": specs.SSMSpec, "DiffusionWorkload": specs.DiffusionSpec,
    "Workload": specs.ModelSpec,
}
# Known errors of the old list, fixed on purpose: TPUv4 was an alias of the TPU v5p entry.
FIXED = {"Hardware.TPUv4": "Google TPU v4", "Hardware.Cloud.TPUv4": "Google TPU v4"}


def _resolve(path: str):
    obj = mlsysim
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def test_list_is_complete():
    assert len(ROWS) == 142


@pytest.mark.parametrize("path,kind,display,canonical", ROWS, ids=[r[0] for r in ROWS])
def test_path_resolves(path, kind, display, canonical):
    entry = _resolve(path)
    assert isinstance(entry, KIND[kind])
    assert entry.display_name == FIXED.get(path, display)
    if path not in FIXED:
        assert entry is _resolve(canonical)


def test_tpuv4_is_its_own_entry():
    assert mlsysim.Hardware.TPUv4 is not mlsysim.Hardware.TPUv5p
    assert mlsysim.Hardware.TPUv4.peak_dense.bf16 < mlsysim.Hardware.TPUv5p.peak_dense.bf16
