"""The GEMMs of a transformer layer's phases, as (rows, columns, reduction, batch, weight) shapes for the shape roof
(mlsysim.core.gemm_roof via core.shape_cost): dense or grouped-query projections, multi-head latent attention's
low-rank projections, dense FFNs and mixture-of-experts layers (router, routed experts at tokens-per-expert rows as
one grouped GEMM, shared experts). `weight` is each GEMM's share of the phase's FLOPs (rows x columns x reduction x
batch x the layers it appears in), so a phase's efficiency is the FLOP-weighted harmonic mean over its GEMMs.
Plain floats; called once per (model, device, runtime, shape) and cached by core.shape_cost."""
from __future__ import annotations

from ..specs.models import MoESpec, TransformerSpec

# (rows M, columns N, reduction K, batch of independent GEMMs, layers it appears in)
Gemm = tuple[float, float, float, int, float]


def projection_gemms(m: TransformerSpec, tokens: float) -> tuple[Gemm, ...]:
    """Attention projections of every layer. Standard/GQA: fused Q|K|V [d, (h + 2 kv) hd] and O [h hd, d].
    MLA (DeepSeek-V2, arXiv:2405.04434, eqs. 9-14): query down-projection d -> q_lora_rank and up-projection to
    h (nope + rope); joint key/value down-projection d -> kv_lora_rank + rope and up-projection kv_lora_rank ->
    h (nope + v); output h v -> d. The latent ranks (512-1536) are the short N or K that tile-quantise."""
    d, L = m.hidden_size, m.layers - m.attention_free_layers  # attention-free layers project nothing
    if m.mla is None:
        qkv, out = (m.heads + 2 * m.kv_heads) * m.head_dim, m.heads * m.head_dim
        return (tokens, qkv, d, 1, L), (tokens, d, out, 1, L)
    a, h = m.mla, m.heads
    return ((tokens, a.q_lora_rank, d, 1, L),
            (tokens, h * (a.qk_nope_head_dim + a.qk_rope_head_dim), a.q_lora_rank, 1, L),
            (tokens, a.kv_lora_rank + a.qk_rope_head_dim, d, 1, L),
            (tokens, h * (a.qk_nope_head_dim + a.v_head_dim), a.kv_lora_rank, 1, L),
            (tokens, d, h * a.v_head_dim, 1, L))


def _ffn(tokens: float, d: int, width: float, gated: bool, layers: float, batch: int = 1) -> tuple[Gemm, Gemm]:
    """Up (gate and up as one [d, 2 width] GEMM when gated) and down projections."""
    return (tokens, (2 if gated else 1) * width, d, batch, layers), (tokens, d, width, batch, layers)


def _dense_ffns(m: TransformerSpec, tokens: float, layers: int) -> list[Gemm]:
    """The dense layers' FFN GEMMs: ffn_size in each, or one pair per listed width (ffn_layers; none at 0)."""
    if not m.ffn_layers:
        return list(_ffn(tokens, m.hidden_size, m.ffn_size, m.ffn_gated, layers)) if layers else []
    return [g for group in m.ffn_layers if group.size
            for g in _ffn(tokens, m.hidden_size, group.size, m.ffn_gated, group.layers)]


def ffn_gemms(m: TransformerSpec, tokens: float) -> tuple[Gemm, ...]:
    """FFN GEMMs of every layer. MoE: the dense leading layers, then per MoE layer the router [d, E], the routed
    experts as one grouped GEMM of the active experts, each at M = tokens x top-k / active experts rows (balanced
    routing, as the workload's FLOP count assumes; Fedus et al. 2022, Switch Transformer, sec. 2.2), and the shared
    experts as one FFN of shared x expert width over all tokens (DeepSeekMoE, arXiv:2401.06066, sec. 3.2)."""
    d, gated = m.hidden_size, m.ffn_gated
    if not isinstance(m, MoESpec):
        return tuple(_dense_ffns(m, tokens, m.layers))
    gemms: list[Gemm] = _dense_ffns(m, tokens, m.dense_layers)
    moe = m.moe_layers
    routed = tokens * m.experts_per_token          # token-expert pairs of one layer
    active = max(1, min(m.experts, int(routed)))   # experts that receive at least one token
    gemms += _ffn(routed / active, d, m.expert_ffn_size, gated, moe, active)
    if m.shared_experts:
        gemms += _ffn(tokens, d, m.shared_experts * m.expert_ffn_size, gated, moe)
    gemms.append((tokens, m.experts, d, 1, moe))
    return tuple(gemms)


def attention_head_dim(m: TransformerSpec) -> int:
    """Head dimension the attention kernel's Q K^T runs at: head_dim, or MLA's nope + rope query/key dimension
    (DeepSeek-V2 sec. 2.1.3: 128 + 64 = 192)."""
    return m.head_dim if m.mla is None else m.mla.qk_nope_head_dim + m.mla.qk_rope_head_dim
