"""Encoder-decoder transformers (T5, Whisper): an encoder stack over the input and a decoder stack whose layers
add cross-attention to the encoder output (Vaswani et al. 2017, sec. 3.1).

Parameter counts are derived from the geometry (each term: a weight matrix of the named shape) and checked
against the published count; the workload physics is in mlsysim.core.encoder_decoder_cost.
"""
from __future__ import annotations

import attrs

from ..errors import CatalogError
from .fields import as_tuple, integer, one_of, spec
from .models import ACTIVATIONS, PUBLISHED_TOLERANCE, ModelSpec, _check_published, _check_seq_len


def _layers(value) -> tuple[tuple[int, int, int], ...]:
    return tuple(tuple(int(x) for x in row) for row in value)


@spec
class ConvFrontEnd:
    """1-D convolution stack before the encoder (Whisper's two GELU convs over the log-mel frames, Radford et al.
    2022 sec. 2.2): input channels and frames, one [out_channels, kernel, stride] row per layer, 'same' padding."""

    input_channels: int = integer()
    input_length: int = integer(doc="frames (or samples) of one input")
    layers: tuple[tuple[int, int, int], ...] = attrs.field(converter=_layers)
    bias: bool = True
    padding: str = one_of("same", "valid", default="same")  # same: k // 2 each side (Whisper); valid: none (wav2vec2)
    # Norm parameters of the stack: GroupNorm on the first conv only (wav2vec2 'group'), a LayerNorm after every
    # conv (wav2vec2 'layer'), or none; scale and shift per channel.
    norm: str = one_of("none", "group_first", "layer", default="none")

    def __attrs_post_init__(self) -> None:
        if not self.layers or any(len(r) != 3 or min(r) < 1 for r in self.layers):
            raise CatalogError("front_end.layers rows must be [out_channels, kernel, stride], positive",
                               field="front_end.layers", expected="e.g. [[1280, 3, 1], [1280, 3, 2]]")

    def _walk(self) -> list[tuple[int, int, int, int]]:
        """(in_channels, out_channels, kernel, output length) per layer."""
        rows, cin, length = [], self.input_channels, self.input_length
        for cout, k, stride in self.layers:
            pad = k // 2 if self.padding == "same" else 0
            length = (length + 2 * pad - k) // stride + 1  # conv output length (PyTorch Conv1d)
            rows.append((cin, cout, k, length))
            cin = cout
        return rows

    @property
    def output_length(self) -> int:
        return self._walk()[-1][3]

    @property
    def parameters(self) -> int:
        rows = self._walk()
        norms = {"none": 0, "group_first": 2 * rows[0][1], "layer": sum(2 * r[1] for r in rows)}[self.norm]
        return sum(cout * cin * k + (cout if self.bias else 0) for cin, cout, k, _ in rows) + norms

    @property
    def macs(self) -> float:
        """Multiply-accumulates of one input: out_length x out x in x kernel per layer."""
        return float(sum(length * cout * cin * k for cin, cout, k, length in self._walk()))

    @property
    def activation_elements(self) -> float:
        return float(sum(length * cout for _, cout, _, length in self._walk()))


@spec
class EncoderDecoderSpec(ModelSpec):
    """Encoder-decoder transformer. Both stacks share width, heads and FFN shape (true of T5 and Whisper)."""

    encoder_layers: int = integer()
    decoder_layers: int = integer()
    hidden_size: int = integer()
    heads: int = integer()
    kv_heads: int = integer()
    head_dim: int = integer()
    ffn_size: int = integer()
    ffn_gated: bool
    activation: str | None = attrs.field(default=None, validator=attrs.validators.optional(
        attrs.validators.in_(ACTIVATIONS)))
    vocab_size: int = integer()
    tied_embeddings: bool
    norm: str = one_of("rmsnorm", "layernorm")
    bias: bool
    key_bias: bool | None = None  # None: as `bias`; Whisper's k_proj alone has no bias
    position_embedding: str = one_of("relative", "learned")
    relative_attention_buckets: int = integer(minimum=0, default=0, doc="T5 bucketed relative bias (first layer)")
    encoder_positions: int = integer(minimum=0, default=0, doc="rows of the encoder position table (0: relative)")
    context_length: int = integer(doc="decoder positions (tokens it can generate and attend to)")
    encoder_seq_len: int = integer(doc="encoder tokens of one input (Whisper: 1500 = 30 s; T5: training length)")
    front_end: ConvFrontEnd | None = None
    default_seq_len: int | None = attrs.field(default=None)

    def __attrs_post_init__(self) -> None:
        if self.heads % self.kv_heads:
            raise CatalogError(f"heads ({self.heads}) must be a multiple of kv_heads ({self.kv_heads})",
                               entry=self.name, field="kv_heads", expected="a divisor of heads")
        if self.position_embedding == "learned" and self.encoder_seq_len > self.encoder_positions:
            raise CatalogError(f"encoder_seq_len {self.encoder_seq_len} exceeds the {self.encoder_positions} "
                               "encoder positions", entry=self.name, field="encoder_seq_len")
        if self.front_end is not None and self.front_end.output_length != self.encoder_seq_len:
            raise CatalogError(f"the front end gives {self.front_end.output_length} frames, encoder_seq_len is "
                               f"{self.encoder_seq_len}", entry=self.name, field="front_end",
                               expected="input_length and strides that produce encoder_seq_len frames")
        _check_seq_len(self)
        _check_published(self, "published_parameters", self.parameter_count, PUBLISHED_TOLERANCE)

    # --- parameter counting -----------------------------------------------------------------------------
    @property
    def inner_size(self) -> int:
        return self.heads * self.head_dim

    @property
    def _norm_size(self) -> int:
        return 2 * self.hidden_size if self.norm == "layernorm" else self.hidden_size  # LayerNorm: gain + bias

    @property
    def attention_parameters(self) -> int:
        """One attention block: W_q, W_k, W_v (kv_heads wide), W_o, with the biases the model has."""
        d, q, kv = self.hidden_size, self.inner_size, self.kv_heads * self.head_dim
        key_bias = self.bias if self.key_bias is None else self.key_bias
        biases = (q + kv + d + (kv if key_bias else 0)) if self.bias else 0
        return d * q + 2 * d * kv + q * d + biases

    @property
    def ffn_parameters(self) -> int:
        matrices = 3 if self.ffn_gated else 2  # gated (GeGLU, T5 v1.1): wi_0, wi_1, wo; plain: wi, wo
        biases = ((2 if self.ffn_gated else 1) * self.ffn_size + self.hidden_size) if self.bias else 0
        return matrices * self.hidden_size * self.ffn_size + biases

    @property
    def encoder_layer_parameters(self) -> int:
        return self.attention_parameters + self.ffn_parameters + 2 * self._norm_size

    @property
    def decoder_layer_parameters(self) -> int:
        return 2 * self.attention_parameters + self.ffn_parameters + 3 * self._norm_size  # self + cross attention

    @property
    def relative_bias_parameters(self) -> int:
        # T5: one buckets x heads table in the first layer of each stack, shared by its layers (Raffel et al. 2020
        # sec. 2.1); the decoder's cross-attention has none.
        return 2 * self.relative_attention_buckets * self.heads

    @property
    def encoder_parameters(self) -> int:
        front = self.front_end.parameters if self.front_end is not None else 0
        positions = self.encoder_positions * self.hidden_size
        return front + positions + self.encoder_layers * self.encoder_layer_parameters + self._norm_size

    @property
    def decoder_parameters(self) -> int:
        positions = self.context_length * self.hidden_size if self.position_embedding == "learned" else 0
        return positions + self.decoder_layers * self.decoder_layer_parameters + self._norm_size

    @property
    def embedding_parameters(self) -> int:
        """Token table shared by encoder input and decoder input (+ the untied LM head)."""
        head = 0 if self.tied_embeddings else self.vocab_size * self.hidden_size
        return self.vocab_size * self.hidden_size + head

    @property
    def parameter_count(self) -> float:
        return float(self.embedding_parameters + self.encoder_parameters + self.decoder_parameters
                     + self.relative_bias_parameters)

    # --- per-token views the cost model reads -------------------------------------------------------------
    @property
    def kv_elements_per_token(self) -> int:
        """Decoder self-attention cache per generated token: 2 (K, V) x layers x kv_heads x head_dim."""
        return 2 * self.decoder_layers * self.kv_heads * self.head_dim

    @property
    def cross_kv_elements_per_encoder_token(self) -> int:
        """Cross-attention cache per encoder token: every decoder layer projects the encoder output once into
        its own K and V (Vaswani et al. 2017 sec. 3.2.3), kept for the whole generation."""
        return 2 * self.decoder_layers * self.kv_heads * self.head_dim

    def with_encoder_length(self, tokens: int) -> "EncoderDecoderSpec":
        """This model with `tokens` encoder tokens (T5 inputs vary; Whisper's front end fixes 1500)."""
        if self.front_end is not None:
            raise CatalogError(f"{self.display_name}'s front end fixes the encoder length at {self.encoder_seq_len}",
                               entry=self.name, field="encoder_seq_len")
        return attrs.evolve(self, encoder_seq_len=tokens)
