"""Mamba-2 (state-space duality, SSD: Dao & Gu 2024, arXiv:2405.21060): a selective SSM whose A is one scalar per
head, computed by the chunked SSD algorithm in prefill and by the recurrence in decode.

Parameters per block follow the reference Mamba2 module (mamba_ssm/modules/mamba2.py): one fused in_proj to
[z, x, B, C, dt], a depthwise conv over [x, B, C], per-head dt_bias, A_log and D, a gated RMSNorm, out_proj.
"""
from __future__ import annotations

from ..errors import CatalogError
from .fields import integer, spec
from .models import PUBLISHED_TOLERANCE, SSMSpec, _check_published, _check_seq_len


@spec
class Mamba2Spec(SSMSpec):
    """Mamba-2 language model: `layers` SSD blocks of width `hidden_size`, inner width expand x hidden split in
    heads of `head_dim`, B and C shared by `groups` head groups."""

    head_dim: int = integer(doc="P, channels per SSD head (the paper's 64)")
    groups: int = integer(default=1, doc="B/C groups (the paper's multi-value attention analogue, 1 in the release)")
    chunk_size: int = integer(default=256, doc="Q, the SSD chunk length of the prefill algorithm")
    dt_rank: int = integer(minimum=0, default=0, doc="unused: Mamba-2 has one dt per head, no low-rank dt")

    def __attrs_post_init__(self) -> None:
        if self.inner_size % self.head_dim:
            raise CatalogError(f"inner width {self.inner_size} is not a multiple of head_dim {self.head_dim}",
                               entry=self.name, field="head_dim", expected="a divisor of expand x hidden_size")
        if self.nheads % self.groups:
            raise CatalogError("heads must be a multiple of groups", entry=self.name, field="groups")
        _check_seq_len(self)
        _check_published(self, "published_parameters", self.parameter_count, PUBLISHED_TOLERANCE)

    @property
    def nheads(self) -> int:
        return self.inner_size // self.head_dim

    @property
    def conv_channels(self) -> int:
        return self.inner_size + 2 * self.groups * self.state_size  # the conv runs over x, B and C

    @property
    def parameters_per_layer(self) -> int:
        d, e, h = self.hidden_size, self.inner_size, self.nheads
        in_proj = d * (2 * e + 2 * self.groups * self.state_size + h)  # z, x, B, C, dt (no bias)
        conv = self.conv_channels * self.conv_kernel + self.conv_channels  # depthwise conv weight + bias
        per_head = 3 * h  # dt_bias, A_log, D
        gated_norm = e  # RMSNormGated weight
        out_proj = e * d
        return in_proj + conv + per_head + gated_norm + out_proj + d  # + the block's RMSNorm

    @property
    def state_elements(self) -> int:
        """Recurrent state per sequence: heads x head_dim x state (= inner x state) plus the conv window over
        x, B, C of kernel - 1 steps, per layer."""
        return self.layers * (self.inner_size * self.state_size + self.conv_channels * (self.conv_kernel - 1))
