"""Context parallelism of one transformer layer for one micro-batch (plain floats, seconds), as Transformer Engine
runs it for Megatron-Core / NeMo (cp_comm_type, megatron/core/transformer/transformer_config.py):

- "p2p" (ring, the default): TE AttnFuncWithCPAndKVP2P (transformer_engine/pytorch/attention.py, v1.10 / v2.2). The
  sequence is cut into 2 cp chunks, GPU r holding chunks r and 2cp-1-r (causal load balance). cp steps per layer:
  step 0 is the local causal attention of the GPU's T tokens; each later step one non-causal kernel of half the
  queries against all the received keys or all the queries against half of them. While step i computes, step i+1's
  K and V are sent on (flash_attn_p2p_communicate); backward sends K, V and the accumulated dK, dV together, each
  step behind that step's backward kernel. Every step merges its partial output into the running one
  (flash_attn_fwd_out_correction: out += out_step x exp(lse_step - lse)) and backward adds each step's dQ and dK,
  dV into their buffers (dq.add_(dq_), dkv.add_(dkv_)): memory-bound passes a single-GPU attention does not make.
- "a2a" (DeepSpeed-Ulysses, Jacobs et al. 2023, arXiv:2309.14509): TE AttnFuncWithCPAndQKVOA2A. All-to-alls
  trade the sequence split for a head split before attention (Q, K, V: three all_to_all_single) and back after
  it (O); backward the same for dO and dQ, dK, dV. flash_attn_a2a_communicate waits for each all-to-all before
  the attention kernel runs (it overlaps one tensor's all-to-all only with the next one's layout copy), so the
  all-to-alls are exposed; each tensor is copied into the all-to-all layout before (movedim().contiguous()) and
  reordered after (reorder_seq_chunks_for_a2a_*: index_select).
"""
from __future__ import annotations

from ...errors import InvalidInputError
from ..gemm_roof import attention_efficiency

CP_COMM_TYPES = ("p2p", "a2a")
# p2p: forward passes per CP step over the attention output [T, heads/tp, head_dim]: read the step's output, read
# and write the running output (flash_attn_fwd_out_correction, TE v1.10 attention.py); one more to zero the
# running output (torch.zeros_like(q)) before the first step.
P2P_FWD_OUT_PASSES_PER_STEP = 3.0
P2P_FWD_OUT_INIT_PASSES = 1.0
# p2p backward passes per CP step: dq.add_(dq_) / dq.copy_(dq_) over [T, heads/tp, head_dim] (read both, write one)
# and dkv.add_(dkv_) over [2, T, kv_heads/tp, head_dim] (same); TE v1.10 AttnFuncWithCPAndKVP2P.backward.
P2P_BWD_DQ_PASSES_PER_STEP = 3.0
P2P_BWD_DKV_PASSES_PER_STEP = 3.0
# p2p kernels per CP step beyond one attention kernel (TE v1.10 AttnFuncWithCPAndKVP2P): forward the batched
# send/recv of K, V, the softmax-LSE correction and the output correction (jit-fused, one each); backward the
# send/recv of K, V, dK, dV, the dQ and the dK, dV accumulations. Plus the step's own attention kernel, forward
# and backward: a single-GPU layer launches one of each, so (cp - 1) x 2 attention kernels more.
P2P_FWD_KERNELS_PER_STEP = 3
P2P_BWD_KERNELS_PER_STEP = 3
# a2a: all-to-alls per layer, forward (Q, K, V before attention; O after) and backward (dO before; dQ, dK, dV after).
A2A_COLLECTIVES_FORWARD = 4
A2A_COLLECTIVES_BACKWARD = 4
# a2a: memory passes per communicated tensor: the layout copy before the all-to-all (read + write) and the chunk
# reorder after it (read + write).
A2A_LAYOUT_PASSES = 4.0
# a2a: kernels per communicated tensor beyond the all-to-all itself: the layout copy and the chunk reorder.
A2A_LAYOUT_KERNELS_PER_TENSOR = 2


def check_cp_comm_type(value: object, cp: int, heads: int, kv_heads: int, tp: int) -> str:
    """The CP communication scheme, checked against the head split a2a needs (TE asserts heads and KV heads on
    this TP rank divisible by cp)."""
    if value not in CP_COMM_TYPES:
        raise InvalidInputError(f"cp_comm_type must be one of {', '.join(CP_COMM_TYPES)} (Megatron-Core "
                                f"cp_comm_type), got {value!r}")
    if value == "a2a" and cp > 1 and ((heads // tp) % cp or max(kv_heads // tp, 1) % cp):
        raise InvalidInputError(f"cp_comm_type='a2a' splits the {heads // tp} query and {max(kv_heads // tp, 1)} "
                                f"KV heads of a TP rank over context_parallel={cp}: both must divide by it; "
                                "use cp_comm_type='p2p' or a cp dividing them")
    return str(value)


def ring_step_time(T: float, kv_width: float, ab: float, bw: float, lat: float) -> float:
    """One ring step's K and V transfer of this GPU's T tokens (kv_width elements each of K and V per token)."""
    return 2.0 * T * kv_width * ab / bw + lat


def ring_exposed(step: float, attn_fwd: float, attn_bwd: float, cp: int, overlap: float) -> float:
    """Exposed ring exchange of one layer: each of the cp - 1 forward transfers hides behind one step's attention
    (attn_fwd / cp of the load-balanced work), each backward transfer (K, V, dK, dV: twice the bytes) behind one
    step's backward kernel; `overlap` is the share of that step's kernel the runtime overlaps."""
    if cp <= 1:
        return 0.0
    fwd = max(0.0, step - overlap * attn_fwd / cp)
    bwd = max(0.0, 2.0 * step - overlap * attn_bwd / cp)
    return (cp - 1) * (fwd + bwd)


def ring_merge_time(T: float, q_width: float, kv_width: float, ab: float, cp: int,
                    bandwidth: float) -> tuple[float, float]:
    """(forward, backward) seconds of one layer's memory-bound merges of the per-step partial results: the forward
    output corrections, the backward dQ and dK, dV accumulations."""
    if cp <= 1:
        return 0.0, 0.0
    out = T * q_width * ab
    fwd = (P2P_FWD_OUT_INIT_PASSES + cp * P2P_FWD_OUT_PASSES_PER_STEP) * out
    bwd = cp * (P2P_BWD_DQ_PASSES_PER_STEP * out + P2P_BWD_DKV_PASSES_PER_STEP * 2.0 * T * kv_width * ab)
    return fwd / bandwidth, bwd / bandwidth


def ring_extra_kernels(cp: int) -> int:
    """Kernels one layer launches beyond a single-GPU layer, forward + backward (constants above)."""
    if cp <= 1:
        return 0
    return cp * (P2P_FWD_KERNELS_PER_STEP + P2P_BWD_KERNELS_PER_STEP) + 2 * (cp - 1)


def a2a_extra_kernels(cp: int) -> int:
    """Kernels one layer launches for the all-to-alls beyond a single-GPU layer, forward + backward: each of the
    A2A_COLLECTIVES_* tensors' all-to-all and its layout kernels."""
    if cp <= 1:
        return 0
    return (A2A_COLLECTIVES_FORWARD + A2A_COLLECTIVES_BACKWARD) * (1 + A2A_LAYOUT_KERNELS_PER_TENSOR)


def a2a_time(T: float, q_width: float, kv_width: float, ab: float, cp: int, bw: float, lat: float) -> float:
    """Ulysses all-to-alls of one layer, forward + backward: Q, K, V, O (and their gradients), each sending the
    (cp - 1) / cp of its bytes that leave the GPU, (cp - 1) peer latencies per all-to-all (as comm.ep_time)."""
    if cp <= 1:
        return 0.0
    per_pass = 2.0 * T * (q_width + kv_width) * ab * (cp - 1) / cp / bw
    return 2.0 * per_pass + (A2A_COLLECTIVES_FORWARD + A2A_COLLECTIVES_BACKWARD) * (cp - 1) * lat


def a2a_layout_time(T: float, q_width: float, kv_width: float, ab: float, cp: int, bandwidth: float) -> float:
    """Layout copies around the all-to-alls of one layer in one pass (forward or backward: Q, K, V, O or their
    gradients), A2A_LAYOUT_PASSES per tensor."""
    if cp <= 1:
        return 0.0
    return A2A_LAYOUT_PASSES * 2.0 * T * (q_width + kv_width) * ab / bandwidth


def ring_attention_fraction(causal_table, table, seq: int, cp: int) -> float:
    """Causal attention rate (fraction of the long-sequence plateau) of the ring's kernels: 1/cp of the work in
    the step-0 causal kernel over the GPU's seq/cp tokens, the rest in non-causal kernels of seq/(2 cp) queries
    (or keys) against seq/cp; time-weighted (harmonic). cp = 1: the causal kernel over the whole sequence."""
    if cp <= 1 or not table:
        return attention_efficiency(causal_table, seq)
    local = max(1, seq // cp)
    diagonal = attention_efficiency(causal_table, local)
    off = attention_efficiency(table, max(1, seq // (2 * cp)))
    return 1.0 / ((1.0 / cp) / diagonal + ((cp - 1) / cp) / off)


__all__ = ["CP_COMM_TYPES", "check_cp_comm_type", "ring_step_time", "ring_exposed", "ring_merge_time",
           "ring_extra_kernels", "a2a_extra_kernels", "a2a_time", "a2a_layout_time", "ring_attention_fraction"]
