"""Nemotron 3 Nano 30B-A3B (Nemotron-H: Mamba-2 + attention + MoE layers) and Llama-3.3-Nemotron-Super-49B (Puzzle
NAS: blocks without attention, FFN widths per block): the catalog's per-layer-kind counts reproduce the published
totals and a block-by-block count of the vendored config.json files, only layers with attention hold KV, and both
serve under vLLM on B200 at fp8 with TP 1 and 2."""
from __future__ import annotations

import json
from pathlib import Path

import attrs
import pytest

from mlsysim import Engine, Models
from mlsysim.core import attention_span
from mlsysim.core.serving import ServingModel
from mlsysim.errors import CatalogError, InvalidInputError

FIXTURES = Path(__file__).parent / "fixtures" / "hf_configs"
TOLERANCE = 0.005  # issue 11: within 0.5 % of the published count


def _config(stem: str) -> dict:
    return json.loads((FIXTURES / f"{stem}.json").read_text(encoding="utf-8"))


# --- Nemotron 3 Nano ------------------------------------------------------------------------------------------
def _nano_by_hand(c: dict) -> tuple[int, int]:
    """(total, active) from config.json, block by block as NemotronH builds them (one RMSNorm per block)."""
    d, pattern = c["hidden_size"], c["hybrid_override_pattern"]
    inner = c["mamba_num_heads"] * c["mamba_head_dim"]
    bc = 2 * c["n_groups"] * c["ssm_state_size"]
    conv = inner + bc
    mamba = d * (2 * inner + bc + c["mamba_num_heads"]) + conv * c["conv_kernel"] + conv \
        + 3 * c["mamba_num_heads"] + inner + inner * d
    q, kv = c["num_attention_heads"] * c["head_dim"], c["num_key_value_heads"] * c["head_dim"]
    attention = 2 * d * q + 2 * d * kv
    expert = 2 * d * c["moe_intermediate_size"]  # relu2: up and down only
    shared = 2 * d * c["moe_shared_expert_intermediate_size"]
    router = d * c["n_routed_experts"]
    embed = 2 * c["vocab_size"] * d + d  # untied embedding and head, final norm
    norms = len(pattern) * d
    n_m, n_a, n_e = pattern.count("M"), pattern.count("*"), pattern.count("E")
    total = embed + norms + n_m * mamba + n_a * attention + n_e * (router + c["n_routed_experts"] * expert + shared)
    active = embed + norms + n_m * mamba + n_a * attention \
        + n_e * (router + c["num_experts_per_tok"] * expert + shared)
    return total, active


def test_nano_layer_kinds_follow_the_pattern():
    c, m = _config("nemotron3_nano_30b_a3b"), Models.Nemotron3_Nano_30B_A3B
    pattern = c["hybrid_override_pattern"]
    assert m.layers == len(pattern) == c["num_hidden_layers"] == 52
    assert m.linear_attention.kind == "mamba2" and m.linear_attention.layers == pattern.count("M") == 23
    assert m.attention_free_layers == pattern.count("E") == 23
    assert m.softmax_attention_layers == pattern.count("*") == 6
    assert m.moe_layers == pattern.count("E") and m.ffn_layer_count == 0  # no layer has a dense FFN
    la = m.linear_attention  # the SSD duality mapping of the Mamba-2 geometry
    assert (la.key_heads, la.key_head_dim, la.value_heads, la.value_head_dim) == \
        (c["n_groups"], c["ssm_state_size"], c["mamba_num_heads"], c["mamba_head_dim"])
    assert la.conv_channels == 4096 + 2 * 8 * 128  # x, B, C (the Rust parser test's conv_dim)


def test_nano_counts_match_the_config_and_the_published_figures():
    m = Models.get("nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-BF16")
    assert m.name == "Nemotron3_Nano_30B_A3B"
    total, active = _nano_by_hand(_config("nemotron3_nano_30b_a3b"))
    assert m.parameter_count == total  # exact: the router score-correction biases are the only thing left out
    assert m.active_parameter_count == active
    assert abs(m.parameter_count / 31.6e9 - 1) < TOLERANCE  # "31.6B total"
    assert abs(m.active_parameter_count / 3.6e9 - 1) < 0.01  # "3.6B with embeddings"
    without_input_embedding = m.active_parameter_count - m.embedding_parameters
    assert abs(without_input_embedding / 3.2e9 - 1) < 0.02  # "3.2B active"


def test_nano_cache_is_six_attention_layers_plus_mamba_states():
    m = Models.Nemotron3_Nano_30B_A3B
    per_token = 6 * 2 * 2 * 128  # 6 attention layers x K and V x 2 KV heads x 128
    state = 64 * 64 * 128 + (4 - 1) * (4096 + 2 * 8 * 128)  # SSD state + conv window, per Mamba-2 layer
    for context in (1024, 8192, 65536):
        assert m.kv_elements_at(context) == pytest.approx(per_token * context + 23 * state)
    kv = m.get_kv_cache_size(4096, 1, "fp8").m_as("B")
    assert kv == pytest.approx(per_token * 4096 + 23 * state)  # one byte per element
    # the Mamba-2 states are written whole every token; the attention layers append one K and V
    assert attention_span.written_elements_per_token(m) == pytest.approx(per_token + 23 * state)


def test_nano_recurrence_flops_are_five_per_state_element():
    m = Models.Nemotron3_Nano_30B_A3B
    per_pair = m.attention_flops_per_token_per_context / m.layers
    flops = attention_span.attention_flops_per_query(m, 4096)
    assert flops == pytest.approx(6 * per_pair * 4096 + 23 * 5.0 * 64 * 64 * 128)


# --- Llama-3.3-Nemotron-Super-49B -----------------------------------------------------------------------------
def _decilm_width(ffn_mult: float, hidden: int) -> int:
    """DeciLM's ffn_mult -> intermediate size: int(2 x mult x hidden / 3) rounded up to a multiple of 256."""
    width = int(2 * ffn_mult * hidden / 3)
    return width if width % 256 == 0 else width + 256 - width % 256


def _super_blocks() -> list[tuple[bool, int]]:
    c = _config("llama33_nemotron_super_49b")
    return [(not b["attention"]["no_op"], _decilm_width(b["ffn"]["ffn_mult"], c["hidden_size"]))
            for b in c["block_configs"]]


def test_super_counts_match_the_block_configs():
    c, m = _config("llama33_nemotron_super_49b"), Models.Llama33_Nemotron_Super_49B
    blocks = _super_blocks()
    assert m.layers == len(blocks) == c["num_hidden_layers"] == 80
    assert not any(b["attention"]["replace_with_linear"] or b["ffn"]["no_op"] or b["ffn"]["replace_with_linear"]
                   for b in c["block_configs"])
    assert all(b["attention"]["n_heads_in_group"] == 8 for b in c["block_configs"] if not b["attention"]["no_op"])
    d, h, kv, hd, v = 8192, 64, 8, 128, c["vocab_size"]
    attention = 2 * d * h * hd + 2 * d * kv * hd  # q, o; k, v
    total = 2 * v * d + d  # untied embedding and head, final norm
    for attends, width in blocks:  # DeciLM: a block's norm exists only with its sub-block
        total += (attention + d if attends else 0) + 3 * d * width + d
    assert m.parameter_count == total == 49_867_145_216
    assert m.attention_free_layers == sum(not a for a, _ in blocks) == 31
    assert {g.size: g.layers for g in m.ffn_layers} == {w: sum(1 for _, x in blocks if x == w)
                                                        for w in {x for _, x in blocks}}
    assert 49e9 <= m.parameter_count < 50e9  # the name's "49B" rounds it down
    # dense: every weight is active, and the FLOPs per token are 2 x weights (Kaplan et al. 2020)
    assert m.inference_flops.m_as("flop") == 2 * m.parameter_count


def test_super_cache_holds_only_the_attending_layers():
    m = Models.Llama33_Nemotron_Super_49B
    per_token = 49 * 2 * 8 * 128  # 49 attending layers x K and V x 8 KV heads x 128
    assert m.get_kv_cache_size(1000, 1, "fp16").m_as("B") == pytest.approx(2 * per_token * 1000)
    # the reference Llama-3.3-70B width with every layer attending caches 80/49 as much per token
    llama = Models.Llama3_70B
    assert (llama.layers, llama.hidden_size, llama.kv_heads, llama.head_dim) == (80, 8192, 8, 128)
    assert m.kv_elements_at(1000) / llama.kv_elements_at(1000) == pytest.approx(49 / 80)
    # attention FLOPs too: 49 layers' QK^T and AV per query per context token
    per_pair = m.attention_flops_per_token_per_context / m.layers
    assert attention_span.attention_flops_per_query(m, 4096) == pytest.approx(49 * per_pair * 4096)


def test_super_fewer_parameters_and_cache_than_its_all_attending_twin():
    m = Models.Llama33_Nemotron_Super_49B
    twin = attrs.evolve(m, attention_free_layers=0)
    assert twin.spans_whole_context and not m.spans_whole_context
    assert twin.parameter_count - m.parameter_count == 31 * (2 * 8192 * 64 * 128 + 2 * 8192 * 8 * 128 + 8192)
    for context in (128, 4096, 131072):
        assert m.kv_elements_at(context) < twin.kv_elements_at(context)


def test_ffn_layers_must_cover_the_dense_layers_and_name_the_widest():
    m = Models.Llama33_Nemotron_Super_49B
    with pytest.raises(CatalogError, match="ffn_layers cover"):
        attrs.evolve(m, ffn_layers=m.ffn_layers[1:])
    with pytest.raises(CatalogError, match="widest"):
        attrs.evolve(m, ffn_size=14336)
    with pytest.raises(CatalogError, match="softmax-attention"):
        attrs.evolve(m, attention_free_layers=80)


# --- physics shared by both: a hybrid caches less than a same-width model whose every layer attends --------------
@pytest.mark.parametrize("name", ["Nemotron3_Nano_30B_A3B", "Llama33_Nemotron_Super_49B"])
def test_kv_per_token_below_the_all_attending_twin(name):
    m = Models.get(name)
    everyone_attends = 2 * m.layers * m.kv_heads * m.head_dim  # per token, every layer softmax
    growth = m.kv_elements_at(16384) - m.kv_elements_at(8192)
    assert growth / 8192 == pytest.approx(2 * m.softmax_attention_layers * m.kv_heads * m.head_dim)
    assert growth / 8192 < everyone_attends


# --- serving ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["Nemotron3_Nano_30B_A3B", "Llama33_Nemotron_Super_49B"])
@pytest.mark.parametrize("tp", [1, 2])
def test_vllm_serving_on_b200_fp8(name, tp):
    m = Models.get(name)
    s = ServingModel()
    one = s.solve(m, "B200", 1, "fp8", prompt_len=2048, output_len=512, tensor_parallel=tp, runtime="vllm")
    many = s.solve(m, "B200", 64, "fp8", prompt_len=2048, output_len=512, tensor_parallel=tp, runtime="vllm")
    assert one.feasible and many.feasible  # 31.6 / 49.9 GB of fp8 weights fit one 180 GB B200
    assert 0 < one.tpot.m_as("s") <= many.tpot.m_as("s")  # batching adds KV reads and compute per step
    # decode reads the active weights every step: TPOT is at least their fp8 bytes over TP GPUs' HBM bandwidth
    assert one.tpot.m_as("s") > m.active_parameter_count / (tp * 8e12)  # B200 HBM3e 8 TB/s (datasheet)
    # the per-sequence cache splits over TP (KV heads and Mamba-2 heads are sharded)
    ref = s.solve(m, "B200", 1, "fp8", prompt_len=2048, output_len=512, tensor_parallel=1, runtime="vllm")
    assert one.kv_cache_per_sequence_bytes == pytest.approx(ref.kv_cache_per_sequence_bytes / tp, rel=1e-6)


def test_engine_solves_both():
    for name in ("Nemotron3_Nano_30B_A3B", "Llama33_Nemotron_Super_49B"):
        r = Engine.solve(name, "B200", batch_size=4, precision="fp8")
        assert r.feasible and r.latency.m_as("s") > 0


# --- Models.from_hf_config reads both config.json files into the same geometry ------------------------------------
@pytest.mark.parametrize("stem,name", [("nemotron3_nano_30b_a3b", "Nemotron3_Nano_30B_A3B"),
                                       ("llama33_nemotron_super_49b", "Llama33_Nemotron_Super_49B")])
def test_from_hf_config_gives_the_catalog_geometry(stem, name):
    spec, shipped = Models.from_hf_config(FIXTURES / f"{stem}.json"), Models.get(name)
    assert type(spec) is type(shipped)
    assert spec.parameter_count == shipped.parameter_count
    assert spec.active_parameter_count == shipped.active_parameter_count
    assert spec.kv_elements_at(4096) == shipped.kv_elements_at(4096)
    assert (spec.attention_free_layers, spec.ffn_layers, spec.linear_attention) == \
        (shipped.attention_free_layers, shipped.ffn_layers, shipped.linear_attention)


def test_from_hf_config_refuses_what_the_counts_cannot_say():
    nano = _config("nemotron3_nano_30b_a3b")
    with pytest.raises(InvalidInputError, match="52 layers"):
        Models.from_hf_config(dict(nano, hybrid_override_pattern=nano["hybrid_override_pattern"][:-1]))
    with pytest.raises(InvalidInputError, match="whole number of routed experts"):
        Models.from_hf_config(dict(nano, moe_shared_expert_intermediate_size=3000))
    sup = _config("llama33_nemotron_super_49b")
    blocks = [dict(b, attention=dict(b["attention"])) for b in sup["block_configs"]]
    blocks[0]["attention"]["n_heads_in_group"] = 4  # GQA group size varying per block
    with pytest.raises(InvalidInputError, match="n_heads_in_group"):
        Models.from_hf_config(dict(sup, block_configs=blocks))
    blocks[0]["attention"].update(n_heads_in_group=None, no_op=False, replace_with_linear=True)
    with pytest.raises(InvalidInputError, match="linear layer"):
        Models.from_hf_config(dict(sup, block_configs=blocks))


def test_a_dense_nemotron_h_pattern_reads_as_a_decoder():
    """Nemotron-H without experts (M, *, - blocks): attention-free MLP layers and FFN-free mixer layers."""
    nano = _config("nemotron3_nano_30b_a3b")
    cfg = {k: v for k, v in nano.items() if not k.startswith(("moe_", "n_routed", "n_shared", "num_experts"))}
    spec = Models.from_hf_config(dict(cfg, hybrid_override_pattern="M-M*-M-", num_hidden_layers=7))
    assert spec.architecture == "decoder" and spec.softmax_attention_layers == 1
    assert spec.attention_free_layers == 3 and spec.linear_attention.layers == 3
    assert spec.ffn_layer_count == 3 and spec.mean_ffn_size == nano["intermediate_size"]


def test_disaggregated_decode_pool_holds_only_the_attending_layers():
    """The decode pool's per-sequence cache and the prefill-to-decode transfer are the same kv_elements_at."""
    m = Models.Llama33_Nemotron_Super_49B
    r = ServingModel().solve(m, "B200", 32, "fp8", prompt_len=2048, output_len=512, runtime="vllm",
                             disaggregated={"prefill": {"tensor_parallel": 1}, "decode": {"tensor_parallel": 1}})
    per_token_bf16 = 49 * 2 * 8 * 128 * 2  # vLLM's default cache dtype for an fp8 checkpoint: bf16
    assert r.kv_cache_per_sequence_bytes == pytest.approx((2048 + 512) * per_token_bf16)
    assert r.disaggregation["kv_bytes_per_request"] == pytest.approx(2048 * per_token_bf16)


def test_efficiency_solver_counts_attention_in_the_attending_layers():
    from mlsysim.solvers.efficiency import _attention

    m = Models.Llama33_Nemotron_Super_49B
    twin = attrs.evolve(m, attention_free_layers=0)
    for a, b in zip(_attention(m, 1, 4096, 128, True, 2.0), _attention(twin, 1, 4096, 128, True, 2.0)):
        assert a == pytest.approx(b * 49 / 80)


def test_mamba2_heads_come_in_whole_b_c_groups():
    la = Models.Nemotron3_Nano_30B_A3B.linear_attention
    with pytest.raises(CatalogError, match="multiple of key_heads"):
        attrs.evolve(la, key_heads=7)
