"""Speculative decoding (Leviathan et al. 2023; Chen et al. 2023): a draft proposes k tokens per sequence,
the target verifies them in one step of k + 1 query tokens; with a per-token acceptance rate a, a step
emits E = (1 - a^(k+1)) / (1 - a) tokens on average (Leviathan et al. 2023, eq. 1). The draft is a smaller
model run k times on the same GPUs, or multi-token-prediction heads (draft=None): one extra transformer
block + the LM head per proposed token (DeepSeek-V3 report sec. 2.2, one MTP module per depth).

ServingModel.solve(..., speculative={"tokens": 3, "acceptance": 0.7, "draft": "Llama3_8B" or None})
"""
from __future__ import annotations

from typing import Any

from ...errors import InvalidInputError

# Transformer blocks one MTP module adds per proposed token (DeepSeek-V3 technical report, sec. 2.2).
MTP_BLOCKS_PER_TOKEN = 1
SPEC_KEYS = ("tokens", "acceptance", "draft")


def expected_tokens(k: int, a: float) -> float:
    """Mean tokens emitted per verification step: 1 + a + ... + a^k."""
    return float(k + 1) if a >= 1.0 else (1.0 - a ** (k + 1)) / (1.0 - a)


def check_speculative(spec: Any) -> tuple[int, float, Any]:
    if not isinstance(spec, dict) or any(key not in SPEC_KEYS for key in spec) or "tokens" not in spec \
            or "acceptance" not in spec:
        raise InvalidInputError("speculative must be {'tokens': k, 'acceptance': a, 'draft': model or None}")
    k, a = spec["tokens"], spec["acceptance"]
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise InvalidInputError(f"speculative tokens must be a positive int, got {k!r}")
    if isinstance(a, bool) or not isinstance(a, (int, float)) or not 0.0 <= a <= 1.0:
        raise InvalidInputError(f"speculative acceptance must be a rate in [0, 1], got {a!r}")
    return k, float(a), spec.get("draft")


class SpeculativeStep:
    """A StepModel seen per emitted token: pass_time = (target verify step + k draft steps) / E;
    chunk_time = one real step (a prefill chunk rides with the verify step)."""

    def __init__(self, target, draft, k: int, a: float):
        self.target, self.draft, self.k, self.a = target, draft, k, a
        self.tokens = expected_tokens(k, a)
        self.m, self.lay = target.m, target.lay

    def _draft(self, nd: float, cd: float) -> float:
        if self.draft is not None:
            return self.k * self.draft.pass_time(nd, cd)
        # MTP: k x (one block of the target + its LM head): the block is 1/L of the step's layer work
        return self.k * self.target.pass_time(nd, cd) * MTP_BLOCKS_PER_TOKEN / self.target.m.layers

    def chunk_time(self, nd, cd, np_=0.0, cp=0.0, prior=0.0, out_tokens=None, graph=1.0) -> float:
        return self.target.pass_time(nd * (self.k + 1), cd, np_, cp, prior, out_tokens, graph) + self._draft(nd, cd)

    def pass_time(self, nd, cd, np_=0.0, cp=0.0, prior=0.0, out_tokens=None, graph=1.0) -> float:
        return self.chunk_time(nd, cd, np_, cp, prior, out_tokens, graph) / self.tokens
