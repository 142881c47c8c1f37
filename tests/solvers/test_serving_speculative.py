"""Speculative decoding option (issue 10): expected tokens per verify step and its effect on TPOT."""
from __future__ import annotations

import pytest

from mlsysim.core.serving.speculative import expected_tokens
from mlsysim.errors import InvalidInputError
from mlsysim.solvers import ServingModel

S = ServingModel()
BASE = dict(prompt_len=1024, output_len=256)


def test_expected_tokens_limits():
    assert expected_tokens(3, 0.0) == 1.0 and expected_tokens(3, 1.0) == 4.0
    assert expected_tokens(3, 0.5) == pytest.approx(1 + 0.5 + 0.25 + 0.125)


def test_speculation_helps_memory_bound_decode_and_needs_acceptance():
    plain = S.solve("Llama3_70B", "DGX_H100", 4, "fp8", tensor_parallel=4, **BASE)
    mtp = S.solve("Llama3_70B", "DGX_H100", 4, "fp8", tensor_parallel=4, **BASE,
                  speculative={"tokens": 3, "acceptance": 0.8})
    draft = S.solve("Llama3_70B", "DGX_H100", 4, "fp8", tensor_parallel=4, **BASE,
                    speculative={"tokens": 3, "acceptance": 0.8, "draft": "Llama3_8B"})
    useless = S.solve("Llama3_70B", "DGX_H100", 4, "fp8", tensor_parallel=4, **BASE,
                      speculative={"tokens": 3, "acceptance": 0.0, "draft": "Llama3_8B"})
    assert mtp.tpot < plain.tpot and draft.tpot < plain.tpot
    assert useless.tpot > plain.tpot  # every draft token rejected: pure cost
    assert draft.weights_per_gpu_bytes > plain.weights_per_gpu_bytes


def test_bad_speculative_spec():
    with pytest.raises(InvalidInputError, match="speculative"):
        S.solve("Llama3_8B", "H100", 4, "bf16", **BASE, speculative={"tokens": 0, "acceptance": 0.5})
    with pytest.raises(InvalidInputError, match="continuous"):
        S.solve("Llama3_8B", "H100", 4, "bf16", **BASE, batching="static", speculative={"tokens": 2, "acceptance": 0.5})
