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
    def layer_parameters(self) -> int:
        scale = 2 * self.hidden_size if self.layer_scale else 0
        return super().layer_parameters + self.layers * scale

    @property
    def _tail_parameters(self) -> int:
        d = self.hidden_size
        head = self.classes * d + self.classes  # Linear(d, classes) with bias
        return self._norm_size * (2 if self.pre_norm else 1) + head + self.projection_dim * d + self.extra_parameters

    @property
    def matmul_parameters_per_token(self) -> float:
        """Weights each token multiplies through: every block plus the patch projection (each patch token is one
        p x p x C -> d matmul row; the class token skips it, a <1 % overcount at 197 tokens). The classifier
        head and neck act once per image and are left out (Kaplan et al. 2020 sec. 2.1 counting)."""
        return float(self.layer_parameters + self.patch_embedding_parameters)
