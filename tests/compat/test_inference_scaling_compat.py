"""A 0.1.x-style script: what does a 16-step chain of thought cost per answer?"""
import mlsysim
from mlsysim.solvers import InferenceScalingModel


def test_inference_scaling_script():
    res = InferenceScalingModel().solve(mlsysim.Models.Language.Llama3_8B, mlsysim.Hardware.Cloud.H100,
                                        reasoning_steps=16, context_length=4096, precision="fp16",
                                        efficiency=0.5)
    assert res.feasible
    assert res.reasoning_steps == 16 and res.tokens_generated > 16
    total_s = res.total_reasoning_time.to("s").magnitude
    assert total_s > res.ttft.to("s").magnitude > 0
    assert res.itl.to("ms").magnitude > 0 and res.time_per_step.to("ms").magnitude > 0
    assert res.energy_per_query.to("J").magnitude > 0
    assert res.serving_detail.ttft == res.ttft
