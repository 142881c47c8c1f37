"""Command line: ``mlsysim <command> ...`` (experimental interface, see the stability promise).

One module per command group (run: eval/serve/train; catalog_cmds: list/show/zoo/schema/catalog/validate;
scenario; plot; sweep; search). Building the parser imports none of the solvers, so ``mlsysim --help`` stays fast.
Every command takes ``--json`` and then prints only JSON on stdout.
"""
from __future__ import annotations

import sys

from .._version import __version__
from ._io import (BAD_INPUT, CONSTRAINT_VIOLATED, INFEASIBLE, OK, Parser, detach_stdout, encodable, error,
                  out)
from .scenario import scenario_checks

EPILOG = (f"exit status: {OK} ok, {BAD_INPUT} bad input, {INFEASIBLE} infeasible (does not fit), "
          f"{CONSTRAINT_VIOLATED} a scenario constraint violated")


def _parser() -> Parser:
    from . import catalog_cmds, plot, run, scenario, search, sweep

    p = Parser(prog="mlsysim", description="First-principles ML systems simulator.", epilog=EPILOG)
    p.add_argument("--version", action="version", version=f"mlsysim {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)
    run.register(sub)
    catalog_cmds.register(sub)
    scenario.register(sub)
    plot.register(sub)
    sweep.register(sub)
    search.register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    from ..errors import MlsysimError

    try:
        args = _parser().parse_args(argv)
        code = args.handler(args)
        sys.stdout.flush()  # inside the guard: buffered output fails here, not at interpreter exit
        return code
    except BrokenPipeError:  # `mlsysim list models | head -1`: the reader has all it wants
        detach_stdout()
        return OK
    except MlsysimError as exc:
        error(str(exc))
        return BAD_INPUT
    except ValueError as exc:  # json.dumps(allow_nan=False) on a non-finite number
        if "JSON" not in str(exc):
            raise
        error(f"result is not finite and cannot be written as JSON: {exc}")
        return BAD_INPUT
    except OSError as exc:  # stdout unwritable: a full disk, /dev/full, a closed terminal
        detach_stdout()
        error(f"cannot write output: {exc.strerror or exc}")
        return BAD_INPUT


__all__ = ["main", "encodable", "scenario_checks", "out"]

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
