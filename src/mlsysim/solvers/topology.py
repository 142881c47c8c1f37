"""Network topology: hop counts, bisection bandwidth and the bandwidth each node keeps when traffic crosses
the network, for `num_nodes` endpoints wired as a fat tree, a torus, a ring or a dragonfly.

Every link runs at the fabric's port bandwidth per direction (FabricSpec.bandwidth) and every hop costs the
fabric's port-to-port latency (FabricSpec.latency). Hops are links traversed (Dally & Towles 2004, sec. 3.1),
counting the injection and ejection links of the indirect networks (fat tree, dragonfly); the zero-load
latency charges each hop one fabric latency.

  fat tree   folded Clos of radix-k switches (Leiserson 1985; Al-Fares et al. 2008): L tiers hold up to
             2 (k/2)^L hosts; full bisection N/2 links, divided by the oversubscription (taper) ratio.
  torus_2d/3d  k-ary n-cube, dimensions the most balanced factorisation of N (Dally & Towles 2004, ch. 5);
             each node drives its 2n links (one per neighbour where a dimension has only 2 nodes).
  ring       the 1-D torus.
  dragonfly  balanced dragonfly of radix-k routers, p = h terminals and global links per router, a = 2h
             routers per group, one or more global links between every pair of groups, minimal routing
             (Kim et al. 2008).

Bisection bandwidth is per direction, across the cut that halves the nodes with the fewest links. The
effective bandwidth is what each node can send when every node sends across that cut at once (the traffic
that defines bisection bandwidth): min(injection, 2 x bisection / N) (Dally & Towles 2004, sec. 3.3).

Not modelled: congestion and adaptive routing, switch buffering, multi-rail or multi-port endpoints (one port
per endpoint in the indirect networks), oversubscription anywhere but the fat tree, cable lengths.
"""
from __future__ import annotations

import math
from itertools import combinations_with_replacement
from typing import Any

import attrs

from ..core.inputs import check_positive_int
from ..errors import InvalidInputError, InvalidTypeError
from ..specs.fields import figure
from ..specs.systems import FabricSpec
from ..units import quantity
from ._design import as_choice, as_figure, registry_entry
from ._result import SolverResult

TOPOLOGIES = ("fat_tree", "torus_2d", "torus_3d", "ring", "dragonfly")
# Radix of the switches when the caller gives none: NVIDIA Quantum-2 QM9700, 64 ports of NDR 400 Gb/s
# (datasheet: https://docs.nvidia.com/networking/display/QM97X0PUB/Specifications). An assumption about the
# switch, stated in every result; pass `switch_radix` for another switch (Quantum QM8700: 40, SN2700: 32).
DEFAULT_SWITCH_RADIX = 64
GB = 1e9
# Largest torus laid out (the factorisation search is over divisor pairs); beyond every machine built (the
# largest tori, e.g. Fugaku's Tofu-D, connect ~160k nodes).
MAX_TORUS_NODES = 10**7


@attrs.frozen(kw_only=True)
class TopologyResult(SolverResult):
    effective_bw: Any             # per node, when every node sends across the bisection
    bisection_bw: Any             # per direction, across the minimum bisection
    bisection_bw_fraction: float  # bisection / (N/2 x injection): 1 = non-blocking
    hops_avg: float               # mean links traversed between two distinct nodes (uniform traffic)
    topology: str
    num_nodes: int
    diameter: int                 # links on the longest shortest path
    injection_bw: Any             # what one node can put on the network, per direction
    zero_load_latency: Any        # hops_avg x fabric per-hop latency
    shape: str                    # tiers, torus dimensions or dragonfly groups
    constraint_trace: tuple[str, ...] = ()


@attrs.frozen
class _Shape:
    diameter: int
    hops_avg: float
    bisection_links: float  # links crossing the minimum bisection, per direction
    ports: int              # links each node drives (injection)
    shape: str


class TopologyModel:
    """Diameter, mean hops, bisection and per-node bandwidth of a fabric wired as a given topology."""

    def solve(self, fabric: Any, topology: str = "fat_tree", num_nodes: int = 64, *,
              switch_radix: int = DEFAULT_SWITCH_RADIX, oversubscription: float = 1.0) -> TopologyResult:
        """fabric: a Systems.Fabrics.<X> FabricSpec or its name; topology: one of TOPOLOGIES ('fat-tree' is
        accepted); num_nodes: endpoints (at least 2). Keyword-only: switch_radix (ports per switch or router,
        fat tree and dragonfly), oversubscription (fat-tree taper, >= 1)."""
        spec = _resolve_fabric(fabric)
        kind = as_choice("topology", topology, TOPOLOGIES)
        n = check_positive_int("num_nodes", num_nodes)
        if n < 2:
            raise InvalidInputError("num_nodes must be at least 2: one node has no network to cut in half")
        radix = check_positive_int("switch_radix", switch_radix)
        taper = as_figure("oversubscription", oversubscription, "")
        if taper < 1.0:
            raise InvalidInputError(f"oversubscription is the ratio of down- to up-link bandwidth, >= 1, got {taper!r}")
        if taper != 1.0 and kind != "fat_tree":
            raise InvalidInputError(f"oversubscription applies to the fat tree only, not to a {kind}")
        link_bw, hop_latency = figure(spec, "bandwidth"), figure(spec, "latency")
        trace = [f"links at {link_bw / GB:.4g} GB/s per direction, {hop_latency * 1e9:.4g} ns per hop ({spec.name})"]
        if kind == "fat_tree":
            shape = _fat_tree(n, radix, taper)
            trace.append(f"radix-{radix} switches (switch_radix)")
        elif kind == "dragonfly":
            shape = _dragonfly(n, radix)
            trace.append(f"radix-{radix} routers (switch_radix)")
        else:
            shape = _torus(n, {"ring": 1, "torus_2d": 2, "torus_3d": 3}[kind])
        injection = shape.ports * link_bw
        bisection = shape.bisection_links * link_bw
        fraction = bisection / (n / 2.0 * injection)  # 1: every node of one half can talk to the other at full rate
        effective = injection * min(1.0, fraction)     # = min(injection, 2 bisection / N), Dally & Towles sec. 3.3
        return TopologyResult(
            effective_bw=quantity(effective / GB, "GB/s"), bisection_bw=quantity(bisection / GB, "GB/s"),
            bisection_bw_fraction=fraction, hops_avg=shape.hops_avg, topology=kind, num_nodes=n,
            diameter=shape.diameter, injection_bw=quantity(injection / GB, "GB/s"),
            zero_load_latency=quantity(shape.hops_avg * hop_latency * 1e6, "us"), shape=shape.shape,
            constraint_trace=tuple(trace))


def _resolve_fabric(fabric: Any) -> FabricSpec:
    if isinstance(fabric, str):
        fabric = registry_entry("Systems", fabric)
    if not isinstance(fabric, FabricSpec):
        raise InvalidTypeError(f"fabric must be a FabricSpec (Systems.Fabrics.<X>) or a fabric name such as "
                               f"'InfiniBand_NDR', got {type(fabric).__name__}")
    return fabric


def _fat_tree(n: int, k: int, taper: float) -> _Shape:
    if k < 4:
        raise InvalidInputError(f"a fat tree needs switches of at least 4 ports, got switch_radix {k}")
    # Tiers: one switch holds k hosts; L >= 2 tiers of a folded Clos hold 2 (k/2)^L (Al-Fares et al. 2008: k^3/4
    # hosts in three tiers).
    tiers = 1
    while n > (k if tiers == 1 else 2 * (k // 2) ** tiers):
        tiers += 1
    # Hosts under one tier-l switch's subtree (l < L): (k/2)^l; two hosts whose lowest common switch sits at tier
    # l are 2l links apart (up l, down l). Hosts are numbered so that each subtree is filled before the next.
    reach = [1] + [(k // 2) ** level for level in range(1, tiers)] + [n]
    total = sum(2 * level * (min(n, reach[level]) - min(n, reach[level - 1])) for level in range(1, tiers + 1))
    if taper != 1.0 and tiers == 1:
        raise InvalidInputError(f"{n} nodes fit one radix-{k} switch, which is non-blocking: oversubscription "
                                "needs two tiers or more (lower switch_radix to model a tapered leaf/spine)")
    return _Shape(diameter=2 * tiers, hops_avg=total / (n - 1), bisection_links=n / 2.0 / taper, ports=1,
                  shape=f"{tiers}-tier folded Clos" + (f", {taper:g}:1 oversubscribed" if taper != 1 else ""))


def _balanced_dims(n: int, dims: int) -> tuple[int, ...]:
    """The factorisation of n into `dims` factors with the smallest diameter (sum of k_i // 2), then the
    smallest largest factor: the most cubic torus that holds exactly n nodes."""
    if n > MAX_TORUS_NODES:
        raise InvalidInputError(f"num_nodes {n} is too large to lay out as a torus (at most {MAX_TORUS_NODES})")
    small = [d for d in range(1, math.isqrt(n) + 1) if n % d == 0]
    divisors = sorted(set(small + [n // d for d in small]))
    best: tuple[int, ...] | None = None
    for combo in combinations_with_replacement(divisors, dims - 1):
        rest, ok = n, True
        for d in combo:
            if rest % d:
                ok = False
                break
            rest //= d
        if not ok:
            continue
        candidate = tuple(sorted(combo + (rest,)))
        key = (sum(k // 2 for k in candidate), max(candidate))
        if best is None or key < (sum(k // 2 for k in best), max(best)):
            best = candidate
    assert best is not None
    return best


def _torus(n: int, dims: int) -> _Shape:
    ks = _balanced_dims(n, dims) if dims > 1 else (n,)
    # Links per node along a ring of k nodes: two neighbours for k >= 3, one for k = 2, none for k = 1.
    per_dim = [2 if k >= 3 else (1 if k == 2 else 0) for k in ks]
    # Sum of ring distances from one node to all k nodes of its ring is floor(k^2 / 4); over the torus each
    # dimension's distances repeat for the n / k positions in the other dimensions (Dally & Towles 2004, sec. 5.2).
    total = sum((k * k // 4) * (n // k) for k in ks)
    widest = max(ks)
    # Minimum bisection: cut across the longest dimension, n / k rings each cut in 2 places (1 when k = 2).
    cut = (n // widest) * (2 if widest >= 3 else 1)
    shape = "ring" if dims == 1 else "x".join(str(k) for k in sorted(ks, reverse=True)) + " torus"
    return _Shape(diameter=sum(k // 2 for k in ks), hops_avg=total / (n - 1), bisection_links=float(cut),
                  ports=sum(per_dim), shape=shape)


def _dragonfly(n: int, k: int) -> _Shape:
    # Balanced dragonfly (Kim et al. 2008, sec. 3.1): a = 2p = 2h, radix p + (a - 1) + h = 4h - 1 <= k.
    h = (k + 1) // 4
    if h < 1:
        raise InvalidInputError(f"a dragonfly needs routers of at least 3 ports, got switch_radix {k}")
    p, a = h, 2 * h
    group = a * p
    max_groups = a * h + 1  # every group one global link to every other group
    groups = -(-n // group)
    if groups > max_groups:
        raise InvalidInputError(f"{n} nodes exceed a balanced dragonfly of radix-{k} routers ({max_groups} groups "
                                f"of {group}, {max_groups * group} nodes); raise switch_radix or use a fat tree")
    routers = -(-n // p)
    # Destinations of one node (nodes packed router by router, group by group): on its router 2 links
    # (in, out); elsewhere in the group 3 (plus one local); in another group local + global + local, where the
    # global link sits on the source's own router with probability 1/a and on the destination's with 1/a.
    same_router = min(p, n) - 1
    same_group = min(group, n) - 1 - same_router
    remote = n - 1 - same_router - same_group
    remote_hops = 3.0 + 2.0 * (a - 1) / a
    hops_avg = (2 * same_router + 3 * same_group + remote_hops * remote) / (n - 1)
    if groups >= 2:
        per_pair = (a * h) // (groups - 1)  # global ports of a group spread over the other groups
        cut = (groups // 2) * (groups - groups // 2) * per_pair
        diameter = 5
    elif routers >= 2:
        in_group = min(routers, a)
        cut = (in_group // 2) * (in_group - in_group // 2)  # routers of a group are fully connected
        diameter = 3
    else:
        cut = n / 2.0  # one router: a crossbar, non-blocking
        diameter = 2
    return _Shape(diameter=diameter, hops_avg=hops_avg, bisection_links=float(cut), ports=1,
                  shape=f"{groups} group(s) of {a} routers x {p} nodes, {h} global links per router")
