"""Speech encoder (wav2vec 2.0, HuBERT): an encoder transformer over frames that a 1-D convolution stack makes from
the raw waveform, with a convolutional relative position embedding (Baevski et al. 2020, arXiv:2006.11477 sec. 2).

The entry is an ordinary ``architecture = "encoder"`` transformer plus its ``front_end`` (which marks it); the
sequence is the frame count, 320 samples per frame (about 50 per second at 16 kHz).
"""
from __future__ import annotations

from ..errors import CatalogError
from .encoder_decoder import ConvFrontEnd
from .fields import integer, spec
from .models import PUBLISHED_TOLERANCE, TransformerSpec, _check_published, _check_seq_len


@spec
class SpeechEncoderSpec(TransformerSpec):
    """Encoder transformer over convolutional audio frames; `context_length` is the frame count of the front end's
    reference input (its `input_length` samples)."""

    front_end: ConvFrontEnd
    position_conv_kernel: int = integer(doc="kernel of the grouped conv position embedding (wav2vec2: 128)")
    position_conv_groups: int = integer(doc="groups of that conv (wav2vec2: 16)")
    masked_embedding: bool = True  # learned mask vector of pre-training (masked_spec_embed, d)
    classes: int = integer(minimum=0, default=0, doc="CTC head outputs (0: no head)")
    vocab_size: int = integer(minimum=0, default=0, doc="no vocabulary: frames are projected, not looked up")

    def __attrs_post_init__(self) -> None:
        if self.context_length != self.front_end.output_length:
            raise CatalogError(f"context_length {self.context_length} but the front end gives "
                               f"{self.front_end.output_length} frames", entry=self.name, field="context_length",
                               expected="the frame count of front_end.input_length samples")
        if self.hidden_size % self.position_conv_groups:
            raise CatalogError("hidden_size must be a multiple of position_conv_groups", entry=self.name,
                               field="position_conv_groups")
        if self.heads % self.kv_heads:
            raise CatalogError("heads must be a multiple of kv_heads", entry=self.name, field="kv_heads")
        _check_seq_len(self)
        _check_published(self, "published_parameters", self.parameter_count, PUBLISHED_TOLERANCE)

    @property
    def _feature_channels(self) -> int:
        return self.front_end.layers[-1][0]

    @property
    def _projection_weights(self) -> int:
        return self._feature_channels * self.hidden_size  # Linear(conv channels -> d)

    @property
    def _position_conv_weights(self) -> int:
        d = self.hidden_size
        return d * (d // self.position_conv_groups) * self.position_conv_kernel  # grouped Conv1d(d, d, k)

    @property
    def embedding_parameters(self) -> int:
        """Conv stack, feature projection (LayerNorm + Linear with bias), weight-normed position conv (weight_v,
        weight_g over the kernel axis, bias) and the mask vector."""
        d = self.hidden_size
        projection = 2 * self._feature_channels + self._projection_weights + d
        position = self._position_conv_weights + self.position_conv_kernel + d
        return self.front_end.parameters + projection + position + (d if self.masked_embedding else 0)

    @property
    def lm_head_parameters(self) -> int:
        return 0

    @property
    def _tail_parameters(self) -> int:
        return self._norm_size + self.classes * self.hidden_size + self.classes  # encoder LayerNorm + CTC head

    @property
    def matmul_parameters_per_token(self) -> float:
        """Weights each frame multiplies through: every block, the feature projection and the position conv (a
        grouped conv's MACs per frame equal its weight count). The conv stack runs on samples, not frames; its
        cost is a separate phase (core.speech_encoder_cost)."""
        return float(self.layer_parameters + self._projection_weights + self._position_conv_weights)
