"""What one pass of an encoder-decoder transformer (T5, Whisper) costs: a decoder step, or the prefill (encoder
pass + cross-attention K/V + decoder prompt). Plain floats; each formula cites its basis in a one-line comment.

Phases are (FLOPs, weight bytes, other bytes), each bounded on its own roof, as in core.workload.
"""
from __future__ import annotations

from ..errors import UnsupportedModelError
from ..specs.encoder_decoder import EncoderDecoderSpec
from .precision import ExecutionPrecision
from .workload import KERNELS_PER_TRANSFORMER_LAYER, LIVE_FFN_TENSORS, LIVE_HIDDEN_TENSORS, WorkloadCost

# A decoder layer adds a cross-attention block (norm, Q GEMM, attention, O GEMM, residual) to the
# KERNELS_PER_TRANSFORMER_LAYER of a decoder-only layer (Vaswani et al. 2017, fig. 1).
CROSS_ATTENTION_KERNELS = 4


def _attention_flops(m: EncoderDecoderSpec, layers: int, queries: float, keys: float) -> float:
    # QK^T and AV: 2 x heads x head_dim FLOPs each per query-key pair per layer (2 x MACs).
    return 4.0 * layers * m.heads * m.head_dim * queries * keys


def _stack_phases(m: EncoderDecoderSpec, layers: int, tokens: float, keys_per_query: float, ab: float, wb: float,
                  cross_queries: float = 0.0, cross_keys: float = 0.0, cross_kv_tokens: float = 0.0):
    """Projections, attention core, FFN and element-wise phases of `layers` layers over `tokens` tokens.

    cross_*: decoder cross-attention -- Q and O projections of the decoder tokens, attention of each query over
    the encoder tokens, and the K/V projection of `cross_kv_tokens` encoder tokens (0 when they are cached)."""
    d, q, kv = m.hidden_size, m.inner_size, m.kv_heads * m.head_dim
    self_w = layers * m.attention_parameters
    cross_qo_w = (layers * (2 * d * q)) if cross_queries else 0.0
    cross_kv_w = (layers * (2 * d * kv)) if cross_queries else 0.0
    ffn_w = layers * m.ffn_parameters
    width = (3 if m.ffn_gated else 2) * m.ffn_size
    proj_flops = 2.0 * (tokens * self_w + cross_queries * cross_qo_w + cross_kv_tokens * cross_kv_w)
    proj_bytes = layers * (tokens * (2 * d + 2 * kv + 2 * q) + cross_queries * 2 * (d + q)
                           + cross_kv_tokens * (d + 2 * kv)) * ab
    attn = _attention_flops(m, layers, tokens, keys_per_query) + _attention_flops(m, layers, cross_queries, cross_keys)
    return [
        (proj_flops, (self_w + cross_qo_w + (cross_kv_w if cross_kv_tokens else 0.0)) * wb, proj_bytes),
        (attn, 0.0, 0.0),  # core bytes (Q, K, V, O or the caches) are filled in by the caller
        (2.0 * tokens * ffn_w, ffn_w * wb, layers * tokens * (2 * d + width) * ab),
        # Norms (read + write) and residual adds (2 reads + 1 write) over d per block, activation over the FFN.
        (0.0, 0.0, layers * tokens * ((10 if not cross_queries else 15) * d + width) * ab),
    ]


def encoder_decoder_cost(m: EncoderDecoderSpec, batch: int, seq_len: int, prec: ExecutionPrecision,
                         training, prefill: bool = False) -> WorkloadCost:
    """Decode step: one token per sequence through the decoder, attending to `seq_len` cached decoder tokens and
    to the cached cross K/V of the m.encoder_seq_len encoder tokens. Prefill: the encoder over its input, the
    cross K/V of every decoder layer, and a decoder prompt of `seq_len` tokens."""
    if training is not None:
        raise UnsupportedModelError(f"training of encoder-decoder models ({m.name}) is not modelled yet; "
                                    "use is_training=False")
    wb, ab = prec.weight_bytes, prec.activation_bytes
    d, vocab, enc = m.hidden_size, m.vocab_size, float(m.encoder_seq_len)
    kv_self, kv_cross = m.kv_elements_per_token, m.cross_kv_elements_per_encoder_token
    head_w = vocab * d
    head = (2.0 * batch * head_w, head_w * wb, batch * (d + vocab) * ab)  # LM head on the last position
    cross_cache = batch * enc * kv_cross * ab
    if not prefill:
        dec = _stack_phases(m, m.decoder_layers, batch, seq_len, ab, wb, cross_queries=batch, cross_keys=enc)
        # Read both caches once, append this step's self K and V (Pope et al. 2022 sec. 3.1).
        dec[1] = (dec[1][0], 0.0, (batch * seq_len + batch) * kv_self * ab + cross_cache)
        phases = tuple(dec) + (head,)
        kv = batch * seq_len * kv_self * ab + cross_cache
        items, unit = float(batch), "token"
        kernels = m.decoder_layers * (KERNELS_PER_TRANSFORMER_LAYER + CROSS_ATTENTION_KERNELS) + 2
        live = batch * (LIVE_HIDDEN_TENSORS * d + LIVE_FFN_TENSORS * m.ffn_size + vocab) * ab
    else:
        front = ()
        if m.front_end is not None:  # convolution MACs and output frames of the front end (per input)
            fe = m.front_end
            front = ((2.0 * batch * fe.macs, fe.parameters * wb,
                      batch * (fe.input_channels * fe.input_length + fe.activation_elements) * ab),)
        enc_tokens = batch * enc
        q_io = m.inner_size + m.heads * m.head_dim  # fused attention reads Q, K, V and writes O (Dao et al. 2022)
        encoder = _stack_phases(m, m.encoder_layers, enc_tokens, enc, ab, wb)  # bidirectional: all enc keys
        encoder[1] = (encoder[1][0], 0.0, m.encoder_layers * enc_tokens * (q_io + 2 * m.kv_heads * m.head_dim) * ab)
        prompt = batch * seq_len
        dec = _stack_phases(m, m.decoder_layers, prompt, seq_len / 2.0, ab, wb, cross_queries=prompt,
                            cross_keys=enc, cross_kv_tokens=enc_tokens)  # causal prompt: S/2 keys on average
        dec[1] = (dec[1][0], 0.0, prompt * kv_self * ab + cross_cache)  # write both caches
        phases = front + tuple(encoder) + tuple(dec) + (head,)
        kv = prompt * kv_self * ab + cross_cache
        items, unit = float(prompt), "token"
        kernels = (m.encoder_layers * KERNELS_PER_TRANSFORMER_LAYER
                   + m.decoder_layers * (KERNELS_PER_TRANSFORMER_LAYER + CROSS_ATTENTION_KERNELS) + 2 + len(front))
        live = max(enc_tokens, prompt) * (LIVE_HIDDEN_TENSORS * d + LIVE_FFN_TENSORS * m.ffn_size) * ab
    flops = sum(p[0] for p in phases)
    note = (f"encoder-decoder: {m.encoder_seq_len} encoder tokens; the decoder attends to them through "
            "cross-attention (cached K/V)",)
    return WorkloadCost(flops, flops, sum(p[1] for p in phases), sum(p[2] for p in phases), m.parameter_count * wb,
                        kv, live, 0.0, 0.0, kernels, items, unit, note, phases)
