"""ServingResult: what ServingModel returns (experimental; ttft/tpot/throughput names are the contract)."""
from __future__ import annotations

from typing import Any

import attrs

from ...units import quantity
from ..results import PerformanceProfile, SolverResult


@attrs.frozen(kw_only=True)
class ServingResult(SolverResult):
    # the six fields every result carries (stable on PerformanceProfile; experimental here)
    latency: Any            # end-to-end time of one request: TTFT + (output_len - 1) x TPOT
    throughput: Any         # generated tokens/s of the replica (all its DP ranks)
    bottleneck: str         # of the decode step
    mfu: float
    feasible: bool
    energy: Any             # joules per request
    # serving detail
    ttft: Any
    tpot: Any
    max_concurrent_sequences: int   # sequences of prompt + output tokens the KV cache of one DP rank holds
    kv_cache_per_sequence_bytes: float  # per GPU, whole blocks
    prefill: PerformanceProfile     # single-device reference profiles (RooflineModel) of prefill and decode
    decode: PerformanceProfile
    batch_size: int = 1
    reasons: tuple[str, ...] = ()
    throughput_per_gpu: Any = None
    gpus: int = 1
    parallelism: dict = attrs.field(factory=dict)   # {"tp":, "dp":, "ep":, "pp":}
    batching: str = "static"
    runtime: str = ""
    request_rate: Any = None        # completed requests/s of the replica
    ttft_p50: Any = None
    ttft_p99: Any = None
    itl_p50: Any = None             # median inter-token gap (continuous batching; median-ITL benchmarks report it)
    weights_per_gpu_bytes: float = 0.0
    memory_capacity_bytes: float = 0.0
    memory_other_bytes: float = 0.0  # activations + runtime reserve per GPU
    kv_block_size: int = 1
    kv_precision: str = ""
    prefill_chunk_tokens: float = 0.0  # prefill tokens a step carries beside the decode tokens
    disaggregation: dict | None = None  # pools of a disaggregated deployment (see ServingModel.solve)

    def plot(self, ax: Any = None) -> Any:
        """Prefill and decode on the device's roofline (matplotlib: mlsysim[plot]); returns (fig, ax)."""
        from ..results import _plot

        return _plot(self, ax)

    # --- 0.1.x's ServingResult names (quantities derived from the fields above) ---------------------------
    @property
    def itl(self):
        """Inter-token latency: one decode step (0.1.x's name of ``tpot``)."""
        return self.tpot

    @property
    def kv_cache_size(self):
        """KV cache of the whole batch at the end of generation (the prompt plus every output token), per GPU."""
        return quantity(self.batch_size * self.kv_cache_per_sequence_bytes, "B")

    @property
    def model_weights_size(self):
        return quantity(self.weights_per_gpu_bytes, "B")

    @property
    def total_memory_required(self):
        """Weights + the batch's KV cache + activations + runtime reserve per GPU, at the end of generation."""
        return quantity(self.weights_per_gpu_bytes + self.batch_size * self.kv_cache_per_sequence_bytes
                        + self.memory_other_bytes, "B")

    @property
    def memory_utilization(self) -> float:
        """total_memory_required over the device's capacity (above 1: does not fit)."""
        return self.total_memory_required.m_as("B") / self.memory_capacity_bytes

    @property
    def prompt_cache_hit_ratio(self) -> float:
        """Share of the prompt served from a prefix cache: 0, prefix caching is not modelled."""
        return 0.0
