"""The CLI's command set (issue 11): JSON-only output with --json, exit codes, one-line errors, --help speed."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import mlsysim
from mlsysim.cli import main

ROOT = Path(__file__).parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "hf_configs"
HELP_BUDGET_S = 0.3  # issue 11: `mlsysim --help` under 0.3 s

JSON_COMMANDS = [
    ["eval", "Llama3_8B", "H100"],
    ["eval", str(FIXTURES / "llama3_8b.json"), "H100"],
    ["eval", "Llama3_8B", "H100", "--runtime", "vllm", "--seq-lens", "128,512,2048", "--batch-size", "3"],
    ["serve", "Llama3_8B", "H100", "--prompt-len", "512", "--concurrency", "8"],
    ["serve", "Llama3_70B", "DGX_H100", "--tp", "8", "--prompt-len", "1024", "--runtime", "vllm"],
    ["train", "Llama3_8B", "DGX_H100", "--batch-size", "64", "--tp", "8", "--zero", "1"],
    ["zoo", "hardware"], ["zoo", "models", "--category", "language"], ["zoo", "scenarios"], ["zoo", "systems"],
    ["zoo", "runtimes"], ["list", "models"], ["show", "H100"], ["scenario", "SmartDoorbell"],
    ["schema", "hardware"], ["catalog", "validate", str(ROOT / "catalog")],
    ["catalog", "validate", str(ROOT / "tests" / "fixtures" / "catalogs" / "stray_file")],
    ["catalog", "check-stability"], ["catalog", "add-model", str(FIXTURES / "deepseek_v3.json")],
]


def _run(args: list[str], **env: str) -> subprocess.CompletedProcess:
    full = dict(os.environ, PYTHONPATH=str(ROOT / "src"), **env)
    return subprocess.run([sys.executable, "-m", "mlsysim", *args], capture_output=True, text=True, env=full)


@pytest.mark.parametrize("args", JSON_COMMANDS, ids=lambda a: " ".join(a[:3]))
def test_json_flag_prints_only_json(args, capsys):
    code = main([*args, "--json"])
    text = capsys.readouterr().out
    if code == 1:  # a fixture catalog that is meant to be rejected: nothing on stdout
        assert text == ""
        return
    json.loads(text)  # the whole of stdout is one JSON document
    assert code in (0, 2, 3)


def test_eval_reads_a_config_json_like_a_registry_entry(capsys):
    assert main(["eval", str(FIXTURES / "llama3_8b.json"), "H100", "--json"]) == 0
    imported = json.loads(capsys.readouterr().out)
    assert main(["eval", "Llama3_8B", "H100", "--json"]) == 0
    shipped = json.loads(capsys.readouterr().out)
    # Same geometry, same physics: the latency of the imported model is the shipped entry's.
    assert imported["latency_s"] == pytest.approx(shipped["latency_s"], rel=1e-12)


def test_eval_seq_lens_is_a_ragged_batch(capsys):
    main(["eval", "Llama3_8B", "H100", "--batch-size", "3", "--seq-lens", "128,128,128", "--json"])
    ragged = json.loads(capsys.readouterr().out)
    main(["eval", "Llama3_8B", "H100", "--batch-size", "3", "--seq-len", "128", "--json"])
    uniform = json.loads(capsys.readouterr().out)
    assert ragged["latency_s"] == pytest.approx(uniform["latency_s"], rel=1e-9)  # equal lengths: no raggedness


def test_serve_tensor_parallel_cuts_tpot(capsys):
    """Decode is weight-streaming bound: 8-way TP splits the weights, so TPOT falls (not 8x: all-reduces)."""
    main(["serve", "Llama3_70B", "DGX_H100", "--prompt-len", "1024", "--tp", "8", "--json"])
    tp8 = json.loads(capsys.readouterr().out)
    main(["serve", "Llama3_70B", "DGX_H100", "--prompt-len", "1024", "--tp", "4", "--json"])
    tp4 = json.loads(capsys.readouterr().out)
    assert tp8["tpot"] < tp4["tpot"] and tp8["gpus"] == 8


def test_train_dp_is_checked_against_the_system(capsys):
    assert main(["train", "Llama3_8B", "DGX_H100", "--batch-size", "64", "--tp", "8", "--dp", "1"]) == 0
    assert main(["train", "Llama3_8B", "DGX_H100", "--batch-size", "64", "--tp", "8", "--dp", "2"]) == 1
    assert "data parallel = 1" in capsys.readouterr().err


def test_zoo_category_filters_and_reports_unknown(capsys):
    assert main(["zoo", "hardware", "--category", "tiny", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows and all(r["category"] == "Tiny" for r in rows)
    assert main(["zoo", "hardware", "--category", "nope"]) == 1
    assert "categories:" in capsys.readouterr().err


def test_scenario_exit_codes():
    """0 pass, 2 does not fit (SmartDoorbell overflows its SRAM), 3 fits but violates a constraint."""
    codes = {}
    for spec in mlsysim.Scenarios:
        ev = spec.evaluate()
        codes[spec.name] = main(["scenario", spec.name, "--json"])
        expected = 0 if ev.passed else (2 if not ev.profile.feasible else 3)
        assert codes[spec.name] == expected
    assert codes["SmartDoorbell"] == 2


def test_schema_prints_the_schema_file(capsys):
    assert main(["schema", "models"]) == 0
    assert json.loads(capsys.readouterr().out) == json.loads((ROOT / "schemas" / "models.schema.json").read_text())
    assert main(["schema", "nope"]) == 1


def test_catalog_validate_reports_like_the_import(capsys):
    bad = ROOT / "tests" / "fixtures" / "catalogs" / "bad_geometry"
    assert main(["catalog", "validate", str(bad)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "head_dim" in err[0]
    assert main(["catalog", "validate", str(ROOT / "catalog" / "models" / "qwen3.toml")]) == 0


def test_add_model_appends_an_entry_that_loads(tmp_path, capsys):
    from mlsysim.catalog.loader import load_catalog

    target = tmp_path / "models" / "imported.toml"
    target.parent.mkdir()
    for stem, name in (("qwen2_7b", "HF_Qwen2_7B"), ("pythia_1b", "HF_Pythia_1B")):
        assert main(["catalog", "add-model", str(FIXTURES / f"{stem}.json"), "--name", name,
                     "--source", f"https://huggingface.co/example/{stem}/blob/main/config.json",
                     "-o", str(target)]) == 0
    assert target.read_text().count("schema_version") == 1 and target.read_text().count("[[models]]") == 2
    assert main(["catalog", "validate", str(tmp_path)]) == 0
    loaded = {e.name: e.spec for e in load_catalog([tmp_path], use_cache=False).entries if e.array == "models"}
    assert loaded["HF_Pythia_1B"].parameter_count == 1_011_781_632
    assert loaded["HF_Qwen2_7B"].provenance.source.startswith("https://huggingface.co/example/qwen2_7b")


def test_sweep_is_a_clear_error_without_dse(capsys):
    import importlib.util

    if importlib.util.find_spec("mlsysim.dse") is not None:
        pytest.skip("mlsysim.dse is installed: the sweep command runs")
    assert main(["sweep", "--models", "Llama3_8B", "--hardware", "H100"]) == 1
    assert "mlsysim.dse" in capsys.readouterr().err


def test_errors_are_one_line_without_traceback(tmp_path):
    for args in (["eval", "Nope", "H100"], ["eval", str(tmp_path / "missing.json"), "H100"],
                 ["serve", "BERT_Base", "H100", "--prompt-len", "128"], ["train", "Llama3_8B", "H100",
                                                                          "--batch-size", "8"]):
        out = _run(args, MLSYSIM_CACHE_DIR=str(tmp_path / "cache"))
        assert out.returncode == 1, (args, out.stderr)
        assert out.stdout == "" and "Traceback" not in out.stderr
        assert len(out.stderr.strip().splitlines()) == 1 and out.stderr.startswith("mlsysim: error:")


def test_python_dash_m_mlsysim_and_help_speed(tmp_path):
    out = _run(["--help"])
    assert out.returncode == 0 and "zoo" in out.stdout and "exit status" in out.stdout
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        _run(["--help"])
        best = min(best, time.perf_counter() - start)
    assert best < HELP_BUDGET_S, f"mlsysim --help took {best:.3f} s"


def test_plot_without_matplotlib_is_a_clear_error(tmp_path):
    code = ("import sys; sys.modules['matplotlib'] = None; from mlsysim.cli import main; "
            f"sys.exit(main(['plot', 'roofline', 'Llama3_8B', 'H100', '-o', {str(tmp_path / 'x.png')!r}]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=dict(os.environ, PYTHONPATH=str(ROOT / "src")))
    assert out.returncode == 1 and "mlsysim[plot]" in out.stderr and "Traceback" not in out.stderr
