"""TopologyModel: hop counts and bisection bandwidth of fat trees, tori, rings and dragonflies."""
from __future__ import annotations

import pytest

import mlsysim
from mlsysim.errors import InvalidInputError, InvalidTypeError, MlsysimError
from mlsysim.solvers import TopologyModel
from mlsysim.specs.fields import figure

NDR = 50e9  # InfiniBand NDR: 400 Gb/s per port per direction
gbs = lambda q: q.to("GB/s").magnitude  # noqa: E731


@pytest.fixture(scope="module")
def topo():
    return TopologyModel()


def test_fat_tree_two_tiers_by_hand(topo):
    # 1000 hosts on radix-64 switches: one leaf holds 32 hosts, two tiers hold 2 x 32^2 = 2048.
    r = topo.solve("InfiniBand_NDR", "fat_tree", 1000)
    assert r.diameter == 4 and r.shape.startswith("2-tier")
    assert r.hops_avg == pytest.approx((2 * 31 + 4 * (1000 - 32)) / 999)  # 31 leaf mates at 2 hops, the rest at 4
    assert gbs(r.bisection_bw) == pytest.approx(500 * NDR / 1e9)  # full bisection: N/2 links
    assert r.bisection_bw_fraction == pytest.approx(1.0)
    assert gbs(r.effective_bw) == pytest.approx(gbs(r.injection_bw)) == pytest.approx(50.0)
    latency = figure(mlsysim.Systems.Fabrics.InfiniBand_NDR, "latency")
    assert r.zero_load_latency.to("s").magnitude == pytest.approx(r.hops_avg * latency)


def test_fat_tree_tiers_grow_with_nodes_and_shrink_with_radix(topo):
    assert topo.solve("InfiniBand_NDR", "fat_tree", 64).diameter == 2         # one 64-port switch
    assert topo.solve("InfiniBand_NDR", "fat_tree", 65536).diameter == 6      # 64^3 / 4 = 65536: three tiers
    assert topo.solve("InfiniBand_NDR", "fat_tree", 65537).diameter == 8
    assert topo.solve("InfiniBand_NDR", "fat_tree", 1000, switch_radix=16).diameter == 6  # 2 x 8^3 = 1024: three tiers


def test_oversubscription_divides_bisection_and_effective_bandwidth(topo):
    full = topo.solve("InfiniBand_NDR", "fat_tree", 1024)
    tapered = topo.solve("InfiniBand_NDR", "fat_tree", 1024, oversubscription=4)
    assert gbs(tapered.bisection_bw) == pytest.approx(gbs(full.bisection_bw) / 4)
    assert gbs(tapered.effective_bw) == pytest.approx(gbs(full.effective_bw) / 4)
    assert tapered.hops_avg == full.hops_avg


def test_torus_3d_by_hand(topo):
    r = topo.solve("InfiniBand_NDR", "torus_3d", 64)
    assert r.shape == "4x4x4 torus" and r.diameter == 6
    assert r.hops_avg == pytest.approx(3 * 16 * 4 / 63)  # per ring of 4: distances 0,1,2,1 -> 4; 16 rings per dim
    assert gbs(r.injection_bw) == pytest.approx(6 * 50.0)  # six neighbours
    assert gbs(r.bisection_bw) == pytest.approx(2 * 16 * 50.0)  # 16 rings cut in two places
    assert r.bisection_bw_fraction == pytest.approx(32 / (32 * 6))
    assert gbs(r.effective_bw) == pytest.approx(2 * gbs(r.bisection_bw) / 64)


def test_ring_by_hand_and_limits(topo):
    r = topo.solve("Ethernet_100G", "ring", 64)
    assert r.diameter == 32 and r.hops_avg == pytest.approx(64 * 64 / 4 / 63)
    assert gbs(r.bisection_bw) == pytest.approx(2 * 12.5)  # any halving cuts two links
    two = topo.solve("Ethernet_100G", "ring", 2)
    assert two.diameter == 1 and two.hops_avg == 1 and gbs(two.injection_bw) == pytest.approx(12.5)


def test_direct_networks_lose_bisection_share_as_they_grow(topo):
    for kind in ("ring", "torus_2d", "torus_3d"):
        fractions = [topo.solve("InfiniBand_NDR", kind, n).bisection_bw_fraction for n in (64, 512, 4096)]
        hops = [topo.solve("InfiniBand_NDR", kind, n).hops_avg for n in (64, 512, 4096)]
        assert fractions[0] > fractions[1] > fractions[2]
        assert hops[0] < hops[1] < hops[2]
    # At equal size, more dimensions mean fewer hops and more bisection.
    ring, t2, t3 = (topo.solve("InfiniBand_NDR", k, 4096) for k in ("ring", "torus_2d", "torus_3d"))
    assert ring.hops_avg > t2.hops_avg > t3.hops_avg
    assert gbs(ring.bisection_bw) < gbs(t2.bisection_bw) < gbs(t3.bisection_bw)


def test_dragonfly_is_five_hops_at_most_and_half_bisection_at_full_size(topo):
    # Radix 64: h = p = 16, a = 32 routers of 16 nodes per group (512), up to 32 x 16 + 1 = 513 groups.
    full = topo.solve("InfiniBand_NDR", "dragonfly", 513 * 512)
    assert full.diameter == 5
    assert full.bisection_bw_fraction == pytest.approx(256 * 257 / (513 * 512 / 2), rel=1e-12)
    assert 0.45 < full.bisection_bw_fraction < 0.55
    assert 3 < full.hops_avg < 5
    with pytest.raises(InvalidInputError, match="dragonfly"):
        topo.solve("InfiniBand_NDR", "dragonfly", 513 * 512 + 1)


def test_every_topology_is_consistent(topo):
    for kind in ("fat_tree", "torus_2d", "torus_3d", "ring", "dragonfly"):
        for n in (2, 7, 64, 1000):
            r = topo.solve("InfiniBand_HDR", kind, n)
            assert 1 <= r.hops_avg <= r.diameter
            assert gbs(r.effective_bw) <= gbs(r.injection_bw) * (1 + 1e-12)
            assert gbs(r.bisection_bw) == pytest.approx(r.bisection_bw_fraction * n / 2 * gbs(r.injection_bw))
            assert r.num_nodes == n and r.topology == kind


def test_bandwidths_scale_with_the_fabric(topo):
    ndr = topo.solve("InfiniBand_NDR", "torus_3d", 512)
    hdr = topo.solve(mlsysim.Systems.Fabrics.InfiniBand_HDR, "torus_3d", 512)
    assert gbs(ndr.bisection_bw) == pytest.approx(2 * gbs(hdr.bisection_bw))
    assert ndr.hops_avg == hdr.hops_avg


def test_bad_input(topo):
    with pytest.raises(InvalidInputError, match="accepted"):
        topo.solve("InfiniBand_NDR", "hypercube", 64)
    with pytest.raises(InvalidInputError, match="at least 2"):
        topo.solve("InfiniBand_NDR", "ring", 1)
    with pytest.raises(InvalidInputError):
        topo.solve("InfiniBand_NDR", "ring", 0)
    with pytest.raises(InvalidTypeError):
        topo.solve("InfiniBand_NDR", "ring", 64.0)
    with pytest.raises(InvalidTypeError, match="FabricSpec"):
        topo.solve(mlsysim.Hardware.H100, "ring", 64)
    with pytest.raises(MlsysimError):
        topo.solve("InfiniBand_XDR_typo", "ring", 64)
    with pytest.raises(InvalidInputError, match="fat tree only"):
        topo.solve("InfiniBand_NDR", "ring", 64, oversubscription=2)
    with pytest.raises(InvalidInputError, match=">= 1"):
        topo.solve("InfiniBand_NDR", "fat_tree", 1000, oversubscription=0.5)
    with pytest.raises(InvalidInputError, match="non-blocking"):
        topo.solve("InfiniBand_NDR", "fat_tree", 64, oversubscription=2)
