"""What one pass of a Mamba-2 model costs (Dao & Gu 2024, arXiv:2405.21060): a decode step by the SSD
recurrence (constant in the context length) or a prefill by the chunked SSD algorithm. Plain floats.
"""
from __future__ import annotations

from ..errors import UnsupportedModelError
from ..specs.mamba2 import Mamba2Spec
# Recurrence FLOPs per state element and token, defined beside the hybrids' Mamba-2 layers (specs/models.py)
from ..specs.models import SSD_RECURRENCE_FLOPS_PER_STATE
from .precision import ExecutionPrecision
from .workload import KERNELS_PER_SSM_LAYER, WorkloadCost


def ssd_chunked_flops(m: Mamba2Spec, tokens: float) -> float:
    """Scan FLOPs of the chunked SSD algorithm over `tokens` tokens, all layers (Dao & Gu 2024 sec. 6, the four
    steps per chunk of length Q, head dim P, state N, per head): diagonal blocks C B^T (2 Q^2 N) then times X
    (2 Q^2 P); chunk states B^T X (2 Q N P); output from states C h (2 Q N P); the state passing between
    chunks is O(N P) per chunk and left out. Per token: 2 Q (N + P) + 4 N P."""
    q, n, p = float(min(m.chunk_size, max(tokens, 1.0))), float(m.state_size), float(m.head_dim)
    return m.layers * m.nheads * tokens * (2.0 * q * (n + p) + 4.0 * n * p)


def mamba2_cost(m: Mamba2Spec, batch: int, seq_len: int, prec: ExecutionPrecision, training,
                prefill: bool = False) -> WorkloadCost:
    if training is not None:
        raise UnsupportedModelError(f"training of state-space models ({m.name}) is not modelled yet; "
                                    "use is_training=False")
    wb, ab = prec.weight_bytes, prec.activation_bytes
    state = batch * m.state_elements * ab
    kernels = m.layers * KERNELS_PER_SSM_LAYER + 2
    proj_w = m.matmul_parameters_per_token
    if not prefill:
        # Decode: projections 2N per token + the recurrence over heads x P x N state (independent of seq_len).
        scan = batch * SSD_RECURRENCE_FLOPS_PER_STATE * m.layers * m.inner_size * m.state_size
        phases = ((2.0 * batch * proj_w, proj_w * wb, batch * (2 * m.inner_size + m.vocab_size) * ab),
                  (scan, 0.0, 2.0 * state))  # read and write the state once
        note = "decode step: the SSD state replaces the KV cache; seq_len does not change the cost"
        items = float(batch)
    else:
        tokens = float(batch * seq_len)
        # The LM head runs on the last position of each sequence only.
        proj_flops = 2.0 * (tokens * (proj_w - m.vocab_size * m.hidden_size) + batch * m.vocab_size * m.hidden_size)
        # Activations: in_proj output (2e + 2GN + H) and out_proj input per layer, written and read.
        act = m.layers * tokens * (2 * m.inner_size + 2 * m.groups * m.state_size + m.nheads + m.inner_size) * ab
        phases = ((proj_flops, proj_w * wb, 2.0 * act),
                  (ssd_chunked_flops(m, float(seq_len)) * batch, 0.0, state))  # write the final state
        note = f"prefill by the chunked SSD scan (chunk {m.chunk_size}): linear in seq_len"
        items = tokens
    flops = sum(p[0] for p in phases)
    live = batch * (2 * m.inner_size + m.vocab_size) * ab
    return WorkloadCost(flops, flops, sum(p[1] for p in phases), sum(p[2] for p in phases), m.parameter_count * wb,
                        state, live, 0.0, 0.0, kernels, items, "token", (note,), phases)
