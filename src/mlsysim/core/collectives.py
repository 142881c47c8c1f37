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


# --- Torus of direct links (core.torus lays a group's ranks out as axes: (length, wrapped, B/s per direction)) ---
# Ring collectives run a ring over each axis in turn, each leaving 1/length of the data for the next (the 2-D
# gradient summation of TPU pods: Ying et al. 2018, arXiv:1811.06992, sec. 3.3; Jouppi et al. 2023, TPU v4, sec. 2);
# on a wrapped axis the ring is bidirectional (half the data each way: both ports), on a segment one port each way.
# One such pipeline per axis, on 1/axes of the data, in rotated axis order keeps every axis busy; the time is the
# most-loaded axis's traffic over its bandwidth (channel-load bound, Dally & Towles 2004, ch. 3). On a k x k x ...
# full torus this equals the switched ring at the chip's total per-direction bandwidth (2D ports x b), with
# sum(k_i - 1) steps instead of n - 1; on a sub-group filling fewer axes, fewer ports carry it and it is slower.


def torus_ring_link(axes, hop_latency: float) -> tuple[float, float]:
    """(bandwidth, per-step latency) that make the ring formulas above give the torus reduce-scatter / all-gather /
    all-reduce time over the group: bandwidth = (n-1)/n / (seconds per byte of the most-loaded axis), latency =
    hop_latency x sum(length - 1) / (n - 1)."""
    n = 1
    for length, _, _ in axes:
        n *= length
    count = len(axes)
    worst = 0.0  # seconds per byte of the message on the most-loaded axis
    for i, (length, wrapped, bw) in enumerate(axes):
        load = 0.0
        for r in range(count):  # pipeline r visits axes r, r+1, ... (cyclically), carrying 1/count of the data
            before = 1
            for j in range(count):
                a = (r + j) % count
                if a == i:
                    break
                before *= axes[a][0]
            load += (1.0 - 1.0 / length) / (count * before)
        worst = max(worst, load / (bw * (2.0 if wrapped else 1.0)))
    steps = sum(length - 1 for length, _, _ in axes)
    return (n - 1) / n / worst, hop_latency * steps / (n - 1)


def torus_all_to_all_bandwidth(axes) -> float:
    """Per-chip bandwidth of a uniform all-to-all over the group (time = bytes sent to the others / it): the
    smaller of injection (every axis's ports) and the bisection across each axis (Dally & Towles 2004, ch. 3:
    throughput <= bisection bandwidth / traffic crossing it; TPU v4 sec. 2 on all-to-all and the torus bisection)."""
    n = 1
    for length, _, _ in axes:
        n *= length
    inject = sum(bw * (2.0 if wrapped else 1.0) for _, wrapped, bw in axes)
    best = inject
    for length, wrapped, bw in axes:
        half = length // 2
        # Chips on one side x each one's bytes headed to the other side, per byte sent: (n half / L) (n (L-half) / L)
        # / (n - 1); links across the cut per direction: n / L rings or lines, cut twice (ring) or once (line).
        crossing = (n * half / length) * (n * (length - half) / length) / (n - 1)
        links = n / length * (2.0 if wrapped else 1.0) * bw
        best = min(best, links / crossing)
    return best
