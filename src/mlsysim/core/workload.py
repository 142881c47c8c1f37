"""What one pass of a model costs, independent of hardware: FLOPs, bytes stored and bytes moved.

All values are plain floats (FLOPs, bytes). Each formula cites its basis in a one-line comment.
"""
from __future__ import annotations

import attrs

from ..errors import InvalidInputError, UnsupportedModelError
from ..specs.models import (DiffusionSpec, FixedGraphSpec, ModelSpec, MoESpec, RecommendationSpec, SSMSpec,
                            TransformerSpec)
from . import attention_span
from .precision import ExecutionPrecision

# Kernels one fused transformer layer dispatches at inference: norm, QKV GEMM, RoPE, attention, O GEMM,
# residual+norm, gate/up GEMM + activation, down GEMM (vLLM/TensorRT-LLM layer structure).
KERNELS_PER_TRANSFORMER_LAYER = 8
# Mamba block kernels: norm, in_proj, conv1d, x_proj+dt_proj, selective scan, out_proj (Gu & Dao 2023, fig. 3).
KERNELS_PER_SSM_LAYER = 6
# Bytes of optimizer state per parameter for mixed-precision Adam: fp32 master copy, momentum and variance
# (Rajbhandari et al. 2020, ZeRO, sec. 3.1: "K = 12").
ADAM_STATE_BYTES_MIXED = 12.0
# Plain fp32 Adam keeps only momentum and variance beside the fp32 weights.
ADAM_STATE_BYTES_FP32 = 8.0
# Activation bytes per layer per token x hidden, 16-bit, without recomputation: 34 s b h (+5 a s^2 b for the
# attention matrix, which FlashAttention never stores) -- Korthikanti et al. 2022, eq. (1).
ACTIVATION_FACTOR_NO_RECOMPUTE = 34.0
# With full recomputation only the layer input (2 s b h bytes, 16-bit) is stored (Korthikanti et al. 2022, sec. 4).
ACTIVATION_FACTOR_FULL_RECOMPUTE = 2.0
RECOMPUTATION = ("none", "selective", "full")
# Widest tensors live at once inside one transformer layer, in units of the hidden size: residual stream,
# normalised input, attention output and its projection (4 d), plus the FFN's up and gate outputs (2 x ffn).
LIVE_HIDDEN_TENSORS = 4
LIVE_FFN_TENSORS = 2
# DLRM live activations besides the gathered embeddings: dense-feature input, bottom-MLP output, interaction
# output and top-MLP input, each about embedding_dim wide (Naumov et al. 2019, fig. 1).
DLRM_DENSE_TENSORS = 4
ATTENTION_CORE_PHASE = 1  # position of the attention-core phase in transformer_cost


@attrs.frozen
class TrainingOptions:
    zero_stage: int = 0
    dp_size: int = 1
    recomputation: str = "none"


@attrs.frozen
class WorkloadCost:
    model_flops: float          # useful FLOPs of the pass (MFU numerator)
    hardware_flops: float       # FLOPs executed, including recomputation
    weight_traffic: float       # bytes of weights read from the memory holding them
    other_traffic: float        # bytes of KV cache, activations, optimizer state moved
    weights: float              # bytes held: weights
    kv_cache: float             # bytes held: KV cache / recurrent state
    activations: float          # bytes held: live activations
    gradients: float            # bytes held: gradients (training)
    optimizer_state: float      # bytes held: optimizer state (training)
    kernels: int                # kernel launches / layer dispatches
    items: float                # tokens or samples produced
    item_unit: str              # "token" or "sample"
    notes: tuple[str, ...] = ()
    # Optional per-kernel phases (hardware FLOPs, weight bytes, other bytes), each bounded on its own roof;
    # their totals equal the aggregate fields above.
    phases: tuple[tuple[float, float, float], ...] = ()


def _training_state(params: float, prec: ExecutionPrecision, opts: TrainingOptions) -> tuple[float, float, float]:
    """Weights, gradients and optimizer bytes per device with ZeRO stage 1/2/3 sharding over dp_size
    (Rajbhandari et al. 2020, fig. 1)."""
    mixed = prec.compute != "fp32"
    w = params * prec.weight_bytes
    g = params * prec.weight_bytes
    o = params * (ADAM_STATE_BYTES_MIXED if mixed else ADAM_STATE_BYTES_FP32)
    n = float(opts.dp_size)
    if opts.zero_stage >= 1:
        o /= n
    if opts.zero_stage >= 2:
        g /= n
    if opts.zero_stage >= 3:
        w /= n
    return w, g, o


def transformer_cost(m: TransformerSpec, batch: int, seq_len: int, prec: ExecutionPrecision,
                     training: TrainingOptions | None, prefill: bool = False,
                     lengths: tuple[float, float] | None = None) -> WorkloadCost:
    """Decode step (decoders), forward pass (encoders) or training step, as five kernel phases per layer --
    QKV/O projections, attention, FFN, element-wise ops (norms, residuals, activation), LM head -- each
    bounded by its own roof (a GEMM phase can be compute-bound while the norms stay memory-bound).

    lengths: (E[L], E[L^2]) of a packed ragged batch (mlsysim.core.ragged); None: every sequence is seq_len."""
    wb, ab = prec.weight_bytes, prec.activation_bytes
    L, d, vocab = m.layers, m.hidden_size, m.vocab_size
    moe = isinstance(m, MoESpec)
    decode = training is None and m.architecture != "encoder" and not prefill
    tokens = batch if decode else batch * seq_len
    # Context per query: the whole cache when decoding, all S in an encoder, S/2 on average under a causal mask.
    context = seq_len if (decode or m.architecture == "encoder") else seq_len / 2.0
    cached = batch * seq_len  # tokens held in (and read from) the KV cache when decoding
    # FLOPs per query-key pair: a decode step scores MLA's cached latent (absorbed), a prompt, an encoder pass and
    # a training step expand keys and values per head (TransformerSpec.expanded_attention_flops_per_token_per_context)
    per_pair = m.attention_flops_per_token_per_context if decode else m.expanded_attention_flops_per_token_per_context
    if lengths is not None:
        # Packed ragged batch: linear work over sum L = n E[L]; attention query-key pairs sum L = n E[L] when
        # decoding (one query per sequence), sum L^2 = n E[L^2] bidirectional, sum L^2 / 2 causal.
        mean, mean_square = lengths
        cached = batch * mean
        tokens = batch if decode else cached
        pairs = cached if decode else batch * mean_square * (1.0 if m.architecture == "encoder" else 0.5)
        attn_flops = per_pair * pairs
    else:
        attn_flops = per_pair * context * tokens
    # windowed / linear / sparse layers (core/attention_span.py): capped attention and KV, per sequence
    span = not m.spans_whole_context and m.architecture != "encoder"
    span_len = (cached / batch) if span else 0.0  # tokens per sequence (E[L] when ragged)
    if span:
        attn_flops = tokens * attention_span.attention_flops_per_query(m, span_len, causal_prompt=not decode)
    ffn_width = (m.expert_ffn_size * (m.experts_per_token + m.shared_experts)) if moe else m.mean_ffn_size
    qkv_width = (m.heads + 2 * m.kv_heads) * m.head_dim
    attn_w = L * m.attention_parameters_per_layer
    head_w = vocab * d if m.architecture != "encoder" else 0
    ffn_flop_w = m.matmul_parameters_per_token - attn_w - head_w  # FFN/expert weights each token multiplies
    ffn_read_w = (m.streamed_parameters(tokens) - attn_w - head_w) if moe else ffn_flop_w
    # Logits: every position when training, the last position of each sequence when generating.
    head_tokens = batch if (decode or prefill) else (tokens if m.architecture != "encoder" else 0)
    logit_bytes = 4.0 if training is not None else ab  # training keeps fp32 logits for the loss

    if decode and span:  # the capped caches and states, read once; this token's K, V and states written
        attn_other = (batch * attention_span.read_elements_per_query(m, span_len)
                      + tokens * attention_span.written_elements_per_token(m)) * ab
    elif decode:  # read the whole KV cache once, append this step's K and V (Pope et al. 2022, sec. 3.1)
        attn_other = (cached + tokens) * m.kv_elements_per_token * ab
    else:  # fused (Flash) attention reads Q, K, V and writes O; the S x S scores stay on chip (Dao et al. 2022)
        attn_other = L * tokens * (qkv_width + m.heads * m.head_dim) * ab
    phases = (  # ATTENTION_CORE_PHASE indexes the second entry
        # (FLOPs, weight bytes, other bytes); FLOPs = 2 x MACs of each matmul (Kaplan et al. 2020)
        (2.0 * tokens * attn_w, attn_w * wb, L * tokens * (2 * d + qkv_width + m.heads * m.head_dim) * ab),
        (attn_flops, 0.0, attn_other),
        (2.0 * tokens * ffn_flop_w, ffn_read_w * wb,
         L * tokens * (2 * d + (3 if m.ffn_gated else 2) * ffn_width) * ab),
        # Two norms (read+write) and two residual adds (2 reads + 1 write) over d, activation over the FFN width.
        (0.0, 0.0, L * tokens * (10 * d + (3 if m.ffn_gated else 2) * ffn_width) * ab),
        (2.0 * head_tokens * head_w, head_w * wb, head_tokens * (d * ab + vocab * logit_bytes)),
    )
    kernels = L * KERNELS_PER_TRANSFORMER_LAYER + 2
    fwd = sum(p[0] for p in phases)
    if training is None:
        kv = cached * m.kv_elements_per_token * ab if decode else 0.0
        if decode and span:
            kv = batch * m.kv_elements_at(span_len) * ab
        live = (batch if decode else tokens) * (LIVE_HIDDEN_TENSORS * d + LIVE_FFN_TENSORS * ffn_width) * ab \
            + head_tokens * vocab * ab
        if prefill:  # the prompt's K and V are written to the cache (Pope et al. 2022, sec. 3.1)
            kv = (batch * m.kv_elements_at(span_len) if span else tokens * m.kv_elements_per_token) * ab
            phases = phases[:1] + ((phases[1][0], phases[1][1], phases[1][2] + kv),) + phases[2:]
        return WorkloadCost(fwd, fwd, sum(p[1] for p in phases), sum(p[2] for p in phases), m.parameter_count * wb,
                            kv, live, 0.0, 0.0, kernels, float(tokens if prefill else batch),
                            "token" if (decode or prefill) else "sample", phases=phases)
    factor = {"none": ACTIVATION_FACTOR_NO_RECOMPUTE, "selective": ACTIVATION_FACTOR_NO_RECOMPUTE,
              "full": ACTIVATION_FACTOR_FULL_RECOMPUTE}[training.recomputation]
    acts = L * factor * tokens * d * (ab / 2.0) + tokens * vocab * 4.0  # + fp32 logits
    w, g, o = _training_state(m.parameter_count, prec, training)
    # Backward costs two forwards (input and weight gradients): 6N per token (Kaplan et al. 2020). Full
    # recomputation replays the whole forward; selective recomputation replays only the attention core
    # (Korthikanti et al. 2022, sec. 5). Weights are read in every pass.
    replay = {"none": (0.0,) * len(phases), "full": (1.0,) * len(phases),
              "selective": tuple(1.0 if i == ATTENTION_CORE_PHASE else 0.0 for i in range(len(phases)))}
    train_phases = tuple(((3.0 + r) * f, (3.0 + r) * wt, (3.0 + r) * ot)
                         for (f, wt, ot), r in zip(phases, replay[training.recomputation]))
    # Adam step: read the gradients, read and write master weights and both moments, write the 16-bit copy.
    train_phases += ((0.0, 0.0, g + 2.0 * o + w),)
    return WorkloadCost(3.0 * fwd, sum(p[0] for p in train_phases), sum(p[1] for p in train_phases),
                        sum(p[2] for p in train_phases), w, 0.0, acts, g, o, 3 * kernels, float(tokens), "token",
                        phases=train_phases)


def ssm_cost(m: SSMSpec, batch: int, seq_len: int, prec: ExecutionPrecision,
             training: TrainingOptions | None) -> WorkloadCost:
    if training is not None:
        raise UnsupportedModelError(f"training of state-space models ({m.name}) is not modelled yet; "
                                    "use is_training=False")
    wb, ab = prec.weight_bytes, prec.activation_bytes
    # Decode step: projections 2N per token + selective-scan update ~ 9 x inner x state per layer
    # (discretise A and B, update h, read out C: Gu & Dao 2023, alg. 2).
    flops = batch * (2.0 * m.matmul_parameters_per_token + 9.0 * m.layers * m.inner_size * m.state_size)
    state = batch * m.state_elements * ab
    return WorkloadCost(flops, flops, m.matmul_parameters_per_token * wb, 2.0 * state, m.parameter_count * wb, state,
                        batch * (2 * m.inner_size + m.vocab_size) * ab, 0.0, 0.0,
                        m.layers * KERNELS_PER_SSM_LAYER + 2, float(batch), "token",
                        ("decode step: the recurrent state replaces the KV cache; seq_len does not change the cost",))


def fixed_graph_cost(m: ModelSpec, batch: int, prec: ExecutionPrecision,
                     training: TrainingOptions | None) -> WorkloadCost:
    wb, ab = prec.weight_bytes, prec.activation_bytes
    params = m.parameter_count
    if isinstance(m, RecommendationSpec):
        # Embedding rows gathered per sample (Naumov et al. 2019) plus the dense MLP weights.
        fwd = batch * m._flops_per_sample
        gathered = batch * m.lookups_per_sample * m.embedding_dim * wb
        acts_live = batch * (m.lookups_per_sample + DLRM_DENSE_TENSORS) * m.embedding_dim * ab
        if training is not None:
            raise UnsupportedModelError("training of recommendation models is not modelled yet")
        return WorkloadCost(fwd, fwd, m.dense_parameters * wb, gathered + 2 * acts_live, params * wb, 0.0,
                            acts_live, 0.0, 0.0, m.layers, float(batch), "sample")
    assert isinstance(m, (FixedGraphSpec, DiffusionSpec))
    fwd = batch * m._flops_per_sample
    act_traffic = 2.0 * batch * m.activations_per_sample * ab  # each layer output written once, read once
    live = batch * m.peak_activations_per_sample * ab
    notes = ("one forward pass = one denoising step",) if isinstance(m, DiffusionSpec) else ()
    table = getattr(m, "layer_table", None)
    if training is None and table is not None:
        # Per-layer roofline: each kernel reads its input and weights and writes its output, and is bound by
        # its own roof (Williams et al. 2009 applied per kernel), so early activation-heavy layers stay
        # memory-bound while late layers are compute-bound.
        phases = tuple((2.0 * macs * batch, p * wb, batch * (inp + out) * ab) for macs, inp, out, p in table.rows)
        return WorkloadCost(sum(ph[0] for ph in phases), sum(ph[0] for ph in phases), params * wb,
                            sum(ph[2] for ph in phases), params * wb, 0.0, live, 0.0, 0.0, len(phases),
                            float(batch), "sample", notes + ("per-layer roofline over the catalog layer table",),
                            phases)
    if training is None:
        return WorkloadCost(fwd, fwd, params * wb, act_traffic, params * wb, 0.0, live, 0.0, 0.0, m.layers,
                            float(batch), "sample", notes)
    w, g, o = _training_state(params, prec, training)
    saved = batch * m.activations_per_sample * ab  # backward needs every layer output
    return WorkloadCost(3.0 * fwd, 3.0 * fwd, 3.0 * params * wb, 3.0 * act_traffic + g + 2.0 * o + w, w, 0.0,
                        saved + live, g, o, 3 * m.layers, float(batch), "sample", notes)


def workload_cost(model: ModelSpec, batch: int, seq_len: int, prec: ExecutionPrecision,
                  training: TrainingOptions | None, prefill: bool = False,
                  lengths: tuple[float, float] | None = None) -> WorkloadCost:
    """lengths: (E[L], E[L^2]) of a packed ragged batch, transformers only (a state-space decode step does not
    depend on the context); None: every sequence has seq_len tokens."""
    if model.architecture in ("encoder_decoder", "ssm2"):  # spec modules beside specs/models.py
        from .encoder_decoder_cost import encoder_decoder_cost
        from .mamba2_cost import mamba2_cost

        cost_of = encoder_decoder_cost if model.architecture == "encoder_decoder" else mamba2_cost
        return cost_of(model, batch, seq_len, prec, training, prefill)
    if prefill and not (isinstance(model, TransformerSpec) and model.architecture != "encoder"):
        raise UnsupportedModelError(f"prefill is modelled for decoder transformers only, not {model.name!r}")
    if isinstance(model, TransformerSpec) and getattr(model, "front_end", None) is not None:  # specs/speech_encoder.py
        from .speech_encoder_cost import speech_encoder_cost

        return speech_encoder_cost(model, batch, seq_len, prec, training, lengths)
    if isinstance(model, TransformerSpec):
        return transformer_cost(model, batch, seq_len, prec, training, prefill, lengths)
    if isinstance(model, SSMSpec):
        return ssm_cost(model, batch, seq_len, prec, training)
    if isinstance(model, (FixedGraphSpec, DiffusionSpec, RecommendationSpec)):
        return fixed_graph_cost(model, batch, prec, training)
    raise UnsupportedModelError(f"the single-device engine cannot evaluate {type(model).__name__} "
                                f"({getattr(model, 'name', model)!r}); supported: transformers (decoder, encoder, "
                                "MoE), state-space, CNN/MLP, diffusion and recommendation specs")


def check_training_options(zero_stage: object, dp_size: object, recomputation: object) -> TrainingOptions:
    if zero_stage not in (0, 1, 2, 3) or isinstance(zero_stage, bool):
        raise InvalidInputError(f"zero_stage must be 0, 1, 2 or 3, got {zero_stage!r}")
    if isinstance(dp_size, bool) or not isinstance(dp_size, int) or dp_size < 1:
        raise InvalidInputError(f"dp_size must be a positive int, got {dp_size!r}")
    if recomputation is True:
        recomputation = "full"
    if recomputation in (False, None):
        recomputation = "none"
    if recomputation not in RECOMPUTATION:
        raise InvalidInputError(f"activation_recomputation must be one of {RECOMPUTATION}, got {recomputation!r}")
    return TrainingOptions(zero_stage, dp_size, recomputation)  # type: ignore[arg-type]
