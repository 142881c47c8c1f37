"""LoRA fine-tuning step: frozen base weights, trainable low-rank adapters (Hu et al. 2021, arXiv:2106.09685).

The adapter of a d_in x d_out matrix is B (d_out x r) A (r x d_in): r (d_in + d_out) parameters. Only adapters
get gradients and optimizer state; the frozen matrices still pass input gradients back, so a GEMM phase costs
forward + input-gradient (2 passes) instead of forward + input- and weight-gradient (3 passes).
"""
from __future__ import annotations

import attrs

from ..errors import InvalidInputError, UnsupportedModelError
from ..specs.models import MoESpec, TransformerSpec
from .precision import ExecutionPrecision
from .workload import ATTENTION_CORE_PHASE, TrainingOptions, WorkloadCost, _training_state

# Hugging Face PEFT LoraConfig default rank r = 8 (peft/tuners/lora/config.py).
DEFAULT_LORA_RANK = 8
# Passes over a frozen matrix in a training step: forward and input gradient (no weight gradient).
FROZEN_PASSES = 2.0
TRAINED_PASSES = 3.0  # forward, input gradient, weight gradient (Kaplan et al. 2020: 6N per token)


# Where the adapters go. "all_linear": every linear layer of each block, Q, K, V, O and the FFN projections each
# with its own adapter (QLoRA, Dettmers et al. 2023, sec. 4, finds all-linear adapters needed to match full
# fine-tuning; Hugging Face PEFT target_modules="all-linear"). "attention": NeMo's target_modules ['attention'], the
# fused linear_qkv (d -> q + 2 kv) and linear_proj (q -> d), one adapter each (NeMo
# nemo/collections/nlp/parts/peft_config.py get_target_modules / LoraPEFTConfig), as MLPerf Training's
# llama2_70b_lora runs it (megatron_gpt_peft_tuning_config.yaml: target_modules ['attention'], adapter_dim 16).
LORA_TARGETS = ("all_linear", "attention")
DEFAULT_LORA_TARGETS = "all_linear"


def adapter_matrices(m: TransformerSpec, targets: str = DEFAULT_LORA_TARGETS
                     ) -> tuple[tuple[float, float, bool], ...]:
    """(d_in, d_out, row_parallel) of each adapted matrix of one block (LORA_TARGETS); row_parallel marks the
    matrices Megatron-LM splits on their input (attention output, FFN down projection; Shoeybi et al. 2019 sec. 3)."""
    if targets not in LORA_TARGETS:
        raise InvalidInputError(f"lora_targets must be one of {LORA_TARGETS}, got {targets!r}")
    d, q, kv = m.hidden_size, m.heads * m.head_dim, m.kv_heads * m.head_dim
    if targets == "attention":
        return ((d, q + 2 * kv, False), (q, d, True))
    ffn = m.expert_ffn_size * (m.experts_per_token + m.shared_experts) if isinstance(m, MoESpec) else m.mean_ffn_size
    ffn_in = ((d, ffn, False), (d, ffn, False)) if m.ffn_gated else ((d, ffn, False),)
    return ((d, q, False), (d, kv, False), (d, kv, False), (q, d, True)) + ffn_in + ((ffn, d, True),)


def adapter_parameters(m: TransformerSpec, rank: int, targets: str = DEFAULT_LORA_TARGETS) -> float:
    """r x (d_in + d_out) per adapted matrix (B A, Hu et al. 2021 sec. 4.1), over every layer."""
    return float(m.layers * rank * sum(i + o for i, o, _ in adapter_matrices(m, targets)))


def lora_model_flops(frozen_forward: float, attention_forward: float, adapters: float, tokens: float) -> float:
    """Model FLOPs (the MFU numerator) of a LoRA step from the forward FLOPs of its frozen weight GEMMs and of its
    attention core: the frozen weights count forward + input gradient (4N per token, not 6N), the attention core
    (no weights) its three passes, the adapters 6 N_a per token as trained weights -- Megatron-Bridge's LoRA count
    (NVIDIA-NeMo/Megatron-Bridge src/megatron/bridge/training/utils/flop_utils.py: the weight terms x 2/3, the
    attention sequence term unscaled; it leaves the adapters out, 0.1 % of Llama 2 70B's at rank 16)."""
    return (FROZEN_PASSES * frozen_forward + TRAINED_PASSES * attention_forward
            + 2.0 * TRAINED_PASSES * adapters * tokens)


def check_lora(is_lora: object, rank: object, training: bool) -> int | None:
    if not isinstance(is_lora, bool):
        raise InvalidInputError(f"is_lora must be True or False, got {is_lora!r}")
    if not is_lora:
        return None
    if not training:
        raise InvalidInputError("is_lora applies to a training step: pass is_training=True")
    if isinstance(rank, bool) or not isinstance(rank, int) or rank < 1:
        raise InvalidInputError(f"lora_rank must be a positive int, got {rank!r}")
    return rank


def lora_cost(full: WorkloadCost, m: object, prec: ExecutionPrecision, opts: TrainingOptions,
              rank: int) -> WorkloadCost:
    """The full-training cost of `m` turned into a LoRA step: weight-bearing phases drop from 3 to 2 passes
    (+ the adapters' own 6 FLOPs per parameter per token), gradients and Adam state shrink to the adapters."""
    if not isinstance(m, TransformerSpec):
        raise UnsupportedModelError(f"LoRA is modelled for transformers, not {getattr(m, 'name', m)!r}")
    n_a = adapter_parameters(m, rank)
    tokens = full.items
    phases = []
    # Full recomputation replays every forward once more (selective replays only the weightless attention core).
    replay = 1.0 if opts.recomputation == "full" else 0.0
    scale = (FROZEN_PASSES + replay) / (TRAINED_PASSES + replay)
    for flops, w_bytes, o_bytes in full.phases[:-1]:  # the last phase is the optimizer step
        if w_bytes > 0.0:  # a GEMM phase over frozen weights
            flops, w_bytes = flops * scale, w_bytes * scale
        phases.append((flops, w_bytes, o_bytes))
    adapter_flops = 2.0 * TRAINED_PASSES * n_a * tokens  # 6 N_a per token, Kaplan et al. 2020
    phases[0] = (phases[0][0] + adapter_flops, phases[0][1] + TRAINED_PASSES * n_a * prec.weight_bytes,
                 phases[0][2])
    w_a, g_a, o_a = _training_state(n_a, prec, opts)
    phases.append((0.0, 0.0, g_a + 2.0 * o_a + w_a))  # Adam over the adapters only
    base_weights = m.parameter_count * prec.weight_bytes  # frozen: never sharded by ZeRO, no master copy
    attn_replay = 1.0 if opts.recomputation in ("full", "selective") else 0.0  # the attention core's replay
    attention = full.phases[ATTENTION_CORE_PHASE][0] / (TRAINED_PASSES + attn_replay)
    model_flops = lora_model_flops(full.model_flops / TRAINED_PASSES - attention, attention, n_a, tokens)
    return attrs.evolve(
        full, model_flops=model_flops, hardware_flops=sum(p[0] for p in phases),
        weight_traffic=sum(p[1] for p in phases), other_traffic=sum(p[2] for p in phases),
        weights=base_weights + w_a, gradients=g_a, optimizer_state=o_a, phases=tuple(phases),
        notes=full.notes + (f"LoRA rank {rank}: {n_a / 1e6:.1f} M adapter parameters trained, "
                            f"{m.parameter_count / 1e9:.2f} B frozen",))
