"""DataModel: storage and host link in series against the workload's data rate."""
from __future__ import annotations

import pytest

import mlsysim
from mlsysim.errors import CatalogError, InvalidInputError, InvalidTypeError, MlsysimError
from mlsysim.solvers import DataModel
from mlsysim.solvers.data import DEFAULT_STORAGE_BANDWIDTH

ureg = mlsysim.ureg
gbs = lambda q: q.to("GB/s").magnitude  # noqa: E731


def test_default_storage_is_one_gen4_nvme_link():
    assert DEFAULT_STORAGE_BANDWIDTH == pytest.approx(16e9 * 4 * 128 / 130 / 8)  # 7.88 GB/s


def test_storage_bound_by_hand():
    r = DataModel().solve(10 * ureg("GB/s"), "H100")  # H100: PCIe Gen5 x16, 64 GB/s
    assert r.bottleneck == "Storage" and r.is_stalled
    assert gbs(r.supply_bw) == pytest.approx(DEFAULT_STORAGE_BANDWIDTH / 1e9)
    assert r.utilization == pytest.approx(10e9 / DEFAULT_STORAGE_BANDWIDTH)
    assert r.accelerator_busy_fraction == pytest.approx(DEFAULT_STORAGE_BANDWIDTH / 10e9)
    assert gbs(r.margin) == pytest.approx(DEFAULT_STORAGE_BANDWIDTH / 1e9 - 10)
    assert gbs(r.host_link_bw) == pytest.approx(64.0)


def test_host_link_bound_when_storage_is_faster_or_absent():
    fast = DataModel().solve(40e9, "A100", storage_bandwidth=100 * ureg("GB/s"))  # A100: Gen4 x16, 32 GB/s
    assert fast.bottleneck == "Interconnect" and fast.is_stalled
    assert gbs(fast.supply_bw) == pytest.approx(32.0)
    in_memory = DataModel().solve(20e9, "A100", storage_bandwidth=None)
    assert in_memory.storage_bw is None and in_memory.bottleneck == "Interconnect"
    assert not in_memory.is_stalled and in_memory.accelerator_busy_fraction == 1.0
    assert in_memory.utilization == pytest.approx(20 / 32)


def test_utilization_is_linear_in_demand_and_stall_starts_at_one():
    rates = [1e9, 4e9, 7.8e9, 7.9e9, 30e9]
    results = [DataModel().solve(x, "H100") for x in rates]
    for x, r in zip(rates, results):
        assert r.utilization == pytest.approx(x / DEFAULT_STORAGE_BANDWIDTH)
        assert r.is_stalled == (x > DEFAULT_STORAGE_BANDWIDTH)
        assert gbs(r.margin) + gbs(r.demand_bw) == pytest.approx(gbs(r.supply_bw))


def test_units_of_the_rate_convert():
    per_hour = DataModel().solve(36 * ureg("TB/hour"), "H100")  # 36 TB/h = 10 GB/s
    assert gbs(per_hour.demand_bw) == pytest.approx(10.0)
    override = DataModel().solve(1e9, "H100", host_link_bandwidth=2e9, storage_bandwidth=None)
    assert gbs(override.supply_bw) == pytest.approx(2.0)


def test_bad_input():
    with pytest.raises(InvalidInputError):
        DataModel().solve(0, "H100")
    with pytest.raises(InvalidInputError, match="convertible"):
        DataModel().solve(5 * ureg.GB, "H100")
    with pytest.raises(InvalidTypeError):
        DataModel().solve("10 GB/s", "H100")
    with pytest.raises(InvalidTypeError):
        DataModel().solve(1e9, 42)
    with pytest.raises(MlsysimError):
        DataModel().solve(1e9, "H1000")
    with pytest.raises(InvalidInputError):
        DataModel().solve(1e9, "H100", storage_bandwidth=-1.0)
    with pytest.raises(CatalogError, match="host_link_bandwidth"):
        DataModel().solve(1e9, "TPUv4")  # the catalog has no host link figure for it
