"""Searching a swept space: the best configurations under constraints, cost per device-hour from the catalog,
and Pareto fronts."""
from __future__ import annotations

import math
import operator
from typing import Any, Callable

from ..errors import CatalogError, InvalidInputError
from .constraints import normalise
from ..solvers._fleet import DAYS_PER_YEAR, HOURS_PER_DAY, SECONDS_PER_HOUR, W_PER_KW
from ..solvers.economics import ANNUAL_MAINTENANCE_FRACTION

# Straight-line depreciation period of an accelerator: EconomicsModel.solve's default (3 years).
DEFAULT_AMORTIZATION_YEARS = 3.0
_OPS: dict[str, Callable[[Any, Any], bool]] = {"<=": operator.le, "<": operator.lt, ">=": operator.ge,
                                                ">": operator.gt, "==": operator.eq, "!=": operator.ne}


PRICINGS = ("own", "on_demand", "reserved")


def cost_per_hour(hardware: Any, amortization_years: float = DEFAULT_AMORTIZATION_YEARS,
                  annual_maintenance_fraction: float = ANNUAL_MAINTENANCE_FRACTION,
                  pricing: str = "own") -> tuple[float, str]:
    """(USD per device-hour, provenance) of one accelerator.

    pricing="own": its catalog unit_cost depreciated straight-line over amortization_years plus yearly maintenance
    as a fraction of it (EconomicsModel's capex and maintenance terms, per hour). pricing="on_demand" or
    "reserved": the lowest quote of that kind among its catalog economics.rental rows (public price lists, per
    accelerator-hour). Energy is added per point by search(kwh_price=). No such price in the catalog is an error."""
    from ..core.inputs import resolve_hardware

    if pricing not in PRICINGS:
        raise InvalidInputError(f"unknown pricing {pricing!r}: use one of {', '.join(PRICINGS)}")
    hw = resolve_hardware(hardware)
    econ = hw.economics
    if pricing != "own":
        quotes = [(getattr(q, "_" + pricing), q) for q in (econ.rental if econ is not None else ())]
        quotes = [(usd, q) for usd, q in quotes if usd is not None]
        if not quotes:
            raise CatalogError(f"no {pricing} rental price for Hardware.{hw.name}", entry=hw.name,
                               field="economics.rental", expected=f"a rental row with {pricing} = \"... USD/h\" and its "
                               "provenance in its catalog entry (or pricing=\"own\", or leave this device out)")
        usd, q = min(quotes, key=lambda t: t[0])
        p = q.provenance
        return usd, f"{q.provider} {q.offering} ({pricing}); {p.kind}: {p.source} (checked {p.checked})"
    if econ is None or econ._unit_cost is None:
        raise CatalogError(f"no purchase price for Hardware.{hw.name}", entry=hw.name, field="economics.unit_cost",
                           expected="an economics = { unit_cost = \"... USD\", provenance = {...} } table in its "
                                    "catalog entry (or pricing=\"on_demand\" for a rental quote, or leave this "
                                    "device out of a cost search)")
    hours = DAYS_PER_YEAR * HOURS_PER_DAY
    usd = econ._unit_cost / (amortization_years * hours) + econ._unit_cost * annual_maintenance_fraction / hours
    p = econ.provenance
    return usd, f"{p.kind}: {p.source} (checked {p.checked})"


def _with_derived(rec: dict, prices: dict, kwh_price: float | None) -> dict:
    r = dict(rec)
    if "tpot" not in r and r.get("throughput_unit") == "token/s":
        r["tpot"] = r["latency"]  # one decode step of the engine tier is the time per output token
    price = prices.get(r["hardware"])
    if price is not None and r.get("error") is None and not math.isnan(r["latency"]):
        usd = price[0]
        if kwh_price is not None:  # energy of the pass over its latency is the device's average power
            usd += r["energy"] / r["latency"] / W_PER_KW * kwh_price
        r["usd_per_hour"], r["cost_source"] = usd, price[1]
        r["per_dollar"] = r["throughput"] * SECONDS_PER_HOUR / usd  # tokens or samples per USD
        r["throughput_per_dollar"] = r["per_dollar"]
        if r.get("throughput_unit") == "token/s":
            r["tokens_per_dollar"] = r["per_dollar"]
    return r


def devices_used(space: Any, hw: Any) -> int:
    """Devices one point of the sweep occupies, all priced: a serving replica's tensor x data x pipeline GPUs,
    a training step on a node or cluster all its devices (DistributedModel's data parallelism fills them), else one."""
    from ..specs.hardware import HardwareSpec

    opts = dict(space.options)
    if space.solver == "serving":
        n = 1
        for k in ("tensor_parallel", "data_parallel", "pipeline_parallel"):
            v = opts.get(k, 1)
            n *= v if isinstance(v, int) and not isinstance(v, bool) and v > 0 else 1  # a bad value: the row's error
        return n
    if space.solver == "training" and not isinstance(hw, HardwareSpec):
        from ..core.training.layout import topology
        return topology(hw).devices
    return 1


def _check(rec: dict, constraints: Any) -> bool:
    """constraints: None, a function of a record, or anything constraints.normalise takes (normalised here
    when not already a list of triples)."""
    if constraints is None:
        return True
    if callable(constraints):
        return bool(constraints(rec))
    triples = constraints if _is_triples(constraints) else normalise(constraints)
    for field, op, bound in triples:
        value = rec.get(field)
        if value is None or (isinstance(value, float) and math.isnan(value)) or not _OPS[op](value, bound):
            return False
    return True


def _is_triples(c: Any) -> bool:
    return isinstance(c, list) and all(isinstance(t, tuple) and len(t) == 3 and t[1] in _OPS for t in c)


def search(table_or_space: Any, objective: Any, constraints: Any = None, *, maximize: bool = True, top: int | None = 10,
           kwh_price: float | None = None, amortization_years: float = DEFAULT_AMORTIZATION_YEARS,
           pricing: str = "own") -> list[dict]:
    """The `top` records that best meet `objective` under `constraints`, best first.

    table_or_space: a Table from sweep(), or a dict of sweep() keywords (swept here).
    objective: a field ("throughput", "mfu", "tokens_per_dollar", "per_dollar", ...) or a function of a record.
        Derived fields: usd_per_hour and cost_source (cost_per_hour of the device x devices_used, the GPUs a serving
        replica or a training node holds; + average power x kwh_price
        when given), per_dollar (items per USD), tokens_per_dollar, tpot (engine tier: the decode step).
    constraints: {field: value} (equality) or {field: (op, bound)} with op in <=, <, >=, >, ==, !=; a list of
        text constraints ("tpot<=50ms", "mfu>=40%", "feasible": mlsysim.dse.constraints) or (field, op, bound)
        triples; or a function of a record. A record without the field (a device with no price) fails it.
    top: how many to return (None: all that meet the constraints).
    pricing: "own" (purchase price amortised), "on_demand" or "reserved" (cheapest catalog rental quote): cost_per_hour.
    """
    from .grid import device_of
    from .sweep import sweep
    from .table import Table

    table = sweep(**table_or_space) if isinstance(table_or_space, dict) else table_or_space
    if not isinstance(table, Table):
        raise InvalidInputError("search takes a Table from mlsysim.dse.sweep or a dict of sweep keywords")
    prices: dict[str, tuple[float, str]] = {}
    for hw in table.space.hardware:
        try:
            usd, source = cost_per_hour(device_of(hw), amortization_years, pricing=pricing)
        except CatalogError:
            continue  # no catalog price: cost fields stay absent for its records
        n = devices_used(table.space, hw)
        prices[hw.name] = (usd * n, source if n == 1 else f"{n} x {source}")
    key = objective if callable(objective) else (lambda r: r.get(objective))
    constraints = normalise(constraints)
    scored = []
    for rec in table:
        r = _with_derived(rec, prices, kwh_price)
        if not _check(r, constraints):
            continue
        v = key(r)
        if v is None or (isinstance(v, float) and math.isnan(v)):
            continue
        r["objective"] = v
        scored.append(r)
    scored.sort(key=lambda r: r["objective"], reverse=maximize)
    return scored if top is None else scored[:top]


def pareto_indices(xs: Any, ys: Any, minimize: tuple[bool, bool] = (True, False)) -> list[int]:
    """Indices of the non-dominated points of (xs, ys), in order of x (NaN/None points never belong)."""
    sx, sy = (1.0 if m else -1.0 for m in minimize)
    pts = [(sx * x, sy * y, i) for i, (x, y) in enumerate(zip(xs, ys))
           if x is not None and y is not None and not (math.isnan(x) or math.isnan(y))]
    pts.sort()
    front, best = [], math.inf
    for x, y, i in pts:  # sorted by x (better first), ties by y: a point is kept if its y beats all before it
        if y < best:
            front.append(i)
            best = y
    return front


def pareto(data: Any, x: Any, y: str | None = None, minimize: tuple[bool, bool] = (True, False)) -> list:
    """Pareto front. pareto(table_or_records, "latency", "throughput") gives the non-dominated records (least
    latency, most throughput by default; `minimize` says per axis); pareto(xs, ys) the indices of two lists."""
    if not isinstance(x, str):
        return pareto_indices(data, x, minimize)
    if y is None:
        raise InvalidInputError("pareto needs two fields: pareto(table, 'latency', 'throughput')")
    records = list(data)
    keep = pareto_indices([r.get(x) for r in records], [r.get(y) for r in records], minimize)
    return [records[i] for i in keep]
