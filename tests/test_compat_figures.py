"""0.1.x figure names on our specs: same physics as the primary names, and no silent fallbacks."""
import warnings

import pytest

import mlsysim
from mlsysim.errors import InvalidInputError, UnsupportedPrecisionError

H, M, I, S = mlsysim.Hardware, mlsysim.Models, mlsysim.Infra, mlsysim.Systems


def test_kv_cache_size_is_linear_in_tokens_and_bytes():
    m = M.Llama3_8B
    one = m.get_kv_cache_size(1024, 1).m_as("B")
    assert one == m.kv_elements_per_token * 1024 * 2  # fp16
    assert m.get_kv_cache_size(2048, 4).m_as("B") == 8 * one
    assert m.get_kv_cache_size(1024, 1, "fp8").m_as("B") == one / 2
    assert m.get_kv_cache_size(1024, 1, 1 * mlsysim.ureg.byte).m_as("B") == one / 2
    with pytest.raises(InvalidInputError):
        m.get_kv_cache_size(-1, 1)


def test_flat_figures_equal_the_quantities():
    assert I.Quebec.carbon_intensity_g_kwh == I.Quebec.carbon_intensity.m_as("g/kWh")
    assert I.Racks.AI_Standard.power_kw == I.Racks.AI_Standard.power_per_rack.m_as("kW")
    assert S.Tiers.Cloud.ram == S.Tiers.Cloud.memory_budget
    assert M.Llama3_8B.hidden_dim == M.Llama3_8B.hidden_size


def test_grid_pue_warns_and_names_the_rack_it_reads():
    with pytest.warns(DeprecationWarning, match="Racks.AI_Standard"):
        assert I.Quebec.pue == I.Racks.AI_Standard.pue


def test_tier_storage_is_refused_not_invented():
    with pytest.raises(AttributeError, match="no storage figure"):
        S.Tiers.Cloud.storage


def test_list_sorts_by_a_figure_and_refuses_a_missing_one():
    bws = [h.memory.bandwidth.m_as("B/s") for h in H.list(sort_by="memory.bandwidth")]
    assert bws == sorted(bws) and len(bws) == len(H.entries())
    assert H.list(sort_by="memory.bandwidth", reverse=True)[0].name == H.list(sort_by="memory.bandwidth")[-1].name
    with pytest.raises(InvalidInputError, match="no 'nonexistent'"):
        H.list(sort_by="nonexistent")


def test_default_precision_falls_back_only_when_not_given():
    r = mlsysim.Engine.solve(M.Tiny.WakeVision, H.Tiny.ESP32)
    assert r.precision == "int8" and any("precision not given" in x for x in r.reasons)
    with pytest.raises(UnsupportedPrecisionError):
        mlsysim.Engine.solve(M.Tiny.WakeVision, H.Tiny.ESP32, precision="fp16")
    gpu = mlsysim.Engine.solve(M.Llama3_8B, H.H100)
    assert gpu.precision == "fp16" and not any("precision not given" in x for x in gpu.reasons)


def test_constants_module_has_units_and_points_figures_to_the_registries():
    from mlsysim.core.constants import BYTES_FP16, Q_, GiB

    assert (Q_(1, "GiB") / GiB).m_as("") == 1 and BYTES_FP16.m_as("B") == 2
    import mlsysim.core.constants as c

    with pytest.raises(AttributeError, match="registries"):
        c.H100_MEM_BW


def test_kilobyte_is_1000_bytes():
    assert mlsysim.ureg("150 KB").m_as("B") == 150e3


def test_lora_adapters_match_peft_count_and_cut_state_not_activations():
    from mlsysim.core.lora import adapter_parameters

    # PEFT reports 20,971,520 trainable parameters for r=8 on all linear layers of Llama-3-8B: r x sum(d_in+d_out)
    assert adapter_parameters(M.Llama3_8B, 8) == 20_971_520
    full = mlsysim.Engine.solve(M.Llama3_8B, H.H100, batch_size=8, is_training=True)
    lora = mlsysim.Engine.solve(M.Llama3_8B, H.H100, batch_size=8, is_training=True, is_lora=True)
    assert lora.memory.activations == full.memory.activations  # backprop through frozen layers keeps them
    assert lora.memory.optimizer_state < full.memory.optimizer_state / 100
    # GEMMs drop from 3 passes to 2: the step takes between 2/3 and all of the full step's time
    assert 2 / 3 * 0.95 < lora.latency.m_as("s") / full.latency.m_as("s") < 1.0
    r16 = mlsysim.Engine.solve(M.Llama3_8B, H.H100, batch_size=8, is_training=True, is_lora=True, lora_rank=16)
    assert r16.memory.gradients == pytest.approx(2 * lora.memory.gradients)
    with pytest.raises(InvalidInputError, match="is_training"):
        mlsysim.Engine.solve(M.Llama3_8B, H.H100, is_lora=True)


def test_hfu_counts_recomputation_and_model_dump_has_quantities():
    none = mlsysim.Engine.solve(M.Llama3_8B, H.H100, batch_size=4, is_training=True)
    full = mlsysim.Engine.solve(M.Llama3_8B, H.H100, batch_size=4, is_training=True,
                                activation_recomputation="full")
    assert none.hfu == pytest.approx(none.mfu)
    assert full.hfu > full.mfu
    dump = none.model_dump()
    assert dump["latency"].m_as("s") == none.latency.m_as("s") and dump["energy"] is none.energy_per_inference


def test_scenario_evaluation_carries_the_0_1_x_scorecard_levels():
    s = mlsysim.Scenarios.ChatbotServing
    assert s.workload is M.Llama3_8B and s.system is H.H100
    assert s.sla_latency.m_as("ms") == s.constraints.max_latency.m_as("ms")
    small, big = s.evaluate(1), s.evaluate(32)
    assert small.performance.passed and not big.performance.passed  # TTFT grows with the batch of prompts
    assert big.passed_all == big.passed is False
    assert "Feasibility" in big.scorecard() and big.feasibility.status == "PASS"
    assert s.evaluate(32, "fp8").profile.precision == "fp8"


def test_distributed_fleet_is_the_system_keyword():
    from mlsysim.solvers import DistributedModel

    a = DistributedModel().solve(M.Llama3_70B, S.Clusters.Research_256, 256, tensor_parallel=8)
    b = DistributedModel().solve(model=M.Llama3_70B, fleet=S.Clusters.Research_256, batch_size=256, tp_size=8)
    assert a.latency.m_as("s") == b.latency.m_as("s")
    with pytest.raises(InvalidInputError, match="not both"):
        DistributedModel().solve(M.Llama3_70B, S.Clusters.Research_256, fleet=S.Clusters.Research_256)
    with pytest.raises(InvalidInputError, match="needs a system"):
        DistributedModel().solve(M.Llama3_70B)
