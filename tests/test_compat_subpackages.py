"""0.1.x's subpackage paths (mlsysim.hardware, .models, .systems, .infra and their .types/.registry modules):
every name resolves to today's object, importing loads nothing, renamed types warn at the caller's line."""
from __future__ import annotations

import importlib
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import mlsysim
from mlsysim import specs
from mlsysim.errors import InvalidInputError

SRC = str(Path(__file__).parents[1] / "src")
MODULES = ["mlsysim.hardware", "mlsysim.hardware.types", "mlsysim.hardware.registry", "mlsysim.models",
           "mlsysim.models.types", "mlsysim.models.registry", "mlsysim.systems", "mlsysim.systems.types",
           "mlsysim.systems.registry", "mlsysim.infra", "mlsysim.infra.types", "mlsysim.infra.registry"]
# Names 0.1.1's subpackage __init__ files exported (read off the published package).
EXPORTED_0_1_1 = {"mlsysim.hardware": {"Hardware", "HardwareNode"}, "mlsysim.models": {"Models", "import_hf_model"},
                  "mlsysim.systems": {"Systems"}, "mlsysim.infra": {"Infra", "Grids"}}


def test_importing_every_compat_module_loads_no_catalog(tmp_path):
    probe = ("import sys; " + "; ".join(f"import {m}" for m in MODULES)
             + "; print(sorted(m for m in ('mlsysim.registry', 'mlsysim.specs', 'attrs', 'pint') if m in sys.modules))")
    env = dict(os.environ, PYTHONPATH=SRC, MLSYSIM_CACHE_DIR=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("module", MODULES)
def test_every_listed_name_resolves_and_dir_lists_them(module):
    mod = importlib.import_module(module)
    assert sorted(mod.__all__) == dir(mod)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        for name in mod.__all__:
            assert getattr(mod, name) is not None


@pytest.mark.parametrize("module,names", sorted(EXPORTED_0_1_1.items()))
def test_0_1_1_exports_are_all_there(module, names):
    assert names <= set(importlib.import_module(module).__all__)


def test_registries_are_todays_objects():
    from mlsysim.hardware.registry import CloudHardware, Hardware, TinyHardware
    from mlsysim.infra import Grids, Infra
    from mlsysim.models.registry import LanguageModels, Models
    from mlsysim.systems.registry import Clusters, Fabrics, Nodes, Systems, Tiers

    assert Hardware is mlsysim.Hardware and Models is mlsysim.Models and Infra is mlsysim.Infra
    assert Systems is mlsysim.Systems and Grids is mlsysim.Infra.Grids
    assert CloudHardware.H100 is mlsysim.Hardware.H100 and TinyHardware is mlsysim.Hardware.Tiny
    assert LanguageModels.Llama3_8B is mlsysim.Models.Llama3_8B
    assert Clusters.Research_256.total_accelerators == 256 and Nodes.DGX_H100.accelerators_per_node == 8
    assert Fabrics is mlsysim.Systems.Fabrics and Tiers is mlsysim.Systems.Tiers


def test_renamed_types_are_the_spec_classes():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from mlsysim.hardware.types import HardwareNode, IOInterconnect, MemoryHierarchy
        from mlsysim.infra.types import GridProfile, RackProfile
        from mlsysim.models.types import CNNWorkload, SparseTransformerWorkload, TransformerWorkload, Workload
        from mlsysim.systems.types import DeploymentTier, Fleet, NetworkFabric, Node

    assert (HardwareNode, MemoryHierarchy, IOInterconnect) == (specs.HardwareSpec, specs.MemorySpec,
                                                               specs.InterconnectSpec)
    assert (Workload, TransformerWorkload, CNNWorkload, SparseTransformerWorkload) == (
        specs.ModelSpec, specs.TransformerSpec, specs.CNNSpec, specs.MoESpec)
    assert (Fleet, Node, NetworkFabric, DeploymentTier) == (specs.ClusterSpec, specs.NodeSpec, specs.FabricSpec,
                                                            specs.TierSpec)
    assert (GridProfile, RackProfile) == (specs.GridSpec, specs.RackSpec)
    assert isinstance(mlsysim.Models.Mixtral_8x7B, SparseTransformerWorkload)
    assert isinstance(mlsysim.Hardware.H100.memory, MemoryHierarchy)


def test_a_renamed_type_warns_once_at_the_importing_line():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        from mlsysim.systems.types import Fleet  # noqa: F401
    assert len(caught) == 1 and caught[0].category is DeprecationWarning
    assert caught[0].filename == __file__ and "mlsysim.specs import ClusterSpec" in str(caught[0].message)


def test_registry_names_do_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        from mlsysim.hardware import Hardware  # noqa: F401
        from mlsysim.infra import Grids  # noqa: F401


def test_an_unknown_name_is_an_import_error_naming_what_exists():
    with pytest.raises(ImportError):
        from mlsysim.hardware import Accelerator  # noqa: F401
    with pytest.raises(AttributeError, match="HardwareNode"):
        importlib.import_module("mlsysim.hardware").Accelerator


def test_import_hf_model_imports_and_refuses_with_the_way_to_add_a_model():
    from mlsysim.models import import_hf_model

    with pytest.raises(InvalidInputError, match="MLSYSIM_CATALOG_PATH"):
        import_hf_model("meta-llama/Llama-3.1-8B")
