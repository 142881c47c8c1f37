"""`mlsysim scenario NAME`: evaluate a catalog scenario against its constraints."""
from __future__ import annotations

import argparse

from ._io import CONSTRAINT_VIOLATED, INFEASIBLE, OK, add_json, dumps, out


def register(sub: argparse._SubParsersAction) -> None:
    sc = sub.add_parser("scenario", help="evaluate a catalog scenario against its constraints")
    sc.add_argument("name")
    add_json(sc)
    sc.set_defaults(handler=_scenario)


def scenario_checks(ev) -> list:
    """Every verdict a scenario's pass/fail rests on, in the order they are printed: the memory fit that
    `profile.feasible` summarises (in GiB, as the memory constraint is), then the scenario's constraints.
    The human output and the JSON `checks` list the same checks."""
    import attrs

    fits = [attrs.evolve(c, value=c.value.to("GiB"), limit=c.limit.to("GiB")) for c in ev.profile.memory_checks()]
    return fits + list(ev.checks)


def exit_code(ev) -> int:
    """0 every check passes; 2 the workload does not fit (infeasible); 3 it fits but a constraint fails."""
    if ev.passed:
        return OK
    return INFEASIBLE if not ev.profile.feasible else CONSTRAINT_VIOLATED


def _scenario(args: argparse.Namespace) -> int:
    from ..registry import registries

    ev = registries().roots["Scenarios"].get(args.name).evaluate()
    checks = scenario_checks(ev)
    if args.json:
        rows = []
        for c in checks:
            unit = c.value.units
            rows.append({"name": c.name, "passed": c.passed, "value": c.value.magnitude,
                         "limit": c.limit.to(unit).magnitude, "unit": f"{unit:~}"})
        out(dumps({"scenario": ev.scenario, "passed": ev.passed, "profile": ev.profile.to_dict(),
                   "checks": rows}))
    else:
        from ..formatting import human

        out(f"Scenario {ev.scenario}: {'PASS' if ev.passed else 'FAIL'}")
        for c in checks:
            out(f"  {'PASS' if c.passed else 'FAIL'} {c.name}: {human(c.value)} (limit {human(c.limit)})")
        for reason in ev.profile.reasons:
            out(f"  note: {reason}")
    return exit_code(ev)
