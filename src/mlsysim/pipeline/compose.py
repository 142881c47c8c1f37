"""Pipeline composition (experimental): stages that one item passes through, each with its own result.

Sequential (one item goes through the stages in turn: a request's prefill then its decode steps, a preprocessing
model then a detector, an agent's chain of LLM calls):
  latency    = sum of stage latencies x passes (the item waits for each stage in turn)
  throughput = min over stages of stage throughput / work per item (the slowest stage bounds a pipelined
               flow: a stage cannot pass on items faster than it completes them -- the bottleneck law of
               operational analysis, Denning & Buzen 1978)
  energy     = sum of stage energies x passes (energy is conserved: each stage's joules are spent once)
  mfu        = stage MFUs weighted by device-seconds (devices x busy seconds): the share of the peak the whole
               pipeline keeps busy; sequential stages are busy for their latency, spatial pools all the time
  feasible   = every stage fits; bottleneck = the limiting stage's.
Spatial (stages on separate device pools, working at once): Pipeline.disaggregated() exposes ServingModel's
disaggregated prefill pool -> KV transfer -> decode pool as such a pipeline.

    p = Pipeline([Stage("prefill", prefill_result, work=prompt_len),
                  Stage("decode", decode_result, passes=output_len - 1, work=output_len - 1)], unit="request")
    p.latency, p.throughput, p.stages[1].result, print(p.explain())
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidInputError, InvalidTypeError

KINDS = ("sequential", "spatial")


def _seconds(v: Any) -> float:
    return float(v.m_as("s")) if hasattr(v, "m_as") else float(v)


def _joules(v: Any) -> float:
    return float(v.m_as("J")) if hasattr(v, "m_as") else float(v)


def _rate(v: Any) -> float:
    return float(v.magnitude) if hasattr(v, "magnitude") else float(v)


def _human(value: float, unit: str) -> str:
    """`value` (s or J) with an SI prefix that suits its magnitude."""
    for scale, prefix in ((1.0, ""), (1e-3, "m"), (1e-6, "u"), (1e-9, "n")):
        if abs(value) >= scale:
            return f"{value / scale:.4g} {prefix}{unit}"
    return f"{value:.4g} {unit}"


def _get(result: Any, name: str) -> Any:
    if isinstance(result, dict):
        return result[name]
    return getattr(result, name)


@dataclass(frozen=True)
class Stage:
    """One stage: its `result` (anything with the six stable fields: a PerformanceProfile, a ServingResult, a
    dse record, a StageFigures), how many `passes` of it one item needs in sequence (decode steps), how many
    units of the stage's throughput one item takes (`work`: tokens of a prompt), the `devices` it runs on, and
    the `items` one pass carries (energy per item = energy per pass x passes / items)."""

    name: str
    result: Any
    passes: float = 1.0
    work: float = 1.0
    devices: float = 1.0
    items: float = 1.0  # pipeline items one pass of the stage carries (a batch of requests)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise InvalidTypeError(f"a stage needs a name, got {self.name!r}")
        for k in ("passes", "work", "devices", "items"):
            v = getattr(self, k)
            low_ok = v >= 0 if k == "devices" else v > 0  # a link stage occupies no compute device
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not low_ok or math.isinf(v):
                raise InvalidInputError(f"stage {self.name!r}: {k} must be a positive number, got {v!r}")
        for f in ("latency", "throughput", "energy", "mfu", "feasible", "bottleneck"):
            try:
                _get(self.result, f)
            except (AttributeError, KeyError):
                raise InvalidTypeError(f"stage {self.name!r}: its result has no {f!r}; give a solver result "
                                       "(Engine.solve, ServingModel.solve), a dse record or a StageFigures") from None

    @property
    def latency_s(self) -> float:  # seconds this stage adds to an item
        return _seconds(_get(self.result, "latency")) * self.passes

    @property
    def rate(self) -> float:  # items per second this stage can pass on
        return _rate(_get(self.result, "throughput")) / self.work

    @property
    def energy_j(self) -> float:  # joules per pipeline item
        return _joules(_get(self.result, "energy")) * self.passes / self.items


@dataclass(frozen=True)
class StageFigures:
    """The six figures of a stage that no single solver call returns (a pool of a disaggregated deployment)."""

    latency: float      # s
    throughput: float   # items/s
    energy: float       # J per item
    mfu: float
    feasible: bool
    bottleneck: str
    detail: dict = field(default_factory=dict)


class Pipeline:
    """A composition of stages; carries the six stable fields, the per-stage results, and explain()."""

    def __init__(self, stages: Any, kind: str = "sequential", unit: str = "item", reasons: tuple = ()):
        if kind not in KINDS:
            raise InvalidInputError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
        built = []
        for s in stages:
            if isinstance(s, Stage):
                built.append(s)
            elif isinstance(s, tuple) and len(s) == 2:
                built.append(Stage(*s))
            else:
                raise InvalidTypeError(f"stages are Stage(name, result, ...) or (name, result) pairs, got {s!r}")
        if not built:
            raise InvalidInputError("a pipeline needs at least one stage")
        names = [s.name for s in built]
        if len(set(names)) != len(names):
            raise InvalidInputError(f"stage names must be unique, got {names}")
        self.stages, self.kind, self.unit, self.reasons = tuple(built), kind, unit, tuple(reasons)
        self.latency_s = sum(s.latency_s for s in built)
        self.throughput_per_s = min(s.rate for s in built)
        self.energy_j = sum(s.energy_j for s in built)
        weights = [s.devices * (s.latency_s if kind == "sequential" else 1.0) for s in built]
        total = sum(weights)
        self.mfu = sum(float(_get(s.result, "mfu")) * w for s, w in zip(built, weights)) / total if total else 0.0
        self.feasible = all(bool(_get(s.result, "feasible")) for s in built)
        self.limiting_stage = min(built, key=lambda s: s.rate).name
        self.bottleneck = str(_get(self.stage(self.limiting_stage).result, "bottleneck"))

    # --- stable field names, as quantities (built when read) -----------------------------------------------
    @property
    def latency(self) -> Any:
        from ..units import quantity
        return quantity(self.latency_s, "s")

    @property
    def throughput(self) -> Any:
        from ..units import quantity
        return quantity(self.throughput_per_s, "1/s")  # items (self.unit) per second

    @property
    def energy(self) -> Any:
        from ..units import quantity
        return quantity(self.energy_j, "J")

    def stage(self, name: str) -> Stage:
        for s in self.stages:
            if s.name == name:
                return s
        raise InvalidInputError(f"no stage {name!r}; stages: {', '.join(s.name for s in self.stages)}")

    def to_dict(self) -> dict:
        return {"kind": self.kind, "latency_s": self.latency_s, "throughput_per_s": self.throughput_per_s,
                "unit": self.unit, "energy_j": self.energy_j, "mfu": self.mfu, "feasible": self.feasible,
                "bottleneck": self.bottleneck, "limiting_stage": self.limiting_stage,
                "stages": [{"name": s.name, "latency_s": s.latency_s, "rate_per_s": s.rate, "energy_j": s.energy_j,
                            "passes": s.passes, "work": s.work, "devices": s.devices, "items": s.items,
                            "bottleneck": str(_get(s.result, "bottleneck")),
                            "feasible": bool(_get(s.result, "feasible"))} for s in self.stages]}

    def explain(self) -> str:
        """Which stage limits the latency and the throughput, and why, in words."""
        human = _human
        lines = [f"{self.kind} pipeline of {len(self.stages)} stage(s) per {self.unit}:"]
        for s in self.stages:
            share = s.latency_s / self.latency_s if self.latency_s else 0.0
            times = f" x {s.passes:g} passes" if s.passes != 1 else ""
            lines.append(f"  {s.name}: {human(s.latency_s, 's')}{times} ({share:.0%} of the latency), "
                         f"{s.rate:.4g} {self.unit}/s, {human(s.energy_j, 'J')}, "
                         f"{_get(s.result, 'bottleneck')}-bound" + ("" if _get(s.result, "feasible")
                                                                    else ", does NOT fit"))
        slow = max(self.stages, key=lambda s: s.latency_s)
        lim = self.stage(self.limiting_stage)
        lines.append(f"latency {human(self.latency_s, 's')}: the stages add; {slow.name} adds the most "
                     f"({human(slow.latency_s, 's')}).")
        others = [s for s in self.stages if s is not lim]
        nxt = f" (next: {min(others, key=lambda s: s.rate).name} at {min(s.rate for s in others):.4g}/s)" if others else ""
        lines.append(f"throughput {self.throughput_per_s:.4g} {self.unit}/s: bounded by {lim.name}, the slowest "
                     f"stage{nxt}; it is {_get(lim.result, 'bottleneck')}-bound, so speeding up its "
                     f"{'compute' if _get(lim.result, 'bottleneck') == 'Compute' else 'memory traffic'} "
                     f"raises the pipeline's rate.")
        lines.append(f"energy {human(self.energy_j, 'J')} per {self.unit} (stages add); MFU {self.mfu:.1%} "
                     f"(device-second weighted).")
        if not self.feasible:
            lines.append("infeasible: " + ", ".join(s.name for s in self.stages if not _get(s.result, "feasible"))
                         + " does not fit in memory")
        lines += [f"note: {r}" for r in self.reasons]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"<Pipeline {self.kind} {[s.name for s in self.stages]}: {self.latency_s:.4g} s, "
                f"{self.throughput_per_s:.4g} {self.unit}/s, limited by {self.limiting_stage}>")

    # --- constructors ----------------------------------------------------------------------------------
    @classmethod
    def of_solves(cls, *stages: tuple[str, dict], unit: str = "item") -> "Pipeline":
        """Sequential stages each solved with Engine.solve: of_solves(("pre", {"model": ..., "hardware": ...}),
        ...). A stage dict may add passes=, work=, devices= beside Engine.solve's keywords."""
        from ..core.engine import Engine

        built = []
        for name, kw in stages:
            kw = dict(kw)
            extra = {k: kw.pop(k) for k in ("passes", "work", "devices") if k in kw}
            built.append(Stage(name, Engine.solve(**kw), **extra))
        return cls(built, unit=unit)

    @classmethod
    def request(cls, model: Any, hardware: Any, prompt_len: int, output_len: int, batch_size: int = 1,
                precision: str = "fp16", **engine: Any) -> "Pipeline":
        """One batch of requests on one device, as prefill then output_len - 1 decode steps (Engine.solve's
        prefill pass and decode step at the mean context prompt + output/2). Throughput in requests/s."""
        from ..core.solver import RooflineModel

        solver = RooflineModel()
        pre = solver.solve(model, hardware, batch_size, precision, seq_len=prompt_len, prefill=True, **engine)
        steps = max(output_len - 1, 1)
        dec = solver.solve(model, hardware, batch_size, precision, seq_len=prompt_len + output_len // 2, **engine)
        # prefill emits one token per request, a decode step one per sequence: work per request in tokens
        return cls([Stage("prefill", pre, work=prompt_len, items=batch_size),
                    Stage("decode", dec, passes=steps, work=steps, items=batch_size)],
                   unit="request", reasons=("decode steps at the mean context prompt_len + output_len / 2",))

    @classmethod
    def disaggregated(cls, model: Any, hardware: Any, prefill: dict, decode: dict, *, prompt_len: int,
                      output_len: int = 256, batch_size: int = 1, precision: str = "fp16", **serving: Any) -> "Pipeline":
        """ServingModel.solve(..., disaggregated={"prefill": prefill, "decode": decode}) as a spatial pipeline:
        prefill pool (queueing wait + the prompt's prefill) -> KV transfer -> decode pool ((output_len - 1) TPOT).
        Latencies add to the served request's latency; the pool with the lower request rate limits it; energy is
        each pool's GPUs x TDP over the request rate (ServingModel's power), the KV link's is not modelled."""
        from ..core.serving import ServingModel

        r = ServingModel().solve(model, hardware, batch_size, precision, prompt_len=prompt_len, output_len=output_len,
                                 disaggregated={"prefill": prefill, "decode": decode}, **serving)
        dis = r.disaggregation
        rate = r.request_rate.m_as("1/s")
        ttft, tpot = r.ttft.m_as("s"), r.tpot.m_as("s")
        gpus = r.gpus
        power_per_gpu = r.energy.m_as("J") * rate / gpus  # ServingModel: GPUs x TDP
        # Each prefill worker sends one prompt's KV at a time over its own links.
        link_rate = int(prefill.get("workers", 1)) / dis["kv_transfer_s"]
        flops_share = r.mfu * gpus  # mfu x gpus splits by the pools' token shares below
        p_share = prompt_len / (prompt_len + output_len)
        stages = [
            Stage("prefill", StageFigures(ttft - dis["kv_transfer_s"], dis["prefill_capacity_rps"],
                                          dis["prefill_gpus"] * power_per_gpu / rate,
                                          min(flops_share * p_share / dis["prefill_gpus"], 1.0), r.feasible, "Compute",
                                          {"wait_s": dis["prefill_wait_s"]}), devices=dis["prefill_gpus"]),
            Stage("kv_transfer", StageFigures(dis["kv_transfer_s"], link_rate, 0.0, 0.0, True, "Network",
                                              {"kv_bytes": dis["kv_bytes_per_request"]}), devices=0),
            Stage("decode", StageFigures((output_len - 1) * tpot, dis["decode_capacity_rps"],
                                         dis["decode_gpus"] * power_per_gpu / rate,
                                         min(flops_share * (1 - p_share) / dis["decode_gpus"], 1.0), r.feasible,
                                         r.bottleneck, {"tpot_s": tpot}), devices=dis["decode_gpus"]),
        ]
        p = cls(stages, kind="spatial", unit="request", reasons=tuple(r.reasons))
        p.serving = r  # the ServingResult the pipeline is read from
        return p
