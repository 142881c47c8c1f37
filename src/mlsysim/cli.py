"""Command line: ``mlsysim eval MODEL HARDWARE [...]`` (experimental interface, see the stability promise).

Exit codes: 0 feasible, 2 does not fit in memory, 1 bad input (one line on stderr).
"""
from __future__ import annotations

import argparse
import json
import os
import sys

from ._version import __version__

# Unit symbols pint's pretty format prints, spelled in ASCII for a terminal that cannot encode them
# (PYTHONIOENCODING=ascii, a C locale, a Windows code page).
_ASCII = str.maketrans({"\u00b5": "u", "\u03bc": "u", "\u00b2": "^2", "\u00b3": "^3", "\u00b7": "*",
                        "\u00d7": "x", "\u00b0": "deg", "\u2013": "-", "\u2014": "-", "\u2264": "<=",
                        "\u2265": ">=", "\u2248": "~", "\u2212": "-"})


def encodable(text: str, encoding: str | None) -> str:
    """`text` as the stream's encoding can carry it: unchanged if it can, else ASCII unit symbols, and any
    character still left as a backslash escape."""
    encoding = encoding or "utf-8"
    try:
        text.encode(encoding)
        return text
    except (UnicodeEncodeError, LookupError):
        pass
    try:
        return text.translate(_ASCII).encode(encoding, "backslashreplace").decode(encoding)
    except LookupError:  # an encoding Python does not know: plain ASCII is always safe
        return text.translate(_ASCII).encode("ascii", "backslashreplace").decode("ascii")


def _out(text: str = "") -> None:
    """Every line the CLI prints goes through here."""
    sys.stdout.write(encodable(text, getattr(sys.stdout, "encoding", None)) + "\n")


def _dumps(data: object) -> str:
    """JSON output is always valid JSON: a non-finite number is an error, never `Infinity`."""
    return json.dumps(data, indent=2, allow_nan=False)


class _Parser(argparse.ArgumentParser):
    """Bad arguments are bad input: one line on stderr and exit status 1 (2 means 'does not fit')."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(1, f"mlsysim: error: {message} (see 'mlsysim --help')\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="mlsysim", description="First-principles ML systems simulator.")
    p.add_argument("--version", action="version", version=f"mlsysim {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    ev = sub.add_parser("eval", help="predict one pass of MODEL on HARDWARE")
    ev.add_argument("model", help="registry name, e.g. Llama3_70B")
    ev.add_argument("hardware", help="registry name, e.g. H100")
    ev.add_argument("--batch-size", type=int, default=1)
    ev.add_argument("--precision", default="fp16")
    ev.add_argument("--efficiency", type=float, default=None,
                    help="fraction of dense peak reached (default: calibrated value of the hardware)")
    ev.add_argument("--seq-len", type=int, default=None, help="context length (default: the model's)")
    ev.add_argument("--training", action="store_true", help="one training step instead of a forward pass")
    ev.add_argument("--json", action="store_true", help="print only JSON")
    ls = sub.add_parser("list", help="list registry entries")
    ls.add_argument("registry", choices=["hardware", "models", "scenarios", "systems", "infra", "runtimes"])
    ls.add_argument("--json", action="store_true")
    sh = sub.add_parser("show", help="every field of a catalog entry with units and provenance")
    sh.add_argument("name", help="registry name or path, e.g. H100, Models.Llama3_70B, Systems.Nodes.DGX_H100")
    sc = sub.add_parser("scenario", help="evaluate a catalog scenario against its constraints")
    sc.add_argument("name")
    sc.add_argument("--json", action="store_true")
    return p


def _eval(args: argparse.Namespace) -> int:
    from .core.engine import Engine

    result = Engine.solve(args.model, args.hardware, args.batch_size, args.precision, args.efficiency,
                          is_training=args.training, seq_len=args.seq_len)
    if args.json:
        _out(result.to_json(indent=2))
    else:
        _out(result.summary())
    return 0 if result.feasible else 2


def _list(args: argparse.Namespace) -> int:
    from .registry import registries

    root = registries().roots[args.registry.capitalize()]
    rows = [{"name": s.name, "display_name": s.display_name, "kind": type(s).__name__} for s in root]
    if args.json:
        _out(_dumps(rows))
    else:
        width = max(len(r["name"]) for r in rows)
        for r in rows:
            _out(f"{r['name']:<{width}}  {r['display_name']}")
    return 0


def _show(args: argparse.Namespace) -> int:
    from .errors import UnknownEntryError
    from .registry import ROOTS, registries
    from .specs.describe import describe

    roots = registries().roots
    head = args.name.split(".")[0]
    order = [head] if head in roots else list(ROOTS)
    for root in order:
        try:
            spec = roots[root].get(args.name)
            break
        except UnknownEntryError:
            continue
    else:
        raise UnknownEntryError("the catalog", args.name, [n for r in order for n in roots[r].names()])
    rows = describe(spec)
    width = max(len(k) for k, _ in rows)
    _out(f"{type(spec).__name__} {spec.name}")
    for key, text in rows:
        _out(f"  {key:<{width}}  {text}")
    return 0


def _scenario(args: argparse.Namespace) -> int:
    from .registry import registries

    ev = registries().roots["Scenarios"].get(args.name).evaluate()
    checks = scenario_checks(ev)
    if args.json:
        rows = []
        for c in checks:
            unit = c.value.units
            rows.append({"name": c.name, "passed": c.passed, "value": c.value.magnitude,
                         "limit": c.limit.to(unit).magnitude, "unit": f"{unit:~}"})
        _out(_dumps({"scenario": ev.scenario, "passed": ev.passed, "profile": ev.profile.to_dict(),
                     "checks": rows}))
    else:
        from .core.formatting import human

        _out(f"Scenario {ev.scenario}: {'PASS' if ev.passed else 'FAIL'}")
        for c in checks:
            _out(f"  {'PASS' if c.passed else 'FAIL'} {c.name}: {human(c.value)} (limit {human(c.limit)})")
        for reason in ev.profile.reasons:
            _out(f"  note: {reason}")
    return 0 if ev.passed else 2


def scenario_checks(ev) -> list:
    """Every verdict a scenario's pass/fail rests on, in the order they are printed: the memory fit that
    `profile.feasible` summarises (in GiB, as the memory constraint is), then the scenario's constraints.
    The human output and the JSON `checks` list the same checks."""
    import attrs

    fits = [attrs.evolve(c, value=c.value.to("GiB"), limit=c.limit.to("GiB")) for c in ev.profile.memory_checks()]
    return fits + list(ev.checks)


def _detach_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail a second time."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # no real file descriptor (captured output in tests)
        pass


def _error(message: str) -> None:
    sys.stderr.write(encodable(f"mlsysim: error: {message}", getattr(sys.stderr, "encoding", None)) + "\n")


def main(argv: list[str] | None = None) -> int:
    from .errors import MlsysimError

    try:
        args = _parser().parse_args(argv)
        code = {"eval": _eval, "list": _list, "show": _show, "scenario": _scenario}[args.command](args)
        sys.stdout.flush()  # inside the guard: buffered output fails here, not at interpreter exit
        return code
    except BrokenPipeError:  # `mlsysim list models | head -1`: the reader has all it wants
        _detach_stdout()
        return 0
    except MlsysimError as exc:
        _error(str(exc))
        return 1
    except ValueError as exc:  # json.dumps(allow_nan=False) on a non-finite number
        if "JSON" not in str(exc):
            raise
        _error(f"result is not finite and cannot be written as JSON: {exc}")
        return 1
    except OSError as exc:  # stdout unwritable: a full disk, /dev/full, a closed terminal
        _detach_stdout()
        _error(f"cannot write output: {exc.strerror or exc}")
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
