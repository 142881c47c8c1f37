"""Workload specs. Transformers and SSMs carry geometry; parameter counts are derived from it.

Models without a regular geometry (CNNs, MLPs, diffusion denoisers, recommenders) carry their sourced FLOPs
per sample, parameter count and activation sizes instead.
"""
from __future__ import annotations

import attrs

from typing import Any

from ..errors import CatalogError, InvalidInputError, InvalidTypeError
from .hardware import BYTES_PER_ELEMENT as WEIGHT_BYTES
from .fields import QuantityAccess, as_tuple, integer, number, one_of, quantity, spec
from .provenance import Provenance

def _wrap(value: float, unit: str):
    from ..units import quantity as wrap

    return wrap(value, unit)


def bytes_per_parameter(precision: Any) -> float:
    """Bytes one weight takes at `precision`: a precision name, or a number / pint Quantity of bytes."""
    if isinstance(precision, str):
        if precision not in WEIGHT_BYTES:
            raise InvalidInputError(f"unknown precision {precision!r}; known: {', '.join(WEIGHT_BYTES)}, or bytes "
                                    "per parameter as a number or a quantity such as 2 * ureg.byte")
        return WEIGHT_BYTES[precision]
    if hasattr(precision, "units"):
        value = precision.to("B").magnitude
    elif isinstance(precision, (int, float)) and not isinstance(precision, bool):
        value = float(precision)
    else:
        raise InvalidTypeError(f"precision must be a name such as 'fp16' or bytes per parameter, got {precision!r}")
    if not 0.0 < value < 64.0 or value != value:
        raise InvalidInputError(f"bytes per parameter must be in (0, 64), got {value!r}")
    return value


MODEL_CATEGORIES = ("Language", "Vision", "Tiny", "StateSpace", "GenerativeVision", "Recommendation", "Speech")
ARCHITECTURES = ("decoder", "encoder", "moe", "cnn", "mlp", "ssm", "diffusion", "recommendation",
                 "encoder_decoder", "ssm2")  # the last two: specs/encoder_decoder.py, specs/mamba2.py


# Geometry-derived counts must reproduce the published ones: totals within 1 % (conventions differ on
# norms and biases), MoE active counts within 2 % (some authors count the input embedding, some do not).
PUBLISHED_TOLERANCE = 0.01
PUBLISHED_ACTIVE_TOLERANCE = 0.02


def _check_published(spec, field: str, derived: float, tolerance: float) -> None:
    published = getattr(spec, field)
    if published is not None and abs(derived - published) > tolerance * published:
        raise CatalogError(f"geometry gives {derived:.6g} parameters but {field} is {published:.6g}",
                           entry=spec.name, field=field,
                           expected=f"layers/hidden/heads/ffn/vocab that reproduce the published count within "
                                    f"{tolerance:.0%}")


def _check_seq_len(spec) -> None:
    if spec.default_seq_len is not None and spec.default_seq_len > spec.context_length:
        raise CatalogError(f"default_seq_len {spec.default_seq_len} exceeds context_length {spec.context_length}",
                           entry=spec.name, field="default_seq_len", expected="a length <= context_length")


@spec
class ModelSpec(QuantityAccess):
    """Base of every workload: identity, provenance and the published parameter count."""

    name: str
    display_name: str
    category: str = one_of(*MODEL_CATEGORIES)
    architecture: str = one_of(*ARCHITECTURES)
    provenance: Provenance
    description: str = ""
    aliases: tuple[str, ...] = attrs.field(default=(), converter=as_tuple)
    hf_id: str | None = None  # Hugging Face repository id ("Qwen/Qwen3-32B"); Models.get accepts it
    published_parameters: float | None = number(optional=True)

    @property
    def kind(self) -> str:
        return "model"

    # --- float view (what the solvers compute with) -------------------------------------------------
    @property
    def parameter_count(self) -> float:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    @property
    def active_parameter_count(self) -> float:
        """Parameters touched per token / sample (all of them unless the model routes)."""
        return self.parameter_count

    # --- figures as pint Quantities (0.1.x's shape) ----------------------------------------------------
    @property
    def parameters(self):
        """Total parameters, a pint Quantity in ``param`` (``.to("count")``, ``.to("Bparam")``)."""
        return _wrap(self.parameter_count, "param")

    @property
    def active_parameters(self):
        """Parameters used per token / sample, a pint Quantity in ``param``."""
        return _wrap(self.active_parameter_count, "param")

    def size_in_bytes(self, precision: Any = "fp16"):
        """Bytes of the weights at `precision`: a precision name ("fp16", "int4") or bytes per parameter as a
        number or a pint Quantity (0.1.x passed ``2 * ureg.byte``). Weights only: no KV cache, no activations."""
        return _wrap(self.parameter_count * bytes_per_parameter(precision), "B")

    @property
    def inference_flops(self):
        """Forward FLOPs of one inference unit: per token for transformers and SSMs (2 x active parameters,
        Kaplan et al. 2020 eq. 2.1, attention excluded), per sample for fixed-graph models."""
        return _wrap(2.0 * self.active_parameter_count, "flop")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, {self.display_name!r})"


@spec
class MLAGeometry:
    """Multi-head latent attention (DeepSeek-V2, arXiv:2405.04434 sec. 2.1)."""

    q_lora_rank: int = integer()
    kv_lora_rank: int = integer()
    qk_rope_head_dim: int = integer()
    qk_nope_head_dim: int = integer()
    v_head_dim: int = integer()


@spec
class SlidingWindow:
    """Sliding-window attention (Beltagy et al. 2020; Mistral 7B, arXiv:2310.06825 sec. 2): `layers` of the
    model's layers attend only the last `size` tokens and keep at most that many in their KV cache (a rolling
    buffer); the other layers attend the whole context. `pattern`: how they interleave, as config.json says."""

    size: int = integer(doc="tokens a windowed layer attends (config.json sliding_window)")
    layers: int = integer(doc="layers that use the window; the rest attend the whole context")
    pattern: str = ""


# Kinds of linear attention a hybrid model may use in place of softmax attention (schemas/models.schema.json).
LINEAR_ATTENTION_KINDS = ("gated_deltanet", "mamba2")
# Mamba-2 recurrence per state element and token: decay h *= a (1 mul), input h += (dt x) B (1 fused mul-add =
# 2), readout y += C h (2): 5 FLOPs -- Dao & Gu 2024 eq. (2) with scalar A_t per head (sec. 3, "SSD recurrence").
SSD_RECURRENCE_FLOPS_PER_STATE = 5.0
# Gated DeltaNet per state element and token: reads S k, writes the rank-1 correction, reads S q, each a
# multiply-add over d_k x d_v per value head (Yang et al. 2024, arXiv:2412.06464 sec. 3).
DELTANET_FLOPS_PER_STATE = 6.0


@spec
class LinearAttention:
    """Linear-attention layers in place of softmax attention in `layers` of the layers (Qwen3-Next: Gated
    DeltaNet, Yang et al. 2024, arXiv:2412.06464): each sequence keeps a fixed recurrent state, a
    key_head_dim x value_head_dim matrix per value head plus a short causal-convolution window, instead of
    a KV cache that grows with the context. The remaining layers are the model's softmax attention.

    kind "mamba2" (Nemotron-H's Mamba-2 mixers): by the state-space duality B plays the key, C the query and x
    the value (Dao & Gu 2024, arXiv:2405.21060 sec. 7), so key_heads = n_groups (B/C groups), key_head_dim =
    ssm_state_size, value_heads = mamba_num_heads, value_head_dim = mamba_head_dim; the state is then heads x
    head_dim x state and the conv runs over x, B and C (mamba_ssm/modules/mamba2.py), as the fields say."""

    kind: str = one_of(*LINEAR_ATTENTION_KINDS)
    layers: int = integer(doc="layers of linear attention")
    key_heads: int = integer()
    value_heads: int = integer()
    key_head_dim: int = integer()
    value_head_dim: int = integer()
    conv_kernel: int = integer(doc="causal short-convolution width over q, k, v")

    def __attrs_post_init__(self) -> None:
        # value heads share keys in groups (Gated DeltaNet's GQA-style heads; Mamba-2's nheads % ngroups == 0,
        # mamba_ssm/modules/mamba2.py)
        if self.value_heads % self.key_heads:
            raise CatalogError(f"linear_attention value_heads {self.value_heads} is not a multiple of key_heads "
                               f"{self.key_heads}", field="linear_attention.value_heads",
                               expected="value heads in whole groups per key head (Mamba-2: per B/C group)")

    @property
    def conv_channels(self) -> int:
        return 2 * self.key_heads * self.key_head_dim + self.value_heads * self.value_head_dim

    @property
    def state_elements(self) -> int:
        """Recurrent state per sequence per layer: S (d_k x d_v per value head) and the last kernel-1 inputs
        of the short convolution (Qwen3-Next modeling code: recurrent_state, conv_state)."""
        return self.value_heads * self.key_head_dim * self.value_head_dim + (self.conv_kernel - 1) * self.conv_channels

    def parameters(self, d: int) -> int:
        """One Gated DeltaNet layer: in_proj_qkvz (d -> 2 Hk dk + 2 Hv dv), in_proj_ba (d -> 2 Hv), depthwise
        conv (channels x kernel), dt_bias and A_log (Hv each), gated RMSNorm (dv), out_proj (Hv dv -> d).
        One Mamba-2 mixer (mamba_ssm/modules/mamba2.py, Nemotron-H NemotronHMamba2Mixer): in_proj d -> [z, x, B,
        C, dt] = 2 Hv dv + 2 Hk dk + Hv (no bias), depthwise conv weight + bias over x, B, C, dt_bias, A_log
        and D (Hv each), gated RMSNorm over the inner width (Hv dv), out_proj (Hv dv -> d, no bias)."""
        hk, hv, dk, dv = self.key_heads, self.value_heads, self.key_head_dim, self.value_head_dim
        if self.kind == "mamba2":
            return d * (2 * hv * dv + 2 * hk * dk + hv) + self.conv_channels * (self.conv_kernel + 1) \
                + 3 * hv + hv * dv + hv * dv * d
        return d * (2 * hk * dk + 2 * hv * dv) + d * 2 * hv + self.conv_channels * self.conv_kernel \
            + 2 * hv + dv + hv * dv * d

    @property
    def flops_per_token(self) -> float:
        """Recurrence FLOPs per token per layer beside the projections, per state element (value heads x d_k x
        d_v): the delta rule's three multiply-adds, or the Mamba-2 SSD recurrence's five FLOPs."""
        per_state = SSD_RECURRENCE_FLOPS_PER_STATE if self.kind == "mamba2" else DELTANET_FLOPS_PER_STATE
        return per_state * self.value_heads * self.key_head_dim * self.value_head_dim


@spec
class SparseAttention:
    """DeepSeek Sparse Attention (DeepSeek-V3.2, arXiv tech report 2025 sec. 2.1): a lightning indexer scores
    every cached token with `indexer_heads` small heads of `indexer_head_dim` (one shared key per token kept
    in its own cache) and the main attention attends only the `top_k` best-scored tokens, so main-attention
    FLOPs and KV reads stop growing past top_k while the indexer's stay linear in the context."""

    top_k: int = integer(doc="tokens each query attends (index_topk)")
    indexer_heads: int = integer(doc="index_n_heads")
    indexer_head_dim: int = integer(doc="index_head_dim")


@spec
class FFNLayers:
    """`layers` of a model's dense layers run an FFN of width `size`; size 0: those layers have no FFN block.
    For stacks whose blocks differ (Llama-Nemotron Super, Puzzle NAS, arXiv:2411.19146: DeciLM block_configs set
    each block's ffn_mult; Nemotron-H: its Mamba-2 and attention layers carry no FFN)."""

    layers: int = integer()
    size: int = integer(minimum=0, doc="FFN width of these layers (intermediate size); 0: no FFN")


# FFN activations a transformer entry may name (schemas/models.schema.json).
ACTIVATIONS = ("gelu", "gelu_tanh", "silu", "relu")


@spec
class TransformerSpec(ModelSpec):
    """Decoder (GPT, Llama) or encoder (BERT) transformer."""

    layers: int = integer()
    hidden_size: int = integer()
    heads: int = integer()
    kv_heads: int = integer()
    head_dim: int = integer()
    ffn_size: int = integer()
    ffn_gated: bool
    vocab_size: int = integer()
    tied_embeddings: bool
    context_length: int = integer()
    position_embedding: str = one_of("rotary", "learned", "alibi", "none")
    norm: str = one_of("rmsnorm", "layernorm")
    bias: bool
    type_vocab_size: int = integer(minimum=0, default=0)
    pooler: bool = False
    attention: str = one_of("standard", "mla", default="standard")
    mla: MLAGeometry | None = None
    # where attention does not span the whole context: windowed layers, linear-attention layers, sparse top-k
    # (physics in core/attention_span.py)
    sliding_window: SlidingWindow | None = None
    linear_attention: LinearAttention | None = None
    sparse_attention: SparseAttention | None = None
    # FFN activation as the reference code writes it (None: silu when gated, gelu otherwise) and whether
    # training applies dropout on the residual branches; both set the bytes of unfused element-wise ops.
    activation: str | None = attrs.field(default=None, validator=attrs.validators.optional(
        attrs.validators.in_(ACTIVATIONS)))
    dropout: bool = False
    # softmax attention gated at its output (Qwen3-Next attn_output_gate, Qiu et al. 2025 "Gated Attention for
    # Large Language Models", arXiv:2505.06708): q_proj emits heads x head_dim more, a sigmoid gate on the output
    attention_output_gate: bool = False
    # heterogeneous stacks, as per-layer-kind counts: layers with no attention (or other sequence-mixer) block
    # (DeciLM attention no_op; Nemotron-H's MoE-only layers) hold no KV cache and run no attention; and the
    # dense layers' FFN widths by count (ffn_size then the widest of them)
    attention_free_layers: int = integer(minimum=0, default=0)
    ffn_layers: tuple[FFNLayers, ...] = attrs.field(default=(), converter=as_tuple)
    default_seq_len: int | None = attrs.field(default=None)

    def __attrs_post_init__(self) -> None:
        if self.heads % self.kv_heads:
            raise CatalogError(f"heads ({self.heads}) must be a multiple of kv_heads ({self.kv_heads})",
                               entry=self.name, field="kv_heads", expected="a divisor of heads (GQA groups)")
        if (self.attention == "mla") != (self.mla is not None):
            raise CatalogError("attention = 'mla' needs an [mla] table and the table needs attention = 'mla'",
                               entry=self.name, field="mla")
        if self.sparse_attention is not None and self.mla is None:
            raise CatalogError("sparse_attention (DSA) is modelled on MLA models (its indexer reads the query "
                               "latent): add the [mla] table", entry=self.name, field="sparse_attention")
        span = sum(t.layers for t in (self.sliding_window, self.linear_attention) if t is not None) \
            + self.attention_free_layers
        if span > self.layers or ((self.linear_attention is not None or self.attention_free_layers)
                                  and span >= self.layers):
            raise CatalogError(f"sliding_window.layers + linear_attention.layers + attention_free_layers = {span} "
                               f"exceed the {self.layers} layers (a hybrid keeps at least one softmax-attention "
                               f"layer)", entry=self.name, field="sliding_window.layers",
                               expected="at most the model's layers")
        if self.ffn_layers:
            listed = sum(g.layers for g in self.ffn_layers)
            widest = max(g.size for g in self.ffn_layers)
            if listed != self._dense_layer_count:
                raise CatalogError(f"ffn_layers cover {listed} layers, the model has {self._dense_layer_count} "
                                   f"dense-FFN layers", entry=self.name, field="ffn_layers",
                                   expected="counts that sum to the layers (an MoE model: to dense_layers)")
            if widest and widest != self.ffn_size:
                raise CatalogError(f"ffn_size {self.ffn_size} is not the widest ffn_layers width {widest}",
                                   entry=self.name, field="ffn_size", expected="the widest listed FFN width")
        _check_seq_len(self)
        _check_published(self, "published_parameters", self.parameter_count, PUBLISHED_TOLERANCE)

    # --- parameter counting (each term: a weight matrix of the named shape) ---------------------------
    @property
    def _norm_size(self) -> int:
        return 2 * self.hidden_size if self.norm == "layernorm" else self.hidden_size  # LayerNorm: gain+bias

    @property
    def softmax_attention_layers(self) -> int:
        """Layers of softmax attention (windowed ones included): those that hold a KV cache."""
        lin = self.linear_attention.layers if self.linear_attention is not None else 0
        return self.layers - lin - self.attention_free_layers

    @property
    def attention_parameters(self) -> int:
        """Attention-block (sequence-mixer) parameters of all layers: softmax layers, linear-attention layers,
        none in attention-free layers."""
        la = self.linear_attention
        linear = la.layers * la.parameters(self.hidden_size) if la is not None else 0
        return self.softmax_attention_layers * self._softmax_attention_parameters + linear

    @property
    def attention_parameters_per_layer(self) -> int:
        """Attention-block parameters of one layer; a hybrid (linear-attention or attention-free layers) gives
        the mean over its layers (so layers x this is the model's attention total)."""
        if self.linear_attention is None and not self.attention_free_layers:
            return self._softmax_attention_parameters
        return self.attention_parameters / self.layers

    @property
    def _softmax_attention_parameters(self) -> int:
        d, h, kv, hd = self.hidden_size, self.heads, self.kv_heads, self.head_dim
        sa = self.sparse_attention
        # DSA lightning indexer (DeepSeek-V3.2 inference code, Indexer): wq_b (q_lora_rank -> heads x dim), wk
        # (d -> dim), k_norm LayerNorm (2 x dim), weights_proj (d -> heads)
        indexer = 0 if sa is None or self.mla is None else (
            self.mla.q_lora_rank * sa.indexer_heads * sa.indexer_head_dim + d * sa.indexer_head_dim
            + 2 * sa.indexer_head_dim + d * sa.indexer_heads)
        if self.mla is not None:  # DeepSeek-V2 eqs. (9)-(14): low-rank q and joint kv compression
            m = self.mla
            q = d * m.q_lora_rank + m.q_lora_rank + m.q_lora_rank * h * (m.qk_nope_head_dim + m.qk_rope_head_dim)
            kv_ = d * (m.kv_lora_rank + m.qk_rope_head_dim) + m.kv_lora_rank \
                + m.kv_lora_rank * h * (m.qk_nope_head_dim + m.v_head_dim)
            return q + kv_ + h * m.v_head_dim * d + indexer
        q_width = (2 if self.attention_output_gate else 1) * h * hd  # W_q (and the output gate's rows)
        weights = d * q_width + 2 * d * kv * hd + h * hd * d  # W_q, W_k, W_v, W_o
        biases = (q_width + 2 * kv * hd + d) if self.bias else 0
        return weights + biases

    def _ffn_parameters(self, width: int) -> int:
        if width == 0:  # a block without FFN (FFNLayers size 0)
            return 0
        matrices = 3 if self.ffn_gated else 2  # SwiGLU: gate, up, down (Shazeer 2020); plain MLP: up, down
        biases = ((2 if self.ffn_gated else 1) * width + self.hidden_size) if self.bias else 0
        return matrices * self.hidden_size * width + biases

    @property
    def _dense_layer_count(self) -> int:
        """Layers whose FFN is dense (all of a dense model's; an MoE model's dense_layers)."""
        return self.layers

    @property
    def dense_ffn_parameters(self) -> int:
        """Dense-FFN parameters of all dense layers: ffn_layers' widths by count, else ffn_size in each."""
        if self.ffn_layers:
            return sum(g.layers * self._ffn_parameters(g.size) for g in self.ffn_layers)
        return self._dense_layer_count * self._ffn_parameters(self.ffn_size)

    @property
    def ffn_parameters_per_layer(self) -> int:
        """Dense-FFN parameters of one dense layer (the mean over them when ffn_layers' widths differ)."""
        if not self.ffn_layers:
            return self._ffn_parameters(self.ffn_size)
        return self.dense_ffn_parameters / self._dense_layer_count

    @property
    def ffn_layer_count(self) -> int:
        """Dense layers that run an FFN (ffn_layers of size 0 have none)."""
        if not self.ffn_layers:
            return self._dense_layer_count
        return sum(g.layers for g in self.ffn_layers if g.size)

    @property
    def mean_ffn_size(self) -> float:
        """FFN width of a dense layer that has one: ffn_size, or the mean of ffn_layers' nonzero widths by count
        (a layer-summed width-linear cost -- FLOPs, activation bytes -- is then ffn_layer_count x this)."""
        if not self.ffn_layers:
            return self.ffn_size
        n = self.ffn_layer_count
        return sum(g.layers * g.size for g in self.ffn_layers) / n if n else 0.0

    @property
    def _norm_parameters(self) -> int:
        """Pre-norms of all layers: one before attention, one before the FFN, absent with the block they
        precede (DeciLM and Nemotron-H skip the norm of a no-op block)."""
        blocks = 2 * self.layers - self.attention_free_layers - (self._dense_layer_count - self.ffn_layer_count)
        return blocks * self._norm_size

    @property
    def embedding_parameters(self) -> int:
        """Input lookup tables (token, learned position, segment): gathered, not multiplied."""
        positions = self.context_length if self.position_embedding == "learned" else 0
        return (self.vocab_size + positions + self.type_vocab_size) * self.hidden_size

    @property
    def lm_head_parameters(self) -> int:
        """Untied output projection counted as parameters (a tied head shares the embedding table)."""
        return 0 if self.tied_embeddings else self.vocab_size * self.hidden_size

    @property
    def _tail_parameters(self) -> int:
        pooler = self.hidden_size * self.hidden_size + self.hidden_size if self.pooler else 0
        return self._norm_size + pooler  # final norm (+ BERT pooler)

    @property
    def layer_parameters(self) -> int:
        return self.attention_parameters + self.dense_ffn_parameters + self._norm_parameters

    @property
    def parameter_count(self) -> float:
        return float(self.embedding_parameters + self.lm_head_parameters + self.layer_parameters
                     + self._tail_parameters)

    @property
    def matmul_parameters_per_token(self) -> float:
        """Weights each token multiplies through: every layer, plus the vocabulary projection of a decoder
        (Kaplan et al. 2020 sec. 2.1: forward FLOPs ~ 2 N per token, N = non-embedding weights)."""
        head = self.vocab_size * self.hidden_size if self.architecture != "encoder" else 0
        return float(self.layer_parameters + head)

    @property
    def kv_elements_per_token(self) -> int:
        """KV-cache elements stored per token across all layers: 2 (K and V) x layers x kv_heads x head_dim;
        MLA caches one compressed latent plus the shared rotary key (DeepSeek-V2 sec. 2.1.2)."""
        if self.mla is not None:
            return self.layers * (self.mla.kv_lora_rank + self.mla.qk_rope_head_dim)
        return 2 * self.layers * self.kv_heads * self.head_dim

    @property
    def spans_whole_context(self) -> bool:
        """Every layer attends and caches the whole context (no window, linear, sparse or absent attention)."""
        return self.sliding_window is None and self.linear_attention is None and self.sparse_attention is None \
            and not self.attention_free_layers

    def kv_elements_at(self, context: float) -> float:
        """Cache elements of one sequence at `context` tokens: K and V of the softmax layers (a windowed
        layer's rolling buffer holds at most its window: Mistral 7B sec. 2), the DSA indexer's key per token
        per layer, and the fixed recurrent state of linear-attention layers (attention-free layers: none)."""
        if self.spans_whole_context:
            return float(self.kv_elements_per_token) * context
        per_layer = self.kv_elements_per_token / self.layers
        lin = self.linear_attention.layers if self.linear_attention is not None else 0
        win = self.sliding_window.layers if self.sliding_window is not None else 0
        held = (self.softmax_attention_layers - win) * context  # attention-free layers hold nothing
        if win:
            held += win * min(context, float(self.sliding_window.size))
        out = per_layer * held
        if self.sparse_attention is not None:
            out += self.layers * self.sparse_attention.indexer_head_dim * context
        if lin:
            out += lin * self.linear_attention.state_elements
        return out

    def get_kv_cache_size(self, seq_len: int, batch_size: int = 1, precision: Any = "fp16"):
        """Bytes of KV cache for `batch_size` sequences of `seq_len` tokens: kv_elements_per_token x tokens x
        bytes per element (Pope et al. 2022, sec. 3.1); `precision` is a name or bytes per element (0.1.x's
        call shape, kept for its code)."""
        for name, value in (("seq_len", seq_len), ("batch_size", batch_size)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InvalidInputError(f"{name} must be a non-negative integer, got {value!r}")
        return _wrap(self.kv_elements_at(seq_len) * batch_size * bytes_per_parameter(precision), "B")

    @property
    def hidden_dim(self) -> int:
        """0.1.x's name for hidden_size."""
        return self.hidden_size

    @property
    def attention_flops_per_token_per_context(self) -> float:
        """FLOPs per query token per context token: QK^T and AV each 2 x heads x head_dim (per layer)."""
        if self.mla is not None:
            # Absorbed MLA (DeepSeek-V2 sec. 2.1.2, W_UK folded into W_Q, W_UV into W_O): each head scores the
            # cached latent + rotary key (2 x (c_kv + d_rope)) and sums the latent (2 x c_kv) -- consistent
            # with reading only the compressed cache.
            m = self.mla
            return float(self.layers * self.heads * (2 * (m.kv_lora_rank + m.qk_rope_head_dim) + 2 * m.kv_lora_rank))
        return float(self.layers * 4 * self.heads * self.head_dim)

    @property
    def expanded_attention_flops_per_token_per_context(self) -> float:
        """attention_flops_per_token_per_context as a training step runs it: MLA with its keys and values expanded
        per head from the latent (DeepSeek-V2 eqs. (12)-(14), the form training kernels compute; only the
        decode step scores the cached latent, absorbed): 2 x (qk_nope + qk_rope) for QK^T and 2 x v_head_dim for
        AV per head and layer. Other attention: unchanged."""
        if self.mla is None:
            return self.attention_flops_per_token_per_context
        m = self.mla
        return float(self.layers * self.heads * (2 * (m.qk_nope_head_dim + m.qk_rope_head_dim) + 2 * m.v_head_dim))


@spec
class MoESpec(TransformerSpec):
    """Mixture-of-experts decoder: routed experts replace the dense FFN (after `dense_layers` leading layers)."""

    experts: int = integer()
    experts_per_token: int = integer()
    expert_ffn_size: int = integer()
    shared_experts: int = integer(minimum=0, default=0)
    dense_layers: int = integer(minimum=0, default=0)
    published_active_parameters: float | None = number(optional=True)

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        if self.experts_per_token > self.experts:
            raise CatalogError(f"experts_per_token ({self.experts_per_token}) exceeds experts ({self.experts})",
                               entry=self.name, field="experts_per_token", expected="top-k <= experts")
        if self.dense_layers > self.layers:
            raise CatalogError("dense_layers exceeds layers", entry=self.name, field="dense_layers")
        _check_published(self, "published_active_parameters", self.active_parameter_count, PUBLISHED_ACTIVE_TOLERANCE)

    @property
    def moe_layers(self) -> int:
        return self.layers - self.dense_layers

    @property
    def expert_parameters(self) -> int:
        return self._ffn_parameters(self.expert_ffn_size)

    @property
    def router_parameters_per_layer(self) -> int:
        return self.hidden_size * self.experts  # gating projection d -> E (Shazeer et al. 2017)

    @property
    def _dense_layer_count(self) -> int:
        return self.dense_layers

    def _layers_with(self, experts_per_layer: int) -> int:
        common = self.attention_parameters + self._norm_parameters
        moe_ffn = self.moe_layers * (self.router_parameters_per_layer
                                     + (experts_per_layer + self.shared_experts) * self.expert_parameters)
        return common + self.dense_ffn_parameters + moe_ffn

    @property
    def layer_parameters(self) -> int:
        return self._layers_with(self.experts)

    @property
    def active_layer_parameters(self) -> int:
        return self._layers_with(self.experts_per_token)

    @property
    def active_parameter_count(self) -> float:
        return float(self.embedding_parameters + self.lm_head_parameters + self.active_layer_parameters
                     + self._tail_parameters)

    @property
    def matmul_parameters_per_token(self) -> float:
        return float(self.active_layer_parameters + self.vocab_size * self.hidden_size)

    def streamed_parameters(self, tokens: int) -> float:
        """Weights a step over `tokens` tokens multiplies through: shared layers, the vocabulary projection and
        the expected number of distinct experts hit, E x (1 - (1 - k/E)^tokens) per MoE layer (uniform routing)."""
        hit = self.experts * (1.0 - (1.0 - self.experts_per_token / self.experts) ** max(tokens, 1))
        return float(self._layers_with(0) + self.moe_layers * hit * self.expert_parameters
                     + self.vocab_size * self.hidden_size)


LAYER_COLUMNS = ("macs", "input_elements", "output_elements", "parameters")
# Layer type of each row for the microcontroller cycles model (mlsysim.core.mcu_cycles): the network's first
# convolution, depthwise, other convolution (standard/pointwise), fully connected, or none (no MACs: pooling).
LAYER_KINDS = ("first", "depthwise", "conv", "dense", "none")


def _rows(value) -> tuple[tuple[float, ...], ...]:
    return tuple(tuple(float(x) for x in row) for row in value)


@spec
class LayerTable:
    """One row per kernel: MACs, input and output activation elements, parameters (per sample)."""

    columns: tuple[str, ...] = attrs.field(converter=as_tuple)
    rows: tuple[tuple[float, ...], ...] = attrs.field(converter=_rows)
    kinds: tuple[str, ...] = attrs.field(default=(), converter=as_tuple)
    # MACs per layer type (from kinds; empty without them), summed once here for the hot path.
    macs_by_kind: tuple[tuple[str, float], ...] = attrs.field(init=False, default=())

    def __attrs_post_init__(self) -> None:
        if self.columns != LAYER_COLUMNS or any(len(r) != len(LAYER_COLUMNS) for r in self.rows):
            raise CatalogError("layer_table rows must be [macs, input_elements, output_elements, parameters]",
                               field="layer_table", expected=f"columns = {list(LAYER_COLUMNS)}")
        if not self.kinds:
            return
        bad = [k for k in self.kinds if k not in LAYER_KINDS]
        if bad or len(self.kinds) != len(self.rows):
            raise CatalogError(f"kinds has {'unknown ' + repr(bad[0]) if bad else f'{len(self.kinds)} entries'} "
                               f"for {len(self.rows)} rows", field="layer_table.kinds",
                               expected=f"one of {', '.join(LAYER_KINDS)} per row (tools/cnn_layers.py prints them)")
        sums: dict[str, float] = {}
        for kind, row in zip(self.kinds, self.rows):
            if kind == "none":
                if row[0]:
                    raise CatalogError(f"a row of {row[0]:g} MACs has kind 'none'", field="layer_table.kinds",
                                       expected="first, depthwise, conv or dense for a row with MACs")
                continue
            sums[kind] = sums.get(kind, 0.0) + row[0]
        object.__setattr__(self, "macs_by_kind", tuple(sums.items()))


@spec
class ElementwiseCounts:
    """Element-wise ops beside a fixed graph's convolutions, per sample: elements each op class runs over (summed
    over layers) and the kernels they are when a runtime does not fuse them (tools/cnn_layers.py)."""

    normalization: float = number(doc="BatchNorm output elements per sample")
    activation: float = number(doc="activation elements per sample")
    residual: float = number(doc="residual-add output elements per sample")
    kernels: int = integer(minimum=0)
    provenance: Provenance


@spec
class FixedGraphSpec(ModelSpec):
    """A network summarised by sourced totals at its input size (no regular geometry to derive from)."""

    _parameters: float = quantity("param")
    _flops_per_sample: float = quantity("flop", doc="forward FLOPs (2 x MACs) for one sample")
    activations_per_sample: float = number(doc="activation elements written per sample")
    peak_activations_per_sample: float = number(doc="largest live activation working set, elements")
    input_shape: tuple[int, ...] = attrs.field(converter=as_tuple)
    layers: int = integer()
    layer_table: LayerTable | None = None
    elementwise: ElementwiseCounts | None = None

    @property
    def parameter_count(self) -> float:
        return self._parameters

    @property
    def inference_flops(self):
        """Forward FLOPs of one sample at the model's input size."""
        return self.flops_per_sample

    def __attrs_post_init__(self) -> None:
        if self.layer_table is None:
            return
        # The per-layer profile and the sourced totals must describe the same network (1% tolerance).
        macs = sum(r[0] for r in self.layer_table.rows)
        params = sum(r[3] for r in self.layer_table.rows)
        for label, got, want in (("flops_per_sample", 2 * macs, self._flops_per_sample),
                                 ("parameters", params, self._parameters)):
            if abs(got - want) > 0.01 * want:
                raise CatalogError(f"layer_table sums to {got:.6g} but {label} is {want:.6g}", entry=self.name,
                                   field="layer_table", expected=f"rows consistent with {label} within 1%")


@spec
class CNNSpec(FixedGraphSpec):
    """Convolutional network (ResNet, MobileNet, DS-CNN)."""


@spec
class MLPSpec(FixedGraphSpec):
    """Fully connected network (MLPerf Tiny anomaly-detection autoencoder)."""


@spec
class SSMSpec(ModelSpec):
    """Mamba selective state-space model (Gu & Dao 2023, arXiv:2312.00752)."""

    layers: int = integer()
    hidden_size: int = integer()
    state_size: int = integer()
    expand: int = integer()
    conv_kernel: int = integer()
    dt_rank: int = integer()
    vocab_size: int = integer()
    tied_embeddings: bool
    context_length: int = integer()
    default_seq_len: int | None = attrs.field(default=None)

    def __attrs_post_init__(self) -> None:
        _check_seq_len(self)
        _check_published(self, "published_parameters", self.parameter_count, PUBLISHED_TOLERANCE)

    @property
    def hidden_dim(self) -> int:
        """0.1.x's name for hidden_size."""
        return self.hidden_size

    @property
    def inner_size(self) -> int:
        return self.expand * self.hidden_size

    @property
    def parameters_per_layer(self) -> int:
        d, e, n, r = self.hidden_size, self.inner_size, self.state_size, self.dt_rank
        in_proj = d * 2 * e                      # x and gate z
        conv = e * self.conv_kernel + e          # depthwise causal conv + bias
        x_proj = e * (r + 2 * n)                 # dt, B, C
        dt_proj = r * e + e
        a_and_d = e * n + e                      # A_log and D
        out_proj = e * d
        return in_proj + conv + x_proj + dt_proj + a_and_d + out_proj + d  # + RMSNorm

    @property
    def parameter_count(self) -> float:
        head = 0 if self.tied_embeddings else self.vocab_size * self.hidden_size
        return float(self.vocab_size * self.hidden_size + head + self.layers * self.parameters_per_layer
                     + self.hidden_size)

    @property
    def matmul_parameters_per_token(self) -> float:
        return float(self.layers * self.parameters_per_layer + self.vocab_size * self.hidden_size)

    @property
    def state_elements(self) -> int:
        """Recurrent state per sequence: SSM state e x n plus the conv window e x (k-1), per layer."""
        return self.layers * self.inner_size * (self.state_size + self.conv_kernel - 1)


@spec
class DiffusionSpec(ModelSpec):
    """Latent diffusion: one forward pass = one denoising step of the denoiser (UNet/DiT)."""

    _parameters: float = quantity("param")
    _flops_per_step: float = quantity("flop")
    denoising_steps: int = integer()
    resolution: int = integer()
    activations_per_sample: float = number()
    peak_activations_per_sample: float = number()
    layers: int = integer()

    @property
    def parameter_count(self) -> float:
        return self._parameters

    @property
    def _flops_per_sample(self) -> float:
        return self._flops_per_step  # one denoising step is the unit of work

    @property
    def flops_per_sample(self):
        return _wrap(self._flops_per_sample, "flop")

    @property
    def inference_flops(self):
        """FLOPs of one denoising step."""
        return self.flops_per_step


@spec
class RecommendationSpec(ModelSpec):
    """DLRM-style recommender: embedding-table gathers feeding dense MLPs (Naumov et al. 2019)."""

    embedding_parameters: float = number()
    dense_parameters: float = number()
    _flops_per_sample: float = quantity("flop")
    embedding_dim: int = integer()
    lookups_per_sample: int = integer()
    layers: int = integer()

    @property
    def parameter_count(self) -> float:
        return float(self.embedding_parameters + self.dense_parameters)

    @property
    def inference_flops(self):
        return self.flops_per_sample


SPEC_BY_ARCHITECTURE: dict[str, type[ModelSpec]] = {
    "decoder": TransformerSpec, "encoder": TransformerSpec, "moe": MoESpec, "cnn": CNNSpec, "mlp": MLPSpec,
    "ssm": SSMSpec, "diffusion": DiffusionSpec, "recommendation": RecommendationSpec,
}
