"""LoRA fine-tuning in DistributedModel (issue 12): frozen base weights cost forward + input gradient, only the
adapters (core.lora) get gradients, Adam state, gradient reduction and an optimizer step; MFU counts 4N per token
for the frozen weights (Megatron-Bridge's LoRA FLOPs) plus 6N for the adapters."""
from __future__ import annotations

import pytest

import mlsysim
from mlsysim.core.distributed import DistributedModel
from mlsysim.core.lora import adapter_parameters
from mlsysim.errors import InvalidInputError, UnsupportedModelError

M = mlsysim.Models.Llama2_70B
NODE = mlsysim.Systems.Nodes.DGX_H100
SEQ = 4096
# 2 nodes: TP4 x DP4, 4 micro-batches per replica
LAYOUT = dict(seq_len=SEQ, tensor_parallel=4, microbatch_size=1, runtime="nemo")
GBS = 16


def _cluster(nodes: int = 2):
    from mlsysim.specs import ClusterSpec, Provenance
    prov = Provenance(source="test", checked="2026-12-04", kind="estimate")
    return ClusterSpec(name=f"LoRA_test_{nodes}", display_name="test", provenance=prov, node=NODE,
                       node_count=nodes, fabric="Systems.Fabrics.InfiniBand_NDR", oversubscription=1.0)


def _solve(**kw):
    args = dict(LAYOUT)
    args.update(kw)
    return DistributedModel().solve(M, _cluster(), GBS, "bf16", **args)


def _model_flops(r) -> float:
    from mlsysim.core.precision import resolve_precision
    peak = resolve_precision(NODE.accelerator, "bf16", training=True).peak_flops
    return r.mfu * r.latency.m_as("s") * r.devices * peak


def test_adapter_count_by_hand_for_nemo_attention_targets():
    # fused linear_qkv d -> q + 2 kv and linear_proj q -> d, rank 16, 80 layers
    d, q, kv = 8192, 64 * 128, 8 * 128
    assert adapter_parameters(M, 16, "attention") == 80 * 16 * ((d + q + 2 * kv) + (q + d)) == 44_564_480
    # the engine's all-linear placement is the default, and grows linearly in the rank
    assert adapter_parameters(M, 16) == adapter_parameters(M, 16, "all_linear") == 2 * adapter_parameters(M, 8)


@pytest.mark.parametrize("targets", ["attention", "all_linear"])
def test_model_flops_by_hand_4n_frozen_6n_adapters(targets):
    full, lora = _solve(), _solve(is_lora=True, lora_rank=16, lora_targets=targets)
    tokens = GBS * SEQ
    n = M.matmul_parameters_per_token
    attn = M.expanded_attention_flops_per_token_per_context * SEQ
    n_a = adapter_parameters(M, 16, targets)
    assert _model_flops(full) == pytest.approx(tokens * (6 * n + 3 * attn), rel=1e-9)
    assert _model_flops(lora) == pytest.approx(tokens * (4 * n + 3 * attn + 6 * n_a), rel=1e-9)
    # no recomputation: hardware FLOPs are the model FLOPs
    assert lora.hfu == pytest.approx(lora.mfu)


def test_lora_step_is_faster_but_not_below_two_thirds_of_the_gemm_work():
    full, lora = _solve(), _solve(is_lora=True, lora_rank=16, lora_targets="attention")
    t_full, t_lora = full.latency.m_as("s"), lora.latency.m_as("s")
    assert t_lora < t_full
    # the frozen GEMMs drop one of three passes; attention, element-wise work and the adapters do not shrink
    assert t_lora > 2.0 / 3.0 * t_full
    assert lora.tokens_per_s_per_gpu > full.tokens_per_s_per_gpu
    # a higher rank costs more (thin GEMMs, more state), never less
    assert _solve(is_lora=True, lora_rank=64, lora_targets="attention").latency.m_as("s") >= t_lora


def test_memory_holds_frozen_weights_and_adapter_state_only():
    full, lora = _solve(), _solve(is_lora=True, lora_rank=16, lora_targets="attention")
    fm, lm = full.training_memory, lora.training_memory
    assert lm.weights == fm.weights            # frozen weights still held
    assert lm.activations == fm.activations    # the input gradient of every frozen GEMM needs its input
    per_gpu = adapter_parameters(M, 16, "attention") / 4  # split over TP4
    assert lm.gradients == pytest.approx(per_gpu * 2.0)   # 16-bit adapter gradients
    assert lm.optimizer_state == pytest.approx(per_gpu * 12.0)  # fp32 master + Adam m, v
    assert lm.total < fm.total - fm.gradients - fm.optimizer_state + 1e9
    # ZeRO 3 / FSDP shards the frozen weights as any weight; the adapters' state over the same ranks
    z3f, z3 = _solve(zero_stage=3), _solve(zero_stage=3, is_lora=True, lora_rank=16, lora_targets="attention")
    assert z3.training_memory.weights == z3f.training_memory.weights < lm.weights
    assert z3.training_memory.gradients == pytest.approx(per_gpu * 2.0 / 4)  # over DP4


def test_optimizer_time_and_gradient_traffic_scale_with_adapter_parameters():
    r16, r32 = (_solve(is_lora=True, lora_rank=k, lora_targets="attention") for k in (16, 32))
    full = _solve()
    assert r32.optimizer_time_s == pytest.approx(2.0 * r16.optimizer_time_s, rel=1e-12)
    params_full = full.optimizer_time_s  # Adam over the whole TP shard of the model
    ratio = adapter_parameters(M, 16, "attention") / M.parameter_count
    assert r16.optimizer_time_s / params_full == pytest.approx(ratio, rel=0.02)
    assert r16.dp_comm_time_s < full.dp_comm_time_s / 100


def test_is_lora_false_is_the_full_training_step():
    base = _solve()
    off = _solve(is_lora=False)
    assert off.latency == base.latency and off.mfu == base.mfu and off.training_memory == base.training_memory
    assert not any("LoRA" in r for r in base.reasons)
    assert any("LoRA rank 16 on attention" in r for r in _solve(is_lora=True, lora_rank=16,
                                                                lora_targets="attention").reasons)


def test_dualpipe_and_fsdp_pipelines_run_with_lora():
    kw = dict(seq_len=SEQ, tensor_parallel=4, pipeline_parallel=4, microbatch_size=1, runtime="nemo")
    sys_ = _cluster(4)
    full = DistributedModel().solve(M, sys_, 32, "bf16", pipeline_schedule="dualpipe", zero_stage=1, **kw)
    lora = DistributedModel().solve(M, sys_, 32, "bf16", pipeline_schedule="dualpipe", zero_stage=1,
                                    is_lora=True, lora_rank=16, **kw)
    assert lora.latency.m_as("s") < full.latency.m_as("s")
    assert lora.training_memory.optimizer_state < full.training_memory.optimizer_state / 100


@pytest.mark.parametrize("rank", [0, -4, 1.5, True, "16"])
def test_bad_rank_is_an_error(rank):
    with pytest.raises(InvalidInputError, match="lora_rank"):
        _solve(is_lora=True, lora_rank=rank)


def test_bad_inputs_are_errors():
    with pytest.raises(InvalidInputError, match="is_lora"):
        _solve(is_lora="yes")
    with pytest.raises(InvalidInputError, match="lora_targets"):
        _solve(is_lora=True, lora_targets="mlp")
    with pytest.raises(UnsupportedModelError, match="transformers"):
        DistributedModel().solve(mlsysim.Models.ResNet50, NODE, 64, "bf16", is_lora=True)
    moe = next(mlsysim.Models.get(n) for n in mlsysim.Models.names()
               if type(mlsysim.Models.get(n)).__name__ == "MoESpec")
    with pytest.raises(UnsupportedModelError, match="MoE"):
        DistributedModel().solve(moe, _cluster(8), 64, "bf16", tensor_parallel=8, seq_len=4096, is_lora=True)


def test_engine_counts_lora_model_flops_the_same_way():
    """Engine.solve(is_lora=True) and DistributedModel share core.lora.lora_model_flops: the frozen weights drop
    their weight-gradient pass (2/3 of their 6N), the attention core keeps all three passes, adapters add 6 N_a."""
    m, hw = mlsysim.Models.Llama3_8B, mlsysim.Hardware.H100
    full = mlsysim.Engine.solve(m, hw, batch_size=8, is_training=True)
    lora = mlsysim.Engine.solve(m, hw, batch_size=8, is_training=True, is_lora=True, lora_rank=16)
    tokens = 8 * full.seq_len
    adapters = 6.0 * adapter_parameters(m, 16) * tokens
    weights_only = 2.0 / 3.0 * full.flops + adapters  # as if attention shrank with the weights
    assert weights_only < lora.flops < full.flops
    # the attention core's third pass is what lies above the weights-only count: a third of its 3-pass FLOPs
    attention_3pass = 3.0 * (lora.flops - weights_only)
    assert 0.0 < attention_3pass < 0.5 * full.flops


@pytest.mark.parametrize("zero", [0, 1, 3])
@pytest.mark.parametrize("recompute", ["none", "selective_op", "full"])
@pytest.mark.parametrize("pp", [1, 4])
def test_lora_is_faster_and_smaller_in_every_layout(zero, recompute, pp):
    kw = dict(seq_len=SEQ, tensor_parallel=4, pipeline_parallel=pp, context_parallel=2, zero_stage=zero,
              activation_recomputation=recompute, runtime="nemo")
    sys_ = _cluster(8)
    full = DistributedModel().solve(M, sys_, 64, "bf16", **kw)
    lora = DistributedModel().solve(M, sys_, 64, "bf16", is_lora=True, lora_rank=16, **kw)
    assert lora.latency.m_as("s") < full.latency.m_as("s")
    assert lora.training_memory.total < full.training_memory.total
    assert lora.training_memory.activations == full.training_memory.activations
    assert lora.dp_comm_time_s < full.dp_comm_time_s and lora.optimizer_time_s < full.optimizer_time_s
