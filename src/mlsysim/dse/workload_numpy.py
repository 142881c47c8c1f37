"""core.workload.transformer_cost of a dense transformer's inference pass (a decoder's decode step, an encoder's
forward; no runtime, no ragged batch), vectorised over batch sizes x sequence lengths. The same formulas in the
same order, on float64 arrays, so a sweep costs one call per (model, precision bytes) instead of one per point;
property tests hold it to the scalar cost; a transformer's training step likewise (transformer_training). MoE
models too: their FFN width is the routed plus shared experts', and the expert weights a step streams depend on
its tokens through a coupon-collector count (MoESpec.streamed_parameters, called per point)."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..core.workload import (ACTIVATION_FACTOR_FULL_RECOMPUTE, ACTIVATION_FACTOR_NO_RECOMPUTE, ATTENTION_CORE_PHASE,
                             KERNELS_PER_TRANSFORMER_LAYER, LIVE_FFN_TENSORS, LIVE_HIDDEN_TENSORS, _training_state)
from ..specs.models import MoESpec, TransformerSpec


def vectorisable(model: object) -> bool:
    # A speech encoder adds its conv stack as a phase (core.speech_encoder_cost), and windowed / linear / sparse
    # attention (core/attention_span.py) change the attention cost: the scalar tier prices both.
    return isinstance(model, TransformerSpec) and getattr(model, "front_end", None) is None and \
        model.spans_whole_context


def _ffn(m: TransformerSpec, tokens: np.ndarray, attn_w: float, head_w: float) -> tuple[float, float, Any]:
    """(FFN width, FFN weights each token multiplies, FFN weights the step reads) as transformer_cost forms them:
    a MoE model's routed + shared experts, and the distinct experts its tokens hit (streamed_parameters)."""
    ffn_flop_w = m.matmul_parameters_per_token - attn_w - head_w
    if not isinstance(m, MoESpec):
        return m.mean_ffn_size, ffn_flop_w, ffn_flop_w
    streamed = np.array([m.streamed_parameters(int(t)) for t in tokens.tolist()], dtype=float)
    return m.expert_ffn_size * (m.experts_per_token + m.shared_experts), ffn_flop_w, streamed - attn_w - head_w


def _phases(n: int, rows: tuple) -> np.ndarray:
    """(n, phases, 3) array of (FLOPs, weight bytes, other bytes) per phase; each entry an array or a constant."""
    ph = np.empty((n, len(rows), 3))
    for i, row in enumerate(rows):
        for j, v in enumerate(row):
            ph[:, i, j] = v
    return ph


def transformer_inference(m: TransformerSpec, batch: np.ndarray, seq: np.ndarray, wb: float, ab: float) -> dict:
    """Phases (n, 5, 3) and aggregates of transformer_cost(m, batch, seq, prec, None, False) for each
    (batch[i], seq[i]); keys as prepare.Workload."""
    L, d, vocab = m.layers, m.hidden_size, m.vocab_size
    decode = m.architecture != "encoder"
    tokens = batch if decode else batch * seq
    context = seq  # decoders read the whole cache; an encoder attends over all S
    cached = batch * seq
    attn_flops = m.attention_flops_per_token_per_context * context * tokens
    qkv_width = (m.heads + 2 * m.kv_heads) * m.head_dim
    attn_w = L * m.attention_parameters_per_layer
    head_w = vocab * d if decode else 0
    ffn_width, ffn_flop_w, ffn_read_w = _ffn(m, tokens, attn_w, head_w)
    head_tokens = batch if decode else np.zeros_like(batch)
    gated = 3 if m.ffn_gated else 2
    if decode:
        attn_other = (cached + tokens) * m.kv_elements_per_token * ab
    else:
        attn_other = L * tokens * (qkv_width + m.heads * m.head_dim) * ab
    zero = np.zeros_like(batch)
    ph = _phases(batch.size, (
        (2.0 * tokens * attn_w, attn_w * wb, L * tokens * (2 * d + qkv_width + m.heads * m.head_dim) * ab),
        (attn_flops, 0.0, attn_other),
        (2.0 * tokens * ffn_flop_w, ffn_read_w * wb, L * tokens * (2 * d + gated * ffn_width) * ab),
        (0.0, 0.0, L * tokens * (10 * d + gated * ffn_width) * ab),
        (2.0 * head_tokens * head_w, head_w * wb, head_tokens * (d * ab + vocab * ab))))
    fwd = ph[:, 0, 0] + ph[:, 1, 0] + ph[:, 2, 0] + ph[:, 3, 0] + ph[:, 4, 0]  # left to right, as sum()
    kv = cached * m.kv_elements_per_token * ab if decode else zero
    live = tokens * (LIVE_HIDDEN_TENSORS * d + LIVE_FFN_TENSORS * ffn_width) * ab + head_tokens * vocab * ab
    return {"phases": ph, "hardware_flops": fwd, "model_flops": fwd,
            "weight_traffic": ph[:, 0, 1] + ph[:, 1, 1] + ph[:, 2, 1] + ph[:, 3, 1] + ph[:, 4, 1],
            "other_traffic": ph[:, 0, 2] + ph[:, 1, 2] + ph[:, 2, 2] + ph[:, 3, 2] + ph[:, 4, 2],
            "kernels": zero + float(L * KERNELS_PER_TRANSFORMER_LAYER + 2), "items": batch.astype(float),
            "unit": "token" if decode else "sample",
            "held": m.parameter_count * wb + kv + live}


def transformer_training(m: TransformerSpec, batch: np.ndarray, seq: np.ndarray, prec: Any, training: Any) -> dict:
    """transformer_cost(m, batch, seq, prec, training) of a transformer's training step for each
    (batch[i], seq[i]): the forward phases of the step's tokens, x (3 + replay) for the backward (and the
    recomputation), and the optimizer update; the same formulas in the same order as the scalar cost."""
    wb, ab = prec.weight_bytes, prec.activation_bytes
    L, d, vocab = m.layers, m.hidden_size, m.vocab_size
    encoder = m.architecture == "encoder"
    tokens = batch * seq
    context = seq if encoder else seq / 2.0  # all S in an encoder, S/2 on average under a causal mask
    attn_flops = m.expanded_attention_flops_per_token_per_context * context * tokens  # workload.py's per_pair
    qkv_width = (m.heads + 2 * m.kv_heads) * m.head_dim
    attn_w = L * m.attention_parameters_per_layer
    head_w = vocab * d if not encoder else 0
    ffn_width, ffn_flop_w, ffn_read_w = _ffn(m, tokens, attn_w, head_w)
    head_tokens = tokens if not encoder else np.zeros_like(tokens)
    gated = 3 if m.ffn_gated else 2
    logit_bytes = 4.0  # training keeps fp32 logits for the loss
    zero = np.zeros_like(batch)
    fw = _phases(batch.size, (
        (2.0 * tokens * attn_w, attn_w * wb, L * tokens * (2 * d + qkv_width + m.heads * m.head_dim) * ab),
        (attn_flops, 0.0, L * tokens * (qkv_width + m.heads * m.head_dim) * ab),
        (2.0 * tokens * ffn_flop_w, ffn_read_w * wb, L * tokens * (2 * d + gated * ffn_width) * ab),
        (0.0, 0.0, L * tokens * (10 * d + gated * ffn_width) * ab),
        (2.0 * head_tokens * head_w, head_w * wb, head_tokens * (d * ab + vocab * logit_bytes))))
    fwd = fw[:, 0, 0] + fw[:, 1, 0] + fw[:, 2, 0] + fw[:, 3, 0] + fw[:, 4, 0]
    factor = {"none": ACTIVATION_FACTOR_NO_RECOMPUTE, "selective": ACTIVATION_FACTOR_NO_RECOMPUTE,
              "full": ACTIVATION_FACTOR_FULL_RECOMPUTE}[training.recomputation]
    acts = L * factor * tokens * d * (ab / 2.0) + tokens * vocab * 4.0
    w, g, o = _training_state(m.parameter_count, prec, training)
    replay = {"none": (0.0,) * 5, "full": (1.0,) * 5,
              "selective": tuple(1.0 if i == ATTENTION_CORE_PHASE else 0.0 for i in range(5))}[training.recomputation]
    ph = np.empty((batch.size, 6, 3))
    for i, r in enumerate(replay):
        ph[:, i] = (3.0 + r) * fw[:, i]
    ph[:, 5] = (0.0, 0.0, g + 2.0 * o + w)  # the Adam step's reads and writes
    s = [ph[:, :, j] for j in range(3)]
    total = [c[:, 0] + c[:, 1] + c[:, 2] + c[:, 3] + c[:, 4] + c[:, 5] for c in s]  # left to right, as sum()
    return {"phases": ph, "hardware_flops": total[0], "model_flops": 3.0 * fwd, "weight_traffic": total[1],
            "other_traffic": total[2], "kernels": zero + float(3 * (L * KERNELS_PER_TRANSFORMER_LAYER + 2)),
            "items": tokens.astype(float), "unit": "token", "held": w + 0.0 + acts + g + o}
