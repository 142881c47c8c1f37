"""Ragged batches (Engine.solve(..., seq_lens=)): a packing runtime computes the real tokens -- linear work over
sum L, attention over sum L^2 -- a padding runtime computes batch x max; runtime=None packs."""
from __future__ import annotations

import attrs
import pytest

import mlsysim
from mlsysim import Engine, SequenceLengths
from mlsysim.core.solver import RooflineModel
from mlsysim.errors import CatalogError, InvalidInputError

TRT = mlsysim.Runtimes.tensorrt
PADDED_TRT = attrs.evolve(TRT, packs_ragged=False)  # the same stack, padding: isolates the pack/pad rule
LENGTHS = [64, 128, 200, 384]
BERT = mlsysim.Models.BERT_Large


def rel(a: float, b: float) -> float:
    return abs(a - b) / abs(b)


def test_packed_costs_less_than_padded():
    packed = Engine.solve("BERT_Large", "H100", 4, "int8", runtime=TRT, seq_lens=LENGTHS)
    padded = Engine.solve("BERT_Large", "H100", 4, "int8", runtime=PADDED_TRT, seq_lens=LENGTHS)
    assert packed.hardware_flops < padded.hardware_flops
    assert packed.latency.m_as("s") < padded.latency.m_as("s")
    assert packed.throughput.m_as("1/s") > padded.throughput.m_as("1/s")
    # Padding executes batch x max tokens: exactly the uniform-length pass at max.
    at_max = Engine.solve("BERT_Large", "H100", 4, "int8", runtime=TRT, seq_len=384)
    assert padded.hardware_flops == at_max.hardware_flops
    assert padded.latency.m_as("s") == at_max.latency.m_as("s")
    # ... but only the real tokens are model FLOPs, so the padded pass has the lower MFU.
    assert padded.flops == packed.flops < padded.hardware_flops
    assert padded.mfu < packed.mfu
    assert any("padded to 384" in r and "padding" in r for r in padded.reasons)
    assert any("packed by TensorRT" in r for r in packed.reasons)


@pytest.mark.parametrize("runtime", [TRT, PADDED_TRT, None], ids=["packs", "pads", "engine-default"])
@pytest.mark.parametrize("model", ["BERT_Large", "Llama3_8B"])
def test_equal_lengths_make_packing_and_padding_the_uniform_pass(runtime, model):
    hw = "H100"
    precision = "int8" if model == "BERT_Large" else "fp16"
    uniform = RooflineModel().solve(model, hw, 8, precision, runtime=runtime, seq_len=256, prefill=model != "BERT_Large")
    ragged = RooflineModel().solve(model, hw, 8, precision, runtime=runtime, seq_lens=[256] * 8,
                                   prefill=model != "BERT_Large")
    for field in ("hardware_flops", "flops", "bytes_moved"):
        assert rel(getattr(ragged, field), getattr(uniform, field)) < 1e-12, field
    assert rel(ragged.latency.m_as("s"), uniform.latency.m_as("s")) < 1e-12
    assert ragged.seq_len == 256


def test_linear_work_scales_with_the_sum_of_lengths_attention_with_the_sum_of_squares():
    a_per_pair = BERT.attention_flops_per_token_per_context  # FLOPs per token per key (all layers)
    base = SequenceLengths(mean=150.0, mean_square=150.0 ** 2, max=384)
    spread = SequenceLengths(mean=150.0, mean_square=30000.0, max=384)  # same sum L, larger sum L^2
    longer = SequenceLengths(mean=300.0, mean_square=300.0 ** 2, max=384)
    cases = {"base": base, "spread": spread, "longer": longer}
    r = {k: Engine.solve(BERT, "H100", 16, "int8", runtime=TRT, seq_lens=v) for k, v in cases.items()}
    # Bidirectional attention: n x E[L^2] query-key pairs; nothing else depends on E[L^2].
    assert rel(r["spread"].hardware_flops - r["base"].hardware_flops, a_per_pair * 16 * (30000.0 - 150.0 ** 2)) < 1e-9
    # Linear work (all but the attention core): 2 x matmul parameters per real token (Kaplan et al. 2020).
    linear = {k: r[k].hardware_flops - a_per_pair * 16 * cases[k].mean_square for k in ("base", "longer")}
    assert rel(linear["longer"], 2 * linear["base"]) < 1e-9
    assert rel(linear["base"], 2 * BERT.matmul_parameters_per_token * 16 * 150.0) < 1e-9


def test_causal_prefill_attention_is_half_the_sum_of_squares():
    m = mlsysim.Models.Llama3_8B
    narrow = RooflineModel().solve(m, "H100", 4, "fp16", prefill=True, seq_lens=SequenceLengths(
        mean=1000.0, mean_square=1000.0 ** 2, max=2048))
    wide = RooflineModel().solve(m, "H100", 4, "fp16", prefill=True, seq_lens=SequenceLengths(
        mean=1000.0, mean_square=1.5e6, max=2048))
    expected = m.attention_flops_per_token_per_context * 4 * (1.5e6 - 1.0e6) / 2.0
    assert rel(wide.hardware_flops - narrow.hardware_flops, expected) < 1e-9
    # Prefill throughput counts the real prompt tokens.
    assert rel(narrow.throughput.m_as("1/s") * narrow.latency.m_as("s"), 4000.0) < 1e-12


def test_padded_prefill_counts_real_tokens_as_output():
    padded = RooflineModel().solve("Llama3_8B", "H100", 2, "bf16", prefill=True, runtime="pytorch_eager",
                                   seq_lens=[100, 300])
    assert rel(padded.throughput.m_as("1/s") * padded.latency.m_as("s"), 400.0) < 1e-12


def test_ragged_decode_reads_the_real_kv_cache():
    m = mlsysim.Models.Llama3_8B
    ragged = Engine.solve(m, "H100", 4, "fp16", seq_lens=[512, 1024, 1536, 2048])
    uniform = Engine.solve(m, "H100", 4, "fp16", seq_len=1280)  # the same sum of contexts
    assert rel(ragged.memory.kv_cache, uniform.memory.kv_cache) < 1e-12
    assert rel(ragged.bytes_moved, uniform.bytes_moved) < 1e-12
    padded = Engine.solve(m, "H100", 4, "bf16", runtime="pytorch_eager", seq_lens=[512, 1024, 1536, 2048])
    assert padded.memory.kv_cache > ragged.memory.kv_cache  # every sequence cached at 2048


def test_runtime_none_packs():
    default = Engine.solve("BERT_Large", "H100", 4, "int8", seq_lens=LENGTHS)
    at_max = Engine.solve("BERT_Large", "H100", 4, "int8", seq_len=384)
    assert default.hardware_flops < at_max.hardware_flops
    assert any("packed by engine default" in r for r in default.reasons)


def test_a_list_and_its_moments_give_the_same_result():
    moments = SequenceLengths.of(LENGTHS)
    assert moments.mean == sum(LENGTHS) / 4 and moments.mean_square == sum(n * n for n in LENGTHS) / 4
    assert moments.max == 384
    a = Engine.solve("BERT_Large", "A100", 4, "int8", seq_lens=LENGTHS)
    b = Engine.solve("BERT_Large", "A100", 4, "int8", seq_lens=moments)
    assert a.to_dict() == b.to_dict()


# -- bad input -------------------------------------------------------------------------------------------------
def test_seq_len_and_seq_lens_together_is_an_error():
    with pytest.raises(InvalidInputError, match="not both"):
        Engine.solve("BERT_Large", "H100", 4, "int8", seq_len=384, seq_lens=LENGTHS)


def test_a_list_needs_one_length_per_sequence():
    with pytest.raises(InvalidInputError, match="one length per"):
        Engine.solve("BERT_Large", "H100", 8, "int8", seq_lens=LENGTHS)


@pytest.mark.parametrize("bad", [[], [0, 10], [1.5, 2], "128", [True, 3]])
def test_lengths_must_be_positive_ints(bad):
    with pytest.raises(InvalidInputError):
        Engine.solve("BERT_Large", "H100", max(len(bad), 1), "int8", seq_lens=bad)


def test_a_fixed_input_model_has_no_sequence():
    with pytest.raises(InvalidInputError, match="fixed input"):
        Engine.solve("ResNet50", "H100", 2, "int8", seq_lens=[10, 20])


def test_a_padding_runtime_needs_the_longest_length():
    with pytest.raises(InvalidInputError, match="max"):
        Engine.solve("BERT_Large", "H100", 4, "bf16", runtime="pytorch_eager",
                     seq_lens=SequenceLengths(mean=177.0, mean_square=36000.0))


def test_the_longest_sequence_must_fit_learned_positions():
    with pytest.raises(InvalidInputError, match="learned positions"):
        Engine.solve("BERT_Large", "H100", 2, "int8", seq_lens=[100, 600])


@pytest.mark.parametrize("kwargs", [dict(mean=100.0, mean_square=9000.0),  # below mean^2 (Jensen)
                                    dict(mean=100.0, mean_square=30000.0, max=200),  # above max x mean
                                    dict(mean=300.0, mean_square=90000.0, max=200),  # mean above max
                                    dict(mean=0.5, mean_square=1.0)])
def test_impossible_moments_are_refused(kwargs):
    with pytest.raises((CatalogError, TypeError, ValueError)):
        SequenceLengths(**kwargs)


# -- the MLPerf BERT scenario ----------------------------------------------------------------------------------
def test_mlperf_bert_scenario_runs_unpadded_on_tensorrt():
    s = mlsysim.Scenarios.MLPerf_BERT_Offline
    assert s.runtime == "tensorrt" and s.seq_len is None
    assert s.seq_lens.max == 384 and 174 <= s.seq_lens.mean <= 179
    assert s.seq_lens.mean ** 2 <= s.seq_lens.mean_square <= s.seq_lens.max * s.seq_lens.mean
    assert mlsysim.Runtimes.get(s.runtime).packs_ragged
    e = s.evaluate()
    assert any("packed by TensorRT" in r for r in e.profile.reasons)
    padded = s.evaluate(seq_len=384)  # a seq_len override replaces the ragged lengths
    assert padded.profile.seq_len == 384
    assert padded.profile.throughput.m_as("1/s") < 0.6 * e.profile.throughput.m_as("1/s")
    onnx = s.evaluate(runtime="onnxruntime")  # a padding runtime computes every question at 384
    assert any("padded to 384" in r for r in onnx.profile.reasons)
    assert onnx.profile.hardware_flops > 2 * e.profile.hardware_flops


def test_a_scenario_cannot_have_both_lengths():
    s = mlsysim.Scenarios.MLPerf_BERT_Offline
    with pytest.raises(CatalogError, match="both"):
        attrs.evolve(s, seq_len=384)


def test_the_mean_square_estimate_barely_moves_the_prediction():
    """The scenario's mean_square is an estimate: across its whole Jensen range the predicted TensorRT offline
    rate moves by under 2 % (the catalog note's claim)."""
    s = mlsysim.Scenarios.MLPerf_BERT_Offline
    lo, hi = s.seq_lens.mean ** 2, s.seq_lens.mean * s.seq_lens.max
    for hw in ("H100", "A100_80GB", "L4", "T4", "H100_PCIe"):
        rates = [Engine.solve(BERT, hw, s.batch_size, "int8", runtime="tensorrt", seq_lens=SequenceLengths(
            mean=s.seq_lens.mean, mean_square=msq, max=384)).throughput.m_as("1/s") for msq in (lo, hi)]
        assert rel(rates[0], rates[1]) < 0.02, hw


def test_ragged_training_step_trains_on_the_real_tokens():
    packed = Engine.solve("Llama3_8B", "H200", 4, "bf16", is_training=True, seq_lens=[512, 1024, 1536, 2048])
    assert rel(packed.throughput.m_as("1/s") * packed.latency.m_as("s"), 5120.0) < 1e-12
    padded = Engine.solve("Llama3_8B", "H200", 4, "bf16", is_training=True, runtime="pytorch_eager",
                          seq_lens=[512, 1024, 1536, 2048])
    assert rel(padded.throughput.m_as("1/s") * padded.latency.m_as("s"), 5120.0) < 1e-12  # padding is not output
    assert padded.hardware_flops > packed.hardware_flops


def test_every_scenario_runtime_runs_on_its_target():
    for s in mlsysim.Scenarios:
        if s.runtime is None or not s.target.startswith("Hardware."):
            continue
        rt = mlsysim.Runtimes.get(s.runtime)
        target = mlsysim.Hardware.get(s.target.split(".", 1)[1])
        assert target.calibration_class in rt.hardware_classes, s.name
