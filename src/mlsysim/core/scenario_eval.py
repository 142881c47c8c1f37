"""Evaluate a catalog scenario: solve it and check each constraint against the prediction."""
from __future__ import annotations

from typing import Any

import attrs

from ..errors import UnsupportedModelError
from ..specs.hardware import HardwareSpec
from ..specs.scenarios import ConstraintCheck, ScenarioEvaluation, ScenarioSpec
from ..specs.systems import ClusterSpec, NodeSpec
from ..units import quantity


def _device_and_count(reg: Any, target: Any) -> tuple[HardwareSpec, int]:
    """A scenario on a node or cluster is evaluated per device, data parallel over all devices."""
    if isinstance(target, HardwareSpec):
        return target, 1
    if isinstance(target, NodeSpec):
        return reg.resolve_path(target.accelerator), target.accelerators_per_node
    if isinstance(target, ClusterSpec):
        node = reg.resolve_path(target.node)
        return reg.resolve_path(node.accelerator), node.accelerators_per_node * target.node_count
    raise UnsupportedModelError(f"cannot evaluate a scenario on {type(target).__name__}")


def evaluate_scenario(s: ScenarioSpec, **overrides: Any) -> ScenarioEvaluation:
    from ..core.engine import Engine
    from ..registry import registries

    reg = registries()
    model, target = reg.resolve_path(s.model), reg.resolve_path(s.target)
    device, devices = _device_and_count(reg, target)
    options: dict[str, Any] = {"seq_len": s.seq_len, "is_training": s.mode == "training"}
    if s.mode == "training" and devices > 1:
        options |= {"zero_stage": 3, "dp_size": devices}  # fully sharded data parallel over the target
    options |= overrides
    profile = Engine.solve(model, device, s.batch_size, s.precision, s.efficiency, **options)
    c = s.constraints
    checks = []
    if c.max_latency is not None:
        timed, label = profile, "latency"
        if s.latency_metric == "ttft":  # the prompt's prefill, not one decode step
            from .solver import RooflineModel

            timed, label = RooflineModel().solve(model, device, s.batch_size, s.precision, s.efficiency,
                                                 seq_len=s.seq_len, prefill=True), "time to first token"
        checks.append(ConstraintCheck(name=label, passed=timed.latency.to("s").magnitude <= c.max_latency,
                                      value=timed.latency.to("ms"), limit=quantity(c.max_latency, "s").to("ms")))
    if c.max_power is not None:
        checks.append(ConstraintCheck(name="power", passed=profile.power_w * devices <= c.max_power,
                                      value=quantity(profile.power_w * devices, "W"), limit=quantity(c.max_power, "W")))
    if c.max_energy is not None:
        checks.append(ConstraintCheck(name="energy", passed=profile.energy.to("J").magnitude <= c.max_energy,
                                      value=profile.energy.to("mJ"), limit=quantity(c.max_energy, "J").to("mJ")))
    if c.max_memory is not None:
        checks.append(ConstraintCheck(name="memory", passed=profile.memory.total <= c.max_memory,
                                      value=quantity(profile.memory.total, "B").to("GiB"),
                                      limit=quantity(c.max_memory, "B").to("GiB")))
    if devices > 1:
        profile = attrs.evolve(profile, reasons=profile.reasons + (
            f"evaluated per device of {devices} (ZeRO-3 sharded, fully data parallel); inter-device communication "
            "is not included: see mlsysim.solvers.DistributedModel",))
    return ScenarioEvaluation(scenario=s.name, profile=profile, checks=tuple(checks))
