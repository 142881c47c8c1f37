"""What one forward pass of a speech encoder (wav2vec 2.0) costs: the encoder transformer over the frames
(core.workload.transformer_cost) plus the convolution stack over the waveform as its own phase. Plain floats."""
from __future__ import annotations

import attrs

from ..specs.speech_encoder import SpeechEncoderSpec
from .precision import ExecutionPrecision
from .workload import TrainingOptions, WorkloadCost, transformer_cost


def speech_encoder_cost(m: SpeechEncoderSpec, batch: int, seq_len: int, prec: ExecutionPrecision,
                        training: TrainingOptions | None, lengths=None) -> WorkloadCost:
    cost = transformer_cost(m, batch, seq_len, prec, training, False, lengths)
    fe = m.front_end
    frames = lengths[0] if lengths is not None else float(seq_len)
    # The stack is strided convolution: its work is linear in the audio, i.e. in the frames it yields
    # (exact at the reference length, off by the kernel edges elsewhere).
    scale = batch * frames / fe.output_length
    passes = 1.0 if training is None else 3.0  # backward = two forwards (Kaplan et al. 2020)
    flops = passes * 2.0 * fe.macs * scale  # 2 x MACs
    phase = (flops, passes * fe.parameters * prec.weight_bytes,
             passes * scale * (fe.input_channels * fe.input_length + fe.activation_elements) * prec.activation_bytes)
    return attrs.evolve(cost, model_flops=cost.model_flops + flops, hardware_flops=cost.hardware_flops + flops,
                        weight_traffic=cost.weight_traffic + phase[1], other_traffic=cost.other_traffic + phase[2],
                        kernels=cost.kernels + len(fe.layers), phases=cost.phases + (phase,))  # appended: indices stay
