"""Training accuracy (issue 12): the catalog's fitted training efficiencies are the harness's fit, and the
held-out error stays where it was recorded."""
from __future__ import annotations

from pathlib import Path
from statistics import median

import pytest

import mlsysim
from mlsysim.errors import InvalidInputError
from mlsysim.validation.distributed import SPEED_METRICS, _case_specs, fit_efficiencies, parallelism_kind, predict, rows

CASES = Path(__file__).parent / "distributed_cases.csv"
# Issue 12's held-out goals are median <= 8 %, none worse than 20 %. Re-recorded (S16, with the 13 MLPerf Training
# rows MLPT01-13, NVIDIA's NeMo submissions read as tokens/s/GPU from their logs, all held out): median 5.9 % over 34
# held-out speed rows, worst still GT085 19.8 %; the MLPerf rows read GPT-3 175B H100 -3.1 .. -12.2 %, B200 -4.2 %,
# Llama 3.1 405B H100 -3.5 .. -6.7 %, GB200 +10.4 / +12.0 % (the NeMo efficiency is fitted on H100 only).
# Recorded (TR14): median 5.6 % over 21 held-out speed rows (five NeMo 24.07 rows TR14N01-05 among them, 1.7-8.0 %,
# and two MT-NLG 530B DeepSpeed rows TR14M02-03,
# 1.1 / 5.2 %, with the deepspeed A100 efficiency fitted on TR14M01), worst 19.8 % (GT085, Megatron-Core 462B TP8 PP16
# with micro-batch 1 and no interleaving assumed: the README does not state the virtual stages; the excluded
# DeepSeek-V3 row TR14D01 reads -11.6 % with DualPipe, -15.1 % with a 1F1B bubble); before uneven pipeline stages and
# op-level selective recomputation 8.2 / 20.6 %.
MEDIAN_GOAL, WORST_BOUND = 8.0, 20.0
# Per-GPU memory (torchtitan H100 benchmark, max reserved): goal 10 %. Recorded (TR14, with the runtime's training.memory
# flags: gathered TP inputs (fp8 under Float8), loss_parallel buffers, kept pipeline stage outputs and receive
# buffers): the Llama 3.1 8B FSDP/CP rows 0.2-3.0 %, 70B TP8 3.0 / 3.2 % (were 20.0 / 14.9), 405B PP8 2.2-7.9 % except
# the 1F1B local-batch-32 row S12M11 13.9 % (was 20.7) and the CP8 row S12M16 16.3 % (was 22.9); median 2.8 %, 14 of 16
# within 10 %. Re-recorded (S15, three terms read from the benchmark's sources: FSDP's float8 all-gather keeps the
# gathered linears in 1 B where dp_shard > 1, ring-attention backward buffers, pipeline receive buffers' gradients):
# 8B 0.7-3.2 %, 70B 3.3 / 2.9 %, 405B PP8 interleaved S12M12 3.7 %, 1F1B S12M13-15 11.3 / 12.0 / 13.4 %, S12M11
# 19.1 %, S12M16 14.1 %; median 3.1 %, 11 of 16 within 10 %. The 405B 1F1B rows are 8-16 GiB low, a gap the sources
# read (torchtitan 9dec370, torchao eab345c, torch pipelining / FSDP2 / context_parallel) do not explain: measured,
# 1F1B holds 9.8 GiB more than Interleaved 1F1B at the same batch; modelled, 3.2 GiB less. Bounds: the recorded
# values, rounded up.
MEMORY_MEDIAN_BOUND, MEMORY_FSDP_BOUND = 3.2, 8.0
MEMORY_TP_BOUND, MEMORY_PP_BOUND, MEMORY_WORST_BOUND = 3.5, 19.5, 19.5
# The catalog prints the fit to 3 decimals.
FIT_TOLERANCE = 0.002


def test_catalog_efficiencies_are_the_fit():
    for (name, hw), fitted in fit_efficiencies(CASES).items():
        t = mlsysim.Runtimes.get(name).training
        assert t.efficiency_on(hw) == pytest.approx(fitted, abs=FIT_TOLERANCE), (name, hw)


def test_every_training_row_cites_its_source_and_parallelism():
    for row in rows(CASES):
        assert row["source"].strip() and row["notes"].strip()
        assert row["role"] in ("calibration", "holdout", "excluded")
        assert row["role"] != "excluded" or "EXCLUDED" in row["notes"]  # the reason is written down
        assert row["id"].startswith(("TRN", "GT", "S12", "TR14", "MLPT"))
        assert parallelism_kind(row)


def test_node_gpus_is_whole_hosts_of_a_rack_and_keeps_the_per_gpu_links():
    """MLPT12: 256 GPUs as 4 GB200 NVL72 racks with 16 of their 18 trays used (node_gpus 64): NICs, host memory and
    power scale with the trays, so a GPU's NVLink and NIC share are the full rack's; a partial host, or GPUs that are
    not whole nodes, is an error."""
    from mlsysim.core.training.layout import topology

    row = next(r for r in rows(CASES) if r["id"] == "MLPT12")
    _, system = _case_specs(row)
    node = system.node
    assert (node.accelerators_per_node, node.hosts, node.nics_per_node, system.node_count) == (64, 16, 64, 4)
    full = topology(mlsysim.Systems.Nodes.GB200_NVL72)
    used = topology(system)
    assert used.devices == 256
    assert used.inter_bw == pytest.approx(full.inter_bw) and used.intra_bw == pytest.approx(full.intra_bw)
    assert node.power.m_as("W") == pytest.approx(mlsysim.Systems.Nodes.GB200_NVL72.power.m_as("W") * 16 / 18)
    for bad in ({"node_gpus": "62"}, {"node_gpus": "0"}, {"node_gpus": "76"}, {"node_gpus": ""}):
        with pytest.raises(InvalidInputError):
            _case_specs(dict(row, **bad))


def test_held_out_error_within_goals():
    """Issue 12's goals over the full-training rows (the LoRA fine-tuning rows: their own recorded bounds below)."""
    errs = [abs(predict(r) / float(r["measured"]) - 1.0) * 100 for r in rows(CASES)
            if r["role"] == "holdout" and r["metric"] in SPEED_METRICS and not r["lora_rank"].strip()]
    assert len(errs) >= 34
    assert median(errs) <= MEDIAN_GOAL
    assert max(errs) <= WORST_BOUND


# MLPerf Training llama2_70b_lora (MLPT14-27, NVIDIA NeMo, LoRA rank 16 on the fused QKV and output projections, fp8,
# seq 8192), recorded (S16): without context parallelism H100 -0.2 / -1.5 % (v4.0 / v4.1, TP4 on one node), H200 -13.0
# % (TP2), B200 +1.4 %, GB200 (2 trays) +9.0 %; with context parallelism all but the H200 row read high: H100 TP4 CP2
# +35.2 / +42.9 % (v4.0, 64 / 1024 GPUs), +14.7 / +15.4 % (v4.1, per-layer CUDA graphs), H200 TP1 CP2 -12.1 %, B200
# TP1 CP2 +13.3 %, GB200 TP1 CP8 +36.0 / +39.1 / +46.8 % (72 / 144 / 512 GPUs). The modelled CP step is the CP1
# micro-batch split cp ways (plus the ring's exposed KV exchange), while those logs spend 0.06-0.20 s per step beyond
# it (one micro-batch per step at GBS = DP): not explained by the sources read (ring or all-to-all attention on T/cp
# chunks, per-step fp8 amax reduction, CPU launch of the adapters' small kernels are candidates). The NeMo efficiency
# is fitted on full-training H100 rows only; nothing is fitted to these rows.
LORA_MEDIAN_BOUND, LORA_NO_CP_WORST_BOUND, LORA_WORST_BOUND = 14.5, 13.5, 47.0


def test_lora_rows_within_recorded_bounds():
    lora = [r for r in rows(CASES) if r["lora_rank"].strip()]
    assert len(lora) >= 14 and all(r["role"] == "holdout" and r["lora_targets"] == "attention" for r in lora)
    err = {r["id"]: (predict(r) / float(r["measured"]) - 1.0) * 100 for r in lora}
    assert median(abs(e) for e in err.values()) <= LORA_MEDIAN_BOUND
    assert max(abs(err[r["id"]]) for r in lora if r["cp"] == "1") <= LORA_NO_CP_WORST_BOUND
    assert max(abs(e) for e in err.values()) <= LORA_WORST_BOUND


def test_memory_rows_within_recorded_bounds():
    mem = {r["id"]: abs(predict(r) / float(r["measured"]) - 1.0) * 100 for r in rows(CASES)
           if r["metric"] == "memory_gib_per_gpu"}
    assert len(mem) >= 16
    assert median(mem.values()) <= MEMORY_MEDIAN_BOUND
    assert all(mem[i] <= MEMORY_FSDP_BOUND for i in ("S12M01", "S12M02", "S12M03", "S12M04"))
    assert all(mem[i] <= MEMORY_TP_BOUND for i in ("S12M09", "S12M10"))  # 70B TP8 (gathered inputs, loss_parallel)
    assert all(mem[i] <= MEMORY_PP_BOUND for i in ("S12M11", "S12M12", "S12M13", "S12M14", "S12M15"))
    assert max(mem.values()) <= MEMORY_WORST_BOUND
