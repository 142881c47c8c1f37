"""What a training stack overlaps and how fast its kernels run: the runtime catalog's `training` block
(catalog/runtimes/training.toml), or the plain PyTorch-DDP behaviour when no runtime is named."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# No runtime named: PyTorch DDP as Li et al. 2020 (PyTorch Distributed, VLDB, sec. 3.2.3) describe it --
# bucketed gradient all-reduce overlapped with backward (25 MB buckets, torch DDP bucket_cap_mb default), no
# tensor-parallel, parameter-gather or pipeline overlap, the device's measured GEMM rate.
DDP_BUCKET_BYTES = 25e6


@dataclass(frozen=True)
class TrainingStack:
    name: str
    tp_overlap: float            # share of TP collectives hidden behind GEMMs (userbuffers / async TP)
    grad_overlap: float          # share of the backward that gradient reduction can hide behind
    param_overlap: float         # share of the forward (ZeRO 1/2) or step (ZeRO 3 prefetch) param gathers hide in
    pp_overlap: float            # share of pipeline send/recv hidden behind compute
    cp_overlap: float            # share of ring-attention KV exchange hidden behind attention compute
    bucket_bytes: float          # gradient bucket size: the last bucket's reduction is never hidden
    compute_efficiency: float    # share of the device's shape-roof GEMM rate reached in a training step (fitted)
    fused_elementwise: bool      # norms, activations, residuals fused (Transformer Engine / torch.compile)
    saves_gathered_inputs: bool = False   # TP linears keep their all-gathered input for backward (DTensor TP)
    loss_parallel: bool = False           # DTensor loss_parallel cross-entropy on vocabulary-sharded logits
    keeps_stage_outputs: bool = False     # pipeline stages keep every micro-batch's output (torch pipelining < 2.8)
    ep_overlap: float = 0.0               # share of the EP all-to-all hidden behind another micro-batch's compute
    fsdp_float8_all_gather: bool = False  # FSDP gathers float8 linears' weights in float8 where dp_shard > 1 (torchao)
    cp_all_gather_kv: bool = False        # ring attention all-gathers K/V (torch context_parallel "allgather" rotation)


DEFAULT_STACK = TrainingStack("pytorch DDP (no runtime named)", 0.0, 1.0, 0.0, 0.0, 0.0, DDP_BUCKET_BYTES, 1.0,
                              False)


def training_stack(rt: Any, hardware_name: str = "") -> TrainingStack:
    """The training behaviour of runtime `rt` (a RuntimeSpec or None). A runtime without a training block
    (an inference stack such as pytorch_eager) trains as plain DDP with its own kernels and launch cost."""
    if rt is None or getattr(rt, "training", None) is None:
        return DEFAULT_STACK if rt is None else _plain(rt)
    t = rt.training
    return TrainingStack(rt.display_name, t.tp_comm_overlap, t.grad_reduce_overlap, t.param_gather_overlap,
                         t.pp_comm_overlap, t.cp_comm_overlap, t._bucket_size, t.efficiency_on(hardware_name),
                         bool(rt.fusion.norm and rt.fusion.activation),
                         *((mem.tp_saves_gathered_inputs, mem.tp_loss_parallel, mem.pp_keeps_stage_outputs)
                           if (mem := t.memory) is not None else (False, False, False)), t.ep_comm_overlap,
                         mem is not None and mem.fsdp_float8_all_gather, mem is not None and mem.cp_all_gather_kv)


def _plain(rt: Any) -> TrainingStack:
    d = DEFAULT_STACK
    return TrainingStack(rt.display_name, d.tp_overlap, d.grad_overlap, d.param_overlap, d.pp_overlap, d.cp_overlap,
                         d.bucket_bytes, d.compute_efficiency, bool(rt.fusion.norm and rt.fusion.activation))
