"""Communication of one serving step (alpha-beta model, plain floats: bytes, B/s, seconds).

Tensor parallelism: two all-reduces of the step's activations per layer, after attention and after the MLP
(Shoeybi et al. 2019, Megatron-LM sec. 3), ring volume 2 (n-1)/n x S (Patarasuk & Yuan 2009). Decode
messages are a few KiB to MiB, so the fixed latency of a collective dominates: it never takes less than
ALL_REDUCE_LATENCY_FLOOR. Expert parallelism: dispatch and combine all-to-all per MoE layer, each GPU
sending the (ep-1)/ep of its tokens' hidden vectors routed to remote experts (Lepikhin et al. 2020, GShard
sec. 2.2). Pipeline parallelism: one activation send per stage boundary.
"""
from __future__ import annotations

import math

from ..collectives import all_reduce

# Smallest time of one all-reduce launched inside a CUDA graph on NVLink, whatever its size: vLLM's custom
# one-shot all-reduce targets small decode messages at a few us (vllm/distributed/device_communicators/
# custom_all_reduce.py; nccl-tests on 8x H100 report ~10 us for 8 B). Estimate: 6 us.
ALL_REDUCE_LATENCY_FLOOR = 6e-6
# Smallest time of one all-to-all (dispatch or combine) of a MoE layer: DeepEP low-latency kernels report
# ~100-200 us per dispatch+combine of 128 tokens across nodes and tens of us inside NVLink
# (github.com/deepseek-ai/DeepEP README). Estimate: 10 us inside a node.
ALL_TO_ALL_LATENCY_FLOOR = 10e-6


def tp_all_reduce(nbytes: float, tp: int, bandwidth: float, hop_latency: float) -> float:
    """One all-reduce of `nbytes` over `tp` GPUs: the ring's alpha-beta time, never under the latency floor."""
    if tp <= 1 or nbytes <= 0:
        return 0.0
    return max(ALL_REDUCE_LATENCY_FLOOR, all_reduce(nbytes, tp, bandwidth, hop_latency))


def all_reduce_volume(nbytes: float, ranks: int) -> float:
    """Bytes each rank sends in a ring all-reduce: 2 (n-1)/n x S (reduce-scatter + all-gather)."""
    return 0.0 if ranks <= 1 else 2.0 * (ranks - 1) / ranks * nbytes


def ep_all_to_all(tokens: float, top_k: int, hidden: int, act_bytes: float, ep: int, bandwidth: float) -> float:
    """One dispatch (or combine) all-to-all per GPU: its tokens' k hidden vectors, the (ep-1)/ep remote."""
    if ep <= 1 or tokens <= 0:
        return 0.0
    sent = tokens * top_k * hidden * act_bytes * (ep - 1) / ep
    return max(ALL_TO_ALL_LATENCY_FLOOR, sent / bandwidth)


def max_expert_load(routed: float, ep: int) -> float:
    """Expected largest token count an EP rank receives when `routed` token-expert pairs are spread uniformly
    over `ep` ranks: mean + sigma x sqrt(2 ln ep), the Gaussian bound on the maximum of ep binomial loads
    (a balls-into-bins estimate; Raab & Steger 1998 for the heavy-load regime)."""
    if ep <= 1:
        return routed
    mean = routed / ep
    sigma = math.sqrt(routed * (1.0 / ep) * (1.0 - 1.0 / ep))
    return min(routed, mean + sigma * math.sqrt(2.0 * math.log(ep)))


def pp_send(nbytes: float, pp: int, bandwidth: float, hop_latency: float) -> float:
    """Activation sends across the pp - 1 stage boundaries of one step."""
    if pp <= 1:
        return 0.0
    return (pp - 1) * (nbytes / bandwidth + hop_latency)
