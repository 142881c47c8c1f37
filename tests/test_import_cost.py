"""Import time is a budget: with a warm catalog cache, reaching a registry entry loads neither pint nor
jsonschema nor a TOML parser (they are only needed when files changed or a quantity is created)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SRC = str(Path(__file__).parents[1] / "src")
PROBE = ("import sys, json, mlsysim; mlsysim.Hardware.H100; mlsysim.Models.Llama3_70B; "
         "print(json.dumps(sorted(m for m in ('pint', 'jsonschema', 'tomllib', 'tomli', 'numpy') "
         "if m in sys.modules)))")


def test_warm_import_loads_no_heavy_modules(tmp_path):
    env = dict(os.environ, PYTHONPATH=SRC, MLSYSIM_CACHE_DIR=str(tmp_path))
    cold = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, check=True)
    assert "pint" in json.loads(cold.stdout)  # first import validates and fills the cache
    warm = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, check=True)
    assert json.loads(warm.stdout) == []


def test_import_alone_touches_no_catalog(tmp_path):
    env = dict(os.environ, PYTHONPATH=SRC, MLSYSIM_CACHE_DIR=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", "import sys, mlsysim; print('attrs' in sys.modules)"],
                         capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "False"
