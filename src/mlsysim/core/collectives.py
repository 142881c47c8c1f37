"""Collective-communication times (alpha-beta model), plain floats: bytes, bytes/s, seconds.

Ring algorithms (Patarasuk & Yuan 2009; Thakur et al. 2005): with n ranks, S bytes, per-direction link
bandwidth B and per-hop latency a:
  all-reduce      2 (n-1)/n x S / B + 2 (n-1) a
  reduce-scatter  (n-1)/n x S / B + (n-1) a      (all-gather is the same)
"""
from __future__ import annotations


def all_reduce(nbytes: float, ranks: int, bandwidth: float, latency: float) -> float:
    if ranks <= 1 or nbytes <= 0:
        return 0.0
    return 2.0 * (ranks - 1) / ranks * nbytes / bandwidth + 2.0 * (ranks - 1) * latency


def reduce_scatter(nbytes: float, ranks: int, bandwidth: float, latency: float) -> float:
    if ranks <= 1 or nbytes <= 0:
        return 0.0
    return (ranks - 1) / ranks * nbytes / bandwidth + (ranks - 1) * latency


all_gather = reduce_scatter


def hierarchical_all_reduce(nbytes: float, ranks: int, per_node: int, intra_bw: float, intra_lat: float,
                            inter_bw: float, inter_lat: float) -> float:
    """Reduce-scatter inside each node, all-reduce of the 1/per_node shards across nodes, all-gather inside
    (the two-level scheme NCCL and Horovod use; Jia et al. 2018, arXiv:1807.11205)."""
    if ranks <= per_node:
        return all_reduce(nbytes, ranks, intra_bw, intra_lat)
    nodes = -(-ranks // per_node)
    return (reduce_scatter(nbytes, per_node, intra_bw, intra_lat)
            + all_reduce(nbytes / per_node, nodes, inter_bw, inter_lat)
            + all_gather(nbytes, per_node, intra_bw, intra_lat))
