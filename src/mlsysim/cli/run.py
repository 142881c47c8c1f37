"""`mlsysim eval`, `serve`, `train`: one prediction each (engine, ServingModel, DistributedModel)."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ._io import INFEASIBLE, OK, add_json, csv_ints, dumps, out


def model_arg(text: str) -> Any:
    """A registry name, or a local Hugging Face config.json (a .json file or a directory holding one)."""
    path = Path(text).expanduser()
    if text.endswith(".json") or path.is_dir() and (path / "config.json").is_file():
        from ..hf_config import from_hf_config

        return from_hf_config(path)
    return text


def register(sub: argparse._SubParsersAction) -> None:
    ev = sub.add_parser("eval", help="predict one pass of MODEL on HARDWARE (roofline engine)")
    ev.add_argument("model", help="registry name (Llama3_70B) or a local Hugging Face config.json")
    ev.add_argument("hardware", help="registry name, e.g. H100")
    ev.add_argument("--batch-size", type=int, default=1)
    ev.add_argument("--precision", default="fp16")
    ev.add_argument("--efficiency", type=float, default=None,
                    help="fraction of dense peak reached (default: calibrated value of the hardware)")
    ev.add_argument("--seq-len", type=int, default=None, help="context length (default: the model's)")
    ev.add_argument("--seq-lens", type=csv_ints, default=None,
                    help="a ragged batch: one length per sequence, comma-separated (e.g. 128,512,2048)")
    ev.add_argument("--runtime", default=None, help="software stack, a Runtimes entry (mlsysim zoo runtimes)")
    ev.add_argument("--training", action="store_true", help="one training step instead of a forward pass")
    add_json(ev)
    ev.set_defaults(handler=_eval)

    sv = sub.add_parser("serve", help="LLM serving: TTFT, TPOT, throughput (ServingModel)")
    sv.add_argument("model", help="registry name or a local Hugging Face config.json")
    sv.add_argument("hardware", help="a device (H100) or a node (DGX_H100) for tensor/expert parallelism")
    sv.add_argument("--tp", type=int, default=1, help="tensor-parallel ranks")
    sv.add_argument("--ep", type=int, default=1, help="expert-parallel ranks")
    sv.add_argument("--dp", type=int, default=1, help="data-parallel replicas")
    sv.add_argument("--pp", type=int, default=1, help="pipeline stages")
    sv.add_argument("--concurrency", type=int, default=1, help="requests in flight per data-parallel rank")
    sv.add_argument("--prompt-len", type=int, required=True)
    sv.add_argument("--output-len", type=int, default=256)
    sv.add_argument("--precision", default="fp16")
    sv.add_argument("--runtime", default=None, help="serving runtime, a Runtimes entry (vLLM, SGLang, ...)")
    sv.add_argument("--batching", default="continuous", choices=["continuous", "static"])
    sv.add_argument("--memory-fraction", type=float, default=None,
                    help="share of each GPU the runtime may allocate (vLLM --gpu-memory-utilization, SGLang "
                         "--mem-fraction-static); default the runtime's catalog reserve")
    sv.add_argument("--max-num-seqs", type=int, default=None,
                    help="cap on running requests (vLLM --max-num-seqs, SGLang --max-running-requests); default "
                         "the runtime's")
    add_json(sv)
    sv.set_defaults(handler=_serve)

    tr = sub.add_parser("train", help="one 3D-parallel training step on a node or cluster (DistributedModel)")
    tr.add_argument("model", help="registry name or a local Hugging Face config.json")
    tr.add_argument("system", help="a node or cluster: DGX_H100, Systems.Clusters.Research_256")
    tr.add_argument("--batch-size", type=int, required=True, help="global batch (sequences)")
    tr.add_argument("--tp", type=int, default=1)
    tr.add_argument("--pp", type=int, default=1)
    tr.add_argument("--dp", type=int, default=None,
                    help="data-parallel ranks; checked against devices / (tp x pp), which sets it")
    tr.add_argument("--zero", type=int, default=0, choices=[0, 1, 2, 3], help="ZeRO stage")
    tr.add_argument("--microbatch-size", type=int, default=1)
    tr.add_argument("--seq-len", type=int, default=None)
    tr.add_argument("--precision", default="bf16")
    tr.add_argument("--recompute", default="none", choices=["none", "selective", "full"],
                    help="activation recomputation")
    add_json(tr)
    tr.set_defaults(handler=_train)


def _eval(args: argparse.Namespace) -> int:
    from ..core.engine import Engine

    result = Engine.solve(model_arg(args.model), args.hardware, args.batch_size, args.precision, args.efficiency,
                          is_training=args.training, seq_len=args.seq_len, runtime=args.runtime,
                          seq_lens=args.seq_lens)
    out(result.to_json(indent=2) if args.json else result.summary())
    return OK if result.feasible else INFEASIBLE


def _serving_rows(r) -> list[tuple[str, str]]:
    from ..formatting import human

    return [("TTFT", human(r.ttft.to("ms"))), ("TPOT", human(r.tpot.to("ms"))),
            ("throughput", f"{r.throughput.m_as('1/s'):.6g} token/s"), ("latency", human(r.latency.to("s"))),
            ("bottleneck", r.bottleneck), ("feasible", str(r.feasible)),
            ("GPUs", str(r.gpus)), ("max concurrent sequences", str(r.max_concurrent_sequences))]


def _serve(args: argparse.Namespace) -> int:
    from ..core.serving import ServingModel

    r = ServingModel().solve(model_arg(args.model), _device_or_system(args.hardware), args.concurrency,
                             args.precision, prompt_len=args.prompt_len, output_len=args.output_len,
                             tensor_parallel=args.tp, expert_parallel=args.ep, data_parallel=args.dp,
                             pipeline_parallel=args.pp, runtime=args.runtime, batching=args.batching,
                             memory_fraction=args.memory_fraction, max_num_seqs=args.max_num_seqs)
    if args.json:
        out(r.to_json(indent=2))
    else:
        out(f"Serving {args.model} on {args.hardware} (tp {args.tp}, ep {args.ep}, dp {args.dp}, pp {args.pp}, "
            f"{args.concurrency} in flight)")
        for key, text in _serving_rows(r):
            out(f"  {key:<26}{text}")
        for reason in r.reasons:
            out(f"  note: {reason}")
    return OK if r.feasible else INFEASIBLE


def _device_or_system(name: str) -> Any:
    """A hardware name stays a name (the engine resolves it); a node/cluster name becomes its spec."""
    from ..errors import UnknownEntryError
    from ..registry import registries

    roots = registries().roots
    try:
        return roots["Hardware"].get(name)
    except UnknownEntryError:
        return roots["Systems"].get(name)


def _train(args: argparse.Namespace) -> int:
    from ..core.distributed import DistributedModel
    from ..errors import InvalidInputError
    from ..formatting import human
    from ..registry import registries

    system = registries().roots["Systems"].get(args.system)
    r = DistributedModel().solve(model_arg(args.model), system, args.batch_size, args.precision,
                                 seq_len=args.seq_len, tensor_parallel=args.tp, pipeline_parallel=args.pp,
                                 microbatch_size=args.microbatch_size, zero_stage=args.zero,
                                 activation_recomputation=args.recompute)
    if args.dp is not None and args.dp != r.data_parallel:
        raise InvalidInputError(f"--dp {args.dp} does not match the {r.devices} devices of {args.system} at tp "
                                f"{args.tp} x pp {args.pp} (data parallel = {r.data_parallel})")
    if args.json:
        out(r.to_json(indent=2))
    else:
        out(f"Training step of {args.model} on {args.system}: {r.devices} devices (tp {r.tensor_parallel}, "
            f"pp {r.pipeline_parallel}, dp {r.data_parallel}, ZeRO-{args.zero})")
        for key, text in (("step time", human(r.latency.to("s"))),
                          ("throughput", f"{r.throughput.m_as('1/s'):.6g} token/s"),
                          ("MFU", f"{r.mfu:.1%}"), ("bottleneck", r.bottleneck), ("feasible", str(r.feasible))):
            out(f"  {key:<12}{text}")
        for reason in r.reasons:
            out(f"  note: {reason}")
    return OK if r.feasible else INFEASIBLE


__all__ = ["register", "model_arg", "dumps"]
