"""New model kinds (specs/encoder_decoder.py, specs/vision_transformer.py, specs/mamba2.py): derived parameter
counts against the published ones, FLOPs against published figures and hand calculation, and the physics that
distinguishes each kind (cross-attention grows with the encoder, an SSM decode step does not grow with context)."""
from __future__ import annotations

import attrs
import pytest

import mlsysim
from mlsysim import Engine
from mlsysim.core.encoder_decoder_cost import encoder_decoder_cost
from mlsysim.core.mamba2_cost import mamba2_cost, ssd_chunked_flops
from mlsysim.core.precision import ExecutionPrecision
from mlsysim.errors import CatalogError, UnsupportedModelError
from mlsysim.specs import EncoderDecoderSpec, Mamba2Spec, VisionTransformerSpec

M = mlsysim.Models
PREC = ExecutionPrecision("fp16", "fp16", 2.0, 2.0, False, 1e15)

# (name, exact published count) -- sources in each entry's provenance
PUBLISHED = [
    ("T5_Small", 60_506_624), ("T5_Base", 222_903_552), ("T5_Large", 737_668_096), ("T5_3B", 2_851_598_336),
    ("T5_11B", 11_307_321_344), ("Flan_T5_Small", 76_961_152), ("Flan_T5_Base", 247_577_856),
    ("Flan_T5_Large", 783_150_080), ("Flan_T5_XL", 2_849_757_184), ("Flan_T5_XXL", 11_135_332_352), ("Whisper_Tiny", 37_760_640), ("Whisper_Base", 72_593_920),
    ("Whisper_Small", 241_734_912), ("Whisper_Medium", 763_857_920), ("Whisper_Large_v3", 1_543_490_560),
    ("ViT_B_16", 86_567_656), ("ViT_L_16", 304_326_632), ("ViT_H_14", 632_045_800),
    ("CLIP_ViT_L_14", 303_179_776), ("DINOv2_G_14", 1_136_480_768), ("SAM_ViT_H", 637_026_048),
    ("Mamba2_2_7B", 2_702_599_680),
]


@pytest.mark.parametrize("name,published", PUBLISHED, ids=[p[0] for p in PUBLISHED])
def test_geometry_reproduces_the_published_count(name, published):
    assert M.get(name).parameter_count == published


@pytest.mark.parametrize("name,gmacs", [("ViT_B_16", 17.564), ("ViT_L_16", 61.555), ("ViT_H_14", 167.295)])
def test_vit_flops_match_torchvision_within_half_a_percent(name, gmacs):
    # torchvision's _ops are multiply-accumulates; forward FLOPs = 2 x MACs.
    flops = Engine.solve(M.get(name), "H100", batch_size=1).flops
    assert abs(flops / 2e9 / gmacs - 1) < 0.005


def test_vit_b16_flops_by_hand():
    m = M.get("ViT_B_16")
    tokens = 14 * 14 + 1
    per_layer = 4 * 768 * 768 + 4 * 768 + 2 * 768 * 3072 + 3072 + 768 + 4 * 768
    linear = 2 * tokens * (12 * per_layer + 768 * 3 * 16 * 16 + 768)
    attention = 12 * 4 * 768 * tokens * tokens  # QK^T and AV, 2 FLOPs per MAC
    assert Engine.solve(m, "H100", batch_size=1).flops == pytest.approx(linear + attention, rel=1e-12)
    assert m.tokens == m.context_length == tokens


def test_vit_rejects_an_inconsistent_token_count():
    m = M.get("ViT_B_16")
    with pytest.raises(CatalogError, match="tokens"):
        attrs.evolve(m, context_length=196)
    with pytest.raises(CatalogError, match="multiple"):
        attrs.evolve(m, image_size=225)


def test_vit_is_an_encoder_transformer():
    m = M.get("CLIP_ViT_L_14")
    assert isinstance(m, VisionTransformerSpec) and m.architecture == "encoder"
    assert Engine.solve(m, "H100", batch_size=4).throughput_unit == "sample"


def test_encoder_decoder_decode_grows_linearly_with_encoder_length():
    m = M.get("T5_Base")
    costs = [encoder_decoder_cost(m.with_encoder_length(n), 4, 64, PREC, None) for n in (128, 512, 2048)]
    flops = [c.model_flops for c in costs]
    assert flops[0] < flops[1] < flops[2]
    # Cross-attention adds 4 x layers x heads x head_dim FLOPs per query per encoder token.
    slope = 4 * m.decoder_layers * m.heads * m.head_dim * 4
    assert (flops[2] - flops[1]) == pytest.approx(slope * (2048 - 512), rel=1e-12)
    # The cross K/V cache is held and read every step: 2 x layers x kv_heads x head_dim per encoder token.
    per_token = 2 * m.decoder_layers * m.kv_heads * m.head_dim * 2.0 * 4
    assert costs[2].kv_cache - costs[1].kv_cache == pytest.approx(per_token * (2048 - 512), rel=1e-12)


def test_encoder_decoder_decode_reads_decoder_weights_only():
    m = M.get("Whisper_Large_v3")
    cost = encoder_decoder_cost(m, 1, 100, PREC, None)
    decoder_streamed = m.decoder_layers * (m.decoder_layer_parameters - 3 * m._norm_size
                                           - 2 * m.hidden_size * m.hidden_size) + m.vocab_size * m.hidden_size
    # Decode streams every decoder matmul weight (cross K/V projections are cached, not re-run) and the head.
    assert cost.weight_traffic == pytest.approx(decoder_streamed * 2.0, rel=0.001)
    assert cost.weight_traffic < m.parameter_count * 2.0


def test_encoder_decoder_prefill_runs_the_encoder_and_the_front_end():
    m = M.get("Whisper_Tiny")
    prefill = encoder_decoder_cost(m, 2, 4, PREC, None, prefill=True)
    fe = m.front_end
    assert fe.output_length == 1500
    assert fe.macs == 3000 * 384 * 80 * 3 + 1500 * 384 * 384 * 3
    # At least the encoder's linear work: 2 x tokens x encoder layer weights.
    assert prefill.model_flops > 2 * 2 * 1500 * m.encoder_layers * m.encoder_layer_parameters
    assert prefill.kv_cache == pytest.approx(2 * (4 * m.kv_elements_per_token
                                                   + 1500 * m.cross_kv_elements_per_encoder_token) * 2.0)


def test_encoder_decoder_through_engine_and_errors():
    r = Engine.solve(M.get("Whisper_Small"), "H100", batch_size=8, seq_len=200)
    assert r.seq_len == 200 and r.throughput_unit == "token" and r.feasible
    short = Engine.solve(M.get("Whisper_Small"), "H100", batch_size=8, seq_len=20)
    assert short.flops < r.flops  # self-attention over the decoder context
    with pytest.raises(UnsupportedModelError):
        Engine.solve(M.get("T5_Base"), "H100", batch_size=1, is_training=True)
    with pytest.raises(CatalogError, match="front end"):
        M.get("Whisper_Tiny").with_encoder_length(100)
    with pytest.raises(CatalogError, match="frames"):
        attrs.evolve(M.get("Whisper_Tiny"), encoder_seq_len=1000)


def test_mamba2_decode_is_constant_in_context():
    m = M.get("Mamba2_2_7B")
    assert isinstance(m, Mamba2Spec)
    flops = {s: Engine.solve(m, "H100", batch_size=4, seq_len=s).flops for s in (128, 2048, 32768)}
    assert len(set(flops.values())) == 1
    cost = mamba2_cost(m, 4, 128, PREC, None)
    # State: heads x head_dim x d_state + conv window, per layer (no KV cache).
    assert cost.kv_cache == 4 * 64 * (80 * 64 * 128 + 5376 * 3) * 2.0
    assert cost.kv_cache == mamba2_cost(m, 4, 32768, PREC, None).kv_cache


def test_mamba2_prefill_scan_is_linear_in_length():
    m = M.get("Mamba2_2_7B")
    q, n, p = 256, 128, 64
    per_token = 2 * q * (n + p) + 4 * n * p  # Dao & Gu 2024 sec. 6, four SSD steps per chunk
    assert ssd_chunked_flops(m, 4096) == m.layers * m.nheads * 4096 * per_token
    # Linear in length (affine: the LM head runs once per sequence): f(4096) - f(1024) = 3 (f(2048) - f(1024)).
    f1, f2, f4 = (mamba2_cost(m, 1, s, PREC, None, prefill=True).model_flops for s in (1024, 2048, 4096))
    assert f4 - f1 == pytest.approx(3 * (f2 - f1), rel=1e-9)


def test_mamba2_rejects_inconsistent_heads():
    with pytest.raises(CatalogError, match="head_dim"):
        attrs.evolve(M.get("Mamba2_2_7B"), head_dim=3000)


def test_new_kinds_are_distinct_spec_classes():
    assert type(M.get("T5_3B")) is EncoderDecoderSpec
    assert M.get("Whisper_Medium").category == "Speech"


def test_dit_xl2_step_matches_the_papers_gflops_by_hand():
    m = M.get("DiT_XL_2")
    tokens, d, layers = 256, 1152, 28
    macs = tokens * layers * 12 * d * d + layers * 2 * tokens * tokens * d  # linear layers + attention matmuls
    flops = Engine.solve(m, "H100", batch_size=1).flops
    assert flops == 2 * 118.64e9
    assert abs(2 * macs / flops - 1) < 0.005  # the paper's Gflops are multiply-adds


@pytest.mark.parametrize("name,published", [("Wav2Vec2_Base", 94_396_320), ("Wav2Vec2_Large", 315_471_520)])
def test_wav2vec2_geometry_reproduces_the_ctc_checkpoint_count(name, published):
    assert M.get(name).parameter_count == published


def test_speech_encoder_adds_the_conv_stack_as_its_own_phase():
    from mlsysim.core.workload import transformer_cost, workload_cost
    from mlsysim.specs import SpeechEncoderSpec

    m = M.get("Wav2Vec2_Base")
    assert isinstance(m, SpeechEncoderSpec) and m.front_end.output_length == m.context_length == 781
    # 250,000 samples: 49,999 -> 24,999 -> 12,499 -> 6,249 -> 3,124 -> 1,562 -> 781 frames (no padding)
    full, bare = workload_cost(m, 2, 781, PREC, None), transformer_cost(m, 2, 781, PREC, None)
    assert full.model_flops - bare.model_flops == pytest.approx(2 * 2 * m.front_end.macs, rel=1e-12)
    assert full.phases[-1][0] == pytest.approx(2 * 2 * m.front_end.macs, rel=1e-12)
    half = workload_cost(m, 2, 390, PREC, None)
    assert half.phases[-1][0] == pytest.approx(full.phases[-1][0] * 390 / 781, rel=1e-12)  # linear in the audio
    with pytest.raises(CatalogError, match="frames"):
        attrs.evolve(m, context_length=500)


def test_sam_windowed_attention_scores_fewer_pairs_than_global():
    m = M.get("SAM_ViT_H")
    assert m.tokens == m.default_seq_len == 4096  # the image fixes the sequence (not the 2048-token default)
    r = Engine.solve(m, "H100", batch_size=1)
    assert r.seq_len == 4096
    global_only = attrs.evolve(m, window_size=0, global_layers=0, relative_positions=False, extra_parameters=0,
                               published_parameters=None)
    # 28 windowed layers score 25 padded windows of 14^4 pairs instead of 4096^2; 4 layers stay global.
    per_layer = 4 * 16 * 80 * 4096 * 4096
    saved = 28 * per_layer * (1 - 25 * 14 ** 4 / 4096 ** 2)
    assert Engine.solve(global_only, "H100", batch_size=1).flops - r.flops == pytest.approx(saved, rel=1e-9)


def test_flux_dev_step_estimate_is_the_geometry_count():
    m = M.get("FLUX1_Dev")
    d, tokens, blocks = 3072, 4096 + 512, 19 + 38
    macs = blocks * tokens * 12 * d * d + blocks * 2 * tokens * tokens * d + (4096 * 64 + 512 * 4096 + 4096 * 64) * d
    assert m.flops_per_step.m_as("flop") == pytest.approx(2 * macs, rel=1e-4)
    # Transformer blocks hold nearly all weights: 19 x 36 d^2 + 38 x 15 d^2 (incl. modulation), within 1 %.
    assert abs((19 * 36 + 38 * 15) * d * d / m.parameter_count - 1) < 0.01


def test_sd3_medium_step_estimate_is_the_geometry_count():
    m = M.get("SD3_Medium")
    d, image, text, blocks = 1536, 4096, 333, 24
    macs = (blocks * image * 12 + (blocks - 1) * text * 12 + text * 3) * d * d \
        + blocks * 2 * (image + text) ** 2 * d + (image * 64 + text * 4096 + image * 64) * d
    assert m.flops_per_step.m_as("flop") == pytest.approx(2 * macs, rel=1e-4)


def test_unet_walk_reproduces_both_stable_diffusion_entries():
    import importlib.util
    import pathlib

    path = pathlib.Path(__file__).resolve().parents[1] / "tools" / "unet_walk.py"
    spec = importlib.util.spec_from_file_location("unet_walk", path)
    walk = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(walk)
    for name in ("StableDiffusion_v1_5", "SDXL_Base"):
        g, m = walk.MODELS[name](), M.get(name)
        assert g.params == m.parameter_count and g.layers == m.layers
        assert 2 * g.macs == pytest.approx(m.flops_per_step.m_as("flop"), rel=1e-4)
