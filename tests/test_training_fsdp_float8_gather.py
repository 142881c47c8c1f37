"""FSDP float8 all-gather (runtime training.memory.fsdp_float8_all_gather, core.training.memory
FP8_GATHERED_WEIGHT_BYTES): the layers' gathered linear weights take 1 B instead of 2 B under float8 training with a
data-parallel shard group, as torchao's float8 all-gather under torchtitan keeps them; nothing changes otherwise."""
from __future__ import annotations

import attrs
import pytest

import mlsysim
from mlsysim.core.distributed import DistributedModel
from mlsysim.core.training import memory
from mlsysim.core.training.model import _stage_parameters
from mlsysim.core.training.stages import StageSplit
from mlsysim.specs import ClusterSpec, Provenance

PROV = Provenance(source="test", checked="2026-12-04", kind="estimate")
CLUSTER = ClusterSpec(name="T8n", display_name="8 nodes", provenance=PROV, node="Systems.Nodes.DGX_H100",
                      node_count=8, fabric="Systems.Fabrics.InfiniBand_NDR", oversubscription=1.0)
TITAN = mlsysim.Runtimes.get("torchtitan")


def _gather(flag: bool):
    mem = TITAN.training.memory
    return attrs.evolve(TITAN, training=attrs.evolve(TITAN.training, memory=attrs.evolve(
        mem, fsdp_float8_all_gather=flag)))


def _buffers(flag: bool, precision: str = "fp8", **kw) -> float:
    kw.setdefault("seq_len", 4096)
    kw.setdefault("zero_stage", 3)
    r = DistributedModel().solve("Llama3_8B", CLUSTER, kw.pop("batch", 64), precision, runtime=_gather(flag), **kw)
    return r.training_memory.buffers


def test_catalog_torchtitan_gathers_in_float8_megatron_does_not():
    assert TITAN.training.memory.fsdp_float8_all_gather
    assert "fsdp_pre_all_gather" in TITAN.training.memory.provenance.source
    assert mlsysim.Runtimes.get("megatron").training.memory is None  # no flags: the 16-bit gathered copy


def test_without_pipeline_two_gathered_layers_save_one_byte_per_parameter():
    m = mlsysim.Models.get("Llama3_8B")
    _, layer_params = _stage_parameters(m, 1, 1, 1, StageSplit(m.layers, m.layers, m.layers))
    saved = _buffers(False) - _buffers(True)
    expect = memory.FSDP_GATHERED_LAYERS * layer_params * (2.0 - memory.FP8_GATHERED_WEIGHT_BYTES)
    assert abs(saved / expect - 1.0) < 1e-9


def test_with_pipeline_the_whole_stage_of_layers_saves_but_not_the_embedding():
    m = mlsysim.Models.get("Llama3_8B")
    pp, dp = 4, 16  # 64 GPUs: tp 1, pp 4, dp 16
    kw = dict(pipeline_parallel=pp)
    split = StageSplit(m.layers // pp, m.layers // pp, m.layers // pp)
    stage_params, layer_params = _stage_parameters(m, 1, pp, 1, split)
    saved = _buffers(False, **kw) - _buffers(True, **kw)
    # the fuller (end) stage's transformer layers, the other ranks' shards of them; embedding / head stay 16-bit
    expect = split.first * layer_params * (1.0 - 1.0 / dp) * (2.0 - memory.FP8_GATHERED_WEIGHT_BYTES)
    assert abs(saved / expect - 1.0) < 1e-9
    # the embedding's share of the gathered stage is not in the saving (it would be were the whole stage float8)
    emb = m.vocab_size * m.hidden_size
    whole = max(stage_params) * (1.0 - 1.0 / dp) * (2.0 - memory.FP8_GATHERED_WEIGHT_BYTES)
    assert abs((whole - saved) / (emb * (1.0 - 1.0 / dp)) - 1.0) < 1e-9


@pytest.mark.parametrize("case", [
    dict(precision="bf16"),                                              # no float8 linears
    dict(zero_stage=1),                                                  # no FSDP gather of weights
    dict(pipeline_parallel=2, context_parallel=4, tensor_parallel=8, batch=1, seq_len=8192),  # dp_shard = 1
])
def test_no_saving_where_the_feature_is_off(case):
    kw = dict(case)
    precision = kw.pop("precision", "fp8")
    assert _buffers(True, precision, **kw) == _buffers(False, precision, **kw)


def test_context_parallel_alone_still_gathers_the_stage_in_16_bit():
    # FSDP shards over dp x cp (torchtitan dp_shard_cp), so the stage is gathered, but torchtitan's float8 all-gather
    # needs dp_shard > 1: the gathered copy stays 2 B per parameter.
    kw = dict(pipeline_parallel=2, context_parallel=4, tensor_parallel=8, batch=1, seq_len=8192)
    m = mlsysim.Models.get("Llama3_8B")
    split = StageSplit(m.layers // 2, m.layers // 2, m.layers // 2)
    stage_params, _ = _stage_parameters(m, 8, 2, 1, split)
    gathered_16bit = max(stage_params) * (1.0 - 1.0 / 4) * 2.0
    assert _buffers(True, **kw) > gathered_16bit


def test_saving_grows_with_the_layers_a_stage_holds():
    # fewer pipeline stages: more layers gathered per stage, a larger saving
    s2 = _buffers(False, pipeline_parallel=2) - _buffers(True, pipeline_parallel=2)
    s4 = _buffers(False, pipeline_parallel=4) - _buffers(True, pipeline_parallel=4)
    assert s2 > s4 > 0.0


# --- ring-attention backward buffers (runtime training.memory.cp_all_gather_kv) --------------------------------------

def _ring(flag: bool, **other):
    mem = TITAN.training.memory
    return attrs.evolve(TITAN, training=attrs.evolve(TITAN.training, memory=attrs.evolve(
        mem, cp_all_gather_kv=flag, **other)))


def test_ring_buffers_by_hand_zero_without_context_parallelism_and_growing_with_it():
    q = 1e6
    assert memory.ring_attention_backward_bytes(q, 1, 2.0) == 0.0
    # cp ranks' K and V in 16 bits, fp32 dQ dK dV, the fp32 dK/dV sent and received, one step's 16-bit dQ dK dV
    assert memory.ring_attention_backward_bytes(q, 8, 2.0) == q * (2 * 8 * 2 + 12 + 16 + 6)
    sizes = [memory.ring_attention_backward_bytes(q, cp, 2.0) for cp in (2, 4, 8, 16)]
    assert all(b > a for a, b in zip(sizes, sizes[1:]))
    # only the gathered K/V grow with cp: doubling cp adds 2 cp x the width per element
    assert sizes[2] - sizes[1] == q * 2 * 4 * 2.0


def _total(rt, **kw):
    kw.setdefault("seq_len", 32768)
    kw.setdefault("activation_recomputation", "full")
    return DistributedModel().solve("Llama3_8B", CLUSTER, kw.pop("batch", 8), "bf16", runtime=rt, zero_stage=3,
                                    **kw).training_memory.total


def test_ring_buffers_add_to_the_first_stage_holding_its_micro_batches():
    m = mlsysim.Models.get("Llama3_8B")
    cp, pp = 4, 2  # 64 GPUs: pp 2 x cp 4 x dp 8; no recomputation and no kept stage outputs: the first stage (two
    kw = dict(pipeline_parallel=pp, context_parallel=cp, batch=32, activation_recomputation="none")  # held) fullest
    added = (_total(_ring(True, pp_keeps_stage_outputs=False), **kw)
             - _total(_ring(False, pp_keeps_stage_outputs=False), **kw))
    ring = memory.ring_attention_backward_bytes(32768 / cp * m.heads * m.head_dim, cp, 2.0)
    # the ring buffers are activations-phase bytes: the allocator's fragmentation share comes with them
    assert ring > 0.0 and abs(added / (ring * (1.0 + memory.FRAGMENTATION_SHARE)) - 1.0) < 1e-9


def test_ring_buffers_hide_under_the_loss_without_pipeline_and_vanish_without_cp():
    # one stage: the loss's logits buffers (freed before the layers run backward) exceed the ring buffers
    kw = dict(context_parallel=8, batch=8)
    assert _total(_ring(True), **kw) == _total(_ring(False), **kw)
    assert _total(_ring(True), batch=64) == _total(_ring(False), batch=64)


# --- received activations' gradients (pp_keeps_stage_outputs) -------------------------------------------------------

def test_last_stage_keeps_the_gradients_of_its_received_activations():
    m = mlsysim.Models.get("Llama3_8B")
    tp, pp, T = 8, 2, 4096
    dp = 64 // (tp * pp)
    mem = TITAN.training.memory
    on = attrs.evolve(TITAN, training=attrs.evolve(TITAN.training, memory=attrs.evolve(
        mem, tp_saves_gathered_inputs=False, tp_loss_parallel=False)))
    off = attrs.evolve(TITAN, training=attrs.evolve(TITAN.training, memory=attrs.evolve(
        mem, tp_saves_gathered_inputs=False, tp_loss_parallel=False, pp_keeps_stage_outputs=False)))
    acts = {}
    for micro in (1, 4):
        r = [DistributedModel().solve("Llama3_8B", CLUSTER, dp * micro, "bf16", seq_len=T, runtime=rt,
                                      tensor_parallel=tp, pipeline_parallel=pp, zero_stage=1,
                                      activation_recomputation="full") for rt in (on, off)]  # the last stage fullest
        assert r[0].microbatches == micro
        acts[micro] = r[0].training_memory.activations - r[1].training_memory.activations
    hidden = T * m.hidden_size * 2 / tp
    logits = memory.STAGE_OUTPUT_LOGITS_BYTES * T * m.vocab_size / tp
    # per extra micro-batch: its kept logits, its receive buffer and its input gradient left in .grad
    assert abs((acts[4] - acts[1]) / (3 * (logits + 2 * hidden)) - 1.0) < 1e-9
