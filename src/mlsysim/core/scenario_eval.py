"""Evaluate a catalog scenario: solve it and check each constraint against the prediction."""
from __future__ import annotations

from typing import Any

import attrs

from ..errors import InvalidInputError, UnsupportedModelError
from ..specs.hardware import HardwareSpec
from ..specs.models import ModelSpec
from ..specs.scenarios import EVALUATE_OVERRIDES, ConstraintCheck, ScenarioEvaluation, ScenarioSpec
from ..specs.systems import ClusterSpec, NodeSpec
from ..units import quantity
from .engine import Engine
from .inputs import check_bool, resolve_hardware, resolve_reference
from .solver import RooflineModel

# ZeRO stage a training scenario on several devices defaults to: fully sharded data parallel over the target
# (Rajbhandari et al. 2020, ZeRO-3 partitions parameters, gradients and optimizer state).
MULTI_DEVICE_ZERO_STAGE = 3


def _device_and_count(target: Any) -> tuple[HardwareSpec, int]:
    """A scenario on a node or cluster is evaluated per device, data parallel over all devices."""
    if isinstance(target, HardwareSpec):
        return target, 1
    if isinstance(target, NodeSpec):
        return resolve_reference(target, "accelerator", HardwareSpec, "hardware", "Hardware"), \
            target.accelerators_per_node
    if isinstance(target, ClusterSpec):
        node = resolve_reference(target, "node", NodeSpec, "a node", "Systems")
        return resolve_reference(node, "accelerator", HardwareSpec, "hardware", "Hardware"), \
            node.accelerators_per_node * target.node_count
    raise UnsupportedModelError(f"cannot evaluate a scenario on {type(target).__name__}")


def _override_target(value: Any) -> HardwareSpec | NodeSpec | ClusterSpec:
    """The target an evaluate(hardware=...) override names: a spec, a full registry path, or a Hardware name."""
    if isinstance(value, (HardwareSpec, NodeSpec, ClusterSpec)):
        return value
    if isinstance(value, str) and value.startswith("Systems."):
        from ..registry import registries

        found = registries().resolve_path(value)
        if isinstance(found, (NodeSpec, ClusterSpec)):
            return found
        raise InvalidInputError(f"hardware={value!r} names no node or cluster (e.g. 'Systems.Nodes.DGX_H100')")
    return resolve_hardware(value)


def check_overrides(overrides: dict[str, Any]) -> None:
    unknown = sorted(k for k in overrides if k not in EVALUATE_OVERRIDES)
    if unknown:
        raise InvalidInputError(f"unknown scenario override{'s' if len(unknown) > 1 else ''} "
                                f"{', '.join(map(repr, unknown))}; accepted: {', '.join(EVALUATE_OVERRIDES)}")


def evaluate_scenario(s: ScenarioSpec, **overrides: Any) -> ScenarioEvaluation:
    """See ScenarioSpec.evaluate for the accepted overrides."""
    check_overrides(overrides)
    model = resolve_reference(s, "model", ModelSpec, "a model", "Models")
    target = _override_target(overrides.pop("hardware")) if "hardware" in overrides else resolve_reference(
        s, "target", (HardwareSpec, NodeSpec, ClusterSpec), "hardware, a node or a cluster", ("Hardware", "Systems"))
    device, devices = _device_and_count(target)
    batch = overrides.pop("batch_size", s.batch_size)
    precision = overrides.pop("precision", s.precision)
    efficiency = overrides.pop("efficiency", s.efficiency)
    seq_len_given = "seq_len" in overrides
    seq_len = overrides.pop("seq_len", s.seq_len)
    # A seq_len override alone replaces the scenario's ragged lengths (the two are exclusive).
    seq_lens = overrides.pop("seq_lens", None if seq_len_given else s.seq_lens)
    runtime = overrides.pop("runtime", s.runtime)
    training = check_bool("is_training", overrides.pop("is_training", s.mode == "training"))
    options: dict[str, Any] = {"seq_len": seq_len, "is_training": training, "seq_lens": seq_lens, "runtime": runtime}
    if training and devices > 1:  # fully sharded data parallel over the target, unless overridden
        options |= {"zero_stage": MULTI_DEVICE_ZERO_STAGE, "dp_size": devices}
    options |= overrides
    profile = Engine.solve(model, device, batch, precision, efficiency, **options)
    c = s.constraints
    checks = []
    if c._max_latency is not None:
        timed, label = profile, "latency"
        if s.latency_metric == "ttft":  # the prompt's prefill, not one decode step
            if training:
                raise InvalidInputError(f"scenario {s.name}'s latency constraint is on time to first token, which a "
                                        "training step has none of: evaluate it with is_training=False")
            timed, label = RooflineModel().solve(model, device, batch, precision, efficiency, seq_len=seq_len,
                                                 weight_only=overrides.get("weight_only", False), prefill=True,
                                                 seq_lens=seq_lens, runtime=runtime), "time to first token"
        checks.append(ConstraintCheck(name=label, passed=timed.latency.to("s").magnitude <= c._max_latency,
                                      value=timed.latency.to("ms"), limit=quantity(c._max_latency, "s").to("ms")))
    if c._max_power is not None:
        checks.append(ConstraintCheck(name="power", passed=profile.power_w * devices <= c._max_power,
                                      value=quantity(profile.power_w * devices, "W"), limit=quantity(c._max_power, "W")))
    if c._max_energy is not None:
        checks.append(ConstraintCheck(name="energy", passed=profile.energy.to("J").magnitude <= c._max_energy,
                                      value=profile.energy.to("mJ"), limit=quantity(c._max_energy, "J").to("mJ")))
    if c._max_memory is not None:
        checks.append(ConstraintCheck(name="memory", passed=profile.memory.total <= c._max_memory,
                                      value=quantity(profile.memory.total, "B").to("GiB"),
                                      limit=quantity(c._max_memory, "B").to("GiB")))
    if devices > 1:
        profile = attrs.evolve(profile, reasons=profile.reasons + (
            f"evaluated per device of {devices} ("
            + (f"ZeRO-{options.get('zero_stage', 0)} sharded, " if training else "")
            + "fully data parallel); inter-device communication is not included: see "
              "mlsysim.solvers.DistributedModel",))
    return ScenarioEvaluation(scenario=s.name, profile=profile, checks=tuple(checks))
