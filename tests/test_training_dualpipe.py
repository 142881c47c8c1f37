"""DualPipe (issue 12): DeepSeek-V3's bidirectional pipeline schedule (arXiv:2412.19437 sec. 3.2.1, Table 2;
deepseek-ai/DualPipe) -- its bubble (PP/2 - 1)(F&B + B - 3W) by hand, below 1F1B's for the same layout, two stages
of parameters and PP + 1 chunks of activations per GPU, and the layouts it cannot run."""
from __future__ import annotations

import pytest

import mlsysim
from mlsysim.core.distributed import DistributedModel
from mlsysim.core.training import compute
from mlsysim.core.training.memory import LOGITS_BYTES, layer_activation_bytes
from mlsysim.core.training.model import EMBEDDING_BACKWARD_PASSES, EMBEDDING_PASSES, _stage_parameters
from mlsysim.core.training.pipeline import dualpipe_bubble, dualpipe_inflight_chunks
from mlsysim.core.training.stages import StageSplit, device_loads
from mlsysim.errors import InvalidInputError
from mlsysim.specs import ClusterSpec, Provenance

PROV = Provenance(source="test", checked="2026-12-04", kind="estimate")
CLUSTER = ClusterSpec(name="T4n", display_name="4 nodes", provenance=PROV, node="Systems.Nodes.DGX_H100",
                      node_count=4, fabric="Systems.Fabrics.InfiniBand_NDR", oversubscription=1.0)
SEQ = 4096


def solve(batch=64, **kw):
    kw.setdefault("seq_len", SEQ)
    kw.setdefault("runtime", "megatron")
    kw.setdefault("zero_stage", 1)
    return DistributedModel().solve("Llama3_8B", CLUSTER, batch, "bf16", **kw)


def test_table2_bubble_by_hand():
    # F = 1, B = 2 (input + weight gradient), W = 1, F&B = F + B = 3: (8/2 - 1)(3 + 2 - 3 x 1) = 6
    assert dualpipe_bubble(3.0, 2.0, 1.0, 8) == pytest.approx(6.0)
    assert dualpipe_bubble(3.0, 2.0, 1.0, 2) == 0.0           # two stages: the two directions fill each other
    assert dualpipe_bubble(1.0, 1.0, 1.0, 8) == 0.0           # weight gradients fill it completely: never negative
    assert dualpipe_inflight_chunks(16) == 17.0                # Table 2: PP + 1


def test_dualpipe_gpus_hold_two_stages():
    split = StageSplit(3, 4, 2)
    assert device_loads(split, 16, "dualpipe") == [(2.5, 0.5, 0.5), (4.0, 0.0, 0.0)]
    assert device_loads(split, 16) == [(3.0, 1.0, 0.0), (4.0, 0.0, 0.0), (2.0, 0.0, 1.0)]


def test_step_bubble_is_table2_at_the_mean_chunk():
    compute._cache.clear()
    r = solve(pipeline_parallel=4, pipeline_schedule="dualpipe")
    (_, _, _, c), = compute._cache.values()
    m = mlsysim.Models.Llama3_8B
    hw = mlsysim.Hardware.H100
    emb_t = EMBEDDING_PASSES * SEQ * m.hidden_size * 2.0 / c.bandwidth
    emb_w = EMBEDDING_BACKWARD_PASSES / EMBEDDING_PASSES * emb_t
    slot_l = c.layer_fwd + c.layer_bwd + c.kernel_overhead  # TP = CP = EP = 1: no collectives in the slot
    pair = (m.layers * slot_l + emb_t + c.head_fwd_bwd) / 4
    back = (m.layers * c.layer_bwd + c.head_bwd + emb_w) / 4
    w = (m.layers * c.layer_wgrad + c.head_wgrad + emb_w) / 4
    assert 0 < w < back < pair
    assert r.bubble_time_s == pytest.approx((4 / 2 - 1) * (pair + back - 3 * w), rel=1e-12)
    assert r.pipeline_schedule == "dualpipe" and hw.name == "H100"


@pytest.mark.parametrize("pp", [4, 8])
def test_dualpipe_bubble_below_1f1b_and_interleaved(pp):
    one = solve(pipeline_parallel=pp)
    inter = solve(pipeline_parallel=pp, virtual_pipeline_stages=2)
    dual = solve(pipeline_parallel=pp, pipeline_schedule="dualpipe")
    assert dual.bubble_time_s < inter.bubble_time_s < one.bubble_time_s
    # 1F1B's slowest GPU is the last stage (LM head and loss); DualPipe's end GPUs split the head and the embedding
    # (half the micro-batches each way), so its slowest GPU does less per micro-batch
    assert dual.compute_time_s - dual.optimizer_time_s < one.compute_time_s - one.optimizer_time_s
    assert dual.latency.m_as("s") < one.latency.m_as("s")
    assert sum(dual.breakdown.values()) == pytest.approx(dual.latency.m_as("s"), rel=1e-9)


def test_hiding_the_all_to_all_shrinks_the_steady_state_and_the_bubble():
    def run(**overlap):
        return DistributedModel().solve("Mixtral_8x7B", CLUSTER, 64, "bf16", seq_len=SEQ, runtime="megatron",
                                        zero_stage=1, pipeline_parallel=4, expert_parallel=8,
                                        pipeline_schedule="dualpipe", **overlap)

    exposed, hidden = run(), run(overlap={"ep": 1.0})
    assert exposed.ep_comm_time_s > 0 and hidden.ep_comm_time_s < exposed.ep_comm_time_s
    assert hidden.bubble_time_s < exposed.bubble_time_s  # F&B carries the pair's exposed collectives
    assert hidden.latency.m_as("s") < exposed.latency.m_as("s")


def test_two_stages_of_parameters_and_pp_plus_one_chunks_of_activations():
    m = mlsysim.Models.Llama3_8B
    one = solve(pipeline_parallel=4).training_memory
    dual = solve(pipeline_parallel=4, pipeline_schedule="dualpipe").training_memory
    (first, middle, last), _ = _stage_parameters(m, 1, 4, 1, StageSplit(8, 8, 8))
    assert first == last > middle
    # the end GPUs hold the first and the last stage: 2x the 1F1B first stage's weights and gradients (ZeRO 1)
    assert dual.weights == pytest.approx(2.0 * (first + last) / 2 * 2.0)
    assert dual.weights == pytest.approx(2.0 * one.weights)
    assert dual.gradients == pytest.approx(2.0 * one.gradients)
    assert dual.optimizer_state == pytest.approx(2.0 * one.optimizer_state)  # ZeRO-1 shards of both stages
    qkv = (m.heads + 2 * m.kv_heads) * m.head_dim
    layer = layer_activation_bytes(SEQ, m.hidden_size, qkv, 2 * m.ffn_size, m.ffn_size, 1, True, "none")
    # (PP + 1) / 2 chunks of each of its two 8-layer stages, and the loss of the micro-batches it ends
    assert dual.activations == pytest.approx((4 + 1) / 2 * 16 * layer + LOGITS_BYTES * SEQ * m.vocab_size)


@pytest.mark.parametrize("kw, needle", [
    (dict(pipeline_parallel=1), "even pipeline_parallel"),
    (dict(pipeline_parallel=4, virtual_pipeline_stages=2), "virtual_pipeline_stages"),
    (dict(pipeline_parallel=4, batch=72), "even number of micro-batches"),   # 9 per replica
    (dict(pipeline_parallel=4, batch=48), "at least 2 x pipeline_parallel"),  # 6 < 8
    (dict(pipeline_parallel=4, zero_stage=3), "zero_stage=3"),
    (dict(pipeline_parallel=4, runtime="torchtitan"), "torch.distributed.pipelining"),
])
def test_layouts_dualpipe_cannot_run_are_clear_errors(kw, needle):
    with pytest.raises(InvalidInputError, match=needle):
        solve(pipeline_schedule="dualpipe", **kw)


def test_an_odd_pipeline_is_a_clear_error():
    # 32 layers as 11 + 10 + 11 over 3 stages of 3 nodes: a layout 1F1B runs
    cluster = ClusterSpec(name="T3", display_name="3 nodes", provenance=PROV, node="Systems.Nodes.DGX_H100",
                          node_count=3, fabric="Systems.Fabrics.InfiniBand_NDR", oversubscription=1.0)
    kw = dict(seq_len=SEQ, runtime="megatron", pipeline_parallel=3, first_stage_layers=11, last_stage_layers=11)
    assert DistributedModel().solve("Llama3_8B", cluster, 96, "bf16", **kw).bubble_time_s > 0
    with pytest.raises(InvalidInputError, match="even pipeline_parallel"):
        DistributedModel().solve("Llama3_8B", cluster, 96, "bf16", pipeline_schedule="dualpipe", **kw)


def test_unknown_schedule_is_a_clear_error():
    with pytest.raises(InvalidInputError, match="pipeline_schedule must be one of"):
        solve(pipeline_parallel=4, pipeline_schedule="gpipe")
