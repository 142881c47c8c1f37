"""`mlsysim search`: sweep a space (mlsysim.dse.sweep) and rank what meets the constraints by one objective.

    mlsysim search --models Llama3_8B --hardware H100,L40S --batch-sizes 1,8,64 --precisions fp16,fp8 \
        --maximize throughput_per_dollar --constraint "tpot<=50ms" --json

Only configurations that fit (feasible) are ranked. Exit status: 0 at least one meets every constraint,
1 bad input, 2 nothing in the space fits or runs at all (infeasible), 3 some fit but none meets the constraints
(the best feasible configuration without them is then reported as `closest`)."""
from __future__ import annotations

import argparse
import math

from ._io import BAD_INPUT, CONSTRAINT_VIOLATED, INFEASIBLE, OK, add_json, csv_ints, dumps, error, out, table

# Record fields printed in the human table (the JSON carries every field of the record).
COLUMNS = ("rank", "model", "hardware", "batch_size", "precision", "seq_len", "objective", "latency_ms",
           "throughput", "bottleneck", "mfu")
COST_FIELDS = ("usd_per_hour", "per_dollar", "tokens_per_dollar", "throughput_per_dollar")


def register(sub: argparse._SubParsersAction) -> None:
    se = sub.add_parser("search", help="best configurations of a swept space under constraints (mlsysim.dse)")
    se.add_argument("--models", required=True, help="comma-separated registry names")
    se.add_argument("--hardware", required=True,
                    help="comma-separated devices (H100) or, with --solver serving/training, Systems nodes (DGX_H100)")
    se.add_argument("--batch-sizes", type=csv_ints, default=[1, 2, 4, 8, 16, 32, 64, 128, 256],
                    help="comma-separated (default: 1..256 in powers of two)")
    se.add_argument("--precisions", default="fp16", help="comma-separated, e.g. fp16,fp8,int4")
    se.add_argument("--seq-lens", type=csv_ints, default=None,
                    help="contexts (serving: prompt lengths); default the model's")
    se.add_argument("--solver", default="engine", choices=["engine", "serving", "training"])
    se.add_argument("--output-len", type=int, default=None, help="serving: tokens generated per request")
    se.add_argument("--tp", type=int, default=None,
                    help="serving, or training on a node: tensor-parallel ranks (of the node's GPUs)")
    goal = se.add_mutually_exclusive_group(required=True)
    goal.add_argument("--maximize", metavar="FIELD", help="e.g. throughput, throughput_per_dollar, mfu")
    goal.add_argument("--minimize", metavar="FIELD", help="e.g. latency, energy, tpot, usd_per_hour")
    se.add_argument("--constraint", action="append", default=[], metavar="EXPR",
                    help="FIELD OP VALUE, repeatable: 'tpot<=50ms', 'mfu>=40%%', 'throughput>=1000'")
    se.add_argument("--top", type=int, default=5, help="how many configurations to list")
    se.add_argument("--kwh-price", type=float, default=None, help="USD per kWh added to the hourly device cost")
    se.add_argument("--pricing", default="own", choices=["own", "on_demand", "reserved"],
                    help="device cost: purchase price amortised (own) or the cheapest catalog rental quote")
    add_json(se)
    se.set_defaults(handler=_search)


def _clean(rec: dict) -> dict:
    """A record as JSON can carry it: NaN as null, reasons as a list."""
    return {k: (None if isinstance(v, float) and math.isnan(v) else (list(v) if isinstance(v, tuple) else v))
            for k, v in rec.items()}


def _options(args: argparse.Namespace) -> dict:
    """The tier options of `mlsysim search` and `mlsysim sweep`: --output-len (serving), --tp (serving; training
    on a Systems node, where DistributedModel splits the step over its GPUs)."""
    from ..errors import InvalidInputError

    opts: dict = {}
    for flag, name, value, solvers in (("--output-len", "output_len", args.output_len, ("serving",)),
                                       ("--tp", "tensor_parallel", args.tp, ("serving", "training"))):
        if value is None:
            continue
        if args.solver not in solvers:
            raise InvalidInputError(f"{flag} is a {' or '.join(solvers)} option: add --solver {solvers[0]}")
        opts[name] = value
    return opts


def _search(args: argparse.Namespace) -> int:
    from ..dse import search, sweep
    from ..dse.constraints import describe, normalise, parse_constraint
    from ..dse.grid import device_of
    from ..dse.search import cost_per_hour
    from ..errors import CatalogError, InvalidInputError

    if args.top < 1:
        raise InvalidInputError(f"--top must be a positive integer, got {args.top}")
    objective = args.maximize or args.minimize
    maximize = args.maximize is not None
    parse_constraint(f"{objective}==0" if objective not in ("feasible",) else objective)  # a known field
    constraints = normalise(list(args.constraint))
    table_ = sweep(models=args.models.split(","), hardware=args.hardware.split(","), batch_sizes=args.batch_sizes,
                   precisions=args.precisions.split(","), seq_lens=args.seq_lens, solver=args.solver,
                   **_options(args))
    unpriced = []
    for hw in table_.space.hardware:
        try:
            cost_per_hour(device_of(hw), pricing=args.pricing)
        except CatalogError:
            unpriced.append(hw.name)
    uses_cost = objective in COST_FIELDS or any(f in COST_FIELDS for f, _, _ in constraints)
    if uses_cost and len(unpriced) == len(table_.space.hardware):
        raise InvalidInputError(f"{objective if objective in COST_FIELDS else 'a constraint'} needs a device price, "
                                f"and the catalog has no {args.pricing} price for {', '.join(unpriced)}: add "
                                f"economics.unit_cost or an economics.rental row to its catalog entry, try another "
                                f"--pricing, or search another objective")
    feasible = [True if f else False for f in table_.column("feasible")]
    n_feasible = sum(feasible)
    keep = [("feasible", "==", True)] + constraints
    best = search(table_, objective, keep, maximize=maximize, top=None, kwh_price=args.kwh_price,
                  pricing=args.pricing)
    closest = None
    if not best and n_feasible:
        near = search(table_, objective, [("feasible", "==", True)], maximize=maximize, top=1,
                      kwh_price=args.kwh_price, pricing=args.pricing)
        if not near:
            raise InvalidInputError(f"no configuration that fits has a value of {objective} (solver "
                                    f"{args.solver}; cost fields need a catalog price): choose another objective")
        closest = near[0]
    code = OK if best else (CONSTRAINT_VIOLATED if n_feasible else INFEASIBLE)
    report = {"objective": objective, "maximize": maximize, "constraints": describe(constraints),
              "solver": args.solver, "searched": len(table_), "feasible": n_feasible, "satisfying": len(best),
              "unpriced_hardware": unpriced if uses_cost else [],
              "best": [_clean(r) for r in best[:args.top]], "closest": None if closest is None else _clean(closest)}
    if args.json:
        out(dumps(report))
    else:
        _human(report, table_)
    if code == INFEASIBLE:
        error(f"no configuration of the {len(table_)} searched fits or runs (exit {INFEASIBLE}); "
              f"first reason: {_first_reason(table_)}")
    elif code == CONSTRAINT_VIOLATED:
        error(f"{n_feasible} configurations fit but none meets {' and '.join(args.constraint)} "
              f"(exit {CONSTRAINT_VIOLATED})")
    return code


def _first_reason(table_) -> str:
    for i in range(len(table_)):
        r = table_.reasons(i)
        if r:
            return r[0]
    return "none given"


def _human(report: dict, table_) -> None:
    goal = "max" if report["maximize"] else "min"
    cons = " and ".join(["fits in memory"] + report["constraints"])
    out(f"search: {goal} {report['objective']} subject to {cons}")
    out(f"  {report['searched']} configurations, {report['feasible']} fit, {report['satisfying']} meet the "
        f"constraints")
    if report["unpriced_hardware"]:
        out(f"  no catalog price, so not ranked on cost: {', '.join(report['unpriced_hardware'])}")
    rows = []
    for i, r in enumerate(report["best"], 1):
        unit = r.get("throughput_unit") or ""
        rows.append({"rank": i, "model": r["model"], "hardware": r["hardware"], "batch_size": r["batch_size"],
                     "precision": r["precision"], "seq_len": r["seq_len"], "objective": f"{r['objective']:.4g}",
                     "latency_ms": f"{r['latency'] * 1e3:.4g}", "throughput": f"{r['throughput']:.4g} {unit}",
                     "bottleneck": r["bottleneck"], "mfu": f"{r['mfu']:.1%}"})
    if rows:
        table(rows, list(COLUMNS))
    elif report["closest"] is not None:
        c = report["closest"]
        out(f"  nothing meets the constraints; best that fits: {c['model']} on {c['hardware']}, batch "
            f"{c['batch_size']}, {c['precision']}: {report['objective']} {c['objective']:.4g}, latency "
            f"{c['latency'] * 1e3:.4g} ms")
