"""The result of a training step on a node or cluster (experimental; keeps 0.1.x's DistributedResult names)."""
from __future__ import annotations

from typing import Any

import attrs

from ...units import quantity
from ..results import MemoryBreakdown, PerformanceProfile, SolverResult
from .memory import TrainingMemory


class LazyProfile:
    """The single-device profile of one replica, built on first use (the step itself does not need it)."""

    __slots__ = ("_build", "_value")

    def __init__(self, build: Any):
        self._build, self._value = build, None

    def get(self) -> PerformanceProfile:
        if self._value is None:
            self._value = self._build() if callable(self._build) else self._build
        return self._value

    def to_dict(self) -> dict[str, Any]:
        return self.get().to_dict()


@attrs.frozen(kw_only=True)
class DistributedResult(SolverResult):
    """One optimizer step. Time conservation: latency = compute_time_s + bubble_time_s + the exposed
    communication of every kind (communication_latency). compute_time_s covers forward, backward,
    recomputation (recompute_time_s of it) and the optimizer step (optimizer_time_s of it) on the slowest
    pipeline stage.

    MFU = model FLOPs / (step x devices x dense peak), model FLOPs per token = 6 N + 12 L h s: N the weights
    each token multiplies through (every layer and the LM head, active experts only), the attention term
    counted non-causal as Megatron-LM (Narayanan et al. 2021, eq. 3) and PaLM (Chowdhery et al. 2022, app. B)
    count it. HFU adds the FLOPs recomputation replays. Both use the compute precision's dense peak."""
    latency: Any            # one optimizer step
    throughput: Any         # tokens/s over the whole system
    bottleneck: str         # "Compute", "Memory" or "Communication"
    mfu: float
    feasible: bool
    energy: Any             # joules per step, all devices
    devices: int
    tensor_parallel: int
    pipeline_parallel: int
    data_parallel: int
    context_parallel: int
    expert_parallel: int
    virtual_pipeline_stages: int
    pipeline_schedule: str = "1f1b"  # core.training.pipeline.PIPELINE_SCHEDULES
    microbatch_size: int
    microbatches: int
    zero_stage: int
    runtime: str
    hfu: float
    tokens_per_s_per_gpu: float
    compute_time_s: float
    recompute_time_s: float
    optimizer_time_s: float
    bubble_time_s: float
    tp_comm_time_s: float          # exposed (after the runtime's overlap)
    cp_comm_time_s: float          # exposed
    ep_comm_time_s: float          # exposed
    pp_comm_time_s: float          # exposed
    dp_comm_time_s: float          # total DP/FSDP traffic time before overlap
    dp_comm_exposed_s: float       # exposed
    comm_total_s: dict            # per kind, before overlap
    memory: MemoryBreakdown        # per device (0.1.x shape: buffers + fragmentation in runtime_reserve)
    training_memory: TrainingMemory
    _device_profile: Any = attrs.field(repr=False)  # a LazyProfile (or a PerformanceProfile)
    reasons: tuple[str, ...] = ()

    @property
    def device_profile(self) -> PerformanceProfile:
        """One replica's step on a single device (RooflineModel), built on first access."""
        p = self._device_profile
        return p.get() if isinstance(p, LazyProfile) else p

    # --- 0.1.x's DistributedResult names (quantities derived from the fields above) ---------------------
    @property
    def node_profile(self) -> PerformanceProfile:
        return self.device_profile

    @property
    def dp_communication_latency(self):
        """Data-parallel gradient synchronisation left exposed after overlap with the backward pass."""
        return quantity(self.dp_comm_exposed_s, "s")

    @property
    def tp_communication_latency(self):
        return quantity(self.tp_comm_time_s, "s")

    @property
    def pp_communication_latency(self):
        return quantity(self.pp_comm_time_s, "s")

    @property
    def ep_communication_latency(self):
        """Expert-parallel all-to-all left exposed."""
        return quantity(self.ep_comm_time_s, "s")

    @property
    def communication_s(self) -> float:
        return (self.tp_comm_time_s + self.cp_comm_time_s + self.ep_comm_time_s + self.pp_comm_time_s
                + self.dp_comm_exposed_s)

    @property
    def communication_latency(self):
        """Every communication time on the step's critical path (exposed TP + CP + EP + PP + DP)."""
        return quantity(self.communication_s, "s")

    @property
    def pipeline_bubble_latency(self):
        return quantity(self.bubble_time_s, "s")

    @property
    def bubble_fraction(self) -> float:
        return self.bubble_time_s / self.latency.m_as("s")

    @property
    def step_latency_total(self):
        return self.latency

    @property
    def scaling_efficiency(self) -> float:
        """Useful compute over the step: compute time / step time (1 = perfect linear scaling)."""
        return self.compute_time_s / self.latency.m_as("s")

    @property
    def effective_throughput(self):
        return self.throughput

    @property
    def parallelism(self) -> dict[str, int]:
        return {"tp": self.tensor_parallel, "pp": self.pipeline_parallel, "dp": self.data_parallel,
                "ep": self.expert_parallel}

    @property
    def breakdown(self) -> dict[str, float]:
        """Seconds of the step by part (sums to the step time)."""
        return {"compute": self.compute_time_s - self.recompute_time_s - self.optimizer_time_s,
                "recompute": self.recompute_time_s, "optimizer": self.optimizer_time_s,
                "bubble": self.bubble_time_s, "tp": self.tp_comm_time_s, "cp": self.cp_comm_time_s,
                "ep": self.ep_comm_time_s, "pp": self.pp_comm_time_s, "dp": self.dp_comm_exposed_s}
