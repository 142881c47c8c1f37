from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # tests run against the checkout even without an install


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory):
    """Keep the validated-catalog cache out of the user's home during tests."""
    old = os.environ.get("MLSYSIM_CACHE_DIR")
    os.environ["MLSYSIM_CACHE_DIR"] = str(tmp_path_factory.mktemp("mlsysim-cache"))
    yield
    if old is None:
        os.environ.pop("MLSYSIM_CACHE_DIR", None)
    else:
        os.environ["MLSYSIM_CACHE_DIR"] = old


@pytest.fixture(scope="session")
def reg():
    from mlsysim.registry import registries

    return registries()
