"""0.1.x call shapes of DistributedModel.solve, and data-parallel training of models that are not transformers
(a CNN replica per device: its single-device step, then a bucketed gradient all-reduce)."""
from __future__ import annotations

from typing import Any

from ...errors import InvalidInputError
from ...units import quantity
from ..collectives import hierarchical_all_reduce
from ..inputs import Source, check_outputs
from ..solver import mfu_source
from .memory import TrainingMemory

# Backward is two thirds of a step's compute (input and weight gradients, each one forward's worth); DDP-style
# bucketed gradient all-reduce overlaps with it (Li et al. 2020, PyTorch Distributed, sec. 3.2.3).
BACKWARD_SHARE = 2.0 / 3.0

# 0.1.x keywords of DistributedModel.solve this model does not implement, with the value that changes nothing.
_UNMODELLED_DEFAULTS = {"topology_override": None, "overlap_comm": False,
                        "overlap_efficiency": 0.85, "congestion_factor": 1.0, "straggler_factor": 1.0,
                        "gradient_accumulation_steps": 1}


def refuse_unmodelled(options: dict[str, Any]) -> None:
    for key, value in options.items():
        if key not in _UNMODELLED_DEFAULTS:
            raise InvalidInputError(f"DistributedModel.solve got an unknown keyword {key!r}")
        if value != _UNMODELLED_DEFAULTS[key]:
            raise InvalidInputError(f"{key}={value!r} is not modelled (only its no-op value "
                                    f"{_UNMODELLED_DEFAULTS[key]!r} is accepted); overlap is set by runtime= "
                                    "and overlap= (None/True: the runtime's, False: none, or a dict of shares)")


def renamed(old: str, old_value: Any, new: str, new_value: Any, default: Any) -> Any:
    """The value of a keyword that 0.1.x spelled `old`; both given and different is an error."""
    if old_value is None:
        return new_value
    if new_value != default and new_value != old_value:
        raise InvalidInputError(f"{old}={old_value!r} is 0.1.x's name of {new}={new_value!r}: give one")
    return old_value


def legacy_step(m: Any, topo: Any, lay: Any, prof: Any, zero_stage: int, batch: int) -> Any:
    """Pure data parallelism of a non-transformer model: each device runs its replica's step."""
    from .result import DistributedResult
    import attrs

    compute = prof.latency.m_as("s")
    dp = lay.dp
    grad_bytes = m.parameter_count * 2.0
    local = min(dp, lay.per_node)
    intra_bw, intra_lat = lay.link(local, topo)  # the node's link; a torus node's ring over the local ranks
    all_red = hierarchical_all_reduce(grad_bytes, dp, local, intra_bw, intra_lat, topo.inter_bw, topo.inter_lat)
    dp_all = all_red * (0.5 + lay.micro) if zero_stage >= 3 else all_red
    exposed = max(0.0, dp_all - BACKWARD_SHARE * compute / lay.micro)
    step = compute + exposed
    items = batch * (prof.seq_len or 1) if prof.throughput_unit == "token" else batch
    throughput, energy = items / step, topo.devices * prof.power_w * step
    mfu = prof.flops * dp / (step * topo.devices * prof.dense_peak_flops)
    hfu = prof.hardware_flops * dp / (step * topo.devices * prof.dense_peak_flops)
    mfu = check_outputs(f"DistributedModel ({m.name} on {topo.name})", latency=step, throughput=throughput,
                        energy=energy, mfu=mfu, terms=((compute, Source(None, entry=topo.device.name)),
                                                       (exposed, topo.inter_src)),
                        mfu_source=mfu_source(m, topo.device, prof.compute_precision, prof.efficiency))
    mem = prof.memory
    mem = attrs.evolve(mem, activations=mem.activations / lay.micro)
    tm = TrainingMemory(mem.weights, mem.gradients, mem.optimizer_state, mem.activations, mem.runtime_reserve, 0.0,
                        mem.capacity)
    reasons = [r for r in prof.reasons if r not in prof.memory_reasons]
    if not tm.fits:
        reasons.append(f"needs {tm.total / 2**30:.2f} GiB per device, has {tm.capacity / 2**30:.2f} GiB")
    return DistributedResult(
        latency=quantity(step, "s"), throughput=quantity(throughput, f"{prof.throughput_unit}/s"),
        bottleneck="Communication" if exposed > compute else prof.bottleneck, mfu=mfu, feasible=tm.fits,
        energy=quantity(energy, "J"), devices=topo.devices, tensor_parallel=1, pipeline_parallel=1, data_parallel=dp,
        context_parallel=1, expert_parallel=1, virtual_pipeline_stages=1, microbatch_size=lay.mb,
        microbatches=lay.micro, zero_stage=zero_stage, runtime="pytorch DDP", hfu=max(hfu, mfu),
        tokens_per_s_per_gpu=throughput / topo.devices, compute_time_s=compute, recompute_time_s=0.0,
        optimizer_time_s=0.0, bubble_time_s=0.0, tp_comm_time_s=0.0, cp_comm_time_s=0.0, ep_comm_time_s=0.0,
        pp_comm_time_s=0.0, dp_comm_time_s=dp_all, dp_comm_exposed_s=exposed,
        comm_total_s={"tp": 0.0, "cp": 0.0, "ep": 0.0, "pp": 0.0, "dp": dp_all}, memory=mem, training_memory=tm,
        device_profile=prof, reasons=tuple(reasons))
