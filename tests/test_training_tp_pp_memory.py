"""Memory of DTensor tensor parallelism and torch pipelining as torchtitan runs them (runtime training.memory flags,
core.training.memory): gathered linear inputs, loss_parallel buffers, kept stage outputs, interleaved warm-up cap."""
from __future__ import annotations

import attrs

import mlsysim
from mlsysim.core.distributed import DistributedModel
from mlsysim.core.training import memory
from mlsysim.core.training.pipeline import inflight_microbatches
from mlsysim.specs import ClusterSpec, Provenance

PROV = Provenance(source="test", checked="2026-12-03", kind="estimate")
CLUSTER = ClusterSpec(name="T8n", display_name="8 nodes", provenance=PROV, node="Systems.Nodes.DGX_H100",
                      node_count=8, fabric="Systems.Fabrics.InfiniBand_NDR", oversubscription=1.0)
TITAN = mlsysim.Runtimes.get("torchtitan")


def _flags(**kw):
    mem = TITAN.training.memory
    return attrs.evolve(TITAN, training=attrs.evolve(TITAN.training, memory=attrs.evolve(mem, **kw)))


OFF = _flags(tp_saves_gathered_inputs=False, tp_loss_parallel=False, pp_keeps_stage_outputs=False)


def solve(runtime, **kw):
    kw.setdefault("seq_len", 4096)
    return DistributedModel().solve("Llama3_8B", CLUSTER, 64, "bf16", runtime=runtime, **kw)


def test_catalog_flags_torchtitan_on_megatron_off():
    mem = TITAN.training.memory
    assert mem.tp_saves_gathered_inputs and mem.tp_loss_parallel and mem.pp_keeps_stage_outputs
    assert "153383" in mem.provenance.source
    assert mlsysim.Runtimes.get("megatron").training.memory is None  # Megatron-Core: the shard is saved


def test_gathered_inputs_hold_two_norm_outputs_and_the_head_input_at_full_length():
    m = mlsysim.Models.get("Llama3_8B")
    tp, seq, mb = 8, 4096, 1
    on = solve(_flags(tp_loss_parallel=False, pp_keeps_stage_outputs=False), tensor_parallel=tp)
    off = solve(OFF, tensor_parallel=tp)
    T, d = mb * seq, m.hidden_size
    # bf16: the two norm outputs held at full length instead of 1/tp of it, 2 B each
    per_layer = memory.GATHERED_LAYER_INPUTS * memory.GATHERED_INPUT_BYTES * T * d * (1 - 1 / tp)
    expect = m.layers * per_layer + memory.GATHERED_HEAD_INPUT_BYTES * T * d
    got = on.training_memory.activations - off.training_memory.activations
    assert abs(got / expect - 1.0) < 1e-9
    # float8 training gathers (and saves) the fp8 cast: 1 B per element in place of the 2 B shard
    on8 = DistributedModel().solve("Llama3_8B", CLUSTER, 64, "fp8", seq_len=seq, runtime=_flags(
        tp_loss_parallel=False, pp_keeps_stage_outputs=False), tensor_parallel=tp)
    off8 = DistributedModel().solve("Llama3_8B", CLUSTER, 64, "fp8", seq_len=seq, runtime=OFF, tensor_parallel=tp)
    per_layer8 = memory.GATHERED_LAYER_INPUTS * T * d * (memory.GATHERED_INPUT_BYTES_FP8
                                                         - memory.GATHERED_INPUT_BYTES / tp)
    expect8 = m.layers * per_layer8 + memory.GATHERED_HEAD_INPUT_BYTES * T * d
    got8 = on8.training_memory.activations - off8.training_memory.activations
    assert abs(got8 / expect8 - 1.0) < 1e-9 and got8 < got
    # without TP there is nothing to gather
    assert solve(TITAN).training_memory.total == solve(OFF).training_memory.total


def test_loss_parallel_adds_four_bytes_per_sharded_logit_under_tp_only():
    m = mlsysim.Models.get("Llama3_8B")
    tp = 8
    on = solve(_flags(tp_saves_gathered_inputs=False, pp_keeps_stage_outputs=False), tensor_parallel=tp)
    off = solve(OFF, tensor_parallel=tp)
    expect = (memory.LOSS_PARALLEL_LOGITS_BYTES - memory.LOGITS_BYTES) * 4096 * m.vocab_size / tp
    assert abs((on.training_memory.activations - off.training_memory.activations) / expect - 1.0) < 1e-9


def test_kept_stage_outputs_on_the_last_stage_by_hand():
    m = mlsysim.Models.get("Llama3_8B")
    tp, pp, T = 8, 2, 4096
    dp = 64 // (tp * pp)
    kw = dict(tensor_parallel=tp, pipeline_parallel=pp, zero_stage=1)
    # one micro-batch per replica: the last stage (LM head, logits) is the fuller one with or without the flag
    one = [DistributedModel().solve("Llama3_8B", CLUSTER, dp, "bf16", seq_len=T, runtime=rt, **kw)
           for rt in (_flags(tp_saves_gathered_inputs=False, tp_loss_parallel=False), OFF)]
    assert one[0].microbatches == 1
    hidden = T * m.hidden_size * 2 / tp
    # its logits kept in 16 bits + (2v - 1) m - 1 = 0 receive buffers beyond the in-flight input
    expect = memory.STAGE_OUTPUT_LOGITS_BYTES * T * m.vocab_size / tp + 0 * hidden
    got = one[0].training_memory.activations - one[1].training_memory.activations
    assert abs(got / expect - 1.0) < 1e-9
    # more micro-batches keep more outputs; without pipeline stages nothing is kept
    many = [solve(rt, **kw) for rt in (_flags(), _flags(pp_keeps_stage_outputs=False))]
    assert many[0].microbatches > 1 and many[0].training_memory.total > many[1].training_memory.total
    assert solve(_flags(), tensor_parallel=8).training_memory.total == solve(
        _flags(pp_keeps_stage_outputs=False), tensor_parallel=8).training_memory.total


def test_interleaved_warm_up_never_holds_more_than_every_micro_batch():
    assert inflight_microbatches(8, 1, 8) == 8.0
    assert inflight_microbatches(8, 2, 8) == 8.0            # (v-1) p + 2 (p-1) = 22 chunks > m v = 16: capped
    assert abs(inflight_microbatches(8, 2, 64) - 8 * (1 + 7 / 16)) < 1e-12   # Korthikanti eq. 5 when m is large
    assert inflight_microbatches(4, 2, 2) == 2.0


def test_memory_flags_leave_step_time_alone():
    kw = dict(tensor_parallel=8, pipeline_parallel=4, zero_stage=1)
    assert solve(TITAN, **kw).latency.m_as("s") == solve(OFF, **kw).latency.m_as("s")


def test_ep_overlap_hides_the_all_to_all_behind_compute_and_never_slows_a_step():
    # DualPipe / Megatron-Core --overlap-moe-expert-parallel-comm: overlap={"ep": share} (absent in the catalog: 0)
    c = ClusterSpec(name="T32n", display_name="32 nodes", provenance=PROV, node="Systems.Nodes.HGX_H800",
                    node_count=32, fabric="Systems.Fabrics.InfiniBand_NDR", oversubscription=1.0)
    kw = dict(seq_len=4096, pipeline_parallel=4, expert_parallel=64, zero_stage=1, runtime="megatron",
              first_stage_layers=16, last_stage_layers=15)
    steps, ep = [], []
    for share in (0.0, 0.5, 1.0):
        r = DistributedModel().solve("DeepSeekV3", c, 256, "fp8", overlap={"ep": share}, **kw)
        steps.append(r.latency.m_as("s"))
        ep.append(r.ep_comm_time_s)
    assert steps[0] >= steps[1] >= steps[2] and ep[0] > ep[1] >= ep[2] >= 0.0
    assert mlsysim.Runtimes.get("megatron").training.ep_comm_overlap == 0.0
    assert mlsysim.Systems.get("Systems.Nodes.HGX_H800").intra_node_bandwidth.m_as("GB/s") == 400.0
