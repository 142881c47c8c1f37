"""`mlsysim sweep`: a thin call into mlsysim.dse.sweep (built on its own branch; an error here until it ships)."""
from __future__ import annotations

import argparse
import importlib.util

from ._io import OK, add_json, csv_ints, out


def register(sub: argparse._SubParsersAction) -> None:
    sw = sub.add_parser("sweep", help="every model x hardware x batch x precision point (mlsysim.dse)")
    sw.add_argument("--models", required=True, help="comma-separated registry names")
    sw.add_argument("--hardware", required=True,
                    help="comma-separated devices (H100) or, with --solver serving/training, Systems nodes (DGX_H100)")
    sw.add_argument("--batch-sizes", type=csv_ints, default=[1])
    sw.add_argument("--precisions", default="fp16", help="comma-separated, e.g. fp16,fp8")
    sw.add_argument("--seq-lens", type=csv_ints, default=None,
                    help="contexts (serving: prompt lengths); default the model's")
    sw.add_argument("--solver", default="engine", choices=["engine", "serving", "training"])
    sw.add_argument("--output-len", type=int, default=None, help="serving: tokens generated per request")
    sw.add_argument("--tp", type=int, default=None,
                    help="serving, or training on a node: tensor-parallel ranks (of the node's GPUs)")
    sw.add_argument("-o", "--output", default=None, help="write the table here (.csv or .json)")
    add_json(sw)
    sw.set_defaults(handler=_sweep)


def _sweep(args: argparse.Namespace) -> int:
    from ..errors import InvalidInputError

    if importlib.util.find_spec("mlsysim.dse") is None:
        raise InvalidInputError("mlsysim sweep needs mlsysim.dse, which this installation does not have yet")
    from ..dse import sweep
    from .search import _options

    table = sweep(models=args.models.split(","), hardware=args.hardware.split(","),
                  batch_sizes=args.batch_sizes, precisions=args.precisions.split(","), seq_lens=args.seq_lens,
                  solver=args.solver, **_options(args))
    as_json = args.json or (args.output or "").endswith(".json")
    text = table.to_json() if as_json else table.to_csv()  # the table's own writers, as strings
    if args.output:
        with open(args.output, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
    if not args.output or args.json:
        out(text.rstrip("\n"))
    return OK
