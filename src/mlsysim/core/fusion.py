"""Bytes of the element-wise ops a runtime does not fuse (its FusionLevel), derived from the model geometry.

The workload cost (mlsysim.core.workload) is the fused stack: each norm reads and writes its tensor once, the
activation is one kernel, BatchNorm and ReLU are folded into the convolutions, attention reads each K/V head
once. A runtime that runs an op as several kernels of its own moves the extra bytes counted here. Each constant
is the bytes per element of the op sequence its reference code runs, one read or write per tensor per kernel.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..specs.models import FixedGraphSpec, TransformerSpec
from . import attention_span

if TYPE_CHECKING:  # annotations only
    from ..specs.runtimes import FusionLevel

FP32_BYTES = 4.0
# Hugging Face LlamaRMSNorm, eager: x.to(fp32) (read ab, write 4), pow(2) (4 + 4), mean (read 4), x * rsqrt
# (4 + 4), .to(dtype) (4 + ab), weight * x (ab + ab) = 28 + 4 ab per element; fused, one read and one write
# (2 ab). modeling_llama.py, LlamaRMSNorm.forward.
RMSNORM_FP32_BYTES = 28.0
RMSNORM_ACT_READS_WRITES = 4.0
# nn.LayerNorm is one ATen kernel (native_layer_norm) even in eager mode: nothing beyond the fused count.
# GPT-2's gelu_new, 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), eager: pow, mul, add, mul, tanh, add, mul, mul
# = 6 unary (read + write) + 2 binary (2 reads + write) = 18 tensor passes per element, against 2 for one fused
# kernel (transformers activations.py, NewGELUActivation).
GELU_TANH_PASSES = 18.0
# Gated FFN, eager: silu(gate) (read + write) then * up (2 reads + write) = 5 passes against 3 for silu_and_mul.
SILU_MUL_PASSES = 5.0
FUSED_GATED_PASSES = 3.0
FUSED_ACTIVATION_PASSES = 2.0
# Dropout on the two residual branches of a layer (GPT-2 resid_pdrop): native_dropout reads x, writes y and a
# one-byte bool mask (ATen native_dropout); attention-probability dropout runs inside the FlashAttention kernel.
DROPOUTS_PER_LAYER = 2
DROPOUT_MASK_BYTES = 1.0
# Training moves about three times the forward bytes of an element-wise op: the forward, and a backward that
# reads the saved input and the incoming gradient and writes the input gradient (the workload's 3x of each phase).
TRAINING_BYTES_FACTOR = 3.0
# Unfused CNN ops per element: BatchNorm and ReLU read and write their tensor (2 passes), a residual add reads
# two tensors and writes one (3 passes); fused, all three ride in the convolution's epilogue.
BATCHNORM_PASSES = 2.0
ACTIVATION_PASSES = 2.0
RESIDUAL_PASSES = 3.0
# A KV cache grown by concatenation: the old cache is read once and written once into the new allocation (the
# attention's own read of the result is the fused count's).
KV_CONCAT_PASSES = 2.0


def activation_kind(m: TransformerSpec) -> str:
    """The FFN activation: the catalog's, else SiLU for a gated FFN and exact GELU otherwise."""
    return m.activation or ("silu" if m.ffn_gated else "gelu")


def transformer_extra(m: TransformerSpec, fusion: FusionLevel, batch: int, seq_len: int, ab: float,
                      training: bool, decode: bool) -> tuple[float, float, tuple[str, ...]]:
    """(extra attention-phase bytes, extra element-wise-phase bytes, what was added) of one pass."""
    L, d = m.layers, m.hidden_size
    tokens = batch if decode else batch * seq_len
    per_token, notes = 0.0, []
    if not fusion.norm and m.norm == "rmsnorm":
        per_token += 2 * d * (RMSNORM_FP32_BYTES + (RMSNORM_ACT_READS_WRITES - 2.0) * ab)
        notes.append("RMSNorm upcast to fp32 in 8 kernels")
    if not fusion.activation:
        kind = activation_kind(m)
        if kind == "gelu_tanh":
            per_token += m.mean_ffn_size * (GELU_TANH_PASSES - FUSED_ACTIVATION_PASSES) * ab
            notes.append("tanh-GELU as 8 kernels")
        elif kind == "silu" and m.ffn_gated:
            per_token += m.mean_ffn_size * (SILU_MUL_PASSES - FUSED_GATED_PASSES) * ab
            notes.append("SiLU and the up multiply as 2 kernels")
    if training and m.dropout and fusion.dropout is False:
        per_token += DROPOUTS_PER_LAYER * d * (2.0 * ab + DROPOUT_MASK_BYTES)
        notes.append("residual dropout kernels (output + mask)")
    attn = 0.0
    if not fusion.reads_kv_once(decode and not training) and m.kv_heads < m.heads and m.attention == "standard":
        # repeat_kv: read the K (V) heads, write them per query head, and attention reads the copies:
        # 2 x (KV + H + (H - KV)) x head_dim = 4 H head_dim elements per token of context, per layer.
        context = batch * seq_len if decode else tokens
        attn = L * context * 4.0 * m.heads * m.head_dim * ab
        notes.append("K/V repeated per query head")
    if decode and not training and fusion.kv_inplace is False:
        # torch.cat([cache, new], dim=-2) allocates a new cache and copies the old one into it: every cached K/V
        # element is read and written once more per step (transformers cache_utils.py, DynamicLayer.update).
        attn += KV_CONCAT_PASSES * batch * attention_span.read_elements_per_query(m, float(seq_len)) * ab
        notes.append("KV cache re-copied by torch.cat each step")
    factor = TRAINING_BYTES_FACTOR if training else 1.0
    return factor * attn, factor * L * tokens * per_token, tuple(notes)


def fixed_graph_extra(m: FixedGraphSpec, fusion: FusionLevel, batch: int, ab: float) -> tuple[float, int, str]:
    """(extra bytes, extra kernels, what was added) of a CNN's unfused BatchNorm, activation and residual adds;
    (0, 0, reason) when the model has no element-wise counts."""
    counts = m.elementwise
    if counts is None:
        return 0.0, 0, f"{m.display_name} has no element-wise counts: unfused BatchNorm/activation bytes not added"
    passes = ((0.0 if fusion.batchnorm else BATCHNORM_PASSES * counts.normalization)
              + (0.0 if fusion.activation else ACTIVATION_PASSES * counts.activation)
              + (0.0 if fusion.residual else RESIDUAL_PASSES * counts.residual))
    if passes == 0.0:
        return 0.0, 0, ""
    extra = batch * passes * ab
    return extra, counts.kernels, (f"unfused BatchNorm/activation/residual: +{extra / batch / 1e6:.0f} MB per sample "
                                   f"in {counts.kernels} kernels")
