"""Offline Hugging Face ``config.json`` import: a local config -> a catalog-style entry -> a ModelSpec.

Nothing is downloaded: the caller hands over a path or an already-parsed dict. Each family recipe maps the
config's own field names onto the catalog's model fields (schemas/models.schema.json); the entry is then built
with the catalog's full validation (``mlsysim.catalog.loader.build_spec``), so ``Models.from_hf_config`` and a
catalog TOML entry written by ``mlsysim catalog add-model`` are the same thing and load the same way.

Families (HF ``model_type``): llama, mistral, qwen2, qwen3, qwen3_moe, mixtral, gpt2, gptj, gpt_neox, bert,
deepseek_v3 (and deepseek_v2, the same MLA + shared-expert layout), gpt_oss, nemotron_h (Mamba-2 / attention /
MLP / MoE blocks) and nemotron-nas (DeciLM block_configs). Sliding-window attention is read into
the `sliding_window` field. A config of another family, or
one missing a field its recipe needs, is an error that names the fields.
"""
from __future__ import annotations

import datetime as _dt
import json
import re
from pathlib import Path
from typing import Any

from .errors import InvalidInputError

# GPT-2 / GPT-J: n_inner = null means a 4 x d_model MLP (Radford et al. 2019; HF GPT2Config / GPTJConfig docs).
DEFAULT_MLP_RATIO = 4
# HF `hidden_act` spellings -> the catalog's activation names (schemas/models.schema.json).
_ACTIVATIONS = {"silu": "silu", "swish": "silu", "gelu": "gelu", "gelu_new": "gelu_tanh",
                "gelu_pytorch_tanh": "gelu_tanh", "gelu_fast": "gelu_tanh", "relu": "relu"}


class _Config:
    """A config dict that records which fields a recipe asked for and which were missing."""

    def __init__(self, raw: dict, family: str):
        self.raw, self.family, self.missing = raw, family, []
        self.notes: list[str] = []

    def need(self, *names: str) -> Any:
        """The first of `names` the config has; else the field is recorded as missing (reported together)."""
        for name in names:
            if self.raw.get(name) is not None:
                return self.raw[name]
        self.missing.append(" or ".join(names))
        return 1  # placeholder so the recipe can finish listing every missing field

    def get(self, name: str, default: Any) -> Any:
        value = self.raw.get(name)
        return default if value is None else value


def _activation(cfg: _Config, key: str, default: str) -> str:
    act = cfg.get(key, default)
    if act not in _ACTIVATIONS:
        raise InvalidInputError(f"{key} {act!r} of the {cfg.family} config is not a known activation; known: "
                                f"{', '.join(sorted(_ACTIVATIONS))}")
    return _ACTIVATIONS[act]


def _sliding_window(cfg: _Config, layers: Any) -> dict | None:
    """The catalog's `sliding_window` field from the config (specs.models.SlidingWindow), or None.

    Which layers use the window, as transformers builds `layer_types`: the config's own `layer_types` list
    (gpt-oss, newer Qwen/Mistral configs); else Qwen2/Qwen3 with `use_sliding_window` window layers
    i >= max_window_layers (Qwen2Config); else, as Mistral 7B v0.1, every layer (arXiv:2310.06825 sec. 2)."""
    window = cfg.raw.get("sliding_window")
    if window is None or cfg.raw.get("use_sliding_window") is False:
        return None
    if not isinstance(window, int) or isinstance(window, bool) or window <= 0:
        raise InvalidInputError(f"sliding_window {window!r} of the {cfg.family} config is not a positive token "
                                "count: fix the config or set it to null for full attention")
    layer_types = cfg.raw.get("layer_types")
    if isinstance(layer_types, list) and layer_types:
        windowed = sum(1 for t in layer_types if t == "sliding_attention")
        pattern = f"layer_types: {windowed} of {len(layer_types)} layers sliding_attention"
    elif cfg.raw.get("use_sliding_window") is True and cfg.raw.get("max_window_layers") is not None:
        windowed = max(0, int(layers) - int(cfg.raw["max_window_layers"]))
        pattern = f"use_sliding_window: layers from max_window_layers {cfg.raw['max_window_layers']} on"
    else:
        windowed, pattern = int(layers), "every layer"
    if windowed == 0:
        cfg.notes.append(f"sliding_window {window} set but no layer uses it ({pattern}): full attention")
        return None
    return {"size": window, "layers": windowed, "pattern": pattern}


def _llama_like(cfg: _Config, *, bias_default: bool = False) -> dict:
    """Llama / Mistral / Qwen2 / Qwen3 and the attention + embedding part of the MoE decoders."""
    heads = cfg.need("num_attention_heads")
    hidden = cfg.need("hidden_size")
    kv = cfg.raw.get("num_key_value_heads")
    if kv is None:  # HF LlamaConfig: num_key_value_heads None means multi-head attention (kv = heads)
        kv = heads
        cfg.notes.append("num_key_value_heads absent: multi-head attention (kv_heads = heads), as HF defaults")
    bias = bool(cfg.get("attention_bias", bias_default) or cfg.get("mlp_bias", False))
    entry = {
        "architecture": "decoder", "layers": cfg.need("num_hidden_layers"), "hidden_size": hidden,
        "heads": heads, "kv_heads": kv, "head_dim": cfg.get("head_dim", hidden // heads if heads else 1),
        "ffn_size": cfg.need("intermediate_size"), "ffn_gated": True, "vocab_size": cfg.need("vocab_size"),
        "tied_embeddings": bool(cfg.get("tie_word_embeddings", False)),
        "context_length": cfg.need("max_position_embeddings"), "position_embedding": "rotary", "norm": "rmsnorm",
        "bias": bias, "activation": _activation(cfg, "hidden_act", "silu"),
    }
    window = _sliding_window(cfg, entry["layers"])
    if window is not None:
        entry["sliding_window"] = window
    return entry


def _qwen2(cfg: _Config) -> dict:
    entry = _llama_like(cfg, bias_default=True)
    # Qwen2 carries biases on q/k/v only; the convention's `bias` also counts o-proj and MLP biases, which
    # adds (d + 2 ffn + d) per layer (< 0.02 % of Qwen2-7B).
    cfg.notes.append("Qwen2 q/k/v biases counted with bias = true (the convention also counts o/MLP biases, "
                     "< 0.02 %)")
    return entry


def _moe(cfg: _Config, entry: dict, *, experts: Any, top_k: Any, expert_ffn: Any, shared: int = 0,
         dense: int = 0) -> dict:
    entry.update({"architecture": "moe", "experts": experts, "experts_per_token": top_k,
                  "expert_ffn_size": expert_ffn, "shared_experts": shared, "dense_layers": dense})
    if not dense:  # no dense FFN layer: the dense width is never used; record the expert width
        entry["ffn_size"] = expert_ffn
    return entry


def _mixtral(cfg: _Config) -> dict:
    entry = _llama_like(cfg)
    ffn = entry["ffn_size"]
    return _moe(cfg, entry, experts=cfg.need("num_local_experts"), top_k=cfg.need("num_experts_per_tok"),
                expert_ffn=ffn)


def _qwen3_moe(cfg: _Config) -> dict:
    entry = _llama_like(cfg)
    only = cfg.get("mlp_only_layers", [])
    if cfg.get("decoder_sparse_step", 1) != 1 or only:
        raise InvalidInputError(f"qwen3_moe config with decoder_sparse_step {cfg.get('decoder_sparse_step', 1)} "
                                f"and mlp_only_layers {only} interleaves dense and MoE layers, which MoESpec "
                                "cannot express (only leading dense layers, `dense_layers`)")
    return _moe(cfg, entry, experts=cfg.need("num_experts"), top_k=cfg.need("num_experts_per_tok"),
                expert_ffn=cfg.need("moe_intermediate_size"))


def _deepseek(cfg: _Config) -> dict:
    entry = _llama_like(cfg)
    if cfg.get("moe_layer_freq", 1) != 1:
        raise InvalidInputError(f"deepseek config with moe_layer_freq {cfg.raw['moe_layer_freq']} interleaves dense "
                                "and MoE layers, which MoESpec cannot express")
    rope, nope, v = cfg.need("qk_rope_head_dim"), cfg.need("qk_nope_head_dim"), cfg.need("v_head_dim")
    q_rank = cfg.raw.get("q_lora_rank")
    if q_rank is None and "q_lora_rank" in cfg.raw:
        raise InvalidInputError("deepseek config with q_lora_rank null (direct q projection, DeepSeek-V2-Lite) "
                                "is not expressible: MLAGeometry needs a low-rank query")
    entry.update({"attention": "mla", "kv_heads": entry["heads"], "head_dim": nope + rope if isinstance(nope, int)
                  and isinstance(rope, int) else 1,
                  "mla": {"q_lora_rank": cfg.need("q_lora_rank"), "kv_lora_rank": cfg.need("kv_lora_rank"),
                          "qk_rope_head_dim": rope, "qk_nope_head_dim": nope, "v_head_dim": v}})
    if cfg.get("num_nextn_predict_layers", 0):
        cfg.notes.append(f"{cfg.raw['num_nextn_predict_layers']} multi-token-prediction layer(s) "
                         "(num_nextn_predict_layers) are not counted (DeepSeek-V3 report sec. 2.2: the 671B "
                         "excludes the MTP module)")
    return _moe(cfg, entry, experts=cfg.need("n_routed_experts"), top_k=cfg.need("num_experts_per_tok"),
                expert_ffn=cfg.need("moe_intermediate_size"), shared=cfg.get("n_shared_experts", 0),
                dense=cfg.get("first_k_dense_replace", 0))


def _gpt_oss(cfg: _Config) -> dict:
    entry = _llama_like(cfg, bias_default=True)
    cfg.notes.append("attention sinks and the router bias are not counted (< 0.001 %)")
    return _moe(cfg, entry, experts=cfg.need("num_local_experts"),
                top_k=cfg.need("num_experts_per_tok", "experts_per_token"), expert_ffn=entry["ffn_size"])


def _gpt2(cfg: _Config) -> dict:
    d = cfg.need("n_embd")
    heads = cfg.need("n_head")
    dropout = any(cfg.get(k, 0.0) > 0 for k in ("resid_pdrop", "embd_pdrop", "attn_pdrop"))
    return {"architecture": "decoder", "layers": cfg.need("n_layer"), "hidden_size": d, "heads": heads,
            "kv_heads": heads, "head_dim": d // heads if heads else 1,
            "ffn_size": cfg.get("n_inner", DEFAULT_MLP_RATIO * d if isinstance(d, int) else 1),
            "ffn_gated": False, "vocab_size": cfg.need("vocab_size"),
            "tied_embeddings": bool(cfg.get("tie_word_embeddings", True)),
            "context_length": cfg.need("n_positions", "n_ctx"), "position_embedding": "learned",
            "norm": "layernorm", "bias": True, "activation": _activation(cfg, "activation_function", "gelu_new"),
            "dropout": dropout}


def _gptj(cfg: _Config) -> dict:
    entry = _gpt2(cfg)
    entry.update({"position_embedding": "rotary", "tied_embeddings": bool(cfg.get("tie_word_embeddings", False))})
    cfg.notes.append("GPT-J's parallel block has one LayerNorm per layer and no q/k/v/o biases; the convention "
                     "counts two norms and attention biases (< 0.05 %)")
    return entry


def _gpt_neox(cfg: _Config) -> dict:
    d = cfg.need("hidden_size")
    heads = cfg.need("num_attention_heads")
    return {"architecture": "decoder", "layers": cfg.need("num_hidden_layers"), "hidden_size": d, "heads": heads,
            "kv_heads": heads, "head_dim": d // heads if heads else 1, "ffn_size": cfg.need("intermediate_size"),
            "ffn_gated": False, "vocab_size": cfg.need("vocab_size"),
            "tied_embeddings": bool(cfg.get("tie_word_embeddings", False)),
            "context_length": cfg.need("max_position_embeddings"), "position_embedding": "rotary",
            "norm": "layernorm", "bias": True, "activation": _activation(cfg, "hidden_act", "gelu")}


def _bert(cfg: _Config) -> dict:
    entry = _gpt_neox(cfg)
    entry.update({"architecture": "encoder", "position_embedding": "learned", "tied_embeddings": True,
                  "type_vocab_size": cfg.get("type_vocab_size", 2), "pooler": True})
    return entry


def _ffn_groups(widths: list[int]) -> list[dict]:
    """The catalog's `ffn_layers` (specs.models.FFNLayers) from per-layer FFN widths: counts by width, widest first."""
    return [{"layers": widths.count(w), "size": w} for w in sorted(set(widths), reverse=True)]


# Nemotron-H hybrid_override_pattern characters (transformers NemotronHConfig): Mamba-2 mixer, attention, dense
# MLP, MoE -- one block per layer.
_NEMOTRON_H_BLOCKS = {"M": "mamba", "*": "attention", "-": "mlp", "E": "moe"}


def _nemotron_h(cfg: _Config) -> dict:
    """Nemotron-H (Nemotron-H, Nemotron Nano 2, Nemotron 3 Nano): one pre-norm block per layer, as the pattern
    says; Mamba-2 mixers as linear_attention kind mamba2, MLP/MoE layers as attention-free layers, mixer layers
    with no FFN as ffn_layers of size 0."""
    pattern = cfg.need("hybrid_override_pattern")
    layers = cfg.need("num_hidden_layers")
    if cfg.missing:
        return {}
    unknown = sorted(set(pattern) - set(_NEMOTRON_H_BLOCKS))
    if unknown or len(pattern) != layers:
        raise InvalidInputError(f"nemotron_h hybrid_override_pattern {pattern!r} has {len(pattern)} blocks for "
                                f"{layers} layers{' and unknown block types ' + str(unknown) if unknown else ''}; "
                                f"known: {', '.join(f'{k} {v}' for k, v in _NEMOTRON_H_BLOCKS.items())}")
    n_m, n_a, n_d, n_e = (pattern.count(c) for c in "M*-E")
    if not n_a:
        raise InvalidInputError("nemotron_h pattern without attention layers: a hybrid keeps at least one "
                                "softmax-attention layer (use the ssm2 architecture for a pure Mamba-2 model)")
    heads, hidden = cfg.need("num_attention_heads"), cfg.need("hidden_size")
    act = cfg.get("mlp_hidden_act", "relu2")
    if act != "relu2":
        raise InvalidInputError(f"nemotron_h mlp_hidden_act {act!r}: only relu2 (squared ReLU, a two-matrix MLP) "
                                "is mapped")
    cfg.notes.append("relu2 (squared ReLU) written as activation relu (two-matrix MLP; the square is one more "
                     "element-wise op).")
    bias = bool(cfg.get("attention_bias", False) or cfg.get("mlp_bias", False) or cfg.get("mamba_proj_bias", False))
    mlp_width = cfg.need("intermediate_size")
    entry: dict[str, Any] = {
        "architecture": "decoder", "layers": layers, "hidden_size": hidden, "heads": heads,
        "kv_heads": cfg.get("num_key_value_heads", heads),
        "head_dim": cfg.get("head_dim", hidden // heads if heads else 1), "ffn_size": mlp_width,
        "ffn_gated": False, "activation": "relu", "vocab_size": cfg.need("vocab_size"),
        "tied_embeddings": bool(cfg.get("tie_word_embeddings", False)),
        "context_length": cfg.need("max_position_embeddings"), "position_embedding": "none", "norm": "rmsnorm",
        "bias": bias, "attention_free_layers": n_d + n_e}
    if n_m:
        entry["linear_attention"] = {
            "kind": "mamba2", "layers": n_m, "key_heads": cfg.need("n_groups"),
            "value_heads": cfg.need("mamba_num_heads"), "key_head_dim": cfg.need("ssm_state_size"),
            "value_head_dim": cfg.need("mamba_head_dim"), "conv_kernel": cfg.need("conv_kernel")}
        if not cfg.get("use_conv_bias", True):
            cfg.notes.append("use_conv_bias false: the Mamba-2 conv bias (counted) is absent")
    widths = [mlp_width] * n_d + [0] * (n_m + n_a)
    if not n_e:
        entry["ffn_layers"] = _ffn_groups(widths)
        return entry
    expert = cfg.need("moe_intermediate_size")
    shared = cfg.get("n_shared_experts", 0) * cfg.get("moe_shared_expert_intermediate_size", expert)
    if isinstance(expert, int) and shared % expert:
        raise InvalidInputError(f"nemotron_h shared experts of total width {shared} are not a whole number of "
                                f"routed experts of width {expert}: MoESpec cannot express them")
    cfg.notes.append("shared expert(s) written as shared_experts = total shared width / routed width "
                     f"({shared} / {expert}); MoE layers are interleaved with the mixers, dense_layers counts the "
                     "layers without experts.")
    entry = _moe(cfg, entry, experts=cfg.need("n_routed_experts"), top_k=cfg.need("num_experts_per_tok"),
                 expert_ffn=expert, shared=shared // expert if isinstance(expert, int) else 0, dense=layers - n_e)
    entry["ffn_layers"] = _ffn_groups(widths)
    entry["ffn_size"] = mlp_width if n_d else expert
    return entry


# DeciLM (nemotron-nas) ffn_mult -> intermediate size: modeling_decilm.py _ffn_mult_to_intermediate_size,
# int(2 x ffn_mult x hidden / 3) rounded up to this multiple.
DECILM_FFN_MULTIPLE = 256


def _decilm_ffn_width(ffn_mult: float, hidden: int) -> int:
    width = int(2 * ffn_mult * hidden / 3)
    return width if width % DECILM_FFN_MULTIPLE == 0 else width + DECILM_FFN_MULTIPLE - width % DECILM_FFN_MULTIPLE


def _nemotron_nas(cfg: _Config) -> dict:
    """Llama-Nemotron (DeciLM, Puzzle NAS, arXiv:2411.19146): a Llama whose `block_configs` give each block's
    attention (kept with n_heads_in_group, or no_op) and FFN width (ffn_mult, or no_op)."""
    blocks = cfg.need("block_configs")
    heads, hidden = cfg.need("num_attention_heads"), cfg.need("hidden_size")
    if cfg.missing:
        return {}
    groups, widths, free = set(), [], 0
    for i, block in enumerate(blocks):
        att, ffn = block.get("attention", {}), block.get("ffn", {})
        linear = [k for k, b in (("attention", att), ("ffn", ffn)) if b.get("replace_with_linear")]
        if linear or att.get("window_length") or att.get("num_sink_tokens") or att.get("sparsify") \
                or ffn.get("sparsify"):
            raise InvalidInputError(f"nemotron-nas block {i}: {', '.join(linear) or 'attention'} replaced with a "
                                    "linear layer, windowed, sink or sparsified is not expressible")
        if att.get("no_op"):
            free += 1
        else:
            groups.add(att.get("n_heads_in_group"))
        widths.append(0 if ffn.get("no_op") else _decilm_ffn_width(ffn["ffn_mult"], hidden))
    if len(groups) != 1 or None in groups:
        raise InvalidInputError(f"nemotron-nas blocks use n_heads_in_group {sorted(map(str, groups))}: one GQA "
                                "group size for every attending block is expressible (kv_heads)")
    (group,) = groups
    return {"architecture": "decoder", "layers": cfg.get("num_hidden_layers", len(blocks)), "hidden_size": hidden,
            "heads": heads, "kv_heads": heads // group, "head_dim": cfg.get("head_dim", hidden // heads),
            "ffn_size": max(widths), "ffn_gated": True, "activation": _activation(cfg, "hidden_act", "silu"),
            "vocab_size": cfg.need("vocab_size"), "tied_embeddings": bool(cfg.get("tie_word_embeddings", False)),
            "context_length": cfg.need("max_position_embeddings"), "position_embedding": "rotary",
            "norm": "rmsnorm", "bias": bool(cfg.get("attention_bias", False) or cfg.get("mlp_bias", False)),
            "attention_free_layers": free, "ffn_layers": _ffn_groups(widths)}


RECIPES = {
    "llama": _llama_like, "mistral": _llama_like, "qwen2": _qwen2, "qwen3": _llama_like, "qwen3_moe": _qwen3_moe,
    "mixtral": _mixtral, "gpt2": _gpt2, "gptj": _gptj, "gpt_neox": _gpt_neox, "bert": _bert,
    "deepseek_v3": _deepseek, "deepseek_v2": _deepseek, "gpt_oss": _gpt_oss,
    "nemotron_h": _nemotron_h, "nemotron-nas": _nemotron_nas,
}
# What the Llama-style recipe reads from every config (named when an unknown architecture lacks them).
LLAMA_FIELDS = ("num_hidden_layers", "hidden_size", "num_attention_heads", "intermediate_size", "vocab_size",
                "max_position_embeddings")
# `architectures` class names -> family, for configs that omit model_type.
_ARCH_CLASSES = {"LlamaForCausalLM": "llama", "MistralForCausalLM": "mistral", "Qwen2ForCausalLM": "qwen2",
                 "Qwen3ForCausalLM": "qwen3", "Qwen3MoeForCausalLM": "qwen3_moe", "MixtralForCausalLM": "mixtral",
                 "GPT2LMHeadModel": "gpt2", "GPTJForCausalLM": "gptj", "GPTNeoXForCausalLM": "gpt_neox",
                 "BertForMaskedLM": "bert", "BertModel": "bert", "DeepseekV3ForCausalLM": "deepseek_v3",
                 "DeepseekV2ForCausalLM": "deepseek_v2", "GptOssForCausalLM": "gpt_oss",
                 "NemotronHForCausalLM": "nemotron_h", "DeciLMForCausalLM": "nemotron-nas"}


def read_config(path_or_dict: Any) -> tuple[dict, str | None]:
    """(config dict, the file it came from or None). A directory means its config.json."""
    if isinstance(path_or_dict, dict):
        return path_or_dict, None
    if not isinstance(path_or_dict, (str, Path)):
        raise InvalidInputError(f"from_hf_config takes a path to a config.json or a dict, got "
                                f"{type(path_or_dict).__name__}")
    path = Path(path_or_dict).expanduser()
    if path.is_dir():
        path = path / "config.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidInputError(f"no Hugging Face config at {path} (mlsysim reads a local config.json; it does not "
                                "download)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInputError(f"cannot read {path} as a JSON config: {exc}") from None
    if not isinstance(raw, dict):
        raise InvalidInputError(f"{path} holds a JSON {type(raw).__name__}, not a config object")
    return raw, str(path)


def family_of(raw: dict) -> str:
    model_type = raw.get("model_type")
    if model_type in RECIPES:
        return model_type
    for cls in raw.get("architectures") or ():
        if cls in _ARCH_CLASSES:
            return _ARCH_CLASSES[cls]
    if isinstance(raw.get("text_config"), dict):
        raise InvalidInputError("this config nests its language model under text_config (a multimodal "
                                "wrapper); pass the text_config dict to from_hf_config")
    what = f"model_type {model_type!r}" if model_type else "no model_type and no known architectures entry"
    lacking = [f for f in LLAMA_FIELDS if raw.get(f) is None]
    hint = (f"as a Llama-style decoder it lacks {', '.join(lacking)}" if lacking else
            "it has every Llama-style field: pass family='llama' if it is one")
    raise InvalidInputError(f"cannot import a Hugging Face config with {what}; supported model_type values: "
                            f"{', '.join(sorted(RECIPES))}; {hint}")


def _identifier(text: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_]", "_", text).strip("_")
    name = re.sub(r"_+", "_", name)
    return name if name[:1].isalpha() else f"HF_{name}"


def _default_name(raw: dict, source: str | None, family: str) -> str:
    if source is not None and Path(source).name == "config.json" and Path(source).resolve().parent.name:
        return Path(source).resolve().parent.name  # ./config.json in Meta-Llama-3-8B/ -> Meta-Llama-3-8B
    if source is not None:
        return Path(source).stem
    hint = raw.get("_name_or_path")
    if isinstance(hint, str) and hint.strip("./"):
        return hint.rstrip("/").split("/")[-1]
    return f"{family}_{raw.get('num_hidden_layers', raw.get('n_layer', 'x'))}L"


def catalog_entry(path_or_dict: Any, *, name: str | None = None, display_name: str | None = None,
                  family: str | None = None, source: str | None = None, hf_id: str | None = None) -> dict:
    """The catalog [[models]] entry (plain TOML-ready values, provenance included) for a local config."""
    raw, path = read_config(path_or_dict)
    family = family or family_of(raw)
    if family not in RECIPES:
        raise InvalidInputError(f"unknown family {family!r}; known: {', '.join(sorted(RECIPES))}")
    cfg = _Config(raw, family)
    fields = RECIPES[family](cfg)
    if cfg.missing:
        raise InvalidInputError(f"the {family} config lacks the field(s) {', '.join(cfg.missing)} that the "
                                f"{family} recipe needs to derive the geometry")
    label = name or _default_name(raw, path, family)
    where = source or (f"Hugging Face config.json read from {path}" if path else "Hugging Face config dict")
    notes = [f"Imported offline by mlsysim.hf_config ({family} recipe); context_length is "
             "max_position_embeddings (n_positions for GPT-2/GPT-J)."] + cfg.notes
    entry: dict[str, Any] = {"name": _identifier(label), "display_name": display_name or label,
                             "description": f"{family} model imported from a Hugging Face config.json.",
                             "category": "Language"}
    if hf_id:
        entry["hf_id"] = hf_id
    entry.update(fields)
    entry["provenance"] = {"source": where, "checked": _dt.date.today().isoformat(), "kind": "datasheet",
                           "notes": " ".join(notes)}
    return entry


def from_hf_config(path_or_dict: Any, **options: Any):
    """A ModelSpec (TransformerSpec, or MoESpec for routed models) from a local config.json or a dict.
    Options: name=, display_name=, family= (override the detected recipe), source= (provenance), hf_id=."""
    from .catalog.loader import build_spec

    entry = catalog_entry(path_or_dict, **options)
    return build_spec("models", entry, label=entry["provenance"]["source"])


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise InvalidInputError(f"cannot write {value!r} as TOML")


def to_toml(entry: dict, *, header: bool = True) -> str:
    """One [[models]] table in the catalog's format (with `schema_version` when `header`)."""
    lines = ["schema_version = 1", ""] if header else []
    lines.append("[[models]]")
    lines += [f"{key} = {_toml_value(value)}" for key, value in entry.items()]
    return "\n".join(lines) + "\n"
