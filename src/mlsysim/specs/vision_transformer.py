"""Vision transformer (ViT, CLIP image tower, DINOv2, SAM image encoder): an encoder transformer whose tokens are
image patches (Dosovitskiy et al. 2020, arXiv:2010.11929, eq. 1) instead of a vocabulary lookup.

The entry is an ordinary ``architecture = "encoder"`` transformer plus the patch front end (``patch_size``
marks it); the sequence is fixed by the image: (image_size / patch_size)^2 patches + class/register tokens.
"""
from __future__ import annotations

from ..errors import CatalogError
from .fields import integer, spec
from .models import PUBLISHED_TOLERANCE, TransformerSpec, _check_published, _check_seq_len


@spec
class VisionTransformerSpec(TransformerSpec):
    """Encoder transformer over image patches; the patch embedding is a stride-p convolution (a linear map of
    each flattened p x p x C patch)."""

    image_size: int = integer(doc="square input resolution in pixels the position table was trained for")
    patch_size: int = integer(doc="side of one square patch in pixels")
    channels: int = integer(default=3)
    class_tokens: int = integer(minimum=0, default=1, doc="[CLS] tokens prepended (SAM: 0)")
    register_tokens: int = integer(minimum=0, default=0, doc="extra learned tokens without positions (Darcet 2023)")
    patch_bias: bool = True
    pre_norm: bool = False       # CLIP's ln_pre before the first block (Radford et al. 2021, ViT code)
    layer_scale: bool = False    # DINOv2/CaiT per-branch scale vectors, 2 x d per layer (Touvron et al. 2021)
    classes: int = integer(minimum=0, default=0, doc="classifier head outputs (0: no head)")
    projection_dim: int = integer(minimum=0, default=0, doc="bias-free output projection width (CLIP: 768)")
    extra_parameters: int = integer(minimum=0, default=0,
                                   doc="parameters no other field describes (DINOv2 mask token, SAM conv neck)")
    vocab_size: int = integer(minimum=0, default=0, doc="no vocabulary: patches are embedded, not looked up")
    final_norm: bool = True      # a norm after the last block (SAM: none, its neck has its own)
    # Windowed attention (SAM, ViTDet: Li et al. 2022, arXiv:2203.16527): all but `global_layers` layers attend
    # within window_size x window_size patches of the (padded) grid; 0 = every layer global.
    window_size: int = integer(minimum=0, default=0)
    global_layers: int = integer(minimum=0, default=0)
    relative_positions: bool = False  # decomposed relative position tables per layer (SAM: 2 x (2 s - 1) x head_dim)

    def __attrs_post_init__(self) -> None:
        if self.image_size % self.patch_size:
            raise CatalogError(f"image_size {self.image_size} is not a multiple of patch_size {self.patch_size}",
                               entry=self.name, field="image_size", expected="a whole number of patches per side")
        if self.context_length != self.tokens:
            raise CatalogError(f"context_length {self.context_length} but the image gives {self.tokens} tokens",
                               entry=self.name, field="context_length",
                               expected="(image_size / patch_size)^2 + class_tokens + register_tokens")
        if self.heads % self.kv_heads:
            raise CatalogError("heads must be a multiple of kv_heads", entry=self.name, field="kv_heads")
        if self.global_layers > self.layers or (self.global_layers and not self.window_size):
            raise CatalogError("global_layers needs window_size and at most `layers` layers", entry=self.name,
                               field="global_layers")
        if self.default_seq_len is None:  # the image fixes the sequence: Engine.solve runs all of its tokens
            object.__setattr__(self, "default_seq_len", self.tokens)
        _check_seq_len(self)
        _check_published(self, "published_parameters", self.parameter_count, PUBLISHED_TOLERANCE)

    @property
    def patches(self) -> int:
        return (self.image_size // self.patch_size) ** 2

    @property
    def tokens(self) -> int:
        """Sequence length of one image: patches + class and register tokens (ViT eq. 1)."""
        return self.patches + self.class_tokens + self.register_tokens

    @property
    def patch_embedding_parameters(self) -> int:
        # Conv2d(C, d, kernel p, stride p): d x C x p x p weights (+ d bias).
        return self.hidden_size * self.channels * self.patch_size ** 2 + (self.hidden_size if self.patch_bias else 0)

    @property
    def embedding_parameters(self) -> int:
        """Patch projection, class/register tokens and the learned position table (one row per positioned token)."""
        positioned = self.patches + self.class_tokens if self.position_embedding == "learned" else 0
        return self.patch_embedding_parameters + (self.class_tokens + self.register_tokens + positioned) * self.hidden_size

    @property
    def lm_head_parameters(self) -> int:
        return 0

    @property
    def _side(self) -> int:
        return self.image_size // self.patch_size

    @property
    def windowed_layers(self) -> int:
        return self.layers - self.global_layers if self.window_size else 0

    @property
    def relative_position_parameters(self) -> int:
        """rel_pos_h and rel_pos_w per layer: (2 s - 1) x head_dim each, s = window or grid side (SAM)."""
        if not self.relative_positions:
            return 0
        table = lambda s: 2 * (2 * s - 1) * self.head_dim  # noqa: E731
        return self.windowed_layers * table(self.window_size) + (self.layers - self.windowed_layers) * table(self._side)

    @property
    def layer_parameters(self) -> int:
        scale = 2 * self.hidden_size if self.layer_scale else 0
        return super().layer_parameters + self.layers * scale + self.relative_position_parameters

    @property
    def attention_flops_per_token_per_context(self) -> float:
        """QK^T and AV FLOPs per query per context token, averaged over layers: a windowed layer scores
        ceil(side / w)^2 windows of w^4 query-key pairs instead of tokens^2 (ViTDet sec. 3)."""
        per_layer = 4.0 * self.heads * self.head_dim
        if not self.windowed_layers:
            return self.layers * per_layer
        windows = (-(-self._side // self.window_size)) ** 2  # ceil(side / w)^2: the grid is padded to whole windows
        windowed_share = windows * self.window_size ** 4 / float(self.tokens) ** 2
        return per_layer * (self.layers - self.windowed_layers + self.windowed_layers * windowed_share)

    @property
    def _tail_parameters(self) -> int:
        d = self.hidden_size
        head = self.classes * d + self.classes  # Linear(d, classes) with bias
        norms = self._norm_size * ((1 if self.final_norm else 0) + (1 if self.pre_norm else 0))
        return norms + head + self.projection_dim * d + self.extra_parameters

    @property
    def matmul_parameters_per_token(self) -> float:
        """Weights each token multiplies through: every block plus the patch projection (each patch token is one
        p x p x C -> d matmul row; the class token skips it, a <1 % overcount at 197 tokens). The classifier
        head and neck act once per image and are left out (Kaplan et al. 2020 sec. 2.1 counting), as are the
        relative position tables (gathered into the attention logits, not multiplied through)."""
        return float(self.layer_parameters - self.relative_position_parameters + self.patch_embedding_parameters)
