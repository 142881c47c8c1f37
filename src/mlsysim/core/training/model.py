"""Distributed training on a node or cluster (experimental): tensor (+ sequence), context, expert, pipeline
(1F1B / interleaved / DualPipe) and data parallelism with ZeRO 0-3, as the catalog's training stacks run them.

One optimizer step of `batch_size` sequences (the global batch) of `seq_len` tokens. Each stage's slot is its
layers' forward + backward (+ recomputation) of one micro-batch and their exposed TP, CP and EP collectives, plus
the embedding on the first stage and the LM head and loss on the last (core.training.stages):
  step = m x slowest slot + bubble + exposed PP + exposed DP/FSDP + optimizer
  bubble = (sum of the stages' slots - the slowest) / v  (= (pp - 1) / v slots for equal stages: Narayanan et al.
  2021, eq. 1 and sec. 2.2.2); DualPipe: (pp/2 - 1)(F&B + B - 3W) of the mean chunk, each GPU holding two stages
  (DeepSeek-V3 report, Table 2; core.training.pipeline)
LoRA fine-tuning (is_lora): the same step over frozen base weights with trained low-rank adapters (core.lora;
core.training.compute.lora_micro_cost for the per-chunk compute).
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from ...errors import InvalidInputError, UnsupportedModelError
from ...specs.models import MoESpec, TransformerSpec
from ...units import quantity
from ..lora import (DEFAULT_LORA_RANK, DEFAULT_LORA_TARGETS, adapter_matrices, adapter_parameters, check_lora,
                    lora_model_flops)
from ..inputs import Source, check_efficiency, check_outputs, check_positive_int, resolve_model
from ..power import average_power
from ..precision import resolve_precision
from ..results import MemoryBreakdown
from ..solver import ForwardModel, RooflineModel, _sequence_length, calibration_class, mfu_source, resolve_runtime
from . import comm
from .compute import ATTENTION_BACKWARD_FACTOR, DEFAULT_LAYER_KERNELS, lora_micro_cost, micro_cost
from .context import a2a_time as cp_a2a_time, check_cp_comm_type, ring_exposed, ring_step_time
from .layout import build_layout, topology
from .memory import (FP8_GATHERED_WEIGHT_BYTES, FSDP_GATHERED_LAYERS, GATHERED_HEAD_INPUT_BYTES, GATHERED_INPUT_BYTES,
                     GATHERED_INPUT_BYTES_FP8, LOGITS_BYTES, LOSS_PARALLEL_LOGITS_BYTES, STAGE_OUTPUT_LOGITS_BYTES,
                     UNSHARDED_ACCUMULATED_GRAD_BYTES, TrainingMemory, layer_activation_bytes,
                     ring_attention_backward_bytes, stage_memory)
from .pipeline import dualpipe_bubble, dualpipe_inflight_chunks, inflight_microbatches
from .result import DistributedResult, LazyProfile
from .stack import TrainingStack, training_stack
from .stages import StageSplit, device_loads, pipeline_time, stage_layers, stage_slots
from .legacy import legacy_step, refuse_unmodelled, renamed

# Adam step bytes per parameter of the local shard: read fp32 master, m, v (12) and the gradient (2), write
# master, m, v (12) and the bf16 weight (2) -- one fused multi-tensor pass (apex/TE FusedAdam). Gradient
# clipping reads the gradients once more (2) (Pascanu et al. 2013 norm clipping).
ADAM_BYTES_PER_PARAM = 28.0
CLIP_BYTES_PER_PARAM = 2.0
# "selective": Korthikanti et al. 2022 sec. 5 (the attention core replayed; Megatron-Core --recompute-granularity
# selective). "selective_op": torchtitan's op-level policy (activation_checkpoint mode "selective", option "op",
# torchtitan/parallelisms/parallelize_llama.py _save_list): every other matmul's output, the attention output and
# the layer input are saved; the other matmuls (wk, wo, w3 of a Llama layer) and the element-wise ops are replayed.
RECOMPUTATION = ("none", "selective", "selective_op", "full")
# Embedding bytes per token over d: forward gathers the rows (read + write), backward scatter-adds the gradient
# into the table (read the incoming gradient, read + write the rows). Memory-bound, 5 passes.
EMBEDDING_PASSES = 5.0
# Of them the backward's scatter-add (read the gradient, read + write the rows): a weight gradient only.
EMBEDDING_BACKWARD_PASSES = 3.0
OVERLAP_KINDS = ("tp", "dp", "param", "pp", "cp", "ep")


def _recompute_name(value: Any) -> str:
    if value is True:
        return "full"
    if value is False or value is None:
        return "none"
    if value not in RECOMPUTATION:
        raise InvalidInputError(f"activation_recomputation must be one of {RECOMPUTATION} (or True/False), "
                                f"got {value!r}")
    return value


def _apply_overlap(stack: TrainingStack, overlap: Any) -> TrainingStack:
    """overlap=None or True: the runtime's documented overlap; False: none; a dict {kind: share}."""
    if overlap is None or overlap is True:
        return stack
    if overlap is False:
        return replace(stack, tp_overlap=0.0, grad_overlap=0.0, param_overlap=0.0, pp_overlap=0.0, cp_overlap=0.0,
                       ep_overlap=0.0)
    if isinstance(overlap, dict):
        bad = [k for k in overlap if k not in OVERLAP_KINDS]
        if bad:
            raise InvalidInputError(f"overlap keys are {OVERLAP_KINDS}; got {bad}")
        for k, v in overlap.items():
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.0 <= v <= 1.0:
                raise InvalidInputError(f"overlap[{k!r}] must be a share in [0, 1], got {v!r}")
        g = overlap.get
        return replace(stack, tp_overlap=g("tp", stack.tp_overlap), grad_overlap=g("dp", stack.grad_overlap),
                       param_overlap=g("param", stack.param_overlap), pp_overlap=g("pp", stack.pp_overlap),
                       cp_overlap=g("cp", stack.cp_overlap), ep_overlap=g("ep", stack.ep_overlap))
    raise InvalidInputError(f"overlap must be None, True, False or a dict of shares by kind {OVERLAP_KINDS}, "
                            f"got {overlap!r}")


def _dualpipe_parameters(stage_params: list[float], pp: int) -> list[float]:
    """Parameters on each distinct DualPipe GPU [ends, (middle)]: GPU r holds stages r and p - 1 - r
    (core.training.pipeline), so the end GPUs the first and the last stage, the others two middle stages."""
    ends = stage_params[0] + stage_params[-1]
    return [ends] + ([2.0 * stage_params[1]] if pp > 2 else [])


def _stage_parameters(m: Any, tp: int, pp: int, ep: int, split: StageSplit) -> tuple[list[float], float]:
    """(parameters on one GPU of each distinct stage [first, (middle), last], parameters of one layer on this
    GPU's TP/EP share)."""
    attn = m.attention_parameters_per_layer + 2 * m._norm_size
    if isinstance(m, MoESpec):
        moe = m.router_parameters_per_layer + (m.experts / ep + m.shared_experts) * m.expert_parameters
        per_layer = (attn + (m.dense_layers * m.ffn_parameters_per_layer + m.moe_layers * moe) / m.layers) / tp
    else:
        per_layer = (attn + m.ffn_parameters_per_layer) / tp
    emb = m.vocab_size * m.hidden_size / tp  # vocabulary-parallel embedding (first stage) or head (last stage)
    if pp == 1:
        return [split.first * per_layer + emb * (1 if m.tied_embeddings else 2)], per_layer
    # Megatron keeps a copy of tied embeddings on the last stage (all-reduced with the first's gradient).
    out = [split.first * per_layer + emb, split.last * per_layer + emb]
    if pp > 2:
        out.insert(1, split.middle * per_layer)
    return out, per_layer


class DistributedModel(ForwardModel):
    """Training step of a transformer on a node or cluster of the catalog (see the module docstring)."""

    def __init__(self, roofline: RooflineModel | None = None):
        self._roofline = roofline or RooflineModel()

    def solve(self, model: Any, system: Any = None, batch_size: int = 1, precision: str = "bf16",
              efficiency: float | None = None, *, seq_len: int | None = None, tensor_parallel: int = 1,
              pipeline_parallel: int = 1, context_parallel: int = 1, expert_parallel: int = 1,
              virtual_pipeline_stages: int = 1, microbatch_size: int = 1, zero_stage: int = 0,
              sequence_parallel: bool = True, activation_recomputation: str | bool = "none",
              overlap: Any = None, runtime: Any = None, first_stage_layers: int | None = None,
              last_stage_layers: int | None = None, account_for_embedding_in_pipeline_split: bool = False,
              account_for_loss_in_pipeline_split: bool = False, tp_size: int | None = None, pp_size: int | None = None,
              ep_size: int | None = None, v_stages: int | None = None, microbatch_count: int | None = None,
              fleet: Any = None, pipeline_schedule: str = "1f1b", is_lora: bool = False,
              lora_rank: int = DEFAULT_LORA_RANK, lora_targets: str = DEFAULT_LORA_TARGETS,
              cp_comm_type: str = "p2p", **unsupported: Any) -> DistributedResult:
        """One training step. Data parallelism is what the system's devices leave: devices / (tp x cp x pp).
        runtime: a training stack of mlsysim.Runtimes (megatron, nemo, pytorch_fsdp, deepspeed, torchtitan)
        with its documented overlap and fitted kernel efficiency, or any runtime (its kernels and launch cost,
        plain DDP overlap); None: plain PyTorch DDP at the device's measured GEMM rate. overlap: None/True the
        runtime's, False none, or {"tp"|"dp"|"param"|"pp"|"cp"|"ep": share hidden}. Uneven pipeline stages (Megatron-Core
        options, core.training.stages): first_stage_layers / last_stage_layers, or account_for_embedding / _loss
        _in_pipeline_split (the embedding / loss counted as one layer). pipeline_schedule: "1f1b" (interleaved
        with virtual_pipeline_stages > 1) or "dualpipe" (DeepSeek-V3's bidirectional schedule: even
        pipeline_parallel, an even number of at least 2 x pp micro-batches, no virtual stages; core.training.pipeline).
        cp_comm_type: how context parallelism exchanges the sequence (Megatron-Core cp_comm_type; core.training.
        context): "p2p" (ring attention, K and V passed around the CP ring behind each step's attention) or "a2a"
        (DeepSpeed-Ulysses all-to-alls of Q, K, V and O, exposed; heads and KV heads per TP rank divisible by cp).
        is_lora (experimental): LoRA fine-tuning, rank-`lora_rank` adapters (Engine.solve's names and default) on
        lora_targets "all_linear" (Engine.solve's placement) or "attention" (NeMo / MLPerf: fused QKV and output
        projection) over frozen base weights: no weight-gradient GEMMs for them, gradients, Adam state, reduction
        and the optimizer step over the adapters only, MFU counting 4N per token for the frozen weights
        (core.lora.lora_model_flops); MoE and MLA models are refused.
        0.1.x names: tp_size, pp_size, ep_size, v_stages, microbatch_count (micro-batches per replica), fleet (the
        system)."""
        refuse_unmodelled(unsupported)
        if fleet is not None:
            if system is not None:
                raise InvalidInputError("give the system once: system= (or 0.1.x's fleet=), not both")
            system = fleet
        if system is None:
            raise InvalidInputError("DistributedModel.solve needs a system: a node or cluster (Systems.Nodes.DGX_H100, "
                                    "Systems.Clusters.Research_256), as the second argument or system=")
        tensor_parallel = renamed("tp_size", tp_size, "tensor_parallel", tensor_parallel, 1)
        pipeline_parallel = renamed("pp_size", pp_size, "pipeline_parallel", pipeline_parallel, 1)
        expert_parallel = renamed("ep_size", ep_size, "expert_parallel", expert_parallel, 1)
        virtual_pipeline_stages = renamed("v_stages", v_stages, "virtual_pipeline_stages", virtual_pipeline_stages, 1)
        if not isinstance(sequence_parallel, bool):
            raise InvalidInputError(f"sequence_parallel must be True or False, got {sequence_parallel!r}")
        if zero_stage not in (0, 1, 2, 3) or isinstance(zero_stage, bool):
            raise InvalidInputError(f"zero_stage must be 0, 1, 2 or 3 (3 = FSDP full shard), got {zero_stage!r}")
        recompute = _recompute_name(activation_recomputation)
        m = resolve_model(model)
        rank = check_lora(is_lora, lora_rank, True)
        lora = None if rank is None else (rank, _lora_targets(m, lora_targets))
        topo = topology(system)
        hw = topo.device
        batch = check_positive_int("batch_size", batch_size)
        uneven = (first_stage_layers is not None or last_stage_layers is not None
                  or account_for_embedding_in_pipeline_split is not False
                  or account_for_loss_in_pipeline_split is not False)
        lay = build_layout(m, topo, batch, tensor_parallel, context_parallel, pipeline_parallel, expert_parallel,
                           virtual_pipeline_stages, microbatch_size, microbatch_count, even_stages=not uneven,
                           schedule=pipeline_schedule)
        rt = None if runtime is None else resolve_runtime(runtime, hw)
        stack = _apply_overlap(training_stack(rt, hw.name), overlap)
        if lay.schedule == "dualpipe":
            if zero_stage >= 3:
                raise InvalidInputError("pipeline_schedule='dualpipe' with zero_stage=3 is not modelled (DeepSeek-V3 "
                                        "runs DualPipe with ZeRO-1); use zero_stage 0-2")
            if stack.keeps_stage_outputs:
                raise InvalidInputError(f"pipeline_schedule='dualpipe' is not a schedule of {stack.name}'s pipeline "
                                        "runtime (torch.distributed.pipelining); use a Megatron-style stack or '1f1b'")
        replica = batch // lay.dp

        def profile() -> Any:  # the replica on one device (0.1.x's node_profile), built only when asked for
            # (a LoRA replica with the single-device engine's all-linear adapters at the same rank)
            return self._roofline.solve(m, hw, replica, precision, efficiency, is_training=True, seq_len=seq_len,
                                        zero_stage=zero_stage, dp_size=lay.dp, is_lora=lora is not None,
                                        lora_rank=lora[0] if lora else DEFAULT_LORA_RANK,
                                        activation_recomputation="selective" if recompute == "selective_op"
                                        else activation_recomputation, runtime=rt)

        if not isinstance(m, TransformerSpec):
            return legacy_step(m, topo, lay, profile(), zero_stage, batch)
        check_efficiency(efficiency)
        reasons: list[str] = []
        seq = _sequence_length(m, seq_len, reasons)
        if lay.cp > 1 and seq % (2 * lay.cp):
            raise InvalidInputError(f"context_parallel={lay.cp} needs seq_len ({seq}) divisible by 2 x cp "
                                    f"(load-balanced causal chunks, Megatron-Core); choose a cp dividing {seq // 2}")
        split = (stage_layers(m.layers, lay.pp, lay.vp, first_stage_layers, last_stage_layers,
                              account_for_embedding_in_pipeline_split, account_for_loss_in_pipeline_split)
                 if uneven else StageSplit(m.layers // lay.pp, m.layers // lay.pp, m.layers // lay.pp))
        prec = resolve_precision(hw, precision, training=True)
        cp_comm = check_cp_comm_type(cp_comm_type, lay.cp, m.heads, m.kv_heads, lay.tp)
        return _step(m, hw, topo, lay, prec, stack, rt, LazyProfile(profile), seq, batch, zero_stage,
                     sequence_parallel, recompute, efficiency, reasons, split, lora, cp_comm)


def _lora_targets(m: Any, targets: Any) -> str:
    """The adapter placement of a LoRA step, checked: transformers only; MoE experts and MLA projections have no
    per-matrix adapter shapes here."""
    if not isinstance(m, TransformerSpec):
        raise UnsupportedModelError(f"LoRA is modelled for transformers, not {getattr(m, 'name', m)!r}")
    if isinstance(m, MoESpec) or m.mla is not None:
        raise UnsupportedModelError(f"distributed LoRA of {m.name} is not modelled: adapters on MoE experts (their "
                                    "expert-parallel placement) and on MLA projections are not; use a dense "
                                    "transformer with standard attention, or Engine.solve(is_lora=True)")
    adapter_matrices(m, targets)  # an unknown placement is an error
    return targets


def _step(m, hw, topo, lay, prec, stack, rt, prof, seq, batch, zero_stage, sp, recompute, efficiency, notes, split,
          lora=None, cp_comm="p2p"):
    tp, cp, pp, ep, dp, vp, micro = lay.tp, lay.cp, lay.pp, lay.ep, lay.dp, lay.vp, lay.micro
    d, L = m.hidden_size, m.layers
    if rt is None:
        per_kernel, layer_kernels = hw._launch_overhead, DEFAULT_LAYER_KERNELS
    else:
        graph = rt.launch._graph_kernel_cost if "training" in rt.launch.graph_phases else None
        per_kernel = graph if graph is not None else rt.launch._kernel_cost
        layer_kernels = rt.kernels.prefill
    # efficiency= (as Engine.solve's): one rate for every GEMM, the dense peak x efficiency, no shape roof
    c = micro_cost(m, hw, prec, tp, cp, ep, lay.mb, seq, sp, stack, per_kernel, layer_kernels,
                   fixed_rate=None if efficiency is None else prec.peak_flops * efficiency,
                   fusion=None if rt is None else rt.fusion, cp_comm=cp_comm)
    if lora is not None:  # frozen base: no weight-gradient GEMMs; the adapters' own GEMMs added
        c = lora_micro_cost(c, m, hw, prec, tp, cp, lay.mb, seq, lora[0], lora[1], stack,
                            fixed_rate=None if efficiency is None else prec.peak_flops * efficiency)
    T = lay.mb * seq / cp
    ab = prec.activation_bytes
    # --- one micro-batch slot per layer, then per stage (core.training.stages) ----------------------------
    op_share = _replayed_gemm_share(m)
    recomp_l = (c.layer_fwd if recompute == "full" else c.attn_fwd if recompute == "selective"
                else op_share * (c.layer_fwd - c.attn_fwd) if recompute == "selective_op" else 0.0)
    busy_l = c.layer_fwd + c.layer_bwd + c.kernel_overhead + recomp_l
    tp_link = lay.link(tp, topo)
    tp_l = comm.tp_time(T, d, ab, tp, tp_link[0], tp_link[1], 1.0, recompute == "full")
    # Width of one of K, V per token on this GPU (its KV heads); MLA passes one latent + rotary key: half each.
    kv_width = (max(m.kv_heads // tp, 1) * m.head_dim if m.mla is None
                else (m.mla.kv_lora_rank + m.mla.qk_rope_head_dim) / 2.0)
    if cp_comm == "a2a":  # Ulysses all-to-alls, exposed (core.training.context)
        cp_link = lay.link(tp * cp, topo, cp, "all_to_all")
        cp_l = cp_a2a_time(T, m.heads * m.head_dim / tp, kv_width, ab, cp, cp_link[0], cp_link[1])
        cp_xl = cp_l
    else:  # ring: each step's transfer behind that step's attention kernel (core.training.context)
        cp_link = lay.link(tp * cp, topo, cp)
        cp_l = comm.cp_time(T, kv_width, ab, cp, cp_link[0], cp_link[1], 1.0)
        cp_xl = ring_exposed(ring_step_time(T, kv_width, ab, cp_link[0], cp_link[1]), c.attn_fwd,
                             ATTENTION_BACKWARD_FACTOR * c.attn_fwd, cp, stack.cp_overlap)
    moe_share = m.moe_layers / L if isinstance(m, MoESpec) else 0.0  # MoE layers per transformer layer
    ep_link = lay.link(tp * cp * ep, topo, ep, "all_to_all")
    ep_l = comm.ep_time(T, m.experts_per_token if isinstance(m, MoESpec) else 0, d, ab, ep, ep_link[0],
                        ep_link[1], moe_share)
    tp_xl = tp_l * (1.0 - stack.tp_overlap)
    # DualPipe / Megatron-Core's combined 1F1B run one micro-batch's dispatch and combine beside another's forward
    # and backward (DeepSeek-V3 report, sec. 3.2.1): at most the layer's compute hides it.
    ep_xl = max(0.0, ep_l - stack.ep_overlap * busy_l)
    slot_l = busy_l + tp_xl + cp_xl + ep_xl
    # Embedding lookup on the first stage: gather the rows forward, scatter-add the gradient backward.
    emb_t = EMBEDDING_PASSES * T * d * ab / c.bandwidth
    if lora is not None:  # a frozen table: no backward scatter-add
        emb_t = (EMBEDDING_PASSES - EMBEDDING_BACKWARD_PASSES) * T * d * ab / c.bandwidth
    slots = stage_slots(split, pp, slot_l, emb_t, c.head_fwd_bwd)
    dual = lay.schedule == "dualpipe"
    loads = device_loads(split, pp, lay.schedule)
    crit = max(range(len(loads)), key=lambda i: loads[i][0] * slot_l + loads[i][1] * emb_t
               + loads[i][2] * c.head_fwd_bwd)  # the slowest GPU sets the step
    Ls, emb_share, head_share = loads[crit]
    ends = emb_share * emb_t + head_share * c.head_fwd_bwd
    busy = Ls * busy_l + ends
    recomp_t = Ls * recomp_l
    tp_x, cp_x, ep_x = Ls * tp_xl, Ls * cp_xl, Ls * ep_xl
    tp_all, cp_all, ep_all = Ls * tp_l, Ls * cp_l, Ls * ep_l
    if dual:
        # Table 2's bubble at the pipeline's mean chunk (one stage, one micro-batch): F&B its slot (the overlapped
        # pair's compute and exposed collectives), B its full backward (+ recomputation), W the weight gradients.
        # (DualPipe needs pp >= 2: slots are [first, (middle), last].)
        layers = split.first + split.last + (pp - 2) * split.middle
        all_slots = slots[0] + slots[-1] + (pp - 2) * (slots[1] if pp > 2 else 0.0)
        emb_w = EMBEDDING_BACKWARD_PASSES / EMBEDDING_PASSES * emb_t  # the embedding's backward is all W
        if lora is not None:
            emb_w = 0.0
        bubble = dualpipe_bubble(all_slots / pp, (layers * (c.layer_bwd + recomp_l) + c.head_bwd + emb_w) / pp,
                                 (layers * c.layer_wgrad + c.head_wgrad + emb_w) / pp, pp)
    else:
        _, bubble = pipeline_time(slots, pp, lay.vp, micro)
    # --- pipeline sends -------------------------------------------------------------------------------
    # Neighbouring stages are tp x cp x dp ranks apart (pipeline is the outermost group).
    pp_link = lay.link(tp * cp * dp * 2, topo, 2)
    pp_all = micro * comm.pp_time(T, d, ab, pp, vp, pp_link[0], pp_link[1])
    pp_x = pp_all * (1.0 - stack.pp_overlap)
    # --- data parallel / FSDP ---------------------------------------------------------------------------
    stage_params, layer_params = _stage_parameters(m, tp, pp, ep, split)
    # DualPipe: each GPU holds two stages (one per direction; report Table 2: parameters 2x) with their gradients
    # and optimizer shards (examples/example_dualpipe.py adds the other copy's gradient into each module's and steps
    # both); the gradients of a stage reduce over its 2 x dp copies, taken as this GPU's 2x bytes over the DP group.
    device_params = (_dualpipe_parameters(stage_params, pp) if dual else stage_params)
    params = max(device_params)  # the largest GPU's gradients and optimizer step are the last to finish
    # Trained parameters on each distinct GPU: all of them, or under LoRA the adapters of its layers (split over TP
    # as NeMo's ParallelLinearAdapter splits them); only they have gradients, optimizer state and updates.
    n_adapters = adapter_parameters(m, lora[0], lora[1]) if lora is not None else 0.0
    stage_trained = (stage_params if lora is None else
                     [n * n_adapters / L / tp for n in [split.first] + ([split.middle] if pp > 2 else [])
                      + ([split.last] if pp > 1 else [])])
    device_trained = (_dualpipe_parameters(stage_trained, pp) if dual and lora is not None else
                      device_params if lora is None else stage_trained)
    trained = params if lora is None else max(device_trained)
    ranks = dp * cp  # Megatron reduces gradients over the data x context parallel group
    local = max(1, min(ranks, lay.per_node // min(tp, lay.per_node)))  # DP peers inside one node
    intra, inter = lay.link(min(tp, lay.per_node) * local, topo, local), (topo.inter_bw, topo.inter_lat)
    wb = prec.weight_bytes  # 16-bit mixed precision: 2 B weights and gradients; fp32 training: 4 B
    grad_bytes = trained * wb
    tail_share = min(1.0, stack.bucket_bytes / grad_bytes) if grad_bytes else 0.0
    fwd_micro = Ls * c.layer_fwd
    bwd_micro = Ls * c.layer_bwd
    if zero_stage >= 3:
        gather = comm.dp_param_gather_time(params * wb, ranks, local, intra, inter)
        rs = comm.dp_grad_time(grad_bytes, ranks, local, intra, inter, 1)
        # Forward and backward gathers and the gradient reduce-scatter per micro-batch; with pipeline stages FSDP
        # does not reshard after forward (torchtitan parallelize_llama.py apply_fsdp: reshard_after_forward=False
        # when PP is on), so the stage's weights are gathered once per step and stay.
        per_micro = rs + (gather / micro if pp > 1 else 2.0 * gather)
        dp_all = micro * per_micro
        first_layer = per_micro / max(Ls, 1.0)  # the first layer's gather waits on nothing to hide behind
        dp_x = micro * max(first_layer, per_micro - stack.param_overlap * busy)
    else:
        grad = comm.dp_grad_time(grad_bytes, ranks, local, intra, inter, zero_stage)
        # ZeRO 1/2 all-gather the updated shards: the trained parameters (frozen weights never change)
        gather = comm.dp_param_gather_time(trained * wb, ranks, local, intra, inter) if zero_stage else 0.0
        dp_all = grad + gather
        # Bucketed reduction starts during the last micro-batch's backward (gradient accumulation).
        window = stack.grad_overlap * (bwd_micro + ends * 2.0 / 3.0)
        dp_x = max(grad * tail_share, grad - window)
        if gather:
            dp_x += max(gather * tail_share, gather - stack.param_overlap * fwd_micro)
    # --- optimizer step ---------------------------------------------------------------------------------
    shard = ranks if zero_stage >= 1 else 1
    opt_t = trained / shard * (ADAM_BYTES_PER_PARAM + CLIP_BYTES_PER_PARAM) / c.bandwidth
    compute = micro * busy + opt_t
    step = compute + bubble + micro * (tp_x + cp_x + ep_x) + pp_x + dp_x
    # --- FLOPs: model (MFU) and hardware (HFU) ----------------------------------------------------------
    tokens = batch * seq
    # forward, non-causal (Megatron / PaLM count); MLA expanded per head as trained
    attn_ctx = m.expanded_attention_flops_per_token_per_context * seq
    model_flops = tokens * (6.0 * m.matmul_parameters_per_token + 3.0 * attn_ctx)
    # Recomputation replays the forward of every layer (full) or of the attention core (selective).
    extra = (2.0 * _active_layer_params(m) + attn_ctx if recompute == "full"
             else attn_ctx if recompute == "selective"
             else 2.0 * op_share * _active_layer_params(m) if recompute == "selective_op" else 0.0)
    if lora is not None:
        model_flops, extra = _lora_flops(m, tokens, attn_ctx, n_adapters, recompute, extra)
        notes = list(notes) + [_lora_step_note(m, lora, n_adapters)]
    hw_flops = model_flops + tokens * extra
    devices = topo.devices
    peak = prec.peak_flops
    mfu = model_flops / (step * devices * peak)
    hfu = hw_flops / (step * devices * peak)
    throughput = tokens / step
    cls = calibration_class(hw)
    # Board power: TDP while computing, idle otherwise, streaming share on the memory roof (core.power).
    power = average_power(hw.power._tdp, hw.power._idle, micro * busy, opt_t, step,
                          cls.memory_bound_power_fraction)
    energy = devices * power * step
    # --- memory per GPU: the first stage (most micro-batches in flight) or the last (LM head, logits) -------
    if m.mla is None:
        qkv_w = (m.heads + 2 * m.kv_heads) * m.head_dim
    else:
        qkv_w = m.heads * m.head_dim * 2
    gated = 2 if m.ffn_gated else 1
    ffn = ((m.experts_per_token + m.shared_experts) * m.expert_ffn_size if isinstance(m, MoESpec) else m.mean_ffn_size)
    gathered_in = ((GATHERED_INPUT_BYTES_FP8 if prec.compute == "fp8" else GATHERED_INPUT_BYTES)
                   if stack.saves_gathered_inputs and tp > 1 and sp else 0.0)  # DTensor TP keeps gathered inputs
    layer_act = layer_activation_bytes(T, d, qkv_w, gated * ffn, ffn, tp, sp, recompute, gathered_in)
    working = (layer_activation_bytes(T, d, qkv_w, gated * ffn, ffn, tp, sp, "none", gathered_in)
               if recompute == "full" else 0.0)  # the layer being recomputed holds its full activations
    # The loss on the last stage: fp32 logits and their gradients (memory.LOGITS_BYTES, or the loss_parallel
    # backward's buffers), plus the LM head's saved all-gathered input under DTensor TP.
    loss_bytes = LOSS_PARALLEL_LOGITS_BYTES if stack.loss_parallel and tp > 1 else LOGITS_BYTES
    logits = loss_bytes * T * m.vocab_size / tp + (GATHERED_HEAD_INPUT_BYTES * T * d if gathered_in else 0.0)
    inflight = inflight_microbatches(pp, lay.vp, micro)
    ranks_shard = ranks
    # Stage outputs kept until the step ends (memory.STAGE_OUTPUT_LOGITS_BYTES): each of the m micro-batches' output
    # of each of the v chunks, the sequence-parallel shard of the hidden state; the last chunk's is the logits.
    # The same pipelining preallocates one receive buffer per micro-batch and chunk (_prepare_forward_infra /
    # _prepare_backward_infra: activations into every chunk but the first stage's, gradients into every chunk but the
    # last stage's): (2 v - 1) m buffers per GPU, the last stage's in-flight one already counted as a layer input.
    out_first = out_last = 0.0
    if stack.keeps_stage_outputs and pp > 1:
        hidden = T * d * ab / (tp if sp and tp > 1 else 1)
        recv = (2 * lay.vp - 1) * micro * hidden
        out_first = lay.vp * micro * hidden + recv
        # The received activations are autograd leaves: backward leaves each one's gradient in its .grad until the
        # next step clears them (stage.py clear_runtime_states): m - 1 of them on the last stage at its last backward.
        out_last = ((lay.vp - 1) * micro * hidden + micro * STAGE_OUTPUT_LOGITS_BYTES * T * m.vocab_size / tp
                    + recv - hidden + (micro - 1) * hidden)
    # Ring attention's backward buffers (memory.ring_attention_backward_bytes) live while one layer's attention runs
    # backward: on the first stage beside its held micro-batches; where the loss runs (last stage, pp == 1) its
    # buffers are freed by then, and working + logits already covers that phase unless the ring buffers exceed logits.
    # K and V are taken at the query width (torchtitan repeats the KV heads; an MLA model's widths are not separate).
    ring = (ring_attention_backward_bytes(T * m.heads * m.head_dim / tp, cp, ab)
            if stack.cp_all_gather_kv and cp > 1 else 0.0)
    ring_after_loss = max(0.0, ring - logits)
    # (parameters, activations) of the first and the last stage; one stage when pp == 1
    cands = [(stage_params[0], split.first * layer_act * inflight + working + out_first
              + (logits + ring_after_loss if pp == 1 else ring), stage_trained[0])]
    if pp > 1:
        cands.append((stage_params[-1], split.last * layer_act + working + logits + ring_after_loss + out_last,
                      stage_trained[-1]))
    if dual:
        # DualPipe (report Table 2): PP + 1 chunks of activations per GPU, half of each of its two stages; the end
        # GPUs hold the first and the last stage, so the loss of one direction's micro-batches as well.
        chunks = dualpipe_inflight_chunks(pp)
        cands = [(device_params[0], chunks / 2.0 * (split.first + split.last) * layer_act + working
                  + logits + ring_after_loss, device_trained[0])]
        if pp > 2:
            cands.append((device_params[1], chunks * split.middle * layer_act + working + ring, device_trained[1]))
    # FSDP holds the layers it has gathered: two (the running one and the prefetched next, Zhao et al. 2023 sec.
    # 3.3), or with pipeline stages the whole stage (no reshard after forward, as the DP time above).
    gathered = 0.0
    if zero_stage >= 3 and ranks_shard > 1:
        # (the gathered stage holds the other ranks' shards beside this rank's own, counted in its weights)
        share = 1.0 if pp == 1 else 1.0 - 1.0 / ranks_shard
        stage_layers_n = [split.first] + ([split.middle] if pp > 2 else []) + ([split.last] if pp > 1 else [])
        gathered_layers = (FSDP_GATHERED_LAYERS if pp == 1
                           else stage_layers_n[stage_params.index(params)]) * layer_params * share
        gathered = (FSDP_GATHERED_LAYERS * layer_params * share if pp == 1 else params * share) * wb
        # torchao float8 all-gather (memory.FP8_GATHERED_WEIGHT_BYTES): the layers' linears gathered in 1 B, the
        # embedding / head in 16-bit; torchtitan turns it on only with a data-parallel shard group (dp_shard > 1,
        # float8.py), not for context parallelism alone. An MoE's experts are no torchao Float8Linear modules.
        if stack.fsdp_float8_all_gather and prec.compute == "fp8" and dp > 1 and not isinstance(m, MoESpec):
            gathered -= gathered_layers * (wb - FP8_GATHERED_WEIGHT_BYTES)
    buffers = cls._runtime_reserve + gathered
    # With pipeline stages FSDP syncs gradients only on the last micro-batch: the stage's unsharded gradients
    # accumulate in fp32 until then (memory.UNSHARDED_ACCUMULATED_GRAD_BYTES).
    accumulate = zero_stage >= 3 and ranks_shard > 1 and pp > 1 and micro > 1
    best = None
    # Under LoRA only the adapters have gradients, accumulated gradients and optimizer state. Activations are taken
    # as in full training, an upper bound: a frozen linear's input gradient needs its weight and the incoming
    # gradient, not its input, and Transformer Engine's Linear saves the input only if weight.requires_grad
    # (transformer_engine/pytorch/module/linear.py _Linear.forward); an adapter saves its own input, so with
    # lora_targets "attention" the FFN's norm output and activation output (2 sd + 2 s ffn per layer before the TP
    # split) need not be held, while NeMo's QKV adapter keeps the gathered full-length norm output under SP.
    for p_stage, acts, t_stage in cands:
        stage_buffers = buffers + (UNSHARDED_ACCUMULATED_GRAD_BYTES * t_stage if accumulate else 0.0)
        parts = stage_memory(p_stage, acts, wb, prec.compute == "fp8", zero_stage, ranks_shard, stage_buffers,
                             t_stage)
        if best is None or sum(parts) > sum(best):
            best = parts
    weights, grads, opt, acts, buffers, frag = best
    tm = TrainingMemory(weights, grads, opt, acts, buffers, frag, hw.memory._capacity)
    memory = MemoryBreakdown(weights=weights, kv_cache=0.0, activations=acts, gradients=grads,
                             optimizer_state=opt, runtime_reserve=buffers + frag, capacity=hw.memory._capacity)
    comm_x = micro * (tp_x + cp_x + ep_x) + pp_x + dp_x
    mfu = check_outputs(f"DistributedModel ({m.name} on {topo.name})", latency=step, throughput=throughput,
                        energy=energy, mfu=mfu, terms=(
        (compute + bubble, Source(None, entry=hw.name)),
        (micro * tp_x, topo.intra_src if tp <= lay.per_node else topo.inter_src), (pp_x, topo.inter_src),
        (dp_x, topo.inter_src if ranks > local else topo.intra_src)),
        mfu_source=lambda: mfu_source(m, hw, prec.compute, c.gemm_rate / peak))
    reasons = list(notes) + [f"training stack: {stack.name}"]
    if not tm.fits:
        reasons.append(f"needs {tm.total / 2**30:.2f} GiB per device, has {tm.capacity / 2**30:.2f} GiB")
    return DistributedResult(
        latency=quantity(step, "s"), throughput=quantity(throughput, "token/s"),
        bottleneck="Communication" if comm_x > compute + bubble else "Compute", mfu=mfu, feasible=tm.fits,
        energy=quantity(energy, "J"), devices=devices, tensor_parallel=tp, pipeline_parallel=pp, data_parallel=dp,
        context_parallel=cp, expert_parallel=ep, virtual_pipeline_stages=vp, pipeline_schedule=lay.schedule,
        microbatch_size=lay.mb, microbatches=micro, zero_stage=zero_stage, runtime=stack.name, hfu=hfu,
        tokens_per_s_per_gpu=throughput / devices, compute_time_s=compute, recompute_time_s=micro * recomp_t,
        optimizer_time_s=opt_t, bubble_time_s=bubble, tp_comm_time_s=micro * tp_x, cp_comm_time_s=micro * cp_x,
        ep_comm_time_s=micro * ep_x, pp_comm_time_s=pp_x, dp_comm_time_s=dp_all, dp_comm_exposed_s=dp_x,
        comm_total_s={"tp": micro * tp_all, "cp": micro * cp_all, "ep": micro * ep_all, "pp": pp_all, "dp": dp_all},
        memory=memory, training_memory=tm, device_profile=prof, reasons=tuple(reasons))


def _replayed_gemm_share(m: Any) -> float:
    """Share of a layer's forward GEMM FLOPs torchtitan's op-level selective recomputation replays: the even-
    numbered matmuls of the forward (wk, wo, w3 of a Llama layer; w3 absent without a gated MLP)."""
    d, kv = m.hidden_size, m.kv_heads * m.head_dim
    q = m.heads * m.head_dim
    ffn = m.expert_ffn_size * (m.experts_per_token + m.shared_experts) if isinstance(m, MoESpec) else m.mean_ffn_size
    gated = 2 if m.ffn_gated else 1
    total = d * (q + 2 * kv) + q * d + (gated + 1) * d * ffn
    replayed = d * kv + q * d + (d * ffn if m.ffn_gated else 0.0)
    return replayed / total


def _active_layer_params(m: Any) -> float:
    return float(getattr(m, "active_layer_parameters", m.layer_parameters))


def _lora_flops(m: Any, tokens: float, attn_ctx: float, n_adapters: float, recompute: str,
                extra: float) -> tuple[float, float]:
    """(model FLOPs of the step, replayed FLOPs per token) under LoRA: core.lora.lora_model_flops (4N per token for
    the frozen weights, the attention core's three passes, 6N for the adapters). Full recomputation also replays
    the adapters' forward (2 N_a per token)."""
    model_flops = lora_model_flops(tokens * 2.0 * m.matmul_parameters_per_token, tokens * attn_ctx, n_adapters, tokens)
    return model_flops, extra + (2.0 * n_adapters if recompute == "full" else 0.0)


def _lora_step_note(m: Any, lora: tuple[int, str], n_adapters: float) -> str:
    return (f"LoRA rank {lora[0]} on {lora[1]}: {n_adapters / 1e6:.1f} M adapter parameters trained (gradients, "
            f"Adam state, gradient reduction), {m.parameter_count / 1e9:.2f} B frozen (no weight-gradient GEMMs); "
            "MFU counts 4N per token for the frozen weights + 6N for the adapters")
