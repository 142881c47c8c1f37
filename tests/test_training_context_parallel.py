"""Context parallelism as Transformer Engine runs it (core.training.context): the p2p ring's per-step exposure,
merges and kernels, the Ulysses a2a all-to-alls; limits (nothing at cp 1), monotonicity in cp, exposure never
negative, overlap never slowing a step, and the a2a head-split check."""
from __future__ import annotations

import pytest

from mlsysim.core.distributed import DistributedModel
from mlsysim.core.training import context
from mlsysim.errors import InvalidInputError
from mlsysim.specs import ClusterSpec, Provenance

PROV = Provenance(source="test", checked="2026-12-03", kind="estimate")
BW, LAT = 400e9, 5e-6


def _cluster(nodes: int = 2) -> ClusterSpec:
    return ClusterSpec(name=f"CP{nodes}", display_name=f"{nodes} nodes", provenance=PROV, node="Systems.Nodes.DGX_H100",
                       node_count=nodes, fabric="Systems.Fabrics.InfiniBand_NDR", oversubscription=1.0)


def _solve(cp: int = 2, **kw):
    kw.setdefault("runtime", "nemo")
    return DistributedModel().solve("Llama3_8B", _cluster(), 16, "bf16", seq_len=8192, context_parallel=cp,
                                    zero_stage=1, **kw)


def test_every_cp_term_is_zero_at_cp_1():
    assert context.ring_exposed(1e-3, 1e-3, 2.5e-3, 1, 1.0) == 0.0
    assert context.ring_merge_time(4096, 4096, 1024, 2, 1, 3e12) == (0.0, 0.0)
    assert context.ring_extra_kernels(1) == 0
    assert context.a2a_extra_kernels(1) == 0
    assert context.a2a_time(4096, 4096, 1024, 2, 1, BW, LAT) == 0.0
    assert context.a2a_layout_time(4096, 4096, 1024, 2, 1, 3e12) == 0.0


@pytest.mark.parametrize("cp_comm_type", context.CP_COMM_TYPES)
def test_cp_1_step_is_the_same_whatever_the_cp_scheme(cp_comm_type):
    base = _solve(cp=1)
    other = _solve(cp=1, cp_comm_type=cp_comm_type)
    assert other.latency.m_as("s") == pytest.approx(base.latency.m_as("s"), rel=1e-12)


def test_ring_terms_grow_with_cp_at_fixed_sequence():
    seq = 8192
    merges = [sum(context.ring_merge_time(seq / cp, 4096, 1024, 2, cp, 3e12)) for cp in (2, 4, 8)]
    kernels = [context.ring_extra_kernels(cp) for cp in (1, 2, 4, 8)]
    assert kernels == sorted(kernels) and len(set(kernels)) == 4
    # per-GPU merge bytes: (1 + 3 cp) x T with T = seq / cp: they fall with cp but stay above the cp -> inf limit
    assert all(m > 0 for m in merges)
    a2a = [context.a2a_time(seq / cp, 4096, 1024, 2, cp, BW, LAT) * cp for cp in (2, 4, 8)]
    assert a2a == sorted(a2a)  # the group's total all-to-all traffic grows as (cp - 1)


def test_ring_exposure_is_never_negative_and_overlap_only_hides():
    for step in (0.0, 1e-6, 1e-4, 1e-2):
        for attn in (0.0, 1e-5, 1e-3):
            exposed = [context.ring_exposed(step, attn, 2.5 * attn, 4, share) for share in (0.0, 0.5, 1.0)]
            assert all(e >= 0.0 for e in exposed)
            assert exposed == sorted(exposed, reverse=True)
            assert exposed[0] == pytest.approx(3 * 3 * step)  # no overlap: every transfer, forward 1x + backward 2x


def test_ring_transfer_longer_than_its_step_kernel_is_exposed_by_the_difference():
    # one step's K/V transfer 1 ms against 0.5 ms of that step's forward kernel (2 ms over cp = 4)
    exposed = context.ring_exposed(1e-3, 2e-3, 0.0, 4, 1.0)
    assert exposed == pytest.approx(3 * (0.5e-3 + 2e-3))


def test_ring_chunks_run_at_their_own_attention_rate():
    causal = ((512, 0.516), (1024, 0.703), (2048, 0.805), (4096, 0.862), (8192, 0.9), (16384, 0.905))
    full = ((512, 0.835), (1024, 0.946), (2048, 0.978), (4096, 0.995), (8192, 1.0))
    whole = context.ring_attention_fraction(causal, full, 8192, 1)
    assert whole == pytest.approx(0.9)
    # cp 2: half the work causal at 4096 (0.862), half non-causal at 2048 (0.978): harmonic mean
    assert context.ring_attention_fraction(causal, full, 8192, 2) == pytest.approx(1 / (0.5 / 0.862 + 0.5 / 0.978))
    # very short chunks fall below the whole-sequence rate
    assert context.ring_attention_fraction(causal, full, 8192, 8) < whole


def test_a2a_all_to_alls_are_exposed_and_cost_more_than_nothing():
    r = _solve(cp=2, cp_comm_type="a2a")
    assert r.cp_comm_time_s > 0.0
    assert r.cp_comm_time_s == pytest.approx(r.comm_total_s["cp"])  # no overlap in TE's a2a


def test_cp_overlap_never_slows_a_ring_step():
    hidden, bare = _solve(cp=4), _solve(cp=4, overlap={"cp": 0.0})
    assert hidden.latency.m_as("s") <= bare.latency.m_as("s")
    assert 0.0 <= hidden.cp_comm_time_s <= bare.cp_comm_time_s


def test_ring_merge_bytes_by_hand():
    # forward: zero the running output + 3 passes per step over [T, q]; backward: 3 passes per step over dQ [T, q]
    # and over dK, dV [2, T, kv] (TE AttnFuncWithCPAndKVP2P's corrections and accumulations)
    T, q, kv, ab, cp, bw = 4096, 4096, 1024, 2, 2, 1e12
    fwd, bwd = context.ring_merge_time(T, q, kv, ab, cp, bw)
    assert fwd == pytest.approx((1 + 3 * cp) * T * q * ab / bw)
    assert bwd == pytest.approx(cp * (3 * T * q + 3 * 2 * T * kv) * ab / bw)


def test_a2a_needs_heads_divisible_by_cp():
    with pytest.raises(InvalidInputError, match="a2a"):
        _solve(cp=16, cp_comm_type="a2a")  # Llama 3 8B: 8 KV heads
    with pytest.raises(InvalidInputError, match="cp_comm_type"):
        _solve(cp=2, cp_comm_type="ring")
