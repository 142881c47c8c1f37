"""Deprecated names work, warn once, and point at the caller's line; ``import mlsysim`` stays silent."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

SRC = str(Path(__file__).parents[1] / "src")


def run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-W", "always::DeprecationWarning", "-c", textwrap.dedent(code)],
                          capture_output=True, text=True, env={"PYTHONPATH": SRC, "PATH": ""})


def test_import_mlsysim_emits_nothing():
    out = run("import mlsysim\nfrom mlsysim import Engine, Hardware, ureg\n")
    assert out.returncode == 0 and out.stderr == ""


def test_base_model_alias_warns_at_the_callers_line():
    out = run("""\
        import mlsysim
        from mlsysim import BaseModel
        from mlsysim.core.solver import ForwardModel
        assert BaseModel is ForwardModel
    """)
    assert out.returncode == 0, out.stderr
    assert out.stderr.count("DeprecationWarning") == 1
    assert "<string>:2" in out.stderr and "mlsysim.core.solver" in out.stderr


def test_top_level_solver_imports_warn():
    out = run("from mlsysim import ForwardModel\nimport mlsysim\nmlsysim.RooflineModel\n")
    assert out.returncode == 0, out.stderr
    assert "<string>:1" in out.stderr and "<string>:3" in out.stderr


def test_every_top_level_solver_name_of_the_promise_works_and_warns():
    out = run("from mlsysim import DistributedModel, ServingModel\nfrom mlsysim.solvers import DistributedModel as D\n"
              "assert DistributedModel is D\n")
    assert out.returncode == 0, out.stderr
    assert out.stderr.count("DeprecationWarning") == 2 and "<string>:1" in out.stderr


def test_solvers_module_reexports_without_warning():
    out = run("from mlsysim.solvers import ForwardModel, RooflineModel\nassert issubclass(RooflineModel, ForwardModel)\n")
    assert out.returncode == 0 and out.stderr == ""
