"""The CLI as a shell pipeline and an unusual terminal use it: a closed pipe, an unwritable stdout, an ASCII
terminal, JSON that must stay JSON. Each case runs the real command in a subprocess."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mlsysim.cli import encodable

SRC = str(Path(__file__).resolve().parents[1] / "src")


def run(args, tmp_path, **env):
    return subprocess.run([sys.executable, "-m", "mlsysim", *args], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, PYTHONPATH=SRC, MLSYSIM_CACHE_DIR=str(tmp_path / "cache"), **env))


def test_closed_pipe_exits_quietly(tmp_path):
    """`mlsysim list hardware | head -1`: no BrokenPipeError traceback, exit 0 like other Unix tools."""
    out = subprocess.run(["bash", "-c", f"set -o pipefail; '{sys.executable}' -m mlsysim list hardware | head -1"],
                         capture_output=True, text=True, timeout=120,
                         env=dict(os.environ, PYTHONPATH=SRC, MLSYSIM_CACHE_DIR=str(tmp_path / "cache")))
    assert out.returncode == 0, out.stderr
    assert len(out.stdout.splitlines()) == 1
    assert "Traceback" not in out.stderr and "BrokenPipe" not in out.stderr and "Exception ignored" not in out.stderr


def test_reader_closing_early_while_output_is_large(tmp_path):
    env = dict(os.environ, PYTHONPATH=SRC, MLSYSIM_CACHE_DIR=str(tmp_path / "cache"))
    proc = subprocess.Popen([sys.executable, "-m", "mlsysim", "list", "models", "--json"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)
    proc.stdout.readline()
    proc.stdout.close()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0 and b"Traceback" not in err


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_unwritable_stdout_is_one_line(tmp_path):
    with open("/dev/full", "w") as full:
        out = subprocess.run([sys.executable, "-m", "mlsysim", "list", "hardware"], stdout=full,
                             stderr=subprocess.PIPE, text=True, timeout=120,
                             env=dict(os.environ, PYTHONPATH=SRC, MLSYSIM_CACHE_DIR=str(tmp_path / "cache")))
    assert out.returncode == 1
    assert out.stderr.strip().splitlines() == ["mlsysim: error: cannot write output: No space left on device"]


@pytest.mark.parametrize("args", [["show", "H100"], ["eval", "Llama3_8B", "H100"], ["scenario", "SmartDoorbell"]])
def test_ascii_terminal_gets_ascii_units(tmp_path, args):
    out = run(args, tmp_path, PYTHONIOENCODING="ascii")
    assert out.returncode in (0, 2), out.stderr
    assert "Traceback" not in out.stderr
    out.stdout.encode("ascii")  # everything printed is ASCII
    if args[0] == "show":
        assert "5 us" in out.stdout


def test_writer_translates_unit_symbols_only_when_needed():
    assert encodable("5 µs, 3 m²", "utf-8") == "5 µs, 3 m²"
    assert encodable("5 µs, 3 m², 2 W·h", "ascii") == "5 us, 3 m^2, 2 W*h"
    assert encodable("π", "ascii") == "\\u03c0"


def test_json_output_is_always_valid_json(tmp_path):
    out = run(["eval", "Llama3_8B", "H100", "--json"], tmp_path)
    assert out.returncode == 0
    json.loads(out.stdout)
    bad = run(["eval", "Llama3_8B", "H100", "--efficiency", "5e-324", "--json"], tmp_path)
    assert bad.returncode == 1 and bad.stdout == "" and "Infinity" not in bad.stdout
    assert bad.stderr.startswith("mlsysim: error:") and len(bad.stderr.strip().splitlines()) == 1


def test_profile_to_json_refuses_non_finite_numbers():
    import attrs

    import mlsysim

    r = mlsysim.Engine.solve("Llama3_8B", "H100")
    broken = attrs.evolve(r, compute_time_s=float("inf"))
    with pytest.raises(ValueError):
        broken.to_json()
