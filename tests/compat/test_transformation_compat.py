"""A 0.1.x-style script: is JPEG decoding on the CPU starving a ResNet training step?"""
from mlsysim import ureg
from mlsysim.solvers import TransformationModel


def test_transformation_script():
    r = TransformationModel().solve(batch_size=512, sample_size_bytes=110 * ureg.kB,
                                    cpu_throughput=1.5 * ureg("GB/s"), accelerator_step_time=30 * ureg.ms)
    assert r.is_bottleneck
    assert r.transform_time.to("ms").magnitude > r.accelerator_step_time.to("ms").magnitude
    assert 0 < r.accelerator_utilization < 1
    assert r.slowdown_factor > 1
    print(r.summary())
