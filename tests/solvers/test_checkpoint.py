"""CheckpointModel: bytes per parameter per optimizer, parallel writers capped by the filesystem, overhead."""
from __future__ import annotations

import pytest

import mlsysim
from mlsysim.catalog.loader import build_spec
from mlsysim.errors import CatalogError, InvalidInputError, InvalidTypeError, MlsysimError
from mlsysim.solvers import CheckpointModel
from mlsysim.solvers.checkpoint import CHECKPOINT_BYTES_PER_PARAM
from mlsysim.solvers.data import DEFAULT_STORAGE_BANDWIDTH
from mlsysim.units import get_ureg

solve = CheckpointModel().solve
LLAMA_70B = mlsysim.Models.Llama3_70B.parameter_count


def test_llama_70b_adam_checkpoint_by_hand():
    # 14 B/param (ZeRO's 16 B model states minus the 2 B fp16 gradients); 8 writers at 2 GB/s = 16 GB/s.
    r = solve("Llama3_70B", "H100", "adam", 4.0, 8, 500.0, writer_bandwidth_gbs=2.0)
    size = LLAMA_70B * 14
    assert r.checkpoint_size.m_as("B") == pytest.approx(size)
    assert r.write_time_seconds.m_as("s") == pytest.approx(size / 16e9)
    c = size / 16e9
    assert r.overhead_fraction == pytest.approx(c / (4 * 3600 + c))
    assert r.mfu_penalty_pct == pytest.approx(100 * r.overhead_fraction)
    assert r.max_bandwidth_required.m_as("GB/s") == pytest.approx(16.0)
    assert not r.storage_bottleneck and r.bytes_per_parameter == 14


def test_optimizer_state_sizes():
    assert CHECKPOINT_BYTES_PER_PARAM["adam"] == 2 + 4 + 4 + 4   # bf16 weights + fp32 master, m, v
    sizes = {o: solve("Llama3_8B", "H100", o).checkpoint_size.m_as("B") for o in CHECKPOINT_BYTES_PER_PARAM}
    assert sizes["sgd"] < sizes["sgd_momentum"] < sizes["adam_fp32"] < sizes["adam"] == sizes["adamw"]
    assert solve("Llama3_8B", "H100", " AdamW ").bytes_per_parameter == 14  # names are case-insensitive


def test_writers_scale_until_the_filesystem_caps_them():
    times = [solve("Llama3_70B", "H100", n_writers=n, writer_bandwidth_gbs=5.0, filesystem_limit_gbs=100.0)
             for n in (1, 2, 10, 20, 40)]
    t = [r.write_time_seconds.m_as("s") for r in times]
    assert t[0] == pytest.approx(2 * t[1]) and t[1] == pytest.approx(5 * t[2])
    assert t[3] == pytest.approx(t[4])  # 20 x 5 GB/s = 100 GB/s: the filesystem limit from here on
    assert [r.storage_bottleneck for r in times] == [False, False, False, False, True]
    assert times[4].max_bandwidth_required.m_as("GB/s") == pytest.approx(100.0)


def test_overhead_falls_with_the_interval_and_stays_below_one():
    pct = [solve("Llama3_70B", "H100", checkpoint_interval_hours=h).mfu_penalty_pct for h in (0.01, 1, 4, 24)]
    assert pct == sorted(pct, reverse=True) and 0 < pct[-1] < pct[0] < 100


def test_default_writer_is_one_nvme_drive_behind_the_host_link():
    r = solve("Llama3_8B", "H100")
    assert r.writer_bandwidth.m_as("B/s") == pytest.approx(DEFAULT_STORAGE_BANDWIDTH)  # Gen5 x16 is faster
    assert "NVMe" in r.write_bandwidth_source
    slow = build_spec("hardware", {
        "name": "SlowLink", "display_name": "slow", "vendor": "test", "category": "Edge", "release_year": 2024,
        "calibration_class": "datacenter_gpu", "peak_dense": {"fp16": "100 TFLOP/s"},
        "memory": {"kind": "HBM", "capacity": "16 GiB", "bandwidth": "1 TB/s"},
        "power": {"tdp": "100 W", "idle": "10 W"}, "launch_overhead": "5 us",
        "interconnect": {"host_link": "PCIe Gen3 x4", "host_link_bandwidth": "4 GB/s"},
        "provenance": {"source": "test fixture", "checked": "2026-01-01", "kind": "estimate"}})
    assert solve("Llama3_8B", slow).writer_bandwidth.m_as("GB/s") == pytest.approx(4.0)


def test_quantities_are_converted():
    ureg = get_ureg()
    a = solve("Llama3_8B", "H100", "adam", 2.0, 4, 200.0, writer_bandwidth_gbs=3.0)
    b = solve("Llama3_8B", "H100", "adam", ureg.Quantity(120, "min"), 4, ureg.Quantity(200e3, "MB/s"),
              writer_bandwidth_gbs=ureg.Quantity(3e9, "B/s"))
    assert b.write_time_seconds.m_as("s") == pytest.approx(a.write_time_seconds.m_as("s"))


def test_device_without_a_host_link_needs_the_writer_rate():
    with pytest.raises(CatalogError, match="writer_bandwidth_gbs") as exc:
        solve("Llama3_8B", "TPUv5p")  # the catalog entry has no host_link_bandwidth
    assert exc.value.field == "interconnect.host_link_bandwidth"
    assert solve("Llama3_8B", "TPUv5p", writer_bandwidth_gbs=10).writer_bandwidth.m_as("GB/s") == pytest.approx(10)


@pytest.mark.parametrize("args,kwargs,error", [
    (("lamb",), {}, InvalidInputError),
    ((None,), {}, InvalidTypeError),
    (("adam", 0), {}, InvalidInputError),
    (("adam", 4, 0), {}, InvalidInputError),
    (("adam", 4, 2.5), {}, InvalidTypeError),
    (("adam", 4, 1, -1), {}, InvalidInputError),
    (("adam",), {"writer_bandwidth_gbs": 0}, InvalidInputError),
    (("adam", get_ureg().Quantity(1, "GB")), {}, InvalidInputError),
])
def test_bad_input_raises_mlsysim_errors(args, kwargs, error):
    with pytest.raises(error):
        solve("Llama3_8B", "H100", *args, **kwargs)


def test_unknown_model_or_hardware():
    with pytest.raises(MlsysimError):
        solve("NoSuchModel", "H100")
    with pytest.raises(MlsysimError):
        solve("Llama3_8B", 3.0)
