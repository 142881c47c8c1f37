"""The one pint registry of mlsysim, created on first use (import time is a budget: pint costs ~0.2 s).

Canonical units of every number inside specs and the solver hot path (plain floats):
FLOP "flop", bytes "B", seconds "s", watts "W", joules "J", FLOP/s "flop/s", bytes/s "B/s".
"""
from __future__ import annotations

import math
import threading
from bisect import bisect_right as _bisect_right
from functools import lru_cache
from typing import Any

from .formatting import _BYTE_STEPS, _TIME_STEPS, human

# The steps' factors, increasing (formatting's tables are ordered by size), for human_float's bisection.
_TIME_LIMITS = tuple(factor for _, factor in _TIME_STEPS)
_BYTE_LIMITS = tuple(factor for _, factor in _BYTE_STEPS)
assert list(_TIME_LIMITS) == sorted(_TIME_LIMITS) and list(_BYTE_LIMITS) == sorted(_BYTE_LIMITS)

# Extra definitions on top of pint's defaults. FLOP and OP share one dimension: an int8 "operation" and a
# floating-point operation both count one multiply or one add (vendors print TOPS and TFLOPS the same way).
_DEFINITIONS = (
    "flop = [computation] = FLOP = flops",
    "op = flop = OP = ops",
    # Throughput counts: dimensionless, so tokens/s converts to 1/s, but kept as a readable label.
    "token = [] = tokens",
    "sample = [] = samples",
    # Names mlsysim 0.1.x code uses. Parameters are counts (Models.X.parameters.to("count")); K/M/B/T are the
    # thousand/million/billion/trillion of model cards ("7B"), not SI prefixes, so each is spelled out.
    "param = count = params",
    "Kparam = 1e3 * param",
    "Mparam = 1e6 * param",
    "Bparam = 1e9 * param",
    "Tparam = 1e12 * param",
    # 0.1.x spelled a kilobyte "KB" (1000 bytes; K is no SI prefix, so pint has no KB of its own).
    "KB = 1e3 * B",
    "KFLOP = 1e3 * flop = KFLOPs",
    # Money has its own dimension: a price never converts silently into a count, nor one currency into another
    # (an exchange rate is data with a date, not a unit definition).
    "USD = [currency_usd] = dollar = dollars",
    "EUR = [currency_eur] = euro = euros",
)


_lock = threading.Lock()
_ureg = None


def get_ureg():
    """Return the single mlsysim UnitRegistry (``mlsysim.ureg``), created once per process.

    Thread-safe: the first call from any number of threads builds one registry (quantities of different
    threads combine). No pint ``cache_folder``: pint's disk cache is pickle, and a pickle planted in a shared
    cache directory would run code on the next unit use. It costs ~0.15 s on the first unit use of a process.
    """
    global _ureg
    if _ureg is not None:
        return _ureg
    with _lock:
        if _ureg is None:
            import pint

            ureg = pint.UnitRegistry(cache_folder=None)
            for line in _DEFINITIONS:
                ureg.define(line)
            ureg.formatter.default_format = "~P"
            # Pickles of our quantities (results sent to worker processes) rebuild in this registry, not in
            # pint's application registry, which mlsysim leaves to the user's own code.
            ureg.Quantity.__reduce__ = _reduce_quantity
            ureg.Unit.__reduce__ = _reduce_unit
            _install_fast_conversion(ureg.Quantity)
            _ureg = ureg
    return _ureg


def _reduce_quantity(q):
    return _rebuild_quantity, (q.magnitude, str(q.units))


def _reduce_unit(u):
    return unit, (str(u),)


def _rebuild_quantity(magnitude, unit_name: str):
    return get_ureg().Quantity(magnitude, unit_name)


@lru_cache(maxsize=64)
def unit(name: str):
    """A parsed pint Unit of the mlsysim registry (cached: parsing costs microseconds per call)."""
    return get_ureg().Unit(name)


@lru_cache(maxsize=64)
def _units_container(name: str):
    return unit(name)._units


@lru_cache(maxsize=1)
def _fast_path_works() -> bool:
    """pint's public constructor costs ~4 us; building the object from its two slots costs ~0.3 us. Use the
    shortcut only if it yields exactly what the public constructor yields on this pint version."""
    Q = get_ureg().Quantity
    probe = object.__new__(Q)
    try:
        probe._magnitude, probe._units = 2.5, _units_container("J")
        return probe == Q(2.5, "J") and (_ORIG_TO or Q.to)(probe, "mJ").magnitude == 2500.0 and str(probe) == str(Q(2.5, "J"))
    except Exception:  # an internal layout we do not know: keep the public constructor
        return False


def quantity(value: float, unit_name: str):
    """Wrap a plain float in canonical units as a pint Quantity (the boundary of the hot path)."""
    Q = get_ureg().Quantity
    if _fast_path_works():
        q = object.__new__(Q)
        q._magnitude, q._units = value, _units_container(unit_name)
        return q
    return Q(value, unit(unit_name))


# --- conversion of our quantities by unit name, without parsing (pint parses the string on every .to()) -----
# Only this registry's Quantity class gets it; pint's own classes and other registries are untouched.
_factors: dict[tuple[Any, str], float | None] = {}
_FACTOR_CACHE_SIZE = 4096  # (unit, target) pairs kept; a program converts between a handful


def _factor(units: Any, target: str) -> float | None:
    """The multiplicative factor pint applies from `units` to the unit named `target` (value x factor is exactly
    pint's own result: pint's conversion multiplies by src_root / dst_root), or None where pint must convert
    (an offset unit such as degC, an unknown name, a dimension mismatch: pint then raises its own error)."""
    key = (units, target)
    try:
        return _factors[key]
    except KeyError:
        pass
    Q = get_ureg().Quantity
    try:
        one = _ORIG_TO(Q(1.0, units), target).magnitude
        zero = _ORIG_TO(Q(0.0, units), target).magnitude
        two = _ORIG_TO(Q(2.0, units), target).magnitude
        factor = float(one) if zero == 0.0 and two == 2.0 * one and type(one) is float else None
    except Exception:
        factor = None
    if len(_factors) >= _FACTOR_CACHE_SIZE:
        _factors.clear()
    _factors[key] = factor
    return factor


_ORIG_TO: Any = None
_ORIG_M_AS: Any = None


def _install_fast_conversion(Q: Any) -> None:
    global _ORIG_TO, _ORIG_M_AS
    _ORIG_TO, _ORIG_M_AS = Q.to, Q.m_as

    def to(self, other=None, *contexts, **ctx_kwargs):
        if type(other) is str and not contexts and not ctx_kwargs and type(self._magnitude) is float \
                and _fast_path_works():
            factor = _factor(self._units, other)
            if factor is not None:
                q = object.__new__(type(self))
                q._magnitude, q._units = self._magnitude * factor, _units_container(other)
                return q
        return _ORIG_TO(self, other, *contexts, **ctx_kwargs)

    def m_as(self, units):
        if type(units) is str and type(self._magnitude) is float:
            factor = _factor(self._units, units)
            if factor is not None:
                return self._magnitude * factor
        return _ORIG_M_AS(self, units)

    to.__doc__, m_as.__doc__ = Q.to.__doc__, Q.m_as.__doc__
    Q.to, Q.m_as = to, m_as


# --- human text of a float in a unit, without building a Quantity where it can be helped --------------------
# pint's to_compact costs ~100 us a call; its choice depends only on the unit and the power of 1000 of the
# value, so it is made once per (unit, power) with pint itself and replayed as a factor and a symbol.
_compact: dict[tuple[str, int], tuple[float, str] | None] = {}


def human_float(value: float, unit_name: str, digits: int = 4) -> str:
    """mlsysim.formatting.human(quantity(value, unit_name)), the same text, from the float: seconds and bytes
    pick their unit by magnitude as human() does; other units replay pint's to_compact choice (cached)."""
    if type(value) is not float or not math.isfinite(value) or value == 0.0:
        return human(quantity(value, unit_name), digits)
    if unit_name == "s" or unit_name == "B":  # human() converts to "s" / "B" first: a factor of exactly 1
        steps, limits = (_TIME_STEPS, _TIME_LIMITS) if unit_name == "s" else (_BYTE_STEPS, _BYTE_LIMITS)
        # formatting._pick's choice (the largest step with |value| >= its factor; the steps increase) by bisection
        name, factor = steps[max(_bisect_right(limits, abs(value)) - 1, 0)]
        return "%.*g %s" % (digits, value / factor, name)  # for a float, printf's %g is format()'s g
    # pint's own power (to_compact: from the first numerator's exponent, 1 here, or the lone unit's, -1 for "1/u")
    if unit_name[:2] == "1/":
        key = (unit_name, math.ceil(math.log10(abs(value)) / -1.0 / 3) * 3)
    else:
        key = (unit_name, math.floor(math.log10(abs(value)) / 3) * 3)
    try:
        hit = _compact[key]
    except KeyError:
        hit = _compact[key] = _compact_choice(value, unit_name)
    if hit is None:
        return human(quantity(value, unit_name), digits)
    factor, symbol = hit
    return "%.*g %s" % (digits, value * factor, symbol)


def _compact_choice(value: float, unit_name: str) -> tuple[float, str] | None:
    """(factor, symbol) of pint's to_compact for `value` in `unit_name`, checked to reproduce pint's own
    magnitude; None where the replay would not (human() is then called each time)."""
    q = quantity(value, unit_name)
    units = q.units
    powers = tuple(units._units.values())
    if unit_name[:2] == "1/":  # keyed by the power of exponent -1: a reciprocal of one unit only
        if powers != (-1,):
            return None
    elif not powers or len(powers) > 2 or any(abs(p) != 1 for p in powers) or powers[0] != 1:
        return None  # to_compact's power depends on the first numerator's exponent: replay only exponent 1
    compact = q.to_compact()
    factor = _factor(units._units, str(compact.units))
    if factor is None or value * factor != compact.magnitude:
        return None
    return factor, f"{compact.units:~P}"
