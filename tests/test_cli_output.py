"""What the CLI and PerformanceProfile print: one unit per magnitude, one JSON throughput key, and a scenario's
JSON checks equal to the checks its human output prints."""
from __future__ import annotations

import json
import re

import pytest

import mlsysim
from mlsysim.cli import main

# A figure printed in scientific notation ("4.466e-05 GiB", "4.32e+05 ms") is the thing these tests forbid.
SCIENTIFIC = re.compile(r"\d[eE][+-]?\d")


def _scenario_names() -> list[str]:
    return [s.name for s in mlsysim.Scenarios]


@pytest.mark.parametrize("argv", [["eval", "DS_CNN", "STM32H7A3", "--precision", "int8"],
                                  ["eval", "Llama3_8B", "H100", "--batch-size", "4", "--precision", "bf16"],
                                  ["eval", "Llama3_70B", "H100", "--training", "--batch-size", "64"],
                                  ["eval", "ResNet50", "A100", "--batch-size", "256", "--precision", "int8"]])
def test_eval_human_output_has_no_scientific_notation(argv, capsys):
    main(argv)
    out = capsys.readouterr().out
    figures = [line for line in out.splitlines() if not line.startswith("note:")]
    assert not [line for line in figures if SCIENTIFIC.search(line)]


def test_microcontroller_memory_is_in_kib_and_split_between_sram_and_flash(capsys):
    assert main(["eval", "DS_CNN", "STM32H7A3", "--precision", "int8"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"memory \(SRAM\)\s+[\d.]+ KiB of [\d.]+ MiB", out)
    assert re.search(r"flash \(weights\)\s+[\d.]+ KiB of 2 MiB", out)
    assert "GiB" not in out


def test_summary_picks_the_unit_per_figure():
    r = mlsysim.Engine.solve("Llama3_8B", "H100", 4, "bf16")
    rows = dict((k.strip(), v) for k, v in r._rows())
    assert rows["latency"].endswith(" ms")
    assert rows["activations"].endswith(" MiB")  # 1.3 MiB, not 0.001291 GiB
    assert rows["memory"].endswith(" GiB of 80 GiB")
    compute, memory, overhead = rows["compute / memory / overhead"].split(" / ")
    assert compute.endswith("µs") and memory.endswith(" ms")
    # the printed latency is the profile's, to 4 significant figures
    assert float(rows["latency"].split()[0]) == pytest.approx(r.latency.to("ms").magnitude, rel=1e-3)


@pytest.mark.parametrize("model, hardware, unit", [("Llama3_8B", "H100", "token/s"), ("ResNet50", "A100", "sample/s")])
def test_one_throughput_key_whatever_the_model_kind(model, hardware, unit, capsys):
    assert main(["eval", model, hardware, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["throughput_unit"] == unit
    assert isinstance(data["throughput"], float) and data["throughput"] > 0
    assert not [k for k in data if k.startswith("throughput_") and k != "throughput_unit"]
    r = mlsysim.Engine.solve(model, hardware)
    assert data["throughput"] == pytest.approx(r.throughput.to("1/s").magnitude)


def test_throughput_is_items_per_latency():
    d = mlsysim.Engine.solve("ResNet50", "A100", 64, "int8").to_dict()
    assert d["throughput"] == pytest.approx(64 / d["latency_s"])


def _human_checks(out: str) -> list[tuple[bool, str]]:
    found = []
    for line in out.splitlines()[1:]:
        m = re.match(r"\s+(PASS|FAIL) (.+?): ", line)
        if m:
            found.append((m.group(1) == "PASS", m.group(2)))
    return found


@pytest.mark.parametrize("name", _scenario_names())
def test_scenario_json_checks_are_the_printed_checks(name, capsys):
    code = main(["scenario", name])
    human = _human_checks(capsys.readouterr().out)
    assert main(["scenario", name, "--json"]) == code
    data = json.loads(capsys.readouterr().out)
    assert [(c["passed"], c["name"]) for c in data["checks"]] == human
    # the verdict is the conjunction of the listed checks, and the memory fit is one of them
    assert data["passed"] == all(c["passed"] for c in data["checks"])
    assert data["profile"]["feasible"] == all(c["passed"] for c in data["checks"] if "fit" in c["name"])
    # exit status (issue 11): 0 pass, 2 the workload does not fit, 3 it fits but a constraint is violated
    assert code == (0 if data["passed"] else 2 if not data["profile"]["feasible"] else 3)
    for c in data["checks"]:
        assert c["passed"] == (c["value"] <= c["limit"])


def test_smart_doorbell_json_lists_the_memory_fit_it_fails(capsys):
    assert main(["scenario", "SmartDoorbell", "--json"]) == 2
    checks = {c["name"]: c for c in json.loads(capsys.readouterr().out)["checks"]}
    sram = checks["fits in memory (SRAM)"]
    assert sram["passed"] is False and sram["unit"] == "GiB"
    assert sram["value"] > sram["limit"] == pytest.approx(512 * 1024 / 2 ** 30)  # the ESP32-S3's 512 KiB SRAM
    assert checks["weights fit in flash"]["passed"] is True


def test_scenario_human_output_uses_human_units(capsys):
    main(["scenario", "SmartDoorbell"])
    out = capsys.readouterr().out
    assert "743 KiB (limit 512 KiB)" in out and "303 mW (limit 100 mW)" in out
    assert not SCIENTIFIC.search(out)


def test_memory_checks_match_feasible():
    for model, hw, precision in (("Llama2_70B", "RTX4090", "fp16"), ("Llama3_8B", "H100", "fp16"),
                                 ("DS_CNN", "STM32H7A3", "int8"), ("WakeVision", "ESP32_S3", "int8")):
        r = mlsysim.Engine.solve(model, hw, 1, precision)
        checks = r.memory_checks()
        assert r.feasible == all(c.passed for c in checks)
        assert checks[0].value.to("B").magnitude == pytest.approx(
            r.memory.total - (r.memory.weights if r.memory.weights_capacity is not None else 0))


def test_repr_html_is_a_table_of_the_summary():
    r = mlsysim.Engine.solve("Llama3_8B", "H100", 4, "bf16")
    html = r._repr_html_()
    assert html.startswith("<table>") and "</table>" in html
    assert "Llama3_8B" in html and "H100" in html
    assert html.count("<tr>") == len(r._rows())
    assert "<th style='text-align:left'>latency</th><td>" + r._rows()[3][1] in html
    # a reason with markup characters is escaped
    note = mlsysim.Engine.solve("Llama2_70B", "RTX4090")._repr_html_()
    assert "<li>" in note and "<script" not in note
