from __future__ import annotations

import pytest

import mlsysim
from mlsysim.errors import UnknownEntryError


def test_flat_and_category_names_give_the_same_object():
    assert mlsysim.Hardware.H100 is mlsysim.Hardware.Cloud.H100
    assert mlsysim.Models.Llama3_70B is mlsysim.Models.Language.Llama3_70B
    assert mlsysim.Systems.Cloud is mlsysim.Hardware.H100  # alias declared in the catalog


def test_get_by_name_display_name_and_path_case_insensitive():
    h = mlsysim.Hardware
    assert h.get("H100") is h.H100
    assert h.get("h100") is h.H100
    assert h.get("NVIDIA H100") is h.H100
    assert h.get("nvidia h100") is h.H100
    assert h.get("Cloud.H100") is h.H100
    assert h.get("Hardware.Cloud.H100") is h.H100
    assert mlsysim.Models.get("llama-3.1-70b") is mlsysim.Models.Llama3_70B


def test_unknown_name_is_a_lookup_error_listing_close_names():
    with pytest.raises(LookupError) as info:
        mlsysim.Hardware.get("H10O")
    assert isinstance(info.value, UnknownEntryError)
    assert "H100" in str(info.value)
    with pytest.raises(LookupError, match="H100"):
        mlsysim.Hardware.H1000  # noqa: B018 - attribute access raises too
    assert not hasattr(mlsysim.Hardware, "H1000")


def test_registries_iterate_have_len_and_list_names():
    hw = mlsysim.Hardware
    entries = list(hw)
    assert len(hw) == len(entries) == len({id(e) for e in entries}) >= 40
    assert "H100" in hw.names() and "H100" in hw
    assert len(hw.Cloud) < len(hw)
    assert all(e.category == "Cloud" for e in hw.Cloud)
    assert len(mlsysim.Models) >= 28 and len(mlsysim.Scenarios) >= 9
    assert set(mlsysim.Applications.names()) <= set(mlsysim.Scenarios.names())
    assert all(isinstance(e, mlsysim.specs.HardwareSpec) for e in hw)  # Hardware.Networks.* are aliases only
    assert mlsysim.Hardware.Networks.InfiniBand_NDR is mlsysim.Systems.Fabrics.InfiniBand_NDR


def test_every_entry_has_provenance_and_units_are_positive(reg):
    for root in ("Hardware", "Models", "Scenarios", "Systems", "Infra"):
        for spec in reg.roots[root]:
            p = spec.provenance
            assert p.kind in ("datasheet", "paper", "measured", "estimate")
            assert len(p.source) > 4 and len(p.checked) == 10


def test_required_entries_exist():
    for name in ["H100_PCIe", "A100_80GB", "A100_40GB", "L4", "RTX4090", "RTX3090", "JetsonAGXOrin",
                 "JetsonOrinNano", "M1Max", "M2Ultra", "M3Max", "STM32L4R5", "STM32H7A3", "STM32U575", "nRF5340"]:
        assert isinstance(getattr(mlsysim.Hardware, name), mlsysim.specs.HardwareSpec)
    for name in ["Llama2_7B", "Llama2_13B", "Llama31_405B", "Llama33_70B", "GPTJ_6B", "Mixtral_8x7B",
                 "DeepSeekV3", "MobileNetV1_025", "DS_CNN"]:
        assert isinstance(getattr(mlsysim.Models, name), mlsysim.specs.ModelSpec)


def test_dense_and_sparse_peaks_are_kept_apart():
    b200 = mlsysim.Hardware.B200
    assert b200.peak_sparse.bf16.m_as("flop/s") == pytest.approx(2 * b200.peak_dense.bf16.m_as("flop/s"))
    assert 2.0e15 <= b200.peak_dense.bf16.m_as("flop/s") <= 2.5e15  # dense, not the 4.5 PFLOP/s sparse marketing figure
    for hw in mlsysim.Hardware:
        if hw.peak_sparse:
            for precision, sparse in hw.peak_sparse.items():
                assert hw.peak_dense.get(precision) is None or sparse >= hw.peak_dense.get(precision)


def test_binary_and_decimal_prefixes_are_kept_apart():
    h100 = mlsysim.Hardware.H100
    assert h100.memory.capacity.m_as("B") == 80 * 2**30       # HBM3 stacks: binary
    assert h100.memory.bandwidth.m_as("B/s") == pytest.approx(3.35e12)  # vendor bandwidth: decimal
    assert str(h100.memory.capacity.to("GiB")).startswith("80")


def test_figures_are_quantities_of_the_one_registry():
    q = mlsysim.Hardware.H100.peak_dense.bf16
    assert q.to("TFLOP/s").magnitude == pytest.approx(989.4, rel=1e-3)
    assert q._REGISTRY is mlsysim.ureg


def test_q_is_the_deprecated_spelling_of_the_attribute():
    with pytest.warns(DeprecationWarning, match="read spec.peak_dense.bf16"):
        q = mlsysim.Hardware.H100.q("peak_dense.bf16")
    assert q == mlsysim.Hardware.H100.peak_dense.bf16


def test_scenarios_evaluate_each_constraint():
    ev = mlsysim.Scenarios.ChatbotServing.evaluate()
    assert ev.checks, "every scenario declares at least one constraint"
    for check in ev.checks:
        assert check.passed == (check.value <= check.limit)
    assert isinstance(ev.summary(), str) and ev.scenario == "ChatbotServing"


@pytest.mark.parametrize("name", ["AutonomousVehicle", "AutonomousVehicle_Waymo", "ChatbotServing",
                                  "FrontierTraining", "KeywordSpotting", "LocalTraining", "MobileHealth",
                                  "SmartDoorbell", "TinySensor"])
def test_every_shipped_scenario_evaluates(name):
    ev = getattr(mlsysim.Scenarios, name).evaluate()
    assert ev.profile.latency.magnitude > 0
