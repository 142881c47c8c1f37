"""A 0.1.x-style script: what do a privacy budget and a 2 % subgroup cost a 14-day training run?"""
from mlsysim import ureg
from mlsysim.solvers import ResponsibleEngineeringModel


def test_responsible_script():
    r = ResponsibleEngineeringModel().solve(14 * ureg.day, epsilon=3.0, delta=1e-6, min_subgroup_prevalence=0.02)
    assert r.dp_slowdown_factor > 1
    assert r.effective_training_time.to("day").magnitude > 14
    assert r.additional_data_requirement > 1 / 0.02 * 0.9
    assert r.epsilon == 3.0 and r.delta == 1e-6 and r.min_subgroup_prevalence == 0.02
    print(r)
