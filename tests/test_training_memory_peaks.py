"""Memory peaks of a training step that the per-layer activation count misses: the loss's logits at the start of
backward and FSDP's unsharded gradient accumulation across pipeline micro-batches (core.training.memory)."""
from __future__ import annotations

from mlsysim.core.distributed import DistributedModel
from mlsysim.core.training import memory
from mlsysim.specs import ClusterSpec, Provenance

PROV = Provenance(source="test", checked="2026-12-03", kind="estimate")
CLUSTER = ClusterSpec(name="T4n", display_name="4 nodes", provenance=PROV, node="Systems.Nodes.DGX_H100",
                      node_count=4, fabric="Systems.Fabrics.InfiniBand_NDR", oversubscription=1.0)


def solve(**kw):
    kw.setdefault("seq_len", 4096)
    kw.setdefault("runtime", "torchtitan")
    return DistributedModel().solve("Llama3_8B", CLUSTER, 64, "bf16", **kw)


def test_logits_peak_is_the_eager_cross_entropy_backward():
    # saved fp32 log-softmax (4) + nll_loss grad (4) + log_softmax grad (4) per token x vocab entry
    assert memory.LOGITS_BYTES == 12.0


def test_logits_grow_activations_linearly_with_tokens_over_tp():
    # doubling the sequence doubles every activation term, the logits included (no fixed part in activations)
    a, b = solve(seq_len=2048), solve(seq_len=4096)
    assert abs(b.training_memory.activations / a.training_memory.activations - 2.0) < 1e-6


def test_fsdp_with_pipeline_accumulates_unsharded_fp32_gradients_by_hand():
    pp = solve(zero_stage=3, pipeline_parallel=2)
    one_micro = DistributedModel().solve("Llama3_8B", CLUSTER, pp.data_parallel, "bf16", seq_len=4096,
                                         runtime="torchtitan", zero_stage=3, pipeline_parallel=2)
    assert pp.microbatches > 1 and one_micro.microbatches == 1
    # one micro-batch: the gradients are reduce-scattered at once, nothing accumulates unsharded
    extra = pp.training_memory.buffers - one_micro.training_memory.buffers
    # the extra is 4 B per parameter of this GPU's (fullest) stage: its sharded weights x ranks x 4 / 2 B
    ranks = pp.data_parallel
    stage_params = pp.training_memory.weights * ranks / 2.0
    assert abs(extra / (memory.UNSHARDED_ACCUMULATED_GRAD_BYTES * stage_params) - 1.0) < 1e-6
