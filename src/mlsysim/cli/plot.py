"""`mlsysim plot roofline|serving|sweep ... -o FILE.png` (needs matplotlib: pip install 'mlsysim[plot]')."""
from __future__ import annotations

import argparse

from ._io import OK, add_json, csv_ints, dumps, out


def register(sub: argparse._SubParsersAction) -> None:
    pl = sub.add_parser("plot", help="draw a roofline, a serving curve or a sweep's Pareto front to an image (mlsysim[plot])")
    psub = pl.add_subparsers(dest="plot_command", required=True, parser_class=type(pl))
    rf = psub.add_parser("roofline", help="device rooflines per precision with prefill/decode/training points")
    rf.add_argument("model", help="registry name or a local Hugging Face config.json")
    rf.add_argument("hardware")
    rf.add_argument("--precision", default="fp16", help="the solid roofline and the precision of the points")
    rf.add_argument("--batch-size", type=int, default=1)
    rf.add_argument("--prompt-len", type=int, default=1024)
    rf.add_argument("--no-training", action="store_true", help="leave out the training-step point")
    rf.add_argument("-o", "--output", required=True, help="image file (.png, .svg, .pdf)")
    add_json(rf)
    rf.set_defaults(handler=_roofline)
    sv = psub.add_parser("serving", help="TTFT and TPOT against concurrency (ServingModel)")
    sv.add_argument("model")
    sv.add_argument("hardware")
    sv.add_argument("--concurrency", type=csv_ints, default=[1, 2, 4, 8, 16, 32, 64, 128])
    sv.add_argument("--prompt-len", type=int, default=1024)
    sv.add_argument("--output-len", type=int, default=256)
    sv.add_argument("--tp", type=int, default=1)
    sv.add_argument("--precision", default="fp16")
    sv.add_argument("--runtime", default=None)
    sv.add_argument("-o", "--output", required=True, help="image file (.png, .svg, .pdf)")
    add_json(sv)
    sv.set_defaults(handler=_serving)
    sw = psub.add_parser("sweep", help="the Pareto front of a model x hardware x batch x precision sweep")
    sw.add_argument("--models", required=True, help="comma-separated registry names")
    sw.add_argument("--hardware", required=True, help="comma-separated registry names")
    sw.add_argument("--batch-sizes", type=csv_ints, default=[1, 2, 4, 8, 16, 32, 64, 128, 256])
    sw.add_argument("--precisions", default="fp16", help="comma-separated, e.g. fp16,fp8")
    sw.add_argument("--seq-lens", type=csv_ints, default=None)
    sw.add_argument("--x", default="latency", help="field on the x axis (default latency)")
    sw.add_argument("--y", default="throughput", help="field on the y axis (default throughput)")
    sw.add_argument("--group-by", default="hardware", choices=["hardware", "model", "precision"])
    sw.add_argument("-o", "--output", required=True, help="image file (.png, .svg, .pdf)")
    add_json(sw)
    sw.set_defaults(handler=_sweep)


def _headless():
    import matplotlib

    matplotlib.use("Agg")  # files only: no display needed


def _save(fig, args: argparse.Namespace, what: str) -> int:
    fig.savefig(args.output, dpi=120)
    if args.json:
        out(dumps({"plot": what, "output": args.output}))
    else:
        out(f"wrote {args.output}")
    return OK


def _roofline(args: argparse.Namespace) -> int:
    from ..viz import _pyplot

    _pyplot()  # a clear error when matplotlib is missing
    _headless()
    from ..viz_workload import plot_workload_roofline
    from .run import model_arg

    fig, _ = plot_workload_roofline(model_arg(args.model), args.hardware, precision=args.precision,
                                    batch_size=args.batch_size, prompt_len=args.prompt_len,
                                    training=not args.no_training)
    return _save(fig, args, "roofline")


def _serving(args: argparse.Namespace) -> int:
    from ..viz import _pyplot

    _pyplot()
    _headless()
    from ..viz_workload import plot_serving
    from .run import model_arg

    fig, _ = plot_serving(model_arg(args.model), args.hardware, concurrency=args.concurrency,
                          precision=args.precision, prompt_len=args.prompt_len, output_len=args.output_len,
                          tensor_parallel=args.tp, runtime=args.runtime)
    return _save(fig, args, "serving")


def _sweep(args: argparse.Namespace) -> int:
    from ..viz import _pyplot

    _pyplot()
    _headless()
    from ..dse import sweep

    table = sweep(models=args.models.split(","), hardware=args.hardware.split(","), batch_sizes=args.batch_sizes,
                  precisions=args.precisions.split(","), seq_lens=args.seq_lens)
    fig, _ = table.plot_pareto(args.x, args.y, group_by=args.group_by)
    return _save(fig, args, "sweep")
