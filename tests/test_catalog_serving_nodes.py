"""Serving nodes added for issue 10: HGX H100/H200/B200/B300 boards and GB200/GB300 NVL72 racks."""
from __future__ import annotations

import pytest

from mlsysim import Systems
from mlsysim.registry import registries

HGX = ["HGX_H100", "HGX_H200", "HGX_B200", "HGX_B300"]
NVL72 = ["GB200_NVL72", "GB300_NVL72"]


def _accelerator(node):
    return registries().resolve_path(node._accelerator)


def _fabric(node):
    return registries().resolve_path(node._fabric)


@pytest.mark.parametrize("name", HGX + NVL72)
def test_intra_node_link_is_the_accelerators_own_nvlink(name):
    node = getattr(Systems.Nodes, name)
    gpu = _accelerator(node)
    assert node._intra_node_bandwidth == pytest.approx(gpu.interconnect._device_link_bandwidth, rel=1e-9)


@pytest.mark.parametrize("name,gpus", [(n, 8) for n in HGX] + [(n, 72) for n in NVL72])
def test_gpu_count_and_one_nic_per_gpu(name, gpus):
    node = getattr(Systems.Nodes, name)
    assert node.accelerators_per_node == gpus == node.nics_per_node


@pytest.mark.parametrize("name", HGX + NVL72)
def test_node_power_covers_its_gpus(name):
    # A node's maximum power must exceed the sum of its GPUs' TDPs (CPUs, switches and NICs come on top),
    # but not by more than 2x (that would mean a wrong GPU count or unit).
    node = getattr(Systems.Nodes, name)
    gpus = node.accelerators_per_node * _accelerator(node).power._tdp
    assert gpus < node._power < 2 * gpus


def test_nvl72_rack_totals():
    gb300 = Systems.Nodes.GB300_NVL72
    hbm = gb300.accelerators_per_node * _accelerator(gb300).memory._bandwidth
    assert hbm == pytest.approx(576e12, rel=1e-6)  # NVIDIA: 576 TB/s per rack
    nvlink = gb300.accelerators_per_node * gb300._intra_node_bandwidth
    assert nvlink == pytest.approx(129.6e12, rel=1e-6)  # NVIDIA: 130 TB/s


def test_blackwell_ultra_nodes_scale_out_at_twice_the_nic_rate():
    old, new = _fabric(Systems.Nodes.HGX_B200), _fabric(Systems.Nodes.HGX_B300)
    assert new._bandwidth == pytest.approx(2 * old._bandwidth)
    assert new._bandwidth == pytest.approx(100e9)  # 800 Gb/s = 100 GB/s per direction
    assert _fabric(Systems.Nodes.GB300_NVL72) is new


def test_hgx_and_dgx_of_a_generation_share_the_gpu_complex():
    for hgx, dgx in (("HGX_H100", "DGX_H100"), ("HGX_B200", "DGX_B200")):
        a, b = getattr(Systems.Nodes, hgx), getattr(Systems.Nodes, dgx)
        assert a._accelerator == b._accelerator
        assert a._intra_node_bandwidth == b._intra_node_bandwidth
        assert a.accelerators_per_node == b.accelerators_per_node
