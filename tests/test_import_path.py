"""The first Engine.solve of a process imports only what it uses (issue 11: import + first solve <= 150 ms,
benchmarks/bench_import.py). Asserted as behaviour, in fresh interpreters with a warm catalog cache: which
modules a solve loads, and that everything left out still loads on first use."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = str(Path(__file__).resolve().parents[1] / "src")
FIRST_SOLVE = "import mlsysim; mlsysim.Engine.solve('Llama3_8B', 'H100', 1, 'fp16')"
# Not needed by a plain solve of a catalog model on a catalog device: cattrs (cached entries are built directly),
# unit and schema machinery, spec modules of other tables and model kinds, solver families, close-match search.
NOT_ON_THE_PATH = (
    "cattrs", "pint", "jsonschema", "tomllib", "tomli", "numpy", "difflib",
    "mlsysim.specs.runtimes", "mlsysim.specs.scenarios", "mlsysim.specs.systems", "mlsysim.specs.infra",
    "mlsysim.specs.encoder_decoder", "mlsysim.specs.mamba2", "mlsysim.specs.vision_transformer",
    "mlsysim.specs.speech_encoder", "mlsysim.specs.sequences", "mlsysim.catalog.validate",
    "mlsysim.catalog.fastcheck", "mlsysim.solvers", "mlsysim.core.serving",
)


def _modules_after(code: str, cache: Path) -> set[str]:
    env = dict(os.environ, PYTHONPATH=SRC, MLSYSIM_CACHE_DIR=str(cache))
    probe = f"{code}\nimport sys, json; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    return set(json.loads(out.stdout.splitlines()[-1]))


@pytest.fixture(scope="module")
def warm_cache(tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    _modules_after(FIRST_SOLVE, cache)  # cold: validates the catalog and writes the cache
    return cache


def test_first_solve_with_a_warm_cache_imports_only_what_it_uses(warm_cache):
    loaded = _modules_after(FIRST_SOLVE, warm_cache)
    assert {"mlsysim.specs.hardware", "mlsysim.specs.models", "mlsysim.core.engine"} <= loaded
    assert sorted(loaded & set(NOT_ON_THE_PATH)) == []


def test_a_cold_cache_still_validates_with_the_full_machinery(tmp_path):
    loaded = _modules_after(FIRST_SOLVE, tmp_path / "cold")
    assert {"cattrs", "mlsysim.catalog.fastcheck", "mlsysim.specs.runtimes", "mlsysim.specs.scenarios"} <= loaded


def test_what_was_left_out_loads_on_first_use(warm_cache):
    code = ("import mlsysim\n"
            "r = mlsysim.Engine.solve('Llama3_8B', 'H100', 1, 'fp16', runtime='vllm')\n"
            "assert r.latency.m_as('s') > 0\n"
            "assert mlsysim.Scenarios.ChatbotServing.model\n"
            "assert mlsysim.Engine.solve('Llama3_8B', 'H100', 4, seq_lens=[128, 256, 512, 1024]).feasible\n")
    loaded = _modules_after(code, warm_cache)
    assert {"mlsysim.specs.runtimes", "mlsysim.specs.scenarios", "mlsysim.specs.sequences", "pint"} <= loaded


def test_specs_names_resolve_lazily_to_their_modules_objects():
    import mlsysim.specs as specs
    from mlsysim.specs.encoder_decoder import EncoderDecoderSpec
    from mlsysim.specs.mamba2 import Mamba2Spec
    from mlsysim.specs.runtimes import RuntimeSpec

    assert specs.RuntimeSpec is RuntimeSpec
    assert specs.SPEC_BY_ARCHITECTURE["encoder_decoder"] is EncoderDecoderSpec
    assert specs.SPEC_BY_ARCHITECTURE["ssm2"] is Mamba2Spec
    assert set(specs.__all__) <= set(dir(specs))
    namespace: dict = {}
    exec("from mlsysim.specs import *", namespace)
    assert {"HardwareSpec", "ScenarioSpec", "VisionTransformerSpec", "SPEC_BY_ARCHITECTURE"} <= set(namespace)
    with pytest.raises(AttributeError, match="NoSuchSpec"):
        specs.NoSuchSpec  # noqa: B018
