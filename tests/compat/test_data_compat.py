"""A 0.1.x-style script: does a 12 GB/s video-training input stall an H100 fed from local NVMe?"""
import mlsysim
from mlsysim import ureg
from mlsysim.solvers import DataModel


def test_data_script():
    result = DataModel().solve(12 * ureg("GB/s"), mlsysim.Hardware.H100)
    assert result.is_stalled
    assert result.bottleneck == "Storage"
    assert result.utilization > 1.0
    assert result.margin.to("GB/s").magnitude < 0
    assert result.supply_bw.to("GB/s").magnitude < result.demand_bw.to("GB/s").magnitude
    relaxed = DataModel().solve(2 * ureg("GB/s"), mlsysim.Hardware.H100)
    assert not relaxed.is_stalled
    print(result)
