"""LLM serving (experimental): ServingModel and its result. One concern per module:
layout (devices, links, parallel split), comm (TP all-reduce, EP all-to-all, PP sends), step (one mixed
step's roofline per GPU), kv (KV-cache capacity), scheduler (continuous batching steady state),
runtime_params (runtime serving defaults), static_legacy (0.1.x static batch), disagg (prefill/decode pools),
server_rate (the largest arrival rate within TTFT/TPOT limits: an MLPerf Server result)."""
from __future__ import annotations

from .model import ServingModel
from .result import ServingResult

__all__ = ["ServingModel", "ServingResult"]
