from __future__ import annotations

import json
import subprocess
import sys

import pytest

from mlsysim.cli import main


def test_eval_prints_table_and_exits_zero_when_feasible(capsys):
    assert main(["eval", "Llama3_8B", "H100", "--batch-size", "4", "--precision", "bf16"]) == 0
    out = capsys.readouterr().out
    for word in ("latency", "throughput", "bottleneck", "mfu", "feasible", "energy", "weights", "kv cache"):
        assert word in out


def test_eval_json_only(capsys):
    assert main(["eval", "ResNet50", "A100", "--batch-size", "64", "--precision", "int8", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["feasible"] is True and data["latency_s"] > 0


def test_infeasible_exits_two(capsys):
    assert main(["eval", "Llama2_70B", "RTX4090", "--precision", "fp16"]) == 2


@pytest.mark.parametrize("argv", [["eval", "Llama3_8B", "H100", "--precision", "fp12"],
                                  ["eval", "Llama3_8B", "H1OO"],
                                  ["eval", "Llama3_8B", "H100", "--batch-size", "0"]])
def test_bad_input_exits_one_with_one_line(argv, capsys):
    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("mlsysim: error:") and "\n" not in err


def test_python_dash_m_and_version():
    out = subprocess.run([sys.executable, "-m", "mlsysim", "--version"], capture_output=True, text=True,
                         cwd=str(__import__("pathlib").Path(__file__).parents[1] / "src"))
    assert out.returncode == 0 and __import__("mlsysim").__version__ in out.stdout and out.stdout.strip().endswith("0.1.2")


def test_training_flag(capsys):
    main(["eval", "Llama3_8B", "H100", "--training", "--seq-len", "2048", "--json"])
    assert json.loads(capsys.readouterr().out)["is_training"] is True


@pytest.mark.parametrize("argv", [["eval", "Llama3_8B", "H100", "--batch-size", "abc"], ["eval", "Llama3_8B"], []])
def test_argument_errors_exit_one_with_one_line(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("mlsysim: error:") and "\n" not in err


def test_show_lists_fields_with_units_and_provenance(capsys):
    assert main(["show", "H100"]) == 0
    out = capsys.readouterr().out
    assert "memory.capacity" in out and "80 GiB" in out and "3.35 TB/s" in out
    assert "provenance" in out and "datasheet" in out
    assert main(["show", "Systems.Fabrics.InfiniBand_NDR"]) == 0
    assert main(["show", "H1000"]) == 1
    assert "H100" in capsys.readouterr().err
