"""Memory per GPU of a training step, by part (plain floats, bytes).

Model states with mixed-precision Adam: 2 B weights + 2 B gradients + 12 B optimizer state (fp32 master
weights, first and second moments) per parameter; ZeRO stage 1 shards the optimizer state, 2 the gradients as
well, 3 (FSDP full shard) the weights too, over the data-parallel ranks (Rajbhandari et al. 2020, sec. 3.1 and
5). Transformer Engine fp8 keeps an fp8 copy of each weight beside the bf16 one (1 B).
Activations per layer per micro-batch (Korthikanti et al. 2022, sec. 4.1, eq. 1-2, with FlashAttention's
no-score-matrix): attention sbh x 11, MLP sbh x 19, norms sbh x 4 for a 4h GeLU MLP -- written here from the
tensors saved, so GQA and gated MLPs get their own widths. Tensor parallelism shards them except the
norm/dropout regions (10 sbh) unless sequence parallelism is on; full recomputation keeps each layer's input.
PyTorch-native stacks (the runtime's training.memory flags) differ from Megatron-Core in three places: DTensor TP
saves the all-gathered inputs of its column-parallel linears and LM head, its loss_parallel cross-entropy holds more
fp32 buffers, and torch.distributed.pipelining (< 2.8) keeps every micro-batch's stage output and receive buffers.
"""
from __future__ import annotations

from dataclasses import dataclass

OPTIMIZER_BYTES = 12.0
FP32_BYTES = 4.0
FP8_WEIGHT_COPY_BYTES = 1.0
# Unsharded part of a layer's activations under TP without sequence parallelism (Korthikanti eq. 2: 10 sbh).
UNSHARDED_WITHOUT_SP = 10.0
# Fragmentation of PyTorch's caching allocator: reserved minus allocated ~5-10 % of the peak in large training
# runs (PyTorch CUDA memory management notes; Megatron memory reports). 8 % taken. Estimate.
FRAGMENTATION_SHARE = 0.08
# Logits at the loss (last stage), bytes per token and vocabulary entry alive together at its peak, the start of
# backward under PyTorch's eager F.cross_entropy(logits.float()) as torchtitan calls it (train.py loss_fn, the
# bf16 logits freed by `del pred` before backward): the fp32 log-softmax output saved for backward (4), the
# fp32 gradient nll_loss_backward writes into a [T, V] tensor (4) and the fp32 gradient log_softmax_backward_data
# allocates beside both (4) (aten derivatives.yaml: nll_loss_backward, _log_softmax_backward_data). The forward
# peak (bf16 logits 2 + fp32 copy 4 + log-softmax output 4 = 10) is below it.
LOGITS_BYTES = 12.0
# The same peak under DTensor loss_parallel (torchtitan with TP: the LM head's logits stay sharded on the
# vocabulary): _nll_loss_and_log_softmax_backward (torch/distributed/tensor/parallel/loss.py) computes
# (zeros_like(x) + exp(x)) * grad beside the saved fp32 log-softmax x: x, the zeros, their sum and the product
# alive together, 4 x 4 B. (Its forward peak: bf16 logits 2 + fp32 copy 4 + shifted 4 + exp or result 4 = 14.)
LOSS_PARALLEL_LOGITS_BYTES = 16.0
# A pipeline stage that keeps each micro-batch's output until the step ends (torch.distributed.pipelining
# _PipelineStageBase.forward_one_chunk appended every stage's output to output_chunks until PyTorch PR #153383,
# 2025-05, kept it on the last stage only): the last stage's logits in the model's 16-bit dtype.
STAGE_OUTPUT_LOGITS_BYTES = 2.0
# Full-length inputs the column-parallel linears of a layer save under DTensor TP + SP (PrepareModuleInput all-
# gathers the attention and the feed-forward input once; wq/wk/wv and w1/w3 save that replicated tensor;
# torchtitan parallelize_llama.py apply_tp): two [tokens, d] tensors. Megatron-Core saves the shard and re-gathers
# it in backward (tensor_parallel/layers.py LinearWithGradAccumulation...: ctx.save_for_backward(input, weight),
# all_gather into a global buffer in backward).
GATHERED_LAYER_INPUTS = 2
# Their element width: 16-bit, or 1 B in float8 training, where torchao's PrepareFloat8ModuleInput casts the input
# to float8 before the all-gather so the Float8Linears save the fp8 tensor (torchao/float8/float8_tensor_parallel.py).
GATHERED_INPUT_BYTES, GATHERED_INPUT_BYTES_FP8 = 2.0, 1.0
# The LM head's input under DTensor TP + SP: ColwiseParallel(input_layouts=Shard(1)) all-gathers the final norm's
# output and saves it, 16-bit (torchtitan keeps the head out of Float8: float8.py module_filter_fn fqn != "output").
GATHERED_HEAD_INPUT_BYTES = 2.0
# FSDP prefetch keeps the next layer's gathered parameters beside the current one (Zhao et al. 2023, sec. 3.3).
FSDP_GATHERED_LAYERS = 2
# Width of a float8 linear's weight as FSDP all-gathers it under torchao's float8 all-gather: the float8 _data
# (1 B) wrapped as the unsharded Float8Tensor, no 16-bit copy (torchao/float8/fsdp_utils.py
# WeightWithDynamicFloat8CastTensor.fsdp_pre_all_gather / fsdp_post_all_gather, commit eab345c). The embedding and
# the LM head are no float8 linears (torchtitan float8.py module_filter_fn fqn != "output") and keep the 16-bit width.
FP8_GATHERED_WEIGHT_BYTES = 1.0
# FSDP2 without gradient sync between micro-batches (a pipeline stage's backward before the last micro-batch)
# accumulates each parameter's UNSHARDED gradient in the reduce dtype, fp32 in torchtitan
# (mixed_precision_reduce = "float32"): FSDPParam.to_accumulated_grad_if_needed upcasts it to
# unsharded_accumulated_grad (pytorch torch/distributed/fsdp/_fully_shard/_fsdp_param.py), kept until the
# last micro-batch's reduce-scatter: 4 B per parameter of the stage on this rank.
UNSHARDED_ACCUMULATED_GRAD_BYTES = 4.0

# Ring attention under PyTorch context parallelism with the all-gather rotation (torch/distributed/tensor/experimental
# /_attention.py _templated_ring_attention_backward, read at pytorch 0123248a; torchtitan's default
# context_parallel_rotate_method "allgather", config_manager.py at 9dec370): while one layer's attention runs backward
# a GPU holds every CP rank's K and V (16-bit, all-gathered once), fp32 accumulators for dQ, dK, dV
# (convert_to_f32), the fp32 dK/dV it sends on and the one it receives (all-to-all rotation), and one step's 16-bit
# dQ, dK, dV: bytes per element of the local query width, on top of 2 cp x the 16-bit width for the gathered K and V.
# torchtitan repeats the KV heads to the query heads before SDPA (model.py repeat_kv), so K and V have the query width.
RING_BWD_FP32_ACCUMULATORS = 3 * FP32_BYTES        # dQ, dK, dV
RING_BWD_FP32_DKV_EXCHANGE = 2 * 2 * FP32_BYTES    # the concatenated dK, dV sent and the one received
RING_BWD_STEP_GRADS = 3                            # one step's dQ, dK, dV in the 16-bit width


def ring_attention_backward_bytes(query_elements: float, cp: int, width: float) -> float:
    """Bytes of ring-attention backward buffers for `query_elements` local query elements (tokens x heads x
    head_dim on this GPU) over `cp` context-parallel ranks, `width` bytes per 16-bit element (constants above)."""
    if cp <= 1:
        return 0.0
    per_element = (2 * cp * width + RING_BWD_FP32_ACCUMULATORS + RING_BWD_FP32_DKV_EXCHANGE
                   + RING_BWD_STEP_GRADS * width)
    return query_elements * per_element


@dataclass(frozen=True)
class TrainingMemory:
    weights: float
    gradients: float
    optimizer_state: float
    activations: float
    buffers: float
    fragmentation: float
    capacity: float

    @property
    def total(self) -> float:
        return (self.weights + self.gradients + self.optimizer_state + self.activations + self.buffers
                + self.fragmentation)

    @property
    def fits(self) -> bool:
        return self.total <= self.capacity

    def as_dict(self) -> dict[str, float]:
        return {"weights": self.weights, "gradients": self.gradients, "optimizer_state": self.optimizer_state,
                "activations": self.activations, "buffers": self.buffers, "fragmentation": self.fragmentation,
                "capacity": self.capacity, "total": self.total}


def layer_activation_bytes(seq_tokens: float, d: int, qkv_width: float, ffn_in: float, ffn_width: float,
                           tp: int, sp: bool, recompute: str, gathered: float = 0.0) -> float:
    """Bytes saved for backward by one layer for `seq_tokens` tokens (16-bit tensors, 1 B dropout masks).
    gathered: element width (B) of the all-gathered inputs of the column-parallel linears the stack keeps where
    sequence parallelism would shard them (GATHERED_LAYER_INPUTS), 0 for none; op-level selective recomputation
    replays the all-gathers."""
    s = seq_tokens
    if recompute == "full":
        return 2.0 * s * d / (tp if sp else 1)  # the layer's input only (Korthikanti sec. 4.3)
    if recompute == "selective_op":
        # torchtitan op-level policy: the layer input, the outputs of wq (d), wv (one KV width), the attention core
        # (d), w1 (ffn) and w2 (d), 16-bit (torchtitan parallelize_llama.py _save_list, every other mm saved)
        kv = (qkv_width - d) / 2.0
        return 2.0 * s * (4 * d + kv + ffn_width) / tp
    attn = 2 * s * d + 2 * s * qkv_width + 2 * s * d + s * d      # norm out, Q K V, attention out, dropout mask
    mlp = 2 * s * d + 2 * s * ffn_in + 2 * s * ffn_width + s * d   # norm out, up(+gate) out, act out, mask
    norms = 4 * s * d
    total = attn + mlp + norms
    if tp == 1:
        return total
    if sp:
        # Korthikanti eq. 4 (everything / t with SP, the two 16-bit norm outputs among it); DTensor TP holds those two
        # at full length instead, in the gathered width.
        if gathered:
            return total / tp + GATHERED_LAYER_INPUTS * s * d * (gathered - GATHERED_INPUT_BYTES / tp)
        return total / tp
    return UNSHARDED_WITHOUT_SP * s * d + (total - UNSHARDED_WITHOUT_SP * s * d) / tp


def stage_memory(params: float, acts: float, wb: float, fp8: bool, zero_stage: int, ranks: int,
                 buffers: float, trained: float | None = None) -> tuple[float, float, float, float, float, float]:
    """(weights, gradients, optimizer state, activations, buffers, fragmentation) of one stage's GPU holding
    `params` parameters and `acts` bytes of saved activations, ZeRO-sharded over `ranks` (module docstring).
    trained: the parameters with gradients and optimizer state (None: all; LoRA: the adapters, the frozen rest
    held as weights only, sharded by ZeRO 3 / FSDP like any weight)."""
    trained = params if trained is None else trained
    # ZeRO 3 / FSDP gathers each layer's weights (fp8 all-gather or a cast after it) only while it runs: the fp8
    # copy is sharded with the weights (torchao float8 enable_fsdp_float8_all_gather; Zhao et al. 2023 sec. 3).
    weights = params * (wb + (FP8_WEIGHT_COPY_BYTES if fp8 else 0.0)) / (ranks if zero_stage >= 3 else 1)
    grads = trained * wb / (ranks if zero_stage >= 2 else 1)
    # fp32 master + Adam m, v (12 B) in mixed precision; fp32 training keeps only m and v beside the weights.
    opt_bytes = OPTIMIZER_BYTES if wb < FP32_BYTES else OPTIMIZER_BYTES - FP32_BYTES
    opt = trained * opt_bytes / (ranks if zero_stage >= 1 else 1)
    return weights, grads, opt, acts, buffers, FRAGMENTATION_SHARE * acts
