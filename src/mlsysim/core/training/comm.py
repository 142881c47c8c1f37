"""Communication of one training step per GPU, by kind, before and after overlap (plain floats, seconds).

Alpha-beta ring collectives (core.collectives). Message sizes are the ones the runtimes send:
- TP: per layer per micro-batch two all-reduces forward and two backward of the [T, d] activation (Shoeybi et
  al. 2019, sec. 3); with sequence parallelism each becomes a reduce-scatter + all-gather of the same volume
  (Korthikanti et al. 2022, sec. 4.2.2); full recomputation replays the forward pair.
- CP: ring attention passes the K and V shards of each of cp-1 peers forward; backward passes K, V and their
  gradients (Liu et al. 2023, Ring Attention; Megatron-Core context_parallel, p2p ring); its per-step exposure and
  the Ulysses all-to-all scheme are in core.training.context.
- EP: token dispatch and combine all-to-alls, forward and backward (Lepikhin et al. 2020, GShard, sec. 3.2).
- PP: one [T, d] activation forward and one gradient backward per micro-batch per stage boundary, v times with
  interleaving (Narayanan et al. 2021, sec. 2.2).
- DP: gradient reduce-scatter (ZeRO >= 1, Megatron distributed optimizer) or all-reduce (ZeRO 0) and parameter
  all-gather after the step; ZeRO 3 / FSDP gathers every layer's parameters in forward and again in backward and
  reduce-scatters its gradients (Rajbhandari et al. 2020, sec. 7; Zhao et al. 2023, PyTorch FSDP, sec. 3).
"""
from __future__ import annotations

from ..collectives import all_gather, all_reduce, hierarchical_all_reduce, reduce_scatter

# Forward collectives per layer per micro-batch under TP (after attention, after the MLP); backward the same.
TP_COLLECTIVES_FORWARD = 2


def tp_time(T: float, d: float, ab: float, tp: int, bw: float, lat: float, layers: float, full_recompute: bool) -> float:
    """TP collectives of `layers` layers for one micro-batch."""
    if tp <= 1:
        return 0.0
    passes = 3 if full_recompute else 2  # forward, backward (+ the recomputed forward)
    return layers * passes * TP_COLLECTIVES_FORWARD * all_reduce(T * d * ab, tp, bw, lat)


def cp_time(T: float, kv_width: float, ab: float, cp: int, bw: float, lat: float, layers: float) -> float:
    """Ring-attention exchange of `layers` layers for one micro-batch: forward K+V, backward K, V, dK, dV."""
    if cp <= 1:
        return 0.0
    kv_bytes = 2.0 * T * kv_width * ab  # this GPU's K and V shard
    step = kv_bytes / bw + lat
    return layers * (cp - 1) * step * 3.0  # 1 (forward) + 2 (backward: K, V and their gradients)


def ep_time(T: float, k: int, d: float, ab: float, ep: int, bw: float, lat: float, moe_layers: float) -> float:
    """Dispatch + combine, forward and backward, of `moe_layers` MoE layers for one micro-batch."""
    if ep <= 1:
        return 0.0
    per = T * k * d * ab * (ep - 1) / ep / bw + (ep - 1) * lat  # the share of routed tokens leaving the GPU
    return 4.0 * moe_layers * per


def pp_time(T: float, d: float, ab: float, pp: int, vp: int, bw: float, lat: float) -> float:
    """Send/recv of one micro-batch at this stage: activation forward, gradient backward, per model chunk."""
    if pp <= 1:
        return 0.0
    return 2.0 * vp * (T * d * ab / bw + lat)


def dp_grad_time(grad_bytes: float, ranks: int, local: int, intra: tuple[float, float],
                 inter: tuple[float, float], zero_stage: int) -> float:
    """Gradient reduction of this GPU's parameters over the data-parallel group, hierarchical when it spans
    nodes (reduce-scatter in the node, across nodes, all-gather in the node: Jia et al. 2018)."""
    if ranks <= 1:
        return 0.0
    full = hierarchical_all_reduce(grad_bytes, ranks, local, intra[0], intra[1], inter[0], inter[1])
    return 0.5 * full if zero_stage >= 1 else full  # reduce-scatter: half an all-reduce's traffic


def dp_param_gather_time(param_bytes: float, ranks: int, local: int, intra: tuple[float, float],
                         inter: tuple[float, float]) -> float:
    """All-gather of the updated parameter shards (half an all-reduce)."""
    if ranks <= 1:
        return 0.0
    return 0.5 * hierarchical_all_reduce(param_bytes, ranks, local, intra[0], intra[1], inter[0], inter[1])


__all__ = ["tp_time", "cp_time", "ep_time", "pp_time", "dp_grad_time", "dp_param_gather_time",
           "all_gather", "reduce_scatter"]
