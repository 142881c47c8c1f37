"""Uneven pipeline stages (issue 12): the first stage carries the embedding, the last the LM head and the loss; the
slowest stage sets the step and the others' slots make the fill and drain (core.training.stages)."""
from __future__ import annotations

import pytest

from mlsysim.core.distributed import DistributedModel
from mlsysim.core.training.stages import StageSplit, pipeline_time, stage_layers, stage_slots
from mlsysim.errors import InvalidInputError
from mlsysim.specs import ClusterSpec, Provenance

PROV = Provenance(source="test", checked="2026-12-03", kind="estimate")
CLUSTER = ClusterSpec(name="T4n", display_name="4 nodes", provenance=PROV, node="Systems.Nodes.DGX_H100",
                      node_count=4, fabric="Systems.Fabrics.InfiniBand_NDR", oversubscription=1.0)


def solve(**kw):
    kw.setdefault("seq_len", 4096)
    kw.setdefault("runtime", "megatron")
    return DistributedModel().solve("Llama3_8B", CLUSTER, 64, "bf16", **kw)


def test_megatron_account_for_options_take_a_layer_off_the_ends():
    assert stage_layers(32, 4, 1) is not None and tuple(stage_layers(32, 4, 1)) == (8, 8, 8)
    # 32 + embedding + loss = 34 = 2 x 17: each end stage builds 16 transformer layers
    assert tuple(stage_layers(32, 2, 1, account_for_embedding=True, account_for_loss=True)) == (16, 17, 16)
    # 30 + 2 over 4 stages: 8 each counted, the ends build 7
    assert tuple(stage_layers(30, 4, 1, account_for_embedding=True, account_for_loss=True)) == (7, 8, 7)
    assert tuple(stage_layers(31, 4, 1, account_for_loss=True)) == (8, 8, 7)


def test_explicit_end_stage_layers_split_the_rest_evenly():
    assert tuple(stage_layers(126, 8, 1, first=15, last=15)) == (15, 16, 15)   # 96 over 6 middle stages
    assert tuple(stage_layers(32, 4, 1, last=5)) == (9, 9, 5)                  # 27 over the 3 other stages
    assert tuple(stage_layers(32, 4, 2, first=6, last=10)) == (6, 8, 10)
    # torchtitan's generated split of Llama 3.1 405B over 8 ranks x 2 chunks: 15, 16 x 6, 15 layers per rank
    assert tuple(stage_layers(126, 8, 2, first=15, last=15)) == (15, 16, 15)


@pytest.mark.parametrize("kw, needle", [
    (dict(layers=126, pp=8, vp=1), "does not divide"),
    (dict(layers=32, pp=4, vp=1, first=9, last=8), "do not split evenly"),
    (dict(layers=32, pp=4, vp=2, first=1, last=7), "one per chunk"),
    (dict(layers=32, pp=1, vp=1, first=9), "pipeline_parallel > 1"),
    (dict(layers=32, pp=4, vp=1, first=8, account_for_loss=True), "either"),
    (dict(layers=32, pp=4, vp=1, first=-1), "non-negative"),
])
def test_a_split_that_does_not_come_out_even_is_a_clear_error(kw, needle):
    layers, pp, vp = kw.pop("layers"), kw.pop("pp"), kw.pop("vp")
    if "first" not in kw and "last" not in kw and not kw:
        kw = dict(account_for_embedding=True)  # 127 over 8 stages
    with pytest.raises(InvalidInputError, match=needle):
        stage_layers(layers, pp, vp, **kw)


def test_pipeline_time_by_hand():
    slots = stage_slots(StageSplit(7, 8, 7), 4, 1.0, 0.5, 3.0)
    assert slots == [7.5, 8.0, 10.0]
    run, bubble = pipeline_time(slots, 4, 1, 16)
    assert run == 160.0
    assert bubble == pytest.approx(7.5 + 2 * 8.0 + 10.0 - 10.0)   # the other stages' slots, once each
    assert pipeline_time(slots, 4, 2, 16)[1] == pytest.approx(23.5 / 2)  # split over the model chunks
    # equal stages: the (p - 1) / v bubble of Narayanan et al. eq. 1
    assert pipeline_time([2.0, 2.0, 2.0], 4, 1, 8)[1] == pytest.approx(3 * 2.0)


def test_the_slowest_stage_sets_the_step_and_the_head_makes_the_last_stage_slowest():
    even = solve(pipeline_parallel=4)
    # Llama 3 8B's LM head (128256 x 4096) is ~2.4 layers of GEMMs: a layer or two off the last stage shortens
    # the step; moving them onto it lengthens it.
    lighter = solve(pipeline_parallel=4, first_stage_layers=9, last_stage_layers=7)
    heavier = solve(pipeline_parallel=4, first_stage_layers=7, last_stage_layers=9)
    assert lighter.latency.m_as("s") < even.latency.m_as("s") < heavier.latency.m_as("s")
    # conservation still holds
    for r in (even, lighter, heavier):
        assert sum(r.breakdown.values()) == pytest.approx(r.latency.m_as("s"), rel=1e-9)


def _llama_like(layers):
    from mlsysim.specs import TransformerSpec
    return TransformerSpec(name=f"L{layers}", display_name=f"{layers} layers", category="Language",
                           architecture="decoder", provenance=PROV, layers=layers, hidden_size=4096, heads=32,
                           kv_heads=8, head_dim=128, ffn_size=14336, ffn_gated=True, vocab_size=128256,
                           tied_embeddings=False, context_length=8192, position_embedding="rotary", norm="rmsnorm",
                           bias=False)


def test_account_for_loss_relieves_the_last_stage():
    # 32 layers + loss counted = 33: not a multiple of 4 -> error naming the fix
    with pytest.raises(InvalidInputError, match="does not divide"):
        solve(pipeline_parallel=4, account_for_loss_in_pipeline_split=True)
    m = _llama_like(31)
    kw = dict(seq_len=4096, pipeline_parallel=4, runtime="megatron")
    relieved = DistributedModel().solve(m, CLUSTER, 64, "bf16", account_for_loss_in_pipeline_split=True, **kw)
    loaded = DistributedModel().solve(m, CLUSTER, 64, "bf16", first_stage_layers=7, last_stage_layers=8, **kw)
    assert relieved.latency.m_as("s") < loaded.latency.m_as("s")   # (8, 8, 7) + head vs (7, 8, 8) + head


def test_uneven_layers_need_an_explicit_split():
    m = _llama_like(126)
    with pytest.raises(InvalidInputError, match="first_stage_layers"):
        DistributedModel().solve(m, CLUSTER, 64, "bf16", seq_len=4096, pipeline_parallel=8)
    r = DistributedModel().solve(m, CLUSTER, 64, "bf16", seq_len=4096, pipeline_parallel=8, first_stage_layers=15,
                                 last_stage_layers=15)
    assert r.latency.m_as("s") > 0


def test_last_stage_memory_carries_the_head_and_logits():
    r = solve(pipeline_parallel=4, microbatch_size=1)
    tm = r.training_memory
    assert tm.total > 0 and tm.activations > 0
    # moving layers off the first stage (the one with the most micro-batches in flight) lowers the peak
    lighter_first = solve(pipeline_parallel=4, first_stage_layers=5, last_stage_layers=9)
    assert lighter_first.training_memory.total <= tm.total


def test_op_level_selective_recomputation_sits_between_none_and_full():
    """torchtitan's op-level policy saves every other matmul output: less memory than saving everything, more
    than full recomputation; it replays part of the forward (HFU above MFU), less than full recomputation."""
    kw = dict(zero_stage=3, runtime="torchtitan", pipeline_parallel=1)
    none, op, full = (solve(activation_recomputation=r, **kw) for r in ("none", "selective_op", "full"))
    acts = [r.training_memory.activations for r in (none, op, full)]
    assert acts[0] > acts[1] > acts[2]
    assert none.recompute_time_s == 0.0 < op.recompute_time_s < full.recompute_time_s
    assert op.mfu < op.hfu <= 1.0
    # Llama 3 8B: replayed wk, wo, w3 = (1024 + 4096 + 14336) / (6144 + 4096 + 3 x 14336) of the layer's GEMMs
    from mlsysim.core.training.model import _replayed_gemm_share
    import mlsysim
    share = _replayed_gemm_share(mlsysim.Models.get("Llama3_8B"))
    assert share == pytest.approx((1024 + 4096 + 14336) / (6144 + 4096 + 3 * 14336), rel=1e-9)


def test_fsdp_with_pipeline_stages_keeps_the_stage_gathered():
    # torchtitan: no reshard after forward with PP -> one gather per step, the stage's weights held
    pp = solve(zero_stage=3, runtime="torchtitan", pipeline_parallel=2)
    z2 = solve(zero_stage=2, runtime="torchtitan", pipeline_parallel=2)
    assert pp.training_memory.buffers > solve(zero_stage=3, runtime="torchtitan").training_memory.buffers
    # ... and, syncing gradients only on the last micro-batch, the stage's unsharded fp32 gradients (FSDP2
    # unsharded_accumulated_grad): 4 B per stage parameter on top of the gathered 16-bit stage
    assert pp.microbatches > 1
    # ZeRO 2 holds this GPU's stage weights unsharded at 2 B/param: the accumulated 4 B/param is twice that
    assert pp.training_memory.buffers >= 2.0 * z2.training_memory.weights * (1 - 1e-9)
