"""Where a collective's ranks sit on a torus of direct chip-to-chip links (TPU ICI, Trainium NeuronLink), and the
effective link a ring or all-to-all collective sees there (plain floats: bytes/s, seconds).

A k-ary D-cube torus (Dally & Towles 2004, ch. 5) gives each chip 2D ports, one to each neighbour along each
dimension. A node's intra_node_bandwidth is the chip's total over all its ports, both directions summed (as Google
and AWS print it), so one port carries b = intra_node_bandwidth / (2 x 2D) per direction. Check: TPU v5e, 400 GB/s
over 4 ports = 50 GB/s per port and direction; Google's 1.6 TB/s pod bisection is 2 x 16 rings x 50 GB/s.
Trainium2 (Trn2 UltraServer, 4x4 torus per instance x 4-ring across instances): AWS prints 1.28 TB/s per chip and
no port count; the six ports are assumed to share it equally.

Ranks are numbered in dimension order (first dimension fastest, as the runtimes' default device order), so a group
of `ranks` ranks `stride` apart (TP: stride 1; CP, DP: stride tp) fills, per dimension, a ring (it covers the whole
dimension: wrap-around, two ports each way) or a line (a segment: one port each way at its ends). A group whose
stride falls inside a dimension interleaves with stride - 1 sibling groups of the same kind running at the same
time: each logical link is `stride` physical hops, shared by `stride` groups, so it carries b / stride.
A group that does not fill such a box is run as one ring over a Hamiltonian path of its chips (a line).
Dimensions come from the balanced factorisation of the node's chip count (16x16 TPU v5e/v6e pods, 4x4x4 v5p cube
and Trn2 UltraServer, 16x16x24 v5p slice, 2x4 v5e-8: the shapes the vendors print).
"""
from __future__ import annotations

import math
from functools import lru_cache
from itertools import combinations_with_replacement
from typing import NamedTuple

from ..errors import InvalidInputError
from .collectives import torus_all_to_all_bandwidth, torus_ring_link

# Dimensions of each torus kind a node may declare (specs.systems.TOPOLOGIES).
TORUS_DIMENSIONS = {"torus-2d": 2, "torus-3d": 3}
# Largest node laid out as a torus: the divisor search is over pairs; beyond any machine built (a v5p pod: 8960).
MAX_TORUS_CHIPS = 1 << 20


class Axis(NamedTuple):
    length: int        # ranks of the group along this dimension (>= 2)
    wrapped: bool      # a full ring of the dimension (wrap-around links) rather than a segment
    bandwidth: float   # B/s per direction of one logical link (the port's, / the interleaving stride)


@lru_cache(maxsize=1024)
def balanced_dims(chips: int, dims: int) -> tuple[int, ...]:
    """The factorisation of `chips` into `dims` factors with the smallest diameter (sum of k // 2), then the smallest
    largest factor; ascending (the first, fastest-varying dimension is the shortest)."""
    if chips < 1 or chips > MAX_TORUS_CHIPS:
        raise InvalidInputError(f"a torus node needs 1 to {MAX_TORUS_CHIPS} chips, got {chips}")
    small = [d for d in range(1, math.isqrt(chips) + 1) if chips % d == 0]
    divisors = sorted(set(small + [chips // d for d in small]))
    best: tuple[int, ...] | None = None
    for combo in combinations_with_replacement(divisors, dims - 1):
        rest = chips
        for d in combo:
            if rest % d:
                break
            rest //= d
        else:
            cand = tuple(sorted(combo + (rest,)))
            if best is None or (sum(k // 2 for k in cand), max(cand)) < (sum(k // 2 for k in best), max(best)):
                best = cand
    assert best is not None  # (1, ..., chips) always divides
    return best


def group_axes(dims: tuple[int, ...], port_bw: float, span: int, ranks: int) -> tuple[Axis, ...]:
    """The axes a group of `ranks` ranks spread evenly over `span` consecutive ranks (stride span / ranks) fills."""
    if ranks <= 1:
        return ()
    stride, left = (span // ranks, ranks) if span % ranks == 0 else (0, ranks)
    axes: list[Axis] = []
    for k in dims if stride else ():
        if left == 1:
            break
        if stride % k == 0:          # the stride steps over this whole dimension
            stride //= k
            continue
        if k % stride:               # the stride falls between positions of this dimension: no box
            axes = []
            break
        length = min(left, k // stride)
        if left % length:
            axes = []
            break
        # A dimension of 2 has one neighbour (its 'wrap-around' is the same link), so it is a line.
        axes.append(Axis(length, length * stride == k and k >= 3, port_bw / stride))
        left //= length
        stride = 1
    if left == 1 and axes:
        return tuple(a for a in axes if a.length > 1)
    # No box: one ring over a Hamiltonian path of the group's chips, each logical hop ~stride links away.
    return (Axis(ranks, False, port_bw / max(1, span // ranks)),)


@lru_cache(maxsize=4096)
def torus_link(dims: tuple[int, ...], port_bw: float, hop_latency: float, span: int, ranks: int,
               pattern: str) -> tuple[float, float]:
    """(B/s, s per step) to put into the ring formulas of core.collectives (pattern 'ring') or into a per-GPU
    all-to-all time sent / B (pattern 'all_to_all') for a group on a torus node."""
    axes = group_axes(dims, port_bw, span, ranks)
    if not axes:  # one rank: a point-to-point send to a neighbour over one port
        return port_bw, hop_latency
    if pattern == "ring":
        return torus_ring_link(axes, hop_latency)
    if pattern == "all_to_all":
        return torus_all_to_all_bandwidth(axes), hop_latency
    raise InvalidInputError(f"collective pattern must be 'ring' or 'all_to_all', got {pattern!r}")


def node_torus(topology: str, chips: int, intra_node_bandwidth: float) -> tuple[tuple[int, ...], float]:
    """(dimensions, per-port per-direction B/s) of a torus node; ((), 0.0) for a switched node."""
    if topology == "switch":
        return (), 0.0
    d = TORUS_DIMENSIONS.get(topology)
    if d is None:
        raise InvalidInputError(f"unknown node topology {topology!r}; expected 'switch' or one of "
                                f"{sorted(TORUS_DIMENSIONS)}")
    return balanced_dims(chips, d), intra_node_bandwidth / (2.0 * 2 * d)  # 2D ports, both directions printed
