"""Collectives on a torus node (core.torus + core.collectives): ring over each dimension, all-to-all bounded by the
bisection. Checked against hand calculation and Google's printed TPU v5e pod figures."""
import pytest

from mlsysim import Systems
from mlsysim.core.collectives import all_reduce, reduce_scatter
from mlsysim.core.torus import balanced_dims, group_axes, node_torus, torus_link
from mlsysim.errors import InvalidInputError

HOP = 1e-6
B = 50e9  # TPU v5e: 400 GB/s per chip over 4 ports, both directions -> 50 GB/s per port and direction
POD = (16, 16)


def ring(span, ranks, dims=POD, b=B):
    return torus_link(dims, b, HOP, span, ranks, "ring")


def a2a(span, ranks, dims=POD, b=B):
    return torus_link(dims, b, HOP, span, ranks, "all_to_all")[0]


def test_catalog_shapes_are_the_printed_ones():
    assert balanced_dims(256, 2) == (16, 16)        # TPU v5e / v6e pod
    assert balanced_dims(64, 3) == (4, 4, 4)        # v5p cube, Trn2 UltraServer (4x4 torus x 4-ring)
    assert balanced_dims(6144, 3) == (16, 16, 24)   # largest v5p slice
    assert balanced_dims(8, 2) == (2, 4)            # v5e-8


def test_port_bandwidth_reproduces_googles_pod_figures():
    node = Systems.Nodes.TPUv5e_Pod
    dims, b = node_torus(node.topology, node.accelerators_per_node, node._intra_node_bandwidth)
    assert dims == POD and b == pytest.approx(50e9)
    # Bisection per direction: 16 rings cut twice x 50 GB/s = 1.6 TB/s, Google's "bisection bandwidth per Pod".
    assert 2 * 16 * b == pytest.approx(1.6e12)
    # All-reduce bandwidth: the full-pod ring runs at 4 ports x 50 GB/s = 200 GB/s per chip; x 256 chips =
    # 51.2 TB/s, Google's "all-reduce bandwidth per Pod".
    bw, _ = ring(256, 256, dims, b)
    assert bw * 256 == pytest.approx(51.2e12)
    assert node_torus("switch", 8, 1e12) == ((), 0.0)


@pytest.mark.parametrize("nbytes", [8.0, 64e3, 1e6, 1e9])
def test_full_torus_all_reduce_no_slower_than_a_switch_of_the_same_chip_bandwidth(nbytes):
    """Same bandwidth term (every port busy), sum(k - 1) = 30 ring steps instead of 255: never slower, and faster
    when latency matters."""
    n = 256
    switch = all_reduce(nbytes, n, 4 * B, HOP)  # a switch port carrying the chip's 4 x 50 GB/s per direction
    bw, lat = ring(n, n)
    torus = all_reduce(nbytes, n, bw, lat)
    assert torus <= switch * (1 + 1e-12)
    # By hand: 2 x (255/256) S / 200 GB/s + 2 x 30 steps x 1 us.
    assert torus == pytest.approx(2 * 255 / 256 * nbytes / 200e9 + 2 * 30 * HOP)
    if nbytes <= 64e3:
        assert torus < 0.5 * switch


def test_sub_groups_use_fewer_ports_and_are_slower():
    """TP over one full dimension (a 16-ring): two ports each way = half the chip; over 4 chips of a ring (a
    segment, no wrap-around): one port each way = a quarter. Monotone: more axes, more bandwidth."""
    full, row, seg = ring(256, 256)[0], ring(16, 16)[0], ring(4, 4)[0]
    assert row == pytest.approx(2 * B) and seg == pytest.approx(B) and full == pytest.approx(4 * B)
    assert seg < row < full
    # Reduce-scatter on the row by hand: (15/16) S over the bidirectional ring 2 x 50 GB/s, 15 steps.
    bw, lat = ring(16, 16)
    assert reduce_scatter(1e9, 16, bw, lat) == pytest.approx(15 / 16 * 1e9 / 100e9 + 15 * HOP)


def test_strided_groups_share_their_links():
    # 4 ranks 16 apart: one per row, a segment of the second dimension: neighbours, one port.
    assert group_axes(POD, B, 64, 4) == ((4, False, B),)
    # 4 ranks 4 apart inside a 16-ring: a full logical 4-ring, each logical link 4 hops shared by 4 groups.
    (axis,) = group_axes(POD, B, 16, 4)
    assert axis.length == 4 and axis.wrapped and axis.bandwidth == pytest.approx(B / 4)


def test_all_to_all_is_bisection_bound():
    """Uniform all-to-all on a k-ary torus: per-chip throughput 8 b / k (Dally & Towles), far under injection."""
    per_chip = a2a(256, 256)
    assert per_chip == pytest.approx(8 * B / 16 * 255 / 256)  # x (n-1)/n: bytes to the others only
    assert per_chip < 4 * B / 8  # 8x below the 200 GB/s a switch would give
    # Hand calculation across one cut: 128 chips x 128/255 of their bytes cross 32 links of 50 GB/s.
    assert per_chip == pytest.approx(32 * B / (128 * 128 / 255))
    # A 2-chip group is a single link each way: all-to-all = that link.
    assert a2a(2, 2) == pytest.approx(B)


def test_non_box_group_falls_back_to_a_line_and_bad_pattern_raises():
    assert group_axes(POD, B, 24, 24) == ((24, False, B),)  # 16 + 8 chips: no box
    with pytest.raises(InvalidInputError, match="pattern"):
        torus_link(POD, B, HOP, 16, 16, "broadcast")
    with pytest.raises(InvalidInputError, match="topology"):
        node_torus("mesh", 16, 1e12)


def test_single_rank_is_a_neighbour_send():
    assert ring(1, 1) == (B, HOP)


# --- the solvers read the torus --------------------------------------------------------------------------------
def _as_switch(node):
    import attrs
    return attrs.evolve(node, topology="switch")


def test_training_tp_on_a_torus_row_is_slower_than_on_a_switch():
    """TP=16 over one 16-ring of the v5e pod drives 2 of the chip's 4 ports: its collectives take longer than on a
    switched node of the same per-chip bandwidth (the solver used to treat the pod as switched)."""
    from mlsysim.solvers import DistributedModel
    pod = Systems.Nodes.TPUv5e_Pod
    kw = dict(batch_size=256, tensor_parallel=16)
    torus = DistributedModel().solve("Llama3_8B", pod, **kw)
    switch = DistributedModel().solve("Llama3_8B", _as_switch(pod), **kw)
    assert torus.comm_total_s["tp"] > switch.comm_total_s["tp"] > 0
    assert torus.compute_time_s == pytest.approx(switch.compute_time_s)


def test_serving_expert_all_to_all_on_a_torus_is_bisection_bound():
    """TPU v5e-8 (2x4): EP=8 over all 8 chips. Injection would be 3 ports' 150 GB/s; the cut across the 4-ring
    (2 lines x 2 cuts x 50 GB/s = 200 GB/s for 16/7 bytes crossing per byte sent) gives 87.5 GB/s per chip."""
    import mlsysim
    from mlsysim.core.serving.layout import build_layout
    from mlsysim.solvers import ServingModel
    node, m = Systems.Nodes.TPUv5e_8, mlsysim.Models.Mixtral_8x7B
    torus = build_layout(m, node, 1, 8, 8, 1)
    switch = build_layout(m, _as_switch(node), 1, 8, 8, 1)
    assert torus.a2a_bw == pytest.approx(87.5e9) and switch.a2a_bw == pytest.approx(200e9)
    assert torus.link_bw == pytest.approx(50e9)  # tp = 1: a neighbour send over one port
    kw = dict(batch_size=64, prompt_len=1024, output_len=128, data_parallel=8, expert_parallel=8, precision="bf16")
    slow, fast = (ServingModel().solve("Mixtral_8x7B", n, **kw) for n in (node, _as_switch(node)))
    assert slow.mfu < fast.mfu


@pytest.mark.parametrize("dims", [POD, (4, 4, 4), (16, 16, 24), (2, 4)])
def test_limits_against_a_switch_with_one_port_of_the_same_link_bandwidth(dims):
    """Per-port comparison (a switched chip with one port of b each way vs a torus chip with 2D ports of b):
    a ring collective over any contiguous group is no slower on the torus (every axis it fills gives at least one
    port each way, a wrapped one two), and its step count sum(L - 1) never exceeds n - 1. Two limits: groups
    interleaved with their siblings share links (b / stride each), and an all-to-all is bisection-bound, so a
    pod-wide all-to-all (25 GB/s per chip on the 16x16 pod) is slower than a non-blocking switch's 50 GB/s."""
    chips = 1
    for k in dims:
        chips *= k
    for span in (s for s in range(2, chips + 1) if chips % s == 0 and s <= 4096):
        bw, lat = ring(span, span, dims)
        assert bw >= B * (1 - 1e-12)
        assert lat <= HOP * (1 + 1e-12)  # per-step latency x (n - 1) = HOP x sum(L - 1) <= HOP x (n - 1)
        assert all_reduce(1e6, span, bw, lat) <= all_reduce(1e6, span, B, HOP) * (1 + 1e-12)
    assert group_axes(POD, B, 16, 4)[0].bandwidth < B       # interleaved: shared links
    assert a2a(256, 256) < B                                 # bisection-bound
