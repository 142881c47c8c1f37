"""dse.sweep over Systems nodes (issue 11): the serving tier splits each replica over a node's GPUs as
ServingModel.solve(model, node, ...) does, the training tier runs DistributedModel.solve on the node (or a
cluster); points that cannot run or do not fit are kept with their reasons; the CLI takes node names."""
from __future__ import annotations

import json
import math

import pytest

from mlsysim import dse
from mlsysim.cli import main
from mlsysim.core.distributed import DistributedModel
from mlsysim.core.serving import ServingModel
from mlsysim.errors import InvalidInputError

NODES = ["DGX_H100", "HGX_H200"]


def test_serving_on_nodes_is_serving_model_on_the_node():
    t = dse.sweep(["Llama3_8B", "Llama3_70B"], NODES, [1, 32, 256], "fp16", [1024], solver="serving",
                  tensor_parallel=8, output_len=64)
    assert len(t) == 12 and not t.errors
    solver = ServingModel()
    for rec in t:
        r = solver.solve(rec["model"], rec["hardware"], rec["batch_size"], "fp16", prompt_len=1024, output_len=64,
                         tensor_parallel=8)
        assert rec["hardware"] in NODES
        assert math.isclose(rec["latency"], r.latency.m_as("s"), rel_tol=1e-9)
        assert math.isclose(rec["throughput"], r.throughput.m_as("token/s"), rel_tol=1e-9)
        assert math.isclose(rec["tpot"], r.tpot.m_as("s"), rel_tol=1e-9)
        assert rec["feasible"] == r.feasible and rec["bottleneck"] == r.bottleneck


def test_serving_on_nodes_grouped_tier_agrees_with_the_scalar_loop():
    grid = dict(models=["Llama3_70B", "Mixtral_8x7B"], hardware=NODES + ["H100"], batch_sizes=[1, 64, 512],
                precisions=["fp16", "fp8"], seq_lens=[512, 4096], solver="serving", tensor_parallel=4,
                runtime="vllm", output_len=128)
    fast, ref = dse.sweep(**grid), dse.sweep(**grid, backend="scalar")
    for a, b in zip(ref, fast):
        for k in ("latency", "throughput", "energy", "mfu", "ttft", "tpot"):
            assert a[k] == b[k] or math.isclose(a[k], b[k], rel_tol=1e-9) or (math.isnan(a[k]) and math.isnan(b[k]))
        assert (a["feasible"], a["error"], a["hardware"]) == (b["feasible"], b["error"], b["hardware"])


def test_physics_more_gpus_of_the_node_cut_tpot():
    t = dse.sweep("Llama3_70B", "DGX_H100", [16], "fp16", [1024], solver="serving", output_len=64)
    tpots = []
    for tp in (2, 4, 8):
        tpots.append(dse.sweep("Llama3_70B", "DGX_H100", [16], "fp16", [1024], solver="serving", output_len=64,
                               tensor_parallel=tp)[0]["tpot"])
    assert all(b < a for a, b in zip(tpots, tpots[1:]))  # each GPU streams a smaller share of the weights
    assert not t[0]["feasible"] and any("GiB" in r for r in t[0]["reasons"])  # 140 GB of fp16 on one 80 GB GPU


def test_layouts_the_node_cannot_hold_are_kept_with_reasons():
    t = dse.sweep("Llama3_8B", "DGX_H100", [8], "fp16", [512], solver="serving", tensor_parallel=16)
    assert len(t) == 1 and t[0]["error"] and t[0]["reasons"] == (t[0]["error"],)
    with pytest.raises(InvalidInputError):
        ServingModel().solve("Llama3_8B", "DGX_H100", 8, prompt_len=512, tensor_parallel=16)
    assert len(dse.sweep("Llama3_8B", "DGX_H100", [8], "fp16", [512], solver="serving", tensor_parallel=16,
                         drop_infeasible=True)) == 0


def test_training_on_nodes_is_distributed_model():
    t = dse.sweep(["Llama3_8B", "Llama3_70B"], NODES, [256], "bf16", [4096], solver="training", tensor_parallel=8)
    assert len(t) == 4 and not t.errors
    for rec in t:
        r = DistributedModel().solve(rec["model"], rec["hardware"], 256, "bf16", seq_len=4096, tensor_parallel=8)
        assert rec["latency"] == r.latency.m_as("s") and rec["mfu"] == r.mfu and rec["feasible"] == r.feasible
        assert rec["throughput_unit"] == "token/s"
        if not rec["feasible"]:  # kept, with DistributedModel's memory reason
            assert any("GiB per device" in x for x in rec["reasons"])
    assert any(not r["feasible"] for r in t)  # 70B's bf16 Adam state does not fit TP8 x DP1 on 80 GB
    assert all(r["feasible"] for r in dse.sweep(["Llama3_8B", "Llama3_70B"], NODES, [256], "bf16", [4096],
                                                solver="training", tensor_parallel=8, drop_infeasible=True))


def test_training_mixes_devices_and_clusters():
    t = dse.sweep("Llama3_8B", ["H100", "DGX_H100", "Research_256"], [512], "bf16", [2048], solver="training",
                  zero_stage=1)
    dev, node, cluster = list(t)
    assert not t.errors
    assert node["throughput"] > dev["throughput"] and cluster["throughput"] > node["throughput"]
    bad = dse.sweep("Llama3_8B", ["H100", "DGX_H100"], [512], "bf16", [2048], solver="training",
                    pipeline_parallel=2)
    assert bad[0]["error"] and not bad[1]["error"]  # Engine.solve on one device has no pipeline stages


def test_nodes_need_the_serving_or_training_tier():
    with pytest.raises(InvalidInputError, match="node"):
        dse.sweep("Llama3_8B", "DGX_H100")
    with pytest.raises(InvalidInputError, match="one node"):
        dse.sweep("Llama3_8B", "Research_256", solver="serving", seq_lens=[512])


def test_search_prices_every_gpu_of_the_replica():
    t = dse.sweep("Llama3_8B", ["H100", "DGX_H100"], [64], "fp16", [1024], solver="serving", tensor_parallel=8,
                  output_len=64)
    one = dse.sweep("Llama3_8B", "H100", [64], "fp16", [1024], solver="engine")
    price = dse.search(one, "usd_per_hour", top=1)[0]["usd_per_hour"]
    best = dse.search(t, "tokens_per_dollar", top=None)
    assert {r["hardware"] for r in best} == {"H100", "DGX_H100"}
    for r in best:
        assert math.isclose(r["usd_per_hour"], 8 * price, rel_tol=1e-12)
        assert math.isclose(r["tokens_per_dollar"], r["throughput"] * 3600 / (8 * price), rel_tol=1e-12)


def test_cli_sweep_and_search_take_node_names(capsys):
    code = main(["sweep", "--models", "Llama3_8B", "--hardware", "DGX_H100,HGX_H200", "--batch-sizes", "1,64",
                 "--solver", "serving", "--tp", "8", "--seq-lens", "1024", "--output-len", "64", "--json"])
    assert code == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["hardware"] for r in rows] == ["DGX_H100", "DGX_H100", "HGX_H200", "HGX_H200"]
    code = main(["search", "--models", "Llama3_8B,Llama3_70B", "--hardware", "DGX_H100", "--solver", "training",
                 "--tp", "8", "--batch-sizes", "256", "--seq-lens", "4096", "--precisions", "bf16",
                 "--maximize", "throughput", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["best"][0]["hardware"] == "DGX_H100" and report["feasible"] < report["searched"]
    assert main(["sweep", "--models", "Llama3_8B", "--hardware", "DGX_H100"]) == 1  # the engine tier: one device
    assert "solver='serving'" in capsys.readouterr().err
