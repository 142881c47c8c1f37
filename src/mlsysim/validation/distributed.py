"""Distributed-training accuracy (experimental solver): Megatron-Core MFU rows rebuilt from their published
geometry and system (tests/validation/distributed_cases.csv), predicted by DistributedModel."""
from __future__ import annotations

import csv
from pathlib import Path

from . import DEFAULT_CASES, CaseResult

DEFAULT_DISTRIBUTED_CASES = DEFAULT_CASES.parent / "distributed_cases.csv"


def _case_specs(row: dict[str, str]):
    from ..specs import ClusterSpec, Provenance, TransformerSpec

    prov = Provenance(source=row["source"], checked="2026-11-26", kind="measured", notes=row["notes"])
    h, layers, heads = int(row["hidden"]), int(row["layers"]), int(row["heads"])
    model = TransformerSpec(
        name=f"Case_{row['id']}", display_name=f"GPT h={h} L={layers}", category="Language", architecture="decoder",
        provenance=prov, layers=layers, hidden_size=h, heads=heads, kv_heads=heads, head_dim=h // heads,
        ffn_size=4 * h, ffn_gated=False, vocab_size=int(row["vocab"]), tied_embeddings=True,
        context_length=int(row["seq_len"]), position_embedding="rotary", norm="layernorm", bias=True)
    system = ClusterSpec(name=f"Cluster_{row['id']}", display_name=f"{row['gpus']} GPUs", provenance=prov,
                         node=row["node"], node_count=int(row["gpus"]) // 8, fabric=row["fabric"], oversubscription=1.0)
    return model, system


def run(path: Path | str = DEFAULT_DISTRIBUTED_CASES) -> list[CaseResult]:
    from ..core.distributed import DistributedModel

    out = []
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            model, system = _case_specs(row)
            r = DistributedModel().solve(model, system, int(row["global_batch"]), "bf16",
                                         seq_len=int(row["seq_len"]), tensor_parallel=int(row["tp"]),
                                         pipeline_parallel=int(row["pp"]), zero_stage=1)
            out.append(CaseResult(row["id"], "training_mfu", "holdout", model.display_name, f"{row['gpus']}xH100",
                                  float(row["measured_mfu"]), r.mfu))
    return out
