"""A 0.1.x-style script: what must an accelerator offer to decode Llama-3 8B at 50 tokens/s?"""
import mlsysim
from mlsysim import ureg
from mlsysim.solvers import SynthesisSolver


def test_synthesis_script():
    spec = SynthesisSolver().solve(mlsysim.Models.Llama3_8B, 20 * ureg.ms, precision="fp16", efficiency=0.5)
    assert 500 < spec.required_bw.to("GB/s").magnitude < 1000
    assert spec.required_flops.to("TFLOP/s").magnitude > 1
    assert spec.required_memory.to("GB").magnitude > 16
    assert spec.compute_memory_ratio.to("flop/byte").magnitude > 1
    assert "H100" in spec.meeting_hardware
    print(spec)
