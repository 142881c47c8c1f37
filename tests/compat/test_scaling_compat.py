"""A 0.1.x-style script: how big a model, on how many tokens, for a 1e24 FLOP budget?"""
from mlsysim import ureg
from mlsysim.solvers import ScalingModel


def test_scaling_script():
    plan = ScalingModel().solve(1e24 * ureg.flop)
    params_b = plan.optimal_parameters.to("count").magnitude / 1e9
    tokens_t = plan.optimal_tokens.to("count").magnitude / 1e12
    assert 80 < params_b < 100 and 1.5 < tokens_t < 2.0
    assert round(plan.tokens_per_parameter) == 20
    sized = ScalingModel().solve(1e24 * ureg.flop, target_model_size=70e9 * ureg.count)
    assert sized.optimal_tokens.to("count").magnitude > plan.optimal_tokens.to("count").magnitude
    print(plan.summary())
