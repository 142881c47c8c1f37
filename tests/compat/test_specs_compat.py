"""Reading specs the way code written for mlsysim 0.1.x does: figures are pint Quantities in 0.1.x's shapes,
0.1.x's class names are the real spec types, clusters lead to their nodes and accelerators."""
from __future__ import annotations

import warnings

import pytest

import mlsysim
from mlsysim import Hardware, Models, Systems


def test_hardware_figures_in_0_1_shapes():
    h100 = Hardware.H100
    assert h100.memory.bandwidth.to("TB/s").magnitude == pytest.approx(3.35)
    assert h100.memory.capacity.to("GiB").magnitude == pytest.approx(80)
    assert h100.compute.peak_flops.to("TFLOPs/s").magnitude == pytest.approx(989.4, rel=1e-3)
    assert h100.compute.precision_flops["fp8"].to("TFLOPs/s").magnitude == pytest.approx(1978.9, rel=1e-3)
    assert h100.tdp.to("W").magnitude == 700
    # The roofline ridge point of 0.1.x notebooks: peak / bandwidth, in FLOP per byte.
    ridge = (h100.compute.peak_flops / h100.memory.bandwidth).to("flop/byte")
    assert ridge.magnitude == pytest.approx(h100.ridge_point().magnitude) == pytest.approx(295, rel=0.01)


def test_model_figures_in_0_1_shapes():
    llama = Models.Llama3_8B
    assert llama.parameters.to("count").magnitude == pytest.approx(8.03e9, rel=0.01)
    assert llama.parameters.to("Bparam").magnitude == pytest.approx(8.03, rel=0.01)
    fp16 = llama.size_in_bytes()
    assert fp16.to("GB").magnitude == pytest.approx(16.06, rel=0.01)
    assert llama.size_in_bytes(1 * mlsysim.ureg.byte) == llama.size_in_bytes("int8") == fp16 / 2
    # Decode time lower bound of a 0.1.x teaching notebook: weight bytes over bandwidth.
    t = (fp16 / Hardware.H100.memory.bandwidth).to("ms")
    assert t.magnitude == pytest.approx(16.06e9 / 3.35e12 * 1e3, rel=0.01)
    assert Models.ResNet50.inference_flops.to("GFLOP").magnitude == pytest.approx(8.2, rel=0.05)


def test_cluster_leads_to_its_nodes_and_accelerators():
    fleet = Systems.Clusters.Research_256
    assert fleet.count == 32 and fleet.total_accelerators == 256
    assert fleet.node.accelerator.name == "H100"
    assert fleet.node.intra_node_bw.to("GB/s").magnitude == pytest.approx(900)
    assert fleet.fabric.bandwidth.to("Gbit/s").magnitude == pytest.approx(100)


def test_0_1_class_names_are_the_spec_types_with_a_warning():
    with pytest.warns(DeprecationWarning, match="TransformerSpec"):
        TransformerWorkload = mlsysim.TransformerWorkload
    assert isinstance(Models.Llama3_8B, TransformerWorkload)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        assert isinstance(Models.ResNet50, mlsysim.CNNWorkload) and isinstance(Models.ResNet50, mlsysim.Workload)
        assert isinstance(Hardware.H100, mlsysim.HardwareNode)
        assert isinstance(Systems.Clusters.Research_256, mlsysim.Fleet)
        assert isinstance(Systems.Nodes.DGX_H100, mlsysim.Node)
        assert isinstance(Systems.Clusters.Research_256.fabric, mlsysim.NetworkFabric)
        assert isinstance(mlsysim.Scenarios.ChatbotServing, mlsysim.Scenario)


def test_price_and_embodied_carbon_in_0_1_shapes():
    h100 = Hardware.H100
    assert 20_000 <= h100.unit_cost.to("USD").magnitude <= 40_000  # analyst estimates: $25k-$30k
    assert 50 <= h100.embodied_carbon_kg <= 500                     # kg CO2e, the A100-class figure
    assert Hardware.B200.unit_cost is None or Hardware.B200.unit_cost.to("USD").magnitude > 0
