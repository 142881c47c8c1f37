"""KV-cache capacity of one GPU of a replica: paged blocks in what the weights, live activations and the
runtime's reserve leave (Kwon et al. 2023, PagedAttention sec. 4: the cache is all free memory, in blocks)."""
from __future__ import annotations

import math
from dataclasses import dataclass

# Live activation elements per scheduled token per layer, in units of d and of the FFN width on the GPU:
# residual stream, normalised input, attention output and projection (4 d) plus the FFN up/gate outputs
# (2 x width) -- the engine's workload model (core/workload.py LIVE_HIDDEN_TENSORS, LIVE_FFN_TENSORS).
LIVE_HIDDEN, LIVE_FFN = 4, 2


@dataclass(frozen=True)
class KVCapacity:
    capacity: float          # bytes on the GPU
    usable: float            # capacity x the runtime's memory fraction (capacity - class reserve without one)
    weights: float
    activations: float       # peak live activations of a full token-budget step
    kv_pool: float           # bytes left for KV blocks
    block_tokens: int
    tokens_per_sequence: int  # whole blocks a sequence of prompt + output holds
    kv_bytes_per_token: float
    slots: int               # sequences that fit: whole length reserved, or the mean held (on-demand paging)
    on_demand: bool = False
    mean_tokens_per_sequence: float = 0.0  # tokens a running sequence holds on average (on-demand paging)

    @property
    def kv_bytes_per_sequence(self) -> float:
        return self.tokens_per_sequence * self.kv_bytes_per_token


def usable_memory(capacity: float, params, cls, rt, held: float) -> float:
    """Bytes weights, activations and the KV cache may use on one GPU: capacity x the deployment's memory fraction
    where the call gives one (ServingParams.memory_limit_fraction), else what the runtime's own memory_reserve leaves
    where its catalog entry states one (it may depend on the `held` bytes of weights and activations: TensorRT-LLM's
    share of the free memory), else capacity x the serving runtime's memory fraction, else capacity - the
    hardware class's reserve. `held` may be a numpy array (the DSE serving tier)."""
    if params.memory_limit_fraction is not None:  # the deployment's own flag replaces the runtime's reserve
        return capacity * params.memory_limit_fraction
    if rt is not None and rt.memory_reserve is not None:
        return capacity - rt.memory_reserve.bytes_on(capacity, held, cls.name)
    return capacity * params.memory_fraction if params.memory_fraction else capacity - cls._runtime_reserve


def kv_capacity(capacity: float, usable: float, weights: float, activations: float, kv_bytes_per_token: float,
                sequence_tokens: int, block_tokens: int, *, on_demand: bool = False,
                mean_tokens: float | None = None) -> KVCapacity:
    """Reserved (TRT-LLM GUARANTEED_NO_EVICT): each running sequence holds the blocks of its whole length.
    On demand (vLLM allocate_slots, SGLang): a sequence holds the blocks of the tokens it has now; the
    running population of a steady state holds `mean_tokens` each on average plus half a block of rounding
    (the last block is half full on average), so N sequences fit while N x mean fits the pool; a sequence
    of the full length must still fit alone."""
    pool = usable - weights - activations
    per_seq = math.ceil(sequence_tokens / block_tokens) * block_tokens  # (dense-equivalent tokens, see StepModel)
    if pool <= 0 or kv_bytes_per_token <= 0:
        slots, mean = 0, float(per_seq)
    elif on_demand:
        mean = min(float(mean_tokens if mean_tokens is not None else sequence_tokens) + block_tokens / 2.0,
                   float(per_seq))
        slots = int(pool // (mean * kv_bytes_per_token)) if pool >= per_seq * kv_bytes_per_token else 0
    else:
        mean = float(per_seq)
        slots = int(pool // (per_seq * kv_bytes_per_token))
    return KVCapacity(capacity, usable, weights, activations, max(pool, 0.0), block_tokens, per_seq,
                      kv_bytes_per_token, max(slots, 0), on_demand, mean)


def live_activations(tokens: float, hidden: int, ffn_width_gpu: float, vocab_gpu: float, heads_out: float,
                     act_bytes: float) -> float:
    """Bytes live during a step of `tokens` scheduled tokens (one layer at a time) plus its logits."""
    return tokens * (LIVE_HIDDEN * hidden + LIVE_FFN * ffn_width_gpu) * act_bytes + heads_out * vocab_gpu * 4.0
