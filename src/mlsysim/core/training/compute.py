"""Per-GPU compute of one micro-batch at the sharded shapes: each GEMM of a layer at its (M, N, K) after the
tensor-parallel split (Megatron-LM column/row split, Shoeybi et al. 2019), timed with the single-device model's
shape roof (core.gemm_roof: tile and wave quantisation, normalised to the device's measured large-GEMM rate);
the attention core at the device's FlashAttention rate (core.gemm_roof.attention_efficiency); element-wise ops
on the memory roof. Plain floats, computed once per (model, device, layout, precision, stack) and cached.

FLOPs: 2 x MACs per GEMM (Kaplan et al. 2020); backward = 2 x forward for GEMMs (input and weight gradients,
Narayanan et al. 2021 sec. 5.1); FlashAttention backward = 2.5 x forward (5 matmuls vs 2, Dao 2023 sec. 3.1).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from ...specs.models import MoESpec
from ..fusion import transformer_extra
from ..gemm_roof import attention_efficiency, relative_gemm_efficiency
from . import context
from ..solver import _measured_matmul, calibration_class

# Element-wise bytes per token per layer over d in one forward: two norms (read + write) and two residual adds
# (2 reads + 1 write) -- the engine's workload model (core/workload.py); fused kernels (Transformer Engine
# LayerNorm+Linear, bias+GeLU, bias+dropout+add) read and write each tensor once: about half.
ELEMENTWISE_HIDDEN_PASSES = 10.0
FUSED_ELEMENTWISE_SHARE = 0.5
# Backward element-wise traffic: about twice the forward (read the saved input and the incoming gradient,
# write the gradient). Estimate from the op structure.
BACKWARD_ELEMENTWISE_FACTOR = 2.0
# FlashAttention backward / forward FLOPs (5 matmuls vs 2 per tile; Dao 2023, FlashAttention-2, sec. 3.1).
ATTENTION_BACKWARD_FACTOR = 2.5
# Causal attention computes half of the score matrix (FlashAttention skips masked tiles).
CAUSAL_SHARE = 0.5
# Transformer Engine fp8 casts per GEMM input (bf16 read 2 B + fp8 write 1 B) forward and for the incoming
# gradient in backward (TE Linear: fp8 fprop, dgrad, wgrad; Micikevicius et al. 2022, FP8 formats, sec. 4).
FP8_CAST_BYTES = 3.0
# Kernels per transformer layer of the forward when the runtime does not say: the engine's default
# (core/workload.py: 8 per layer); backward launches about twice as many.
DEFAULT_LAYER_KERNELS = 8
BACKWARD_KERNEL_FACTOR = 2.0
# Causal-attention rate when the device has no attention table: half the GEMM rate (FlashAttention-2 reaches
# 50-73 % of A100 peak forward and less backward, Dao 2023 fig. 4-6, vs ~80 % for large GEMMs). Estimate.
ATTENTION_RATE_SHARE_OF_GEMM = 0.5
# fp32 softmax cross-entropy: read + write the logits in forward and again in backward (4 passes, 2 of them backward).
LOSS_LOGIT_PASSES, LOSS_BACKWARD_LOGIT_PASSES = 4.0, 2.0


@dataclass(frozen=True)
class MicroCost:
    """Seconds of one micro-batch on one GPU (forward + backward) and the FLOPs behind them."""
    layer_fwd: float         # one transformer layer, forward
    layer_bwd: float         # one transformer layer, backward
    layer_wgrad: float       # the weight-gradient GEMMs within layer_bwd (zero-bubble / DualPipe "W")
    attn_fwd: float          # its attention core forward (what selective recomputation replays)
    head_fwd_bwd: float      # LM head + cross-entropy on the last stage (forward + backward)
    head_bwd: float          # its backward (input and weight gradient, the loss's backward passes)
    head_wgrad: float        # the LM head's weight-gradient GEMM
    kernel_overhead: float   # per layer, forward + backward launch gaps
    gemm_rate: float         # achieved large-GEMM FLOP/s at the compute precision
    bandwidth: float         # B/s


def _measured_rate(hw: Any, compute: str, peak: float) -> float:
    measured = _measured_matmul(hw, compute)
    return measured if measured else peak * calibration_class(hw).matmul_efficiency


# Entries kept before the cache is cleared (bounds memory for sweeps over many layouts).
CACHE_LIMIT = 4096
_cache: dict[tuple, tuple[Any, Any, Any, MicroCost]] = {}


def micro_cost(m: Any, hw: Any, prec: Any, tp: int, cp: int, ep: int, mb: int, seq: int, sp: bool,
               stack: Any, per_kernel: float, layer_kernels: float,
               fixed_rate: float | None = None, fusion: Any = None, cp_comm: str = "p2p") -> MicroCost:
    """The micro-batch cost, cached per (model, device, precision, layout, stack): a warm call is a dict probe.
    cp_comm: how context parallelism runs the attention (core.training.context: "p2p" ring or "a2a" Ulysses)."""
    key = (id(m), id(hw), id(fusion), prec.requested, prec.compute, prec.peak_flops, prec.activation_bytes, tp, cp,
           ep, mb, seq, sp, stack, per_kernel, layer_kernels, fixed_rate, cp_comm)
    hit = _cache.get(key)
    if hit is not None and hit[0] is m and hit[1] is hw and hit[2] is fusion:
        return hit[3]
    cost = _micro_cost(m, hw, prec, tp, cp, ep, mb, seq, sp, stack, per_kernel, layer_kernels, fixed_rate, fusion,
                       cp_comm)
    if len(_cache) >= CACHE_LIMIT:
        _cache.clear()
    _cache[key] = (m, hw, fusion, cost)
    return cost


def _micro_cost(m: Any, hw: Any, prec: Any, tp: int, cp: int, ep: int, mb: int, seq: int, sp: bool,
                stack: Any, per_kernel: float, layer_kernels: float, fixed_rate: float | None,
                fusion: Any, cp_comm: str = "p2p") -> MicroCost:
    d, L = m.hidden_size, m.layers
    T = mb * seq / cp  # tokens of the micro-batch on this GPU (context parallel splits the sequence)
    ab = prec.activation_bytes
    fp8 = prec.compute == "fp8"
    gemm_rate = fixed_rate or _measured_rate(hw, prec.compute, prec.peak_flops) * stack.compute_efficiency
    bf16_peak = hw.peak_dense.get("bf16") or prec.peak_flops
    cls = calibration_class(hw)
    measured_bw = hw.calibration._memory_bandwidth if hw.calibration else None
    bw = measured_bw or hw.memory._bandwidth * cls.memory_efficiency
    units = hw.compute_units

    def gemm(n_out: float, k_in: float, rows: float = T, count: float = 1.0) -> tuple[float, float, float]:
        """(forward, backward, the backward's weight-gradient part) seconds of `count` GEMMs [rows x k_in] @
        [k_in x n_out]: backward = input gradient (dgrad) + weight gradient (wgrad), one forward's FLOPs each."""
        f = 2.0 * rows * n_out * k_in * count
        if units is None or fixed_rate:
            return f / gemm_rate, 2.0 * f / gemm_rate, f / gemm_rate
        tm, tn, sms, ramp = units.gemm_tile[0], units.gemm_tile[1], units.sms, units.gemm_k_ramp
        fwd = relative_gemm_efficiency(rows, n_out, k_in, sms, tm, tn, ramp)
        dgrad = relative_gemm_efficiency(rows, k_in, n_out, sms, tm, tn, ramp)
        wgrad = relative_gemm_efficiency(k_in, n_out, rows, sms, tm, tn, ramp)
        return f / (gemm_rate * fwd), f / (gemm_rate * dgrad) + f / (gemm_rate * wgrad), f / (gemm_rate * wgrad)

    h, kv, hd = m.heads, m.kv_heads, m.head_dim
    if m.mla is not None:  # MLA projections as one GEMM of its parameter count (no per-matrix shapes here)
        parts = [gemm(m.attention_parameters_per_layer / tp / d, d)]
        attn_width = h * hd / tp
    else:
        parts = [gemm((h + 2 * kv) * hd / tp, d), gemm(d, h * hd / tp)]
        attn_width = h * hd / tp
    gated = 2 if m.ffn_gated else 1
    if isinstance(m, MoESpec):
        share = m.moe_layers / L
        if m.ffn_layer_count:  # dense layers that run an FFN, at their mean width
            dense_share = m.ffn_layer_count / L if m.ffn_layers else 1.0 - share
            w = m.mean_ffn_size / tp
            parts += [(a * dense_share, b * dense_share, g * dense_share)
                      for a, b, g in (gemm(gated * w, d), gemm(d, w))]
        # Routed tokens per GPU: T x k spread over its E/ep experts (balanced routing assumed), plus shared experts.
        local = m.experts / ep
        rows = T * m.experts_per_token / local
        f = m.expert_ffn_size / tp
        parts += [(a * share, b * share, g * share)
                  for a, b, g in (gemm(gated * f, d, rows, local), gemm(d, f, rows, local))]
        if m.shared_experts:
            sf = m.shared_experts * m.expert_ffn_size / tp
            parts += [(a * share, b * share, g * share) for a, b, g in (gemm(gated * sf, d), gemm(d, sf))]
        parts.append(gemm(m.experts, d))  # router
        ffn_width = (m.experts_per_token + m.shared_experts) * m.expert_ffn_size / tp
    else:
        parts += [gemm(gated * m.mean_ffn_size / tp, d), gemm(d, m.mean_ffn_size / tp)]
        ffn_width = m.mean_ffn_size / tp
    g_fwd = sum(p[0] for p in parts)
    g_bwd = sum(p[1] for p in parts)
    g_wgrad = sum(p[2] for p in parts)
    # Attention core: causal, each GPU's T queries against the sequence (ring attention load-balanced over CP;
    # Ulysses a2a: the whole sequence over heads / cp). The ring runs cp shorter kernels per layer, each at its
    # chunk's rate (core.training.context.ring_attention_fraction).
    # (MLA expanded per head, as training kernels run it: TransformerSpec.expanded_attention_flops_per_token_per_context)
    a_flops = CAUSAL_SHARE * m.expanded_attention_flops_per_token_per_context / L / tp * mb * seq * seq / cp
    ring = cp > 1 and cp_comm == "p2p"
    if units is not None and units.attention and prec.compute in ("bf16", "fp16", "fp8"):
        frac = attention_efficiency(units.attention, hd)
        if units.attention_seq_causal:
            frac *= (context.ring_attention_fraction(units.attention_seq_causal, units.attention_seq, seq, cp)
                     if ring else attention_efficiency(units.attention_seq_causal, seq))
        a_rate = bf16_peak * frac
    else:
        a_rate = _measured_rate(hw, "bf16" if fp8 else prec.compute, bf16_peak) * ATTENTION_RATE_SHARE_OF_GEMM
    a_fwd = a_flops / a_rate
    # Element-wise: norms, residuals, activation; sequence parallelism shards the d-wide ones over TP.
    hidden_shard = tp if sp else 1
    elt = T * (ELEMENTWISE_HIDDEN_PASSES * d / hidden_shard + (gated + 1) * ffn_width) * ab
    if stack.fused_elementwise:
        elt *= FUSED_ELEMENTWISE_SHARE
    if fp8:
        elt += FP8_CAST_BYTES * T * (2 * d + attn_width + ffn_width)
    e_fwd = elt / bw
    # The runtime's unfused ops (fp32 RMSNorm upcasts, unfused activations, dropout, repeat_kv): the
    # single-device model's fusion bytes (core.fusion), per layer and TP shard, forward and backward.
    extra = 0.0
    if fusion is not None:
        attn_x, elt_x, _ = transformer_extra(m, fusion, mb, max(1, round(seq / cp)), ab, True, False)
        extra = (attn_x + elt_x) / L / tp / bw
    # Context parallelism's own memory passes (core.training.context): the ring merges each step's partial output
    # and gradients; Ulysses copies Q, K, V, O (and their gradients) into and out of the all-to-all layout.
    kv_w = max(kv // tp, 1) * hd if m.mla is None else attn_width
    cp_fwd = cp_bwd = 0.0
    if ring:
        cp_fwd, cp_bwd = context.ring_merge_time(T, attn_width, kv_w, ab, cp, bw)
    elif cp > 1:
        cp_fwd = cp_bwd = context.a2a_layout_time(T, attn_width, kv_w, ab, cp, bw)
    layer_fwd = g_fwd + a_fwd + e_fwd + extra / (1.0 + BACKWARD_ELEMENTWISE_FACTOR) + cp_fwd
    layer_bwd = (g_bwd + ATTENTION_BACKWARD_FACTOR * a_fwd + BACKWARD_ELEMENTWISE_FACTOR * e_fwd
                 + extra * BACKWARD_ELEMENTWISE_FACTOR / (1.0 + BACKWARD_ELEMENTWISE_FACTOR) + cp_bwd)
    # LM head (vocabulary-parallel, Megatron-LM) and the fp32 softmax cross-entropy (read + write logits, twice).
    hf, hb, hw_grad = gemm(m.vocab_size / tp, d)
    loss_pass = 4.0 * T * m.vocab_size / tp / bw  # one fp32 pass over the logits
    head = hf + hb + LOSS_LOGIT_PASSES * loss_pass
    head_bwd = hb + LOSS_BACKWARD_LOGIT_PASSES * loss_pass
    # launch gaps: the layer's kernels forward and backward, plus the ring's per-step kernels or the all-to-alls
    # and their layout kernels (context.py)
    cp_kernels = context.ring_extra_kernels(cp) if ring else context.a2a_extra_kernels(cp)
    overhead = (layer_kernels * (1.0 + BACKWARD_KERNEL_FACTOR) + cp_kernels) * per_kernel
    return MicroCost(layer_fwd, layer_bwd, g_wgrad, a_fwd, head, head_bwd, hw_grad, overhead, gemm_rate, bw)


def lora_micro_cost(c: MicroCost, m: Any, hw: Any, prec: Any, tp: int, cp: int, mb: int, seq: int, rank: int,
                    targets: str, stack: Any, fixed_rate: float | None = None) -> MicroCost:
    """The micro-batch cost of a LoRA step (core.lora, Hu et al. 2021): the frozen GEMMs of the layers and of the
    LM head keep their forward and input gradient and drop their weight gradient; each adapter B A adds its two
    thin GEMMs, forward, input gradient and weight gradient (the embedding's frozen backward: core.training.model).
    Adapter shapes on this GPU as NeMo's ParallelLinearAdapter splits them (Megatron column/row-parallel linears,
    nemo/collections/nlp/modules/common/megatron/adapters/parallel_adapters.py): on a column-parallel matrix
    A = [T, d_in] x [d_in, r/tp] (the full-width input) and B = [T, r] x [r, d_out/tp]; on a row-parallel one
    A = [T, d_in/tp] x [d_in/tp, r] and B = [T, r] x [r, d_out/tp]. Each runs on its roofline, max(FLOPs / rate,
    bytes / bandwidth) with its inputs and output read or written once (at r = 16 a thin GEMM is memory-bound);
    its input gradient and weight gradient move the same three tensors, so each costs one forward. The adapters
    run in 16-bit (Megatron-Core linears, not Transformer Engine fp8). Not modelled: the adapter dropout, the add
    of the adapter output into the frozen one, and the adapters' own TP collectives (T x r all-gathers and the
    LORA_A2A all-to-all, about 1/tp of one layer's reduce-scatter)."""
    from ..lora import adapter_matrices

    T = mb * seq / cp
    wb, ab = prec.weight_bytes, prec.activation_bytes
    bf16_peak = hw.peak_dense.get("bf16") or prec.peak_flops
    rate = fixed_rate or _measured_rate(hw, "bf16" if prec.compute == "fp8" else prec.compute,
                                        bf16_peak) * stack.compute_efficiency

    def thin(k: float, n: float) -> float:
        """Roofline seconds of [T, k] x [k, n] (2 T k n FLOPs; T k + T n activations, k n weights)."""
        return max(2.0 * T * k * n / rate, ((T * k + T * n) * ab + k * n * wb) / c.bandwidth)

    fwd = 0.0
    for d_in, d_out, row_parallel in adapter_matrices(m, targets):
        a = thin(d_in / tp, rank) if row_parallel else thin(d_in, rank / tp)
        fwd += a + thin(rank, d_out / tp)
    # backward = input gradient + weight gradient, each one forward's worth (see above)
    return replace(c, layer_fwd=c.layer_fwd + fwd, layer_bwd=c.layer_bwd - c.layer_wgrad + 2.0 * fwd,
                   layer_wgrad=fwd, head_fwd_bwd=c.head_fwd_bwd - c.head_wgrad, head_bwd=c.head_bwd - c.head_wgrad,
                   head_wgrad=0.0)
