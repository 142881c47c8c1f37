"""The training tier of dse.sweep (the engine tier's arithmetic with dense transformers' training steps
vectorised) agrees with Engine.solve(is_training=True) on random grids: every figure, feasibility, bottleneck
and error, with ZeRO, data parallelism and recomputation options."""
from __future__ import annotations

import math
import random

import pytest

from mlsysim import Engine, dse

MODELS = ["Llama3_8B", "Llama3_70B", "BERT_Base", "GPT2", "Mixtral_8x7B", "ResNet50", "Qwen25_7B"]
DEVICES = ["H100", "A100", "L4", "MI300X", "T4", "B200", "ESP32_S3"]
PRECISIONS = ["bf16", "fp16", "fp8", "fp32", "int8"]
FIGURES = ("latency", "throughput", "energy", "mfu")


def _grid(rng: random.Random) -> dict:
    opts = {}
    if rng.random() < 0.5:
        opts["zero_stage"] = rng.choice([0, 1, 2, 3])
        opts["dp_size"] = rng.choice([1, 8, 64])
    if rng.random() < 0.5:
        opts["activation_recomputation"] = rng.choice(["none", "selective", "full"])
    return dict(models=rng.sample(MODELS, 3), hardware=rng.sample(DEVICES, 3),
                batch_sizes=sorted(rng.sample([1, 2, 8, 32, 256], 2)), precisions=rng.sample(PRECISIONS, 2),
                seq_lens=sorted(rng.sample([128, 1000, 2048, 8192], 2)), solver="training", **opts)


@pytest.mark.parametrize("seed", range(5))
def test_random_training_grids_agree_with_engine_solve(seed):
    grid = _grid(random.Random(100 + seed))
    fast = dse.sweep(**grid)
    ref = dse.sweep(**grid, backend="scalar")  # one Engine.solve(is_training=True) per point
    assert len(fast) == len(ref)
    for a, b in zip(ref, fast):
        for k in FIGURES:
            assert a[k] == b[k] or (math.isnan(a[k]) and math.isnan(b[k])), (k, a, b)
        assert (a["feasible"], a["bottleneck"], a["error"]) == (b["feasible"], b["bottleneck"], b["error"]), (a, b)


def test_a_point_is_the_engine_training_step():
    t = dse.sweep("Llama3_8B", "H100", [4], "bf16", [4096], solver="training", zero_stage=1, dp_size=8,
                  activation_recomputation="selective")
    r = Engine.solve("Llama3_8B", "H100", 4, "bf16", is_training=True, seq_len=4096, zero_stage=1, dp_size=8,
                     activation_recomputation="selective")
    assert t[0]["latency"] == r.latency.m_as("s") and t[0]["mfu"] == r.mfu and t[0]["feasible"] == r.feasible
    assert t[0]["throughput_unit"] == "token/s"
