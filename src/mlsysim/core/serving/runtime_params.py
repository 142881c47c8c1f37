"""Serving parameters of a runtime (token budget, KV block, memory fraction, host cost per step), or the
defaults ServingModel uses without one."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from ...specs.models import TransformerSpec
from ...specs.runtimes import RuntimeSpec
from ..workload import KERNELS_PER_TRANSFORMER_LAYER

# Without a runtime: vLLM's chunked-prefill budget on >= 70 GiB GPUs for its API server
# (vllm/engine/arg_utils.py, EngineArgs.get_batch_defaults: OPENAI_API_SERVER 8192), a token-granular cache
# (no block rounding) and no host cost per step beyond the kernel launches (the engine's roofline).
DEFAULT_TOKEN_BUDGET = 8192
DEFAULT_BLOCK_TOKENS = 1


@dataclass(frozen=True)
class ServingParams:
    name: str
    token_budget: int
    block_tokens: int
    memory_fraction: float | None   # share of GPU memory the runtime may use (None: capacity - class reserve)
    host_overhead: float            # s per step: scheduling, input preparation, sampling on the host
    max_num_seqs: int | None
    per_kernel_eager: float
    per_kernel_graph: float | None  # per kernel in decode-only steps replayed from a CUDA graph
    kernels_per_step: int
    bandwidth_efficiency: float     # runtime's attained share of the device's streaming bandwidth
    compute_efficiency: float       # runtime's attained share of the device's GEMM rate
    on_demand_kv: bool = False      # KV blocks allocated as sequences grow (admission by tokens held now)
    mixed_prefill: bool = True      # prefill chunks ride in decode steps (False: prefill-only steps between)
    attention_efficiency: float = 1.0  # share of `bandwidth` the decode attention kernel reaches (paged cache)
    frontend_latency: float = 0.0   # s per request outside the engine, before the first token reaches the client
    chunk_count_steps: bool = False  # mean mixed step over the Poisson count of chunks (scheduler.expected_mixed_step)
    request_overhead: float = 0.0   # s of host work per request in a step, beside host_overhead
    # A deployment's own share of each GPU the runtime may allocate (weights, activations, KV cache), replacing the
    # runtime's catalog reserve: vLLM --gpu-memory-utilization, SGLang --mem-fraction-static (None: the catalog's)
    memory_limit_fraction: float | None = None


def serving_params(rt: RuntimeSpec | None, m: TransformerSpec, launch_overhead: float) -> ServingParams:
    if rt is None:
        return ServingParams("", DEFAULT_TOKEN_BUDGET, DEFAULT_BLOCK_TOKENS, None, 0.0, None, launch_overhead, None,
                             m.layers * KERNELS_PER_TRANSFORMER_LAYER + 2, 1.0, 1.0)
    s = getattr(rt, "serving", None)
    kernels = m.layers * rt.kernels.decode + rt.kernels.per_pass
    graph = rt.launch._graph_kernel_cost if "decode" in rt.launch.graph_phases else None
    if s is None:
        return ServingParams(rt.name, DEFAULT_TOKEN_BUDGET, DEFAULT_BLOCK_TOKENS, None, 0.0, None,
                             rt.launch._kernel_cost, graph, kernels, 1.0, 1.0)
    return ServingParams(rt.name, s.max_num_batched_tokens, s.kv_block_size, s.gpu_memory_utilization,
                         s._step_overhead, s.max_num_seqs, rt.launch._kernel_cost, graph, kernels,
                         s.bandwidth_efficiency, s.compute_efficiency, s.kv_allocation == "on_demand",
                         s.mixed_prefill, s.attention_efficiency or 1.0, s._frontend_latency or 0.0,
                         s.prefill_step_model == "chunk_count", s._request_overhead or 0.0)


def with_deployment_limits(params: ServingParams, memory_fraction: Any = None, max_num_seqs: Any = None) -> ServingParams:
    """The runtime's parameters under a deployment's own flags: `memory_fraction` (0, 1] of each GPU for weights,
    activations and KV cache (vLLM --gpu-memory-utilization, SGLang --mem-fraction-static), `max_num_seqs` the cap on
    running requests (vLLM --max-num-seqs, SGLang --max-running-requests, TensorRT-LLM max_batch_size)."""
    from ...errors import InvalidInputError
    from ..inputs import check_positive_int

    if memory_fraction is None and max_num_seqs is None:
        return params
    changes: dict[str, Any] = {}
    if memory_fraction is not None:
        if isinstance(memory_fraction, bool) or not isinstance(memory_fraction, (int, float)) \
                or not 0.0 < memory_fraction <= 1.0:
            raise InvalidInputError(f"memory_fraction must be a share of each GPU's memory in (0, 1] (vLLM "
                                    f"--gpu-memory-utilization, SGLang --mem-fraction-static), got {memory_fraction!r}")
        changes["memory_limit_fraction"] = float(memory_fraction)
    if max_num_seqs is not None:
        changes["max_num_seqs"] = check_positive_int("max_num_seqs", max_num_seqs)
    return replace(params, **changes)
