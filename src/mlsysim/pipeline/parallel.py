"""Spatial composition of one transformer over a TP x PP group (Megatron-LM: Shoeybi et al. 2019; Narayanan et
al. 2021): pp stages of consecutive layers, each on a tensor-parallel group of tp devices, with the activations
of every micro-batch sent from one stage to the next over the system's link.

Per stage (one micro-batch): the workload's kernel phases (core.workload) split by the stage's share -- the
four per-layer phases by its layers, the LM head on the last stage, the optimizer update by the weights it
holds -- and over its tp devices (the element-wise phase runs on every TP rank: norms and residuals are
replicated without sequence parallelism, Korthikanti et al. 2022 sec. 4.2.2); each phase on its own roof
(Williams et al. 2009) at the device figures RooflineModel uses, plus kernel launches and the TP all-reduces
(2 per layer forward, 4 with the backward: Shoeybi et al. 2019 sec. 3; ring alpha-beta, core.collectives).
Per link: the micro-batch's activations (tokens x hidden x activation bytes; twice in training, the gradient
comes back) at the link's bandwidth per direction plus one hop of latency.

The group (m micro-batches through the stages in order, a synchronous schedule as GPipe/1F1B):
  step time   T = sum over stages of t_s + (m - 1) x max t_s   (the first micro-batch fills the pipeline, then
              one leaves every max t_s; with p equal stages (m + p - 1) t: Narayanan et al. 2021 eq. 1)
  bubble      T - m max t_s, a share (p - 1) / (m + p - 1) of T for equal stages
  throughput  m x items per micro-batch / T   (<= items / max t_s: the slowest stage bounds it)
  energy      each stage's busy energy x m plus its devices' idle power while they wait (core/power.py), per item
  mfu         m x model FLOPs of a micro-batch / (T x devices x dense peak)
  feasible    every stage's devices hold their weights, gradients, optimizer state and in-flight activations.
"""
from __future__ import annotations

from typing import Any

from ..errors import InvalidInputError, UnsupportedModelError
from .compose import Pipeline, Stage, StageFigures, _human

PHASES = ("prefill", "decode", "training")  # prefill: a forward pass over the context (an encoder's pass)
LAYER_PHASES = (0, 1, 2, 3)  # core.workload.transformer_cost: projections, attention core, FFN, element-wise
ELEMENTWISE_PHASE = 3        # replicated on every TP rank (no sequence parallelism)
HEAD_PHASE = 4               # the LM head: the last stage's
OPTIMIZER_PHASE = 5          # training: the update of the weights a stage holds
# Megatron-LM's tensor-parallel all-reduces per transformer layer: after attention and after the MLP in the
# forward pass (Shoeybi et al. 2019, sec. 3, fig. 4), the same two in the backward pass.
TP_ALL_REDUCES_FORWARD = 2
TP_ALL_REDUCES_TRAINING = 4


def _layers_per_stage(layers: int, pp: int) -> list[int]:
    """Consecutive layers, as even as possible (the first stages take one more when pp does not divide)."""
    base, extra = divmod(layers, pp)
    return [base + (1 if s < extra else 0) for s in range(pp)]


def _int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInputError(f"{name} must be a positive integer, got {value!r}")
    return value


class ParallelPipeline(Pipeline):
    """A TP x PP group: per-stage results (compute stages and the links between them), the six stable fields
    of the group, bubble figures and explain(). See the module docstring for the composition."""

    def __init__(self, stages: list[Stage], microbatches: int, items_per_microbatch: float, unit: str,
                 idle_power: dict[str, float], devices: int, peak: float, model_flops: float, reasons: tuple = ()):
        super().__init__(stages, kind="spatial", unit=unit, reasons=reasons)
        self.kind = "parallel"
        m = self.microbatches = microbatches
        times = [s.latency_s for s in self.stages]
        self.fill_latency_s = sum(times)  # one micro-batch through every stage and link
        slowest = max(self.stages, key=lambda s: s.latency_s)
        self.step_time_s = self.fill_latency_s + (m - 1) * slowest.latency_s
        self.bubble_s = self.step_time_s - m * slowest.latency_s
        self.bubble_fraction = self.bubble_s / self.step_time_s
        items = m * items_per_microbatch
        self.latency_s = self.step_time_s
        self.throughput_per_s = items / self.step_time_s
        busy = sum(s.energy_j * s.items for s in self.stages) * m  # J per micro-batch x micro-batches
        idle = sum(p * (self.step_time_s - m * self.stage(n).latency_s) for n, p in idle_power.items())
        self.step_energy_j = busy + idle
        self.energy_j = self.step_energy_j / items
        self.mfu = m * model_flops / (self.step_time_s * devices * peak)
        self.limiting_stage = slowest.name
        self.bottleneck = str(slowest.result.bottleneck)
        self.devices = devices

    def to_dict(self) -> dict:
        d = super().to_dict()
        d.update({"kind": "parallel", "microbatches": self.microbatches, "step_time_s": self.step_time_s,
                  "fill_latency_s": self.fill_latency_s, "bubble_s": self.bubble_s,
                  "bubble_fraction": self.bubble_fraction, "devices": self.devices})
        return d

    def explain(self) -> str:
        h = _human
        lim = self.stage(self.limiting_stage)
        lines = [f"TP x PP group of {self.devices} device(s), {self.microbatches} micro-batch(es) per step, "
                 f"per {self.unit}:"]
        for s in self.stages:
            det = s.result.detail
            what = (f"layers {det['first_layer']}-{det['last_layer']} on {s.devices:g} device(s)"
                    if "layers" in det else f"{det['bytes'] / 2**20:.3g} MiB per micro-batch over the link")
            tp = f", TP all-reduces {h(det['tp_comm_s'], 's')}" if det.get("tp_comm_s") else ""
            lines.append(f"  {s.name}: {h(s.latency_s, 's')} per micro-batch ({what}{tp}), "
                         f"{s.result.bottleneck}-bound" + ("" if s.result.feasible else ", does NOT fit"))
        lines.append(f"step {h(self.step_time_s, 's')} = stages in turn {h(self.fill_latency_s, 's')} + "
                     f"{self.microbatches - 1} x the slowest stage, {lim.name} ({h(lim.latency_s, 's')}).")
        lines.append(f"bubble {h(self.bubble_s, 's')} ({self.bubble_fraction:.0%} of the step): more micro-batches "
                     f"shrink it; throughput {self.throughput_per_s:.4g} {self.unit}/s, at most "
                     f"{self.throughput_per_s * self.step_time_s / (self.microbatches * lim.latency_s):.4g} "
                     f"{self.unit}/s with no bubble (the slowest stage's rate).")
        lines.append(f"{lim.name} limits the rate: it is {lim.result.bottleneck}-bound"
                     + ("; a faster link or fewer stages helps." if lim.result.bottleneck == "Network"
                        else "; rebalance its layers or raise tensor parallelism."))
        lines.append(f"energy {h(self.energy_j, 'J')} per {self.unit} (idle power in the bubble included); "
                     f"MFU {self.mfu:.1%}.")
        if not self.feasible:
            lines.append("infeasible: " + ", ".join(s.name for s in self.stages if not s.result.feasible)
                         + " does not fit in memory")
        lines += [f"note: {r}" for r in self.reasons]
        return "\n".join(lines)


def build(model: Any, hardware: Any, *, tp: int = 1, pp: int = 1, microbatches: int = 1, microbatch_size: int = 1,
          precision: Any = None, seq_len: int | None = None, phase: str = "prefill",
          efficiency: float | None = None) -> ParallelPipeline:
    from ..core.collectives import all_reduce
    from ..core.inputs import resolve_model
    from ..core.serving.layout import build_layout
    from ..core.workload import check_training_options, workload_cost
    from ..dse.prepare import ERROR, Device, device, sequence
    from ..specs.models import TransformerSpec

    if phase not in PHASES:
        raise InvalidInputError(f"phase must be one of {', '.join(PHASES)}, got {phase!r}")
    m = resolve_model(model)
    if not isinstance(m, TransformerSpec):
        raise UnsupportedModelError(f"a TP x PP group splits a transformer's layers; {m.display_name} is "
                                    f"{type(m).__name__}: use Engine.solve")
    micro, mb = _int("microbatches", microbatches), _int("microbatch_size", microbatch_size)
    lay = build_layout(m, hardware, tp, 1, 1, pp)  # TP divides the heads, PP <= layers, the group fits the node
    training = phase == "training"
    if phase == "decode" and m.architecture == "encoder":
        raise InvalidInputError(f"{m.display_name} is an encoder: it has no decode step; use phase='prefill'")
    dev = device(lay.device, precision, efficiency, training)
    if not isinstance(dev, Device):
        raise InvalidInputError(dev[1] if dev[0] == ERROR else f"{lay.device.display_name} runs on a special path "
                                f"({dev[1]}); a TP x PP group needs an accelerator")
    seq = sequence(m, seq_len)
    if isinstance(seq, tuple):
        raise InvalidInputError(seq[1])
    opts = check_training_options(0, 1, "none") if training else None
    w = workload_cost(m, mb, seq, dev.prec, opts, phase == "prefill" and m.architecture != "encoder")
    phases = w.phases
    L, d, ab = m.layers, m.hidden_size, dev.prec.activation_bytes
    tokens = mb if phase == "decode" else mb * seq
    p_total = m.parameter_count
    p_emb = m.embedding_parameters
    p_head = 0 if (m.tied_embeddings or m.architecture == "encoder") else m.vocab_size * d
    p_layers = p_total - p_emb - p_head
    reduces = TP_ALL_REDUCES_TRAINING if training else TP_ALL_REDUCES_FORWARD
    ar = all_reduce(tokens * d * ab, lay.tp, lay.link_bw, lay.hop_latency) if lay.tp > 1 else 0.0
    link_bytes = tokens * d * ab * (2.0 if training else 1.0)  # activations forward, their gradient back
    stages: list[Stage] = []
    idle: dict[str, float] = {}
    first = 0
    split = _layers_per_stage(L, lay.pp)
    for s, n in enumerate(split):
        last = s == lay.pp - 1
        share = n / L
        params = p_layers * share + (p_emb if s == 0 else 0) + (p_head if last else 0)
        wshare = params / p_total
        bound_c = bound_m = busy_c = busy_m = hw_flops = 0.0
        for i, (f, wt, ot) in enumerate(phases):
            k = share if i in LAYER_PHASES else (1.0 if last else 0.0) if i == HEAD_PHASE else wshare
            split_tp = 1 if i == ELEMENTWISE_PHASE else lay.tp
            f, wt, ot = f * k / split_tp, wt * k / split_tp, ot * k / split_tp
            c, mem = f / dev.achieved, wt / dev.weight_bw + ot / dev.bandwidth  # this phase's two roofs
            hw_flops += f * split_tp
            busy_c, busy_m = busy_c + c, busy_m + mem
            if c >= mem:
                bound_c += c
            else:
                bound_m += mem
        tp_comm = n * reduces * ar
        t = bound_c + bound_m + w.kernels * share * dev.launch + tp_comm
        # core/power.py: between idle and TDP by the busy shares of compute and memory
        u = min(1.0, min(busy_c / t, 1.0) + dev.memory_power_fraction * min(busy_m / t, 1.0))
        power = (dev.idle + (dev.tdp - dev.idle) * u) * lay.tp  # the TP group's devices
        held = (w.weights + w.gradients + w.optimizer_state) * wshare / lay.tp \
            + (w.kv_cache + w.activations * (min(lay.pp - s, micro) if training else 1)) * share / lay.tp
        fits = held + dev.reserve <= dev.capacity
        mf = w.model_flops * (hw_flops / w.hardware_flops if w.hardware_flops else 0.0)
        name = f"stage{s}"
        result = StageFigures(t, mb / t, power * t, min(mf / (t * lay.tp * dev.peak), 1.0), fits,
                              "Compute" if bound_c >= bound_m else "Memory",
                              {"layers": n, "first_layer": first, "last_layer": first + n - 1,
                               "parameters": params, "memory_bytes_per_device": held + dev.reserve,
                               "capacity_bytes": dev.capacity, "tp_comm_s": tp_comm, "devices": lay.tp})
        stages.append(Stage(name, result, devices=lay.tp, items=mb))
        idle[name] = dev.idle * lay.tp
        first += n
        if not last:
            t_link = link_bytes / lay.link_bw + lay.hop_latency
            stages.append(Stage(f"link{s}", StageFigures(t_link, mb / t_link, 0.0, 0.0, True, "Network",
                                                         {"bytes": link_bytes, "link_bandwidth": lay.link_bw}),
                                devices=0, items=mb))
    unit = "sequence"
    reasons = (f"{phase} of {mb} sequence(s) of {seq} tokens per micro-batch on {lay.system}",
               "activations and KV split evenly over the TP ranks; link energy not modelled")
    return ParallelPipeline(stages, micro, float(mb), unit, idle, lay.tp * lay.pp, dev.peak, w.model_flops, reasons)
