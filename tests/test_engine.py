"""Engine.solve: interface, errors and physics (limits, monotonicity, conservation)."""
from __future__ import annotations

import attrs
import pytest

import mlsysim
from mlsysim import Engine, Hardware, Models
from mlsysim.errors import InvalidInputError, InvalidTypeError, UnknownEntryError, UnsupportedPrecisionError


def test_stable_fields_have_promised_types():
    r = Engine.solve(Models.Llama3_8B, Hardware.H100, 1, "fp16", 0.5)
    ureg = mlsysim.ureg
    assert isinstance(r.latency, ureg.Quantity) and r.latency.check("[time]")
    assert isinstance(r.throughput, ureg.Quantity) and r.throughput.to("1/s").magnitude > 0
    assert r.bottleneck in ("Compute", "Memory")
    assert isinstance(r.mfu, float) and 0 <= r.mfu <= 1
    assert r.feasible is True
    assert isinstance(r.energy, ureg.Quantity) and r.energy.check("[energy]")
    assert attrs.has(type(r)) and type(r).__setattr__ is not object.__setattr__  # frozen


def test_names_and_specs_are_interchangeable():
    a = Engine.solve("Llama3_8B", "H100", 4, "bf16")
    b = Engine.solve(Models.Llama3_8B, Hardware.H100, batch_size=4, precision="bf16")
    assert a.latency == b.latency


def test_positional_order_is_stable():
    r = Engine.solve("Llama3_8B", "H100", 8, "fp8", 0.7)
    assert r.batch_size == 8 and r.precision == "fp8" and r.peak_flops_used == pytest.approx(
        0.7 * Hardware.H100.peak_dense.fp8.m_as("flop/s"))


@pytest.mark.parametrize("kwargs,error,fragment", [
    ({"precision": "fp12"}, UnsupportedPrecisionError, "fp16"),
    ({"precision": 16}, InvalidTypeError, "precision"),
    ({"batch_size": 0}, InvalidInputError, "batch_size"),
    ({"batch_size": 2.5}, InvalidTypeError, "batch_size"),
    ({"batch_size": True}, InvalidTypeError, "batch_size"),
    ({"efficiency": 0.0}, InvalidInputError, "(0, 1]"),
    ({"efficiency": 1.5}, InvalidInputError, "(0, 1]"),
    ({"hardware": "H10"}, UnknownEntryError, "H100"),
    ({"model": "Llama3_80B"}, UnknownEntryError, "Llama3_8B"),
    ({"model": 42}, InvalidTypeError, "ModelSpec"),
])
def test_bad_input_raises_clear_errors(kwargs, error, fragment):
    args = {"model": "Llama3_8B", "hardware": "H100"} | kwargs
    with pytest.raises(error) as info:
        Engine.solve(**args)
    assert fragment in str(info.value)
    assert isinstance(info.value, (ValueError, TypeError, LookupError))


def test_float_precision_without_units_is_an_error_not_a_fallback():
    with pytest.raises(UnsupportedPrecisionError, match="bf16"):
        Engine.solve("Llama3_8B", "V100", precision="bf16")  # Volta has no bf16 units


def test_quantised_storage_without_units_runs_weight_only():
    r = Engine.solve("Llama3_8B", "H100", precision="int4")  # Hopper has no int4 tensor cores
    assert r.compute_precision in ("bf16", "fp16")
    assert any("weight-only" in reason for reason in r.reasons)
    fp16 = Engine.solve("Llama3_8B", "H100", precision="fp16")
    assert r.memory.weights == pytest.approx(fp16.memory.weights / 4)
    assert r.latency < fp16.latency  # batch-1 decode is weight-bandwidth bound


def test_fp32_uses_the_fp32_peak_not_the_tensor_peak():
    r = Engine.solve("ResNet50", "H100", 256, "fp32", 1.0)
    assert r.peak_flops_used == pytest.approx(Hardware.H100.peak_dense.fp32.m_as("flop/s"))


def test_decode_batch1_is_memory_bound_and_weight_streaming():
    r = Engine.solve("Llama3_70B", "H200", 1, "fp8")
    assert r.bottleneck == "Memory"
    m = Models.Llama3_70B
    # Roofline lower bound: every matmul weight byte crosses the memory bus once per token.
    assert r.latency.to("s").magnitude >= m.matmul_parameters_per_token * 1.0 / Hardware.H200.memory.bandwidth.m_as("B/s")


def test_large_batch_prefill_like_cnn_is_compute_bound():
    assert Engine.solve("ResNet50", "H100", 2048, "int8").bottleneck in ("Compute", "Memory")
    assert Engine.solve("GPT3", "H100", 1, "fp16", is_training=True, seq_len=2048,
                        zero_stage=3, dp_size=1024).bottleneck == "Compute"


def test_kv_cache_size_follows_gqa_geometry():
    m = Models.Llama3_70B  # 80 layers x 8 KV heads x 128 dims x K,V
    r = Engine.solve(m, "H200", 4, "fp16", seq_len=8192)
    assert r.memory.kv_cache == pytest.approx(4 * 8192 * 2 * 80 * 8 * 128 * 2)


def test_model_that_does_not_fit_is_infeasible_with_reason():
    r = Engine.solve("Llama2_70B", "A100_80GB", 1, "fp16")
    assert r.feasible is False
    assert any("GiB" in reason for reason in r.reasons)
    with pytest.raises(mlsysim.errors.InfeasibleError):
        Engine.solve("Llama2_70B", "A100_80GB", 1, "fp16", raise_errors=True)


def test_microcontroller_uses_flash_and_sram():
    r = Engine.solve("DS_CNN", "STM32L4R5", 1, "int8")
    assert r.feasible
    assert r.memory.weights_capacity == Hardware.STM32L4R5.flash.capacity.m_as("B")
    too_big = Engine.solve("ResNet50", "STM32L4R5", 1, "int8")
    assert too_big.feasible is False


def test_moe_counts_active_parameters_for_flops_and_all_experts_for_capacity():
    m = Models.Mixtral_8x7B
    r = Engine.solve(m, "H200", 1, "fp16")
    assert r.memory.weights == pytest.approx(m.parameters.m_as("param") * 2)
    assert r.flops < 2.2 * m.parameters.m_as("param")  # FLOPs follow top-2 of 8 experts, not all of them
    big = Engine.solve(m, "H200", 256, "fp16")
    assert big.bytes_moved > r.bytes_moved  # more tokens touch more distinct experts


def test_training_adds_gradients_optimizer_and_three_times_the_flops():
    inf = Engine.solve("Llama3_8B", "H100", 1, "bf16", seq_len=2048)
    tr = Engine.solve("Llama3_8B", "H100", 1, "bf16", is_training=True, seq_len=2048)
    assert tr.memory.gradients > 0 and tr.memory.optimizer_state == pytest.approx(12 * Models.Llama3_8B.parameters.m_as("param"))
    assert tr.throughput_unit == "token"
    z3 = Engine.solve("Llama3_8B", "H100", 1, "bf16", is_training=True, seq_len=2048, zero_stage=3, dp_size=8)
    assert z3.memory.total < tr.memory.total
    full = Engine.solve("Llama3_8B", "H100", 1, "bf16", is_training=True, seq_len=2048,
                        activation_recomputation="full")
    assert full.memory.activations < tr.memory.activations and full.hardware_flops > tr.hardware_flops
    assert full.flops == pytest.approx(tr.flops)  # MFU counts model FLOPs, not recomputation
    assert inf.is_training is False


def test_energy_is_power_times_latency_between_idle_and_tdp():
    hw = Hardware.H100
    for batch in (1, 64):
        r = Engine.solve("Llama3_8B", hw, batch, "bf16")
        watts = (r.energy / r.latency).to("W").magnitude
        assert hw.power.idle.m_as("W") <= watts <= hw.power.tdp.m_as("W")
        assert watts == pytest.approx(r.power_w)


def test_summary_and_json_are_complete():
    r = Engine.solve("Llama3_8B", "H100", 2, "bf16")
    d = r.to_dict()
    for key in ("latency_s", "bottleneck", "mfu", "feasible", "energy_j", "memory_bytes", "reasons"):
        assert key in d
    import json

    json.dumps(d)
    assert "latency" in r.summary() and "weights" in r.summary()


@pytest.mark.parametrize("name", ["GPT2", "BERT_Large", "ResNet50", "MobileNetV2", "Mamba_2_8B",
                                  "StableDiffusion_v1_5", "DLRM", "DeepSeekV3", "AnomalyDetector", "YOLOv8_Nano"])
def test_every_architecture_kind_solves(name):
    r = Engine.solve(name, "H100", 4, "fp16")
    assert r.latency.magnitude > 0 and 0 <= r.mfu <= 1


def test_a_model_kind_the_engine_cannot_handle_is_a_clear_error():
    import attrs as _attrs

    from mlsysim.errors import UnsupportedModelError
    from mlsysim.specs import ModelSpec

    @_attrs.frozen(kw_only=True)
    class GraphNeuralNet(ModelSpec):
        @property
        def parameter_count(self) -> float:
            return 1e6

    gnn = GraphNeuralNet(name="GNN", display_name="A GNN", category="Vision", architecture="cnn",
                         provenance=Models.ResNet50.provenance)
    with pytest.raises(UnsupportedModelError, match="GraphNeuralNet"):
        Engine.solve(gnn, "H100")


def test_unsupported_training_kinds_say_so():
    from mlsysim.errors import UnsupportedModelError

    with pytest.raises(UnsupportedModelError, match="state-space"):
        Engine.solve("Mamba_130M", "H100", is_training=True)


@pytest.mark.parametrize("kwargs,fragment", [({"zero_stage": 4}, "zero_stage"), ({"dp_size": 0}, "dp_size"),
                                             ({"activation_recomputation": "half"}, "recomputation")])
def test_training_options_are_checked(kwargs, fragment):
    with pytest.raises(InvalidInputError, match=fragment):
        Engine.solve("Llama3_8B", "H100", is_training=True, **kwargs)


def test_seq_len_defaults_to_the_models_context():
    assert Engine.solve("Llama3_8B", "H100").seq_len == 2048  # Llama-3.1 trains to 128k; 2048 is the default
    assert Engine.solve("BERT_Base", "H100").seq_len == 512      # capped at the trained context
    assert Engine.solve("ResNet50", "H100").seq_len is None


def test_fp4_runs_natively_where_the_silicon_has_it():
    r = Engine.solve("Llama3_70B", "B200", 1, "fp4")
    assert r.compute_precision == "fp4" and r.memory.weights == pytest.approx(Models.Llama3_70B.parameters.m_as("param") / 2)


def test_cnn_per_layer_roofline_is_no_faster_than_the_aggregate_roofline():
    """Summing per-kernel bounds can only lengthen the pass compared with max(total compute, total memory)."""
    r = Engine.solve("ResNet50", "H100", 256, "int8")
    assert r.latency.to("s").magnitude >= max(r.compute_time_s, r.memory_time_s)
    assert any("per-layer" in reason for reason in r.reasons)


def test_weight_only_is_an_explicit_choice_where_int4_units_exist():
    native = Engine.solve("Llama2_7B", "A100_80GB", 1, "int4")         # Ampere has int4 tensor cores: W4A4
    w4a16 = Engine.solve("Llama2_7B", "A100_80GB", 1, "int4", weight_only=True)
    assert native.compute_precision == "int4" and w4a16.compute_precision in ("bf16", "fp16")
    assert native.memory.weights == w4a16.memory.weights
    with pytest.raises(UnsupportedPrecisionError, match="weight_only"):
        Engine.solve("Llama2_7B", "A100_80GB", 1, "bf16", weight_only=True)


def test_training_precisions():
    with pytest.raises(UnsupportedPrecisionError, match="training in int4"):
        Engine.solve("Llama3_8B", "H100", precision="int4", is_training=True)
    fp8 = Engine.solve("Llama3_8B", "H100", 1, "fp8", is_training=True, seq_len=2048)
    bf16 = Engine.solve("Llama3_8B", "H100", 1, "bf16", is_training=True, seq_len=2048)
    assert fp8.memory.weights == bf16.memory.weights and fp8.memory.gradients == bf16.memory.gradients
    assert fp8.compute_precision == "fp8" and fp8.latency < bf16.latency


def test_options_are_checked_even_when_not_training():
    with pytest.raises(InvalidInputError, match="zero_stage"):
        Engine.solve("Llama3_8B", "H100", zero_stage=7)
    with pytest.raises(InvalidTypeError, match="is_training"):
        Engine.solve("Llama3_8B", "H100", is_training="yes")


def test_context_beyond_learned_positions_is_an_error_and_beyond_rope_training_a_note():
    with pytest.raises(InvalidInputError, match="512"):
        Engine.solve("BERT_Base", "H100", seq_len=8192)
    r = Engine.solve("Llama2_7B", "H100", seq_len=8192)  # RoPE: runs, with a note
    assert any("beyond the trained context" in reason for reason in r.reasons)


def test_mla_attention_flops_follow_the_absorbed_latent():
    ds = Models.DeepSeekV3  # 61 layers x 128 heads x (2 x (512 + 64) + 2 x 512)
    assert ds.attention_flops_per_token_per_context == 61 * 128 * 2176


def test_selective_recomputation_replays_only_attention():
    kw = dict(is_training=True, seq_len=4096)
    none = Engine.solve("Llama3_8B", "H100", 1, "bf16", **kw)
    sel = Engine.solve("Llama3_8B", "H100", 1, "bf16", activation_recomputation="selective", **kw)
    full = Engine.solve("Llama3_8B", "H100", 1, "bf16", activation_recomputation="full", **kw)
    assert none.hardware_flops < sel.hardware_flops < full.hardware_flops
    assert sel.flops == none.flops == full.flops


def test_results_and_specs_travel_to_worker_processes():
    """Design-space sweeps will fan out through concurrent.futures executors: everything must pickle."""
    import pickle
    from concurrent.futures import ProcessPoolExecutor

    r = Engine.solve("Llama3_8B", "H100", 4, "bf16")
    back = pickle.loads(pickle.dumps(r))
    assert back.latency == r.latency and back.memory == r.memory
    assert pickle.loads(pickle.dumps(Hardware.H100)) == Hardware.H100
    with ProcessPoolExecutor(max_workers=2) as pool:
        remote = list(pool.map(Engine.solve, ["Llama3_8B", "ResNet50"], ["H100", "A100"]))
    assert remote[0].latency == Engine.solve("Llama3_8B", "H100").latency
    assert remote[1].throughput_unit == "sample"
