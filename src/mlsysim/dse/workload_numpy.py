"""core.workload.transformer_cost of a dense transformer's inference pass (a decoder's decode step, an encoder's
forward; no runtime, no ragged batch), vectorised over batch sizes x sequence lengths. The same formulas in the
same order, on float64 arrays, so a sweep costs one call per (model, precision bytes) instead of one per point;
property tests hold it to the scalar cost. MoE models keep the scalar cost (their streamed expert weights
depend on the batch through a coupon-collector count)."""
from __future__ import annotations

import numpy as np

from ..core.workload import KERNELS_PER_TRANSFORMER_LAYER, LIVE_FFN_TENSORS, LIVE_HIDDEN_TENSORS
from ..specs.models import MoESpec, TransformerSpec


def vectorisable(model: object) -> bool:
    # windowed / linear / sparse attention (core/attention_span.py) keep the scalar cost too
    return isinstance(model, TransformerSpec) and not isinstance(model, MoESpec) and model.spans_whole_context


def transformer_inference(m: TransformerSpec, batch: np.ndarray, seq: np.ndarray, wb: float, ab: float) -> dict:
    """Phases (n, 5, 3) and aggregates of transformer_cost(m, batch, seq, prec, None, False) for each
    (batch[i], seq[i]); keys as prepare.Workload."""
    L, d, vocab = m.layers, m.hidden_size, m.vocab_size
    decode = m.architecture != "encoder"
    tokens = batch if decode else batch * seq
    context = seq  # decoders read the whole cache; an encoder attends over all S
    cached = batch * seq
    attn_flops = m.attention_flops_per_token_per_context * context * tokens
    ffn_width = m.ffn_size
    qkv_width = (m.heads + 2 * m.kv_heads) * m.head_dim
    attn_w = L * m.attention_parameters_per_layer
    head_w = vocab * d if decode else 0
    ffn_flop_w = m.matmul_parameters_per_token - attn_w - head_w
    head_tokens = batch if decode else np.zeros_like(batch)
    gated = 3 if m.ffn_gated else 2
    if decode:
        attn_other = (cached + tokens) * m.kv_elements_per_token * ab
    else:
        attn_other = L * tokens * (qkv_width + m.heads * m.head_dim) * ab
    zero = np.zeros_like(batch)
    ph = np.empty((batch.size, 5, 3))
    ph[:, 0] = np.stack((2.0 * tokens * attn_w, zero + attn_w * wb,
                         L * tokens * (2 * d + qkv_width + m.heads * m.head_dim) * ab), axis=1)
    ph[:, 1] = np.stack((attn_flops, zero, attn_other), axis=1)
    ph[:, 2] = np.stack((2.0 * tokens * ffn_flop_w, zero + ffn_flop_w * wb,
                         L * tokens * (2 * d + gated * ffn_width) * ab), axis=1)
    ph[:, 3] = np.stack((zero, zero, L * tokens * (10 * d + gated * ffn_width) * ab), axis=1)
    ph[:, 4] = np.stack((2.0 * head_tokens * head_w, zero + head_w * wb,
                         head_tokens * (d * ab + vocab * ab)), axis=1)
    fwd = ph[:, 0, 0] + ph[:, 1, 0] + ph[:, 2, 0] + ph[:, 3, 0] + ph[:, 4, 0]  # left to right, as sum()
    kv = cached * m.kv_elements_per_token * ab if decode else zero
    live = tokens * (LIVE_HIDDEN_TENSORS * d + LIVE_FFN_TENSORS * ffn_width) * ab + head_tokens * vocab * ab
    return {"phases": ph, "hardware_flops": fwd, "model_flops": fwd,
            "weight_traffic": ph[:, 0, 1] + ph[:, 1, 1] + ph[:, 2, 1] + ph[:, 3, 1] + ph[:, 4, 1],
            "other_traffic": ph[:, 0, 2] + ph[:, 1, 2] + ph[:, 2, 2] + ph[:, 3, 2] + ph[:, 4, 2],
            "kernels": zero + float(L * KERNELS_PER_TRANSFORMER_LAYER + 2), "items": batch.astype(float),
            "unit": "token" if decode else "sample",
            "held": m.parameter_count * wb + kv + live}
