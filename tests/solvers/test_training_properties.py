"""DistributedModel (issue 12): properties of a training step -- conservation, monotonicity, limits, and the
errors a degree that does not divide raises. Floats via .m_as() (CI has no numpy)."""
from __future__ import annotations

import pytest

import mlsysim
from mlsysim.core.distributed import DistributedModel, DistributedResult
from mlsysim.errors import InvalidInputError
from mlsysim.specs import ClusterSpec, Provenance

PROV = Provenance(source="test", checked="2026-12-03", kind="estimate")


def cluster(nodes: int, fabric: str = "Systems.Fabrics.InfiniBand_NDR") -> ClusterSpec:
    return ClusterSpec(name=f"T{nodes}", display_name=f"{nodes} nodes", provenance=PROV, node="Systems.Nodes.DGX_H100",
                       node_count=nodes, fabric=fabric, oversubscription=1.0)


def solve(model="Llama3_8B", system=None, batch=64, precision="bf16", **kw) -> DistributedResult:
    kw.setdefault("seq_len", 4096)
    return DistributedModel().solve(model, system or cluster(4), batch, precision, **kw)


CONFIGS = [
    dict(),
    dict(tensor_parallel=2),
    dict(tensor_parallel=8, runtime="megatron", zero_stage=1),
    dict(tensor_parallel=4, pipeline_parallel=2, runtime="nemo", zero_stage=1),
    dict(pipeline_parallel=4, virtual_pipeline_stages=2, runtime="megatron"),
    dict(pipeline_parallel=4, pipeline_schedule="dualpipe", runtime="megatron", zero_stage=1),
    dict(context_parallel=2, runtime="nemo", zero_stage=1),
    dict(zero_stage=3, runtime="pytorch_fsdp"),
    dict(zero_stage=3, runtime="pytorch_fsdp", activation_recomputation="full"),
    dict(tensor_parallel=2, activation_recomputation="selective", runtime="torchtitan", zero_stage=2),
]


def test_import_paths_keep_working():
    from mlsysim.core.training import DistributedModel as Pkg
    assert mlsysim.solvers.DistributedModel is DistributedModel is Pkg


@pytest.mark.parametrize("kw", CONFIGS, ids=str)
def test_step_time_is_the_sum_of_its_parts(kw):
    r = solve(**kw)
    assert sum(r.breakdown.values()) == pytest.approx(r.latency.m_as("s"), rel=1e-9)
    assert all(v >= 0 for v in r.breakdown.values())


@pytest.mark.parametrize("kw", CONFIGS, ids=str)
def test_mfu_at_most_hfu_at_most_one(kw):
    r = solve(**kw)
    assert 0 < r.mfu <= r.hfu <= 1.0


@pytest.mark.parametrize("kw", CONFIGS, ids=str)
def test_adding_overlap_never_slows_a_step(kw):
    kw = dict(kw)
    none = solve(overlap=False, **kw).latency.m_as("s")
    default = solve(**kw).latency.m_as("s")
    full = solve(overlap={"tp": 1.0, "dp": 1.0, "param": 1.0, "pp": 1.0, "cp": 1.0}, **kw).latency.m_as("s")
    assert full <= default <= none


@pytest.mark.parametrize("kw", [dict(), dict(tensor_parallel=2), dict(pipeline_parallel=2)], ids=str)
def test_more_data_parallelism_never_lowers_throughput_at_fixed_replica_batch(kw):
    # Weak scaling: each replica keeps 16 sequences; more nodes = more DP = more tokens per second.
    rates = []
    for nodes in (1, 2, 4, 8):
        dp = nodes * 8 // (kw.get("tensor_parallel", 1) * kw.get("pipeline_parallel", 1))
        rates.append(solve(system=cluster(nodes), batch=16 * dp, **kw).throughput.m_as("1/s"))
    assert rates == sorted(rates)


def test_more_data_parallelism_splits_the_global_batch_into_fewer_microbatches_per_replica():
    a, b = solve(system=cluster(1), batch=64), solve(system=cluster(4), batch=64)
    assert a.data_parallel * a.microbatches == b.data_parallel * b.microbatches == 64
    assert b.microbatches < a.microbatches


@pytest.mark.parametrize("kw", [dict(), dict(tensor_parallel=2), dict(pipeline_parallel=2, runtime="megatron")],
                         ids=str)
def test_memory_per_gpu_falls_with_zero_stage(kw):
    totals = [solve(zero_stage=z, **kw).training_memory.total for z in (0, 1, 2, 3)]
    if kw.get("pipeline_parallel", 1) > 1:
        # FSDP (ZeRO 3) with pipeline stages accumulates the stage's unsharded fp32 gradients between
        # micro-batches (core.training.memory.UNSHARDED_ACCUMULATED_GRAD_BYTES): it need not beat ZeRO 2
        totals = totals[:3]
    assert totals == sorted(totals, reverse=True)
    assert totals[-1] < totals[0]


def test_zero_stage_memory_by_hand():
    # Llama 3 8B, 32 GPUs data parallel: ZeRO 1 divides the 12 B/param optimizer state by 32.
    r0, r1 = solve(zero_stage=0), solve(zero_stage=1)
    assert r1.training_memory.optimizer_state == pytest.approx(r0.training_memory.optimizer_state / 32)
    assert r0.training_memory.optimizer_state == pytest.approx(6 * r0.training_memory.weights)  # 12 B vs 2 B


def test_pipeline_bubble_by_hand_and_interleaving_shrinks_it():
    plain = solve(pipeline_parallel=4, runtime="megatron")
    slot = (plain.compute_time_s - plain.optimizer_time_s + plain.tp_comm_time_s) / plain.microbatches
    # (p - 1) slots of 1F1B, the slowest (last, LM head) stage's slot an upper bound: the fill and drain run the
    # other stages' slots (core.training.stages; exact by hand in tests/test_training_pipeline_stages.py)
    assert 2 * slot < plain.bubble_time_s <= 3 * slot * (1 + 1e-9)
    inter = solve(pipeline_parallel=4, virtual_pipeline_stages=2, runtime="megatron")
    assert inter.bubble_time_s < plain.bubble_time_s
    assert inter.training_memory.activations > plain.training_memory.activations  # warm-up memory


def test_recomputation_trades_time_for_activation_memory():
    none, full = solve(tensor_parallel=2), solve(tensor_parallel=2, activation_recomputation="full")
    assert full.training_memory.activations < none.training_memory.activations
    assert full.latency.m_as("s") > none.latency.m_as("s")
    assert full.recompute_time_s > 0 == none.recompute_time_s
    assert full.hfu / full.mfu > none.hfu / none.mfu


def test_fp8_gemms_make_a_step_faster_on_h100():
    bf16, fp8 = solve(runtime="nemo", zero_stage=1), solve(precision="fp8", runtime="nemo", zero_stage=1)
    assert fp8.latency.m_as("s") < bf16.latency.m_as("s")
    assert fp8.training_memory.weights > bf16.training_memory.weights  # the fp8 weight copy


def test_tensor_parallel_across_nodes_is_slower_than_inside_one():
    inside = solve("Llama3_70B", tensor_parallel=8, pipeline_parallel=4, runtime="megatron", zero_stage=1)
    across = solve("Llama3_70B", tensor_parallel=16, pipeline_parallel=2, runtime="megatron", zero_stage=1)
    assert across.tp_comm_time_s > inside.tp_comm_time_s


def test_expert_parallel_all_to_all_is_exposed_for_moe():
    r = solve("Mixtral_8x7B", tensor_parallel=1, expert_parallel=8, zero_stage=1, batch=32)
    assert r.ep_comm_time_s > 0 and r.expert_parallel == 8


@pytest.mark.parametrize("kw,needle", [
    (dict(tensor_parallel=3), "attention heads"),
    (dict(pipeline_parallel=3), "layers"),
    (dict(pipeline_parallel=2, virtual_pipeline_stages=3), "layers"),
    (dict(tensor_parallel=8, pipeline_parallel=8), "devices"),
    (dict(expert_parallel=2), "mixture-of-experts"),
    (dict(context_parallel=3), "divisible"),
])
def test_a_degree_that_does_not_divide_is_a_clear_error(kw, needle):
    system = cluster(4) if "context_parallel" not in kw else cluster(3)
    batch = 64 if "context_parallel" not in kw else 48
    with pytest.raises(InvalidInputError, match=needle) as info:
        solve(system=system, batch=batch, **kw)
    assert "choose" in str(info.value) or "leave" in str(info.value)


def test_experts_not_divisible_by_expert_parallel():
    with pytest.raises(InvalidInputError, match="experts"):
        solve("Mixtral_8x7B", expert_parallel=16, batch=32)


def test_overlap_and_recompute_inputs_are_checked():
    with pytest.raises(InvalidInputError, match="overlap"):
        solve(overlap={"nvlink": 1.0})
    with pytest.raises(InvalidInputError, match="activation_recomputation"):
        solve(activation_recomputation="some")
    with pytest.raises(InvalidInputError, match="zero_stage"):
        solve(zero_stage=4)


def test_training_runtimes_carry_their_overlap_and_sources():
    for name in ("megatron", "nemo", "pytorch_fsdp", "deepspeed", "torchtitan"):
        t = mlsysim.Runtimes.get(name).training
        assert t is not None and t.provenance.source
        assert 0 < t.compute_efficiency <= 1
    assert mlsysim.Runtimes.nemo.training.tp_comm_overlap == 1.0
    assert mlsysim.Runtimes.megatron.training.tp_comm_overlap == 0.0


def test_activation_bytes_are_korthikanti_34_sbh_for_a_gpt_layer():
    from mlsysim.core.training.memory import layer_activation_bytes
    s, h, t = 2048.0, 12288, 8
    # GPT-3: QKV width 3h, 4h GeLU MLP; FlashAttention keeps no score matrix (Korthikanti et al. 2022, eq. 1-2).
    full = layer_activation_bytes(s, h, 3 * h, 4 * h, 4 * h, 1, True, "none")
    assert full == pytest.approx(34 * s * h)
    assert layer_activation_bytes(s, h, 3 * h, 4 * h, 4 * h, t, True, "none") == pytest.approx(34 * s * h / t)
    assert layer_activation_bytes(s, h, 3 * h, 4 * h, 4 * h, t, False, "none") == pytest.approx(
        s * h * (10 + 24 / t))  # eq. 2 without the 5as/h score term
    assert layer_activation_bytes(s, h, 3 * h, 4 * h, 4 * h, t, True, "full") == pytest.approx(2 * s * h / t)


def test_optimizer_step_time_by_hand():
    r = solve(zero_stage=1, runtime="megatron")
    m = mlsysim.Models.Llama3_8B
    params = r.training_memory.weights / 2.0  # 2 B per weight on this GPU
    bw = mlsysim.Hardware.H100.calibration.memory_bandwidth.m_as("B/s")
    assert r.optimizer_time_s == pytest.approx(params / 32 * 30.0 / bw, rel=1e-6)  # 28 B Adam + 2 B clip
    assert m.layers == 32
