"""Constraints and objectives of a search written as text ("tpot<=50ms", "mfu>=40%", "feasible",
"precision!=int4"), read into (field, operator, bound) triples in the record's own SI units.

A record holds SI floats (table.py): latency, ttft and tpot in s, energy in J, throughput in items/s,
usd_per_hour in USD/h. A bound with a unit is converted to the field's unit by pint (so "tpot<=50ms" is
("tpot", "<=", 0.05)); a bare number is read in the field's unit already; a unit of the wrong dimension
is an error naming the unit the field takes."""
from __future__ import annotations

import math
import re
from typing import Any

from ..errors import InvalidInputError

OPERATORS = ("<=", ">=", "==", "!=", "<", ">")
_SPLIT = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(<=|>=|==|!=|<|>|=)\s*(.+?)\s*$")
_NUMBER = re.compile(r"^([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(.*)$")

# The unit each numeric field of a record is stored in (what a bound with a unit converts to). Throughput is in
# tokens/s for LLM rows and samples/s otherwise: its bound is read per second whatever the item.
FIELD_UNITS = {"latency": "s", "ttft": "s", "tpot": "s", "energy": "J", "throughput": "1/s",
               "throughput_per_gpu": "1/s", "usd_per_hour": "USD/hour"}
DIMENSIONLESS = ("mfu", "batch_size", "seq_len", "per_dollar", "tokens_per_dollar", "throughput_per_dollar",
                 "gpus", "objective")
TEXT_FIELDS = ("model", "hardware", "precision", "bottleneck", "throughput_unit", "cost_source")
BOOLEAN_FIELDS = ("feasible",)
FIELDS = tuple(FIELD_UNITS) + DIMENSIONLESS + TEXT_FIELDS + BOOLEAN_FIELDS
PERCENT = 100.0  # "mfu>=40%": a share written in percent
_ITEMS = ("token", "tokens", "tok", "sample", "samples", "request", "requests", "item", "items")


def _check_field(name: str) -> None:
    if name not in FIELDS:
        raise InvalidInputError(f"unknown field {name!r} in a constraint; fields: {', '.join(FIELDS)}")


def _to_unit(name: str, value: float, unit_text: str, text: str) -> float:
    target = FIELD_UNITS.get(name)
    if target is None:
        raise InvalidInputError(f"constraint {text!r}: {name} is a plain number, give it without a unit")
    u = unit_text
    if target == "1/s":  # "1000 token/s", "5 samples/s": the item is the record's own, the rate per second
        head, sep, tail = u.partition("/")
        if sep and head.strip() in _ITEMS:
            u = "1/" + tail.strip()
    from ..units import get_ureg

    ureg = get_ureg()
    try:
        return float(ureg.Quantity(value, u).m_as(target))
    except Exception as exc:  # noqa: BLE001 -- pint's undefined-unit and dimensionality errors alike
        raise InvalidInputError(f"constraint {text!r}: cannot read {unit_text!r} as a unit of {name} "
                                f"({target}): {type(exc).__name__}") from None


def parse_bound(name: str, raw: str, text: str) -> Any:
    """The bound of one constraint in the field's stored unit (a float, a bool or a string)."""
    if name in BOOLEAN_FIELDS:
        low = raw.strip().lower()
        if low in ("true", "1", "yes"):
            return True
        if low in ("false", "0", "no"):
            return False
        raise InvalidInputError(f"constraint {text!r}: {name} is true or false, got {raw!r}")
    if name in TEXT_FIELDS:
        return raw.strip().strip("'\"")
    m = _NUMBER.match(raw.strip())
    if not m:
        raise InvalidInputError(f"constraint {text!r}: expected a number (with a unit where the field has one), "
                                f"got {raw!r}")
    value, unit_text = float(m.group(1)), m.group(2).strip()
    if not math.isfinite(value):
        raise InvalidInputError(f"constraint {text!r}: the bound must be finite")
    if unit_text == "%":
        return value / PERCENT
    if unit_text:
        return _to_unit(name, value, unit_text, text)
    return value


def parse_constraint(text: str) -> tuple[str, str, Any]:
    """"tpot<=50ms" -> ("tpot", "<=", 0.05); "feasible" -> ("feasible", "==", True); "=" reads as "=="."""
    if not isinstance(text, str):
        raise InvalidInputError(f"a constraint is text such as 'tpot<=50ms', got {text!r}")
    bare = text.strip()
    if bare in BOOLEAN_FIELDS:
        return bare, "==", True
    m = _SPLIT.match(text)
    if not m:
        raise InvalidInputError(f"cannot read constraint {text!r}: write FIELD OP VALUE, e.g. 'tpot<=50ms', "
                                f"'mfu>=0.4', 'feasible', with OP one of {', '.join(OPERATORS)}")
    name, op, raw = m.group(1), m.group(2), m.group(3)
    op = "==" if op == "=" else op
    _check_field(name)
    bound = parse_bound(name, raw, text)
    if isinstance(bound, (bool, str)) and op not in ("==", "!="):
        raise InvalidInputError(f"constraint {text!r}: {name} compares with == or != only")
    return name, op, bound


def normalise(constraints: Any) -> Any:
    """Constraints as search() takes them: None, a function of a record, a {field: value | (op, bound)} dict,
    or a list of 'text' / (field, op, bound) items (several bounds on one field allowed). Returns None, the
    function, or a list of (field, op, bound) triples."""
    if constraints is None or callable(constraints):
        return constraints
    if isinstance(constraints, str):
        constraints = [constraints]
    if isinstance(constraints, dict):
        out = []
        for field, rule in constraints.items():
            op, bound = rule if isinstance(rule, tuple) else ("==", rule)
            out.append((field, op, bound))
        return _checked(out)
    if isinstance(constraints, (list, tuple)):
        out = []
        for c in constraints:
            if isinstance(c, str):
                out.append(parse_constraint(c))
            elif isinstance(c, tuple) and len(c) == 3:
                out.append(c)
            else:
                raise InvalidInputError(f"a constraint is 'FIELD OP VALUE' text or a (field, op, bound) triple, "
                                        f"got {c!r}")
        return _checked(out)
    raise InvalidInputError(f"constraints must be a dict, a list, text or a function of a record, got "
                            f"{type(constraints).__name__}")


def _checked(triples: list) -> list:
    for field, op, _ in triples:
        if op not in OPERATORS:
            raise InvalidInputError(f"constraint on {field!r}: operator must be one of {', '.join(OPERATORS)}, "
                                    f"got {op!r}")
    return triples


def describe(triples: Any) -> list[str]:
    """Each (field, op, bound) as text in SI units, for reports."""
    if triples is None or callable(triples):
        return [] if triples is None else ["<function>"]
    unit = FIELD_UNITS
    return [f"{f} {op} {b!r}" if isinstance(b, (bool, str)) else f"{f} {op} {b:g}{' ' + unit[f] if f in unit else ''}"
            for f, op, b in triples]
