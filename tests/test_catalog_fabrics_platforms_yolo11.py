"""Issue 13 breadth: scale-up and RoCE fabrics, HGX A100 / AMD Instinct platforms, TPU prices, YOLO11.
Checks are consistency and physics: a fabric's per-direction port rate times ports and directions gives the
per-accelerator figure the vendor prints (and the node entries store); walked CNN tables reproduce published counts."""
from __future__ import annotations

import pytest

import mlsysim
from mlsysim import Engine, Hardware, Systems

F, N = Systems.Fabrics, Systems.Nodes


@pytest.mark.parametrize("fabric,node", [("NVLink3", "HGX_A100"), ("NVLink4", "HGX_H100"), ("NVLink5", "HGX_B200")])
def test_nvlink_per_direction_is_half_the_per_gpu_figure_nvidia_prints(fabric, node):
    # NVIDIA prints per-GPU NVLink bandwidth with both directions summed (nodes store it that way).
    assert 2 * getattr(F, fabric).bandwidth.m_as("GB/s") == pytest.approx(getattr(N, node).intra_node_bandwidth.m_as("GB/s"))


def test_nvlink_generations_double_or_grow():
    bw = [getattr(F, f).bandwidth.m_as("GB/s") for f in ("NVLink3", "NVLink4", "NVLink5")]
    assert bw == sorted(bw) and bw[2] == pytest.approx(2 * bw[1])


@pytest.mark.parametrize("fabric,node,ports", [("ICI_v5e", "TPUv5e_Pod", 4), ("ICI_v6e", "TPUv6e_Pod", 4),
                                               ("ICI_v5p", "TPUv5p_Cube", 6)])
def test_ici_ports_times_two_directions_give_the_per_chip_figure(fabric, node, ports):
    per_chip = getattr(N, node).intra_node_bandwidth.m_as("GB/s")
    assert getattr(F, fabric).bandwidth.m_as("GB/s") * ports * 2 == pytest.approx(per_chip)


def test_mi300x_mesh_link_rate_times_seven_peers_is_the_platform_aggregate():
    link = F.InfinityFabric_MI300X
    assert link.kind == "InfinityFabric"
    assert link.bandwidth.m_as("GB/s") * 7 * 2 == pytest.approx(N.MI300X_Platform.intra_node_bandwidth.m_as("GB/s"))
    assert N.MI300X_Platform.intra_node_bandwidth.m_as("GB/s") == pytest.approx(
        Hardware.MI300X.interconnect.device_link_bandwidth.m_as("GB/s"))


def test_roce_line_rates_are_decimal_gigabits():
    assert F.RoCE_200.bandwidth.m_as("GB/s") == pytest.approx(25)
    assert F.RoCE_400.bandwidth.m_as("GB/s") == pytest.approx(F.InfiniBand_NDR.bandwidth.m_as("GB/s"))
    assert F.RoCE_400.bandwidth < F.RoCE_800.bandwidth


def test_amd_platforms_hold_eight_gpus_and_more_power_than_their_gpus():
    for name, tdp in (("MI300X_Platform", 750), ("MI355X_Platform", 1400)):
        node = getattr(N, name)
        assert node.accelerators_per_node == 8
        assert node.power.m_as("W") > 8 * tdp  # hosts, NICs and fans on top of the GPUs
    assert N.HGX_A100.power.m_as("kW") == pytest.approx(N.DGX_A100.power.m_as("kW"))


def test_tpu_prices_are_per_chip_hour_and_commitments_are_cheaper():
    v5e, v5p, v6e = (getattr(Hardware, n).economics.rental[0] for n in ("TPUv5e", "TPUv5p", "TPUv6"))
    assert v5e.on_demand.m_as("USD/h") < v6e.on_demand.m_as("USD/h") < v5p.on_demand.m_as("USD/h")
    assert v6e.reserved.m_as("USD/h") < v6e.on_demand.m_as("USD/h")


@pytest.mark.parametrize("name,params,conv_gflops", [("YOLO11n", 2_624_080, 6.5), ("YOLO11s", 9_458_752, 21.5)])
def test_yolo11_walk_reproduces_ultralytics_counts(name, params, conv_gflops):
    m = mlsysim.Models.get(name)
    assert m.parameter_count == params and sum(r[3] for r in m.layer_table.rows) == params
    macs = sum(r[0] for r in m.layer_table.rows)
    assert m.flops_per_sample.m_as("flop") == pytest.approx(2 * macs, rel=1e-5)
    attention = [r for r, k in zip(m.layer_table.rows, m.layer_table.kinds) if k == "dense"]
    assert len(attention) == 2  # q^T k and v attn^T of the single C2PSA block
    conv = 2 * (macs - sum(r[0] for r in attention)) / 1e9
    assert abs(conv / conv_gflops - 1) < 0.01  # Ultralytics' count (thop) covers convolutions only


def test_yolo11s_costs_more_than_yolo11n_but_less_than_yolov8s():
    n, s, v8 = (Engine.solve(mlsysim.Models.get(x), "H100", batch_size=8) for x in ("YOLO11n", "YOLO11s", "YOLOv8s"))
    assert n.flops < s.flops < v8.flops
    assert n.latency.m_as("s") < s.latency.m_as("s")
