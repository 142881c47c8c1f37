"""Distributed-training accuracy (experimental DistributedModel): published large-scale training runs rebuilt
from their geometry, system and parallelism (tests/validation/distributed_cases.csv: Megatron-LM on A100,
Megatron-Core on H100, NeMo fp8, MosaicML llm-foundry FSDP, Llama 3 405B, NVIDIA's MLPerf Training NeMo submissions
read from their logs by tools/mlperf_training_throughput.py), each predicted with its training stack. node_gpus (empty:
the whole node): the GPUs a job used of each multi-host node, in whole hosts (an NVL72 rack's compute trays). cp_comm
(empty: p2p): the run's Megatron-Core cp_comm_type, "p2p" ring or "a2a" Ulysses (core.training.context).

fit_efficiencies: the one fitted parameter per training runtime and device (compute_efficiency, and device_efficiency
where a device's calibration rows disagree; catalog/runtimes/training.toml) from its calibration rows: the value whose median signed error there is zero (bisection; MFU and throughput
rise monotonically with it). leave_one_source_out: one shared efficiency fitted on every other source family,
then the left-out family predicted with it (what a new stack of unknown efficiency would see);
leave_one_source_out_per_stack: the per-(runtime, device) efficiencies refitted without the left-out family."""
from __future__ import annotations

import csv
from pathlib import Path
from statistics import median
from typing import Any

from ..errors import InvalidInputError
from . import DEFAULT_CASES, CaseResult

DEFAULT_DISTRIBUTED_CASES = DEFAULT_CASES.parent / "distributed_cases.csv"
# Bisection bounds and steps for the efficiency fit (a share of the shape-roof rate).
FIT_LOW, FIT_HIGH, FIT_STEPS = 0.2, 1.0, 30
GIB = 2.0**30
# Metrics a compute efficiency moves (fitted and left out per source); memory does not depend on it.
SPEED_METRICS = ("training_mfu", "training_hfu", "tokens_per_s_per_gpu")


def _case_specs(row: dict[str, str]):
    from ..specs import ClusterSpec, Provenance, TransformerSpec

    prov = Provenance(source=row["source"], checked="2026-12-03", kind="measured", notes=row["notes"])
    h, layers, heads, kv = int(row["hidden"]), int(row["layers"]), int(row["heads"]), int(row["kv_heads"])
    gated = row["gated"] == "1"
    model = TransformerSpec(
        name=f"Case_{row['id']}", display_name=f"{row['family']} h={h} L={layers}", category="Language",
        architecture="decoder", provenance=prov, layers=layers, hidden_size=h, heads=heads, kv_heads=kv,
        head_dim=h // heads, ffn_size=int(row["ffn"]), ffn_gated=gated, vocab_size=int(row["vocab"]),
        tied_embeddings=not gated, context_length=int(row["seq_len"]), position_embedding="rotary",
        norm="rmsnorm" if gated else "layernorm", bias=not gated)
    if (row.get("model") or "").strip():  # a catalog model (an MoE such as DeepSeekV3): the geometry columns only
        from ..core.solver import registries  # describe it
        model = registries().roots["Models"].get(row["model"].strip())
    node = _used_node(row)
    gpus, per_node = int(row["gpus"]), node.accelerators_per_node
    if gpus % per_node:
        raise InvalidInputError(f"row {row['id']}: {gpus} GPUs are not whole nodes of {per_node} ({row['node']}); "
                                "give a multiple, or node_gpus for a job on part of each node's trays")
    system = ClusterSpec(name=f"Cluster_{row['id']}", display_name=f"{row['gpus']} GPUs", provenance=prov,
                         node=node, node_count=gpus // per_node, fabric=row["fabric"], oversubscription=1.0)
    return model, system


def _used_node(row: dict[str, str]) -> Any:
    """The row's node; with node_gpus, the part of a multi-host node (an NVL72 rack's compute trays) the job ran on:
    whole hosts only, each with its accelerators, NICs, host memory and power (NodeSpec counts them over hosts).
    NVIDIA's GB200 MLPerf jobs use 16 of the 18 trays of each rack (64 GPUs; the submissions' system JSON)."""
    import attrs

    from ..core.solver import registries
    node = registries().roots["Systems"].get(row["node"])
    used = (row.get("node_gpus") or "").strip()
    if not used:
        return node
    k, per_host = int(used), node.accelerators_per_host
    if not 0 < k <= node.accelerators_per_node or k % per_host:
        raise InvalidInputError(f"row {row['id']}: node_gpus={k} must be whole hosts of {row['node']} "
                                f"({per_host} accelerators each, at most {node.accelerators_per_node})")
    share = (k // per_host) / node.hosts
    return attrs.evolve(node, name=f"{node.name}_{k}_used", accelerators_per_node=k, hosts=k // per_host,
                        nics_per_node=round(node.nics_per_node * share), host_memory=node._host_memory * share,
                        power=node._power * share)


def rows(path: Path | str = DEFAULT_DISTRIBUTED_CASES) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _runtime(name: str, efficiency: float | None) -> Any:
    import attrs

    from ..core.solver import registries
    rt = registries().roots["Runtimes"].get(name)
    if efficiency is None:
        return rt
    return attrs.evolve(rt, training=attrs.evolve(rt.training, compute_efficiency=efficiency, device_efficiency=()))


def predict(row: dict[str, str], efficiency: float | None = None) -> float:
    from ..core.distributed import DistributedModel

    model, system = _case_specs(row)
    overlap = {k: float(row[f"{k}_overlap"]) for k in ("tp", "ep") if (row.get(f"{k}_overlap") or "").strip()} or None
    split = row.get("stage_split", "").strip()  # "first/last" transformer layers of the end stages
    ends = dict(zip(("first_stage_layers", "last_stage_layers"), map(int, split.split("/")))) if split else {}
    r = DistributedModel().solve(model, system, int(row["global_batch"]), row["precision"],
                                 seq_len=int(row["seq_len"]), tensor_parallel=int(row["tp"]),
                                 pipeline_parallel=int(row["pp"]), context_parallel=int(row["cp"]),
                                 virtual_pipeline_stages=int(row["vp"]), microbatch_size=int(row["mbs"]),
                                 expert_parallel=int(row.get("ep") or 1),
                                 zero_stage=int(row["zero"]), activation_recomputation=row["recompute"],
                                 runtime=_runtime(row["runtime"], efficiency), overlap=overlap,
                                 pipeline_schedule=_schedule(row), cp_comm_type=_cp_comm(row), **ends, **_lora(row))
    metric = row["metric"]
    if metric == "training_mfu":
        return r.mfu
    if metric == "training_hfu":
        return r.hfu
    if metric == "tokens_per_s_per_gpu":
        return r.tokens_per_s_per_gpu
    if metric == "memory_gib_per_gpu":  # the peak the allocator reserves on the fullest GPU
        return r.training_memory.total / GIB
    raise ValueError(f"row {row['id']}: unknown metric {metric!r}")


def _lora(row: dict[str, str]) -> dict[str, Any]:
    """LoRA keywords of a fine-tuning row: its lora_rank and lora_targets columns (both empty for full training)."""
    rank, targets = (row.get("lora_rank") or "").strip(), (row.get("lora_targets") or "").strip()
    if not rank and not targets:
        return {}
    if not rank or not targets:
        raise InvalidInputError(f"row {row['id']}: a LoRA row gives both lora_rank and lora_targets")
    return {"is_lora": True, "lora_rank": int(rank), "lora_targets": targets}


def _cp_comm(row: dict[str, str]) -> str:
    """The row's context-parallel scheme: its cp_comm column (Megatron-Core cp_comm_type), empty for the p2p ring."""
    return (row.get("cp_comm") or "").strip() or "p2p"


def _schedule(row: dict[str, str]) -> str:
    """The row's pipeline schedule: its pp_schedule column, empty for 1F1B (interleaved where vp > 1)."""
    return (row.get("pp_schedule") or "").strip() or "1f1b"


def run(path: Path | str = DEFAULT_DISTRIBUTED_CASES) -> list[CaseResult]:
    out = []
    for row in rows(path):
        model, _ = _case_specs(row)
        out.append(CaseResult(row["id"], row["metric"], row["role"], model.display_name,
                              f"{row['gpus']}x{row['node'].rsplit('_', 1)[-1]}", float(row["measured"]),
                              predict(row), runtime=row["runtime"]))
    return out


def _fit(selected: list[dict[str, str]]) -> float:
    """Efficiency with median signed relative error 0 over `selected` (bisection)."""
    lo, hi = FIT_LOW, FIT_HIGH

    def signed(e: float) -> float:
        return median(predict(r, e) / float(r["measured"]) - 1.0 for r in selected)

    if signed(hi) <= 0:
        return hi
    for _ in range(FIT_STEPS):
        mid = 0.5 * (lo + hi)
        if signed(mid) > 0:
            hi = mid
        else:
            lo = mid
    return 0.5 * (lo + hi)


def fit_efficiencies(path: Path | str = DEFAULT_DISTRIBUTED_CASES) -> dict[str, float]:
    """compute_efficiency per training runtime from its calibration rows."""
    by_rt: dict[tuple[str, str], list[dict[str, str]]] = {}
    for row in rows(path):
        if row["role"] == "calibration":
            by_rt.setdefault((row["runtime"], _hardware(row)), []).append(row)
    return {key: _fit(sel) for key, sel in by_rt.items()}


def _hardware(row: dict[str, str]) -> str:
    """The Hardware entry of the row's node (A100, H100 ...)."""
    from ..core.solver import registries
    acc = registries().roots["Systems"].get(row["node"]).accelerator
    return acc.name if hasattr(acc, "name") else str(acc).rsplit(".", 1)[-1]


def leave_one_source_out(path: Path | str = DEFAULT_DISTRIBUTED_CASES) -> dict[str, tuple[float, list[float]]]:
    """{family: (shared efficiency fitted on the other families, absolute % errors of this family's rows)}."""
    all_rows = [r for r in rows(path) if r["metric"] in SPEED_METRICS and r["role"] != "excluded"]
    out = {}
    for fam in sorted({r["family"] for r in all_rows}):
        train = [r for r in all_rows if r["family"] != fam]
        e = _fit(train)
        errs = [abs(predict(r, e) / float(r["measured"]) - 1.0) * 100 for r in all_rows if r["family"] == fam]
        out[fam] = (e, errs)
    return out


def leave_one_source_out_per_stack(path: Path | str = DEFAULT_DISTRIBUTED_CASES
                                   ) -> dict[str, tuple[str, list[float]]]:
    """{family: (how it was predicted, absolute % errors of its rows)}: every (runtime, device) efficiency refitted
    on the other families' rows only; where no other family measures that (runtime, device), the runtime's rows on
    other devices; where none measures the runtime, one efficiency shared over all the other families."""
    all_rows = [r for r in rows(path) if r["metric"] in SPEED_METRICS and r["role"] != "excluded"]
    out = {}
    for fam in sorted({r["family"] for r in all_rows}):
        train = [r for r in all_rows if r["family"] != fam]
        mine = [r for r in all_rows if r["family"] == fam]
        errs, how = [], set()
        for key in sorted({(r["runtime"], _hardware(r)) for r in mine}):
            same = [r for r in train if (r["runtime"], _hardware(r)) == key]
            stack = [r for r in train if r["runtime"] == key[0]]
            sel, label = (same, "refit") if same else (stack, "same runtime") if stack else (train, "shared")
            e = _fit(sel)
            how.add(f"{key[0]}/{key[1]} {label} {e:.3f}")
            errs += [abs(predict(r, e) / float(r["measured"]) - 1.0) * 100 for r in mine
                     if (r["runtime"], _hardware(r)) == key]
        out[fam] = ("; ".join(sorted(how)), errs)
    return out


def parallelism_kind(row: dict[str, str]) -> str:
    """The row's parallelism as a label: FSDP / DP, then TP, PP (+VP), CP where > 1."""
    parts = ["FSDP" if row["zero"] == "3" else "DP"]
    for key, label in (("tp", "TP"), ("pp", "PP"), ("cp", "CP"), ("ep", "EP")):
        if int(row.get(key) or 1) > 1:
            parts.append(label + ("+VP" if key == "pp" and int(row["vp"]) > 1 else "")
                         + ("+DualPipe" if key == "pp" and _schedule(row) == "dualpipe" else ""))
    return "+".join(parts)


def report(path: Path | str = DEFAULT_DISTRIBUTED_CASES) -> str:
    """Errors per row, per source family and per parallelism kind (held-out rows), fitted efficiencies and
    leave-one-source-out errors, as text."""
    all_rows = rows(path)
    lines = [f"{'id':<7} {'family':<20} {'kind':<14} {'metric':<21} {'measured':>9} {'predicted':>9} {'err %':>7} role"]
    errs: list[tuple[dict[str, str], float]] = []
    for row in all_rows:
        p = predict(row)
        e = (p / float(row["measured"]) - 1.0) * 100
        errs.append((row, e))
        lines.append(f"{row['id']:<7} {row['family']:<20} {parallelism_kind(row):<14} {row['metric']:<21} "
                     f"{float(row['measured']):>9.4g} {p:>9.4g} {e:>+7.1f} {row['role']}")
    held = [(r, abs(e)) for r, e in errs if r["role"] == "holdout" and r["metric"] in SPEED_METRICS]
    mem = [abs(e) for r, e in errs if r["metric"] == "memory_gib_per_gpu"]
    lines.append("")
    lines.append(f"held-out speed rows: {len(held)}, median |error| {median(e for _, e in held):.1f} %, "
                 f"worst {max(e for _, e in held):.1f} %")
    excluded = [(r, e) for r, e in errs if r["role"] == "excluded"]
    if excluded:
        lines.append(f"excluded rows (platform not in the catalog, see their notes): {len(excluded)}, median |error| "
                     f"{median(abs(e) for _, e in excluded):.1f} % at the catalog efficiency")
    if mem:
        lines.append(f"memory rows (per-GPU peak, nothing fitted): {len(mem)}, median |error| {median(mem):.1f} %, "
                     f"worst {max(mem):.1f} %, within 10 %: {sum(e <= 10 for e in mem)}")
    for title, key in (("per source family", lambda r: r["family"]), ("per parallelism kind", parallelism_kind),
                       ("per metric", lambda r: r["metric"])):
        lines.append(f"{title} (held-out, median |error| %, rows):")
        groups: dict[str, list[float]] = {}
        for r, e in held:
            groups.setdefault(key(r), []).append(e)
        for k in sorted(groups):
            lines.append(f"  {k:<24} {median(groups[k]):6.1f}  {len(groups[k])}")
    lines.append("fitted compute_efficiency per (runtime, device), calibration rows:")
    for (rt, hw), e in sorted(fit_efficiencies(path).items()):
        lines.append(f"  {rt:<14} {hw:<6} {e:.3f}")
    lines.append("leave one source family out (one shared efficiency fitted on the others, |error| % of the family):")
    for fam, (e, fam_errs) in leave_one_source_out(path).items():
        lines.append(f"  {fam:<20} eff {e:.3f}  median {median(fam_errs):6.1f}  worst {max(fam_errs):6.1f}")
    lines.append("leave one source family out, per stack (refit on the other families' rows of the same runtime and "
                 "device, else of the same runtime, else shared):")
    for fam, (how, fam_errs) in leave_one_source_out_per_stack(path).items():
        lines.append(f"  {fam:<20} median {median(fam_errs):6.1f}  worst {max(fam_errs):6.1f}  ({how})")
    return "\n".join(lines)


if __name__ == "__main__":  # python -m mlsysim.validation.distributed
    print(report())
