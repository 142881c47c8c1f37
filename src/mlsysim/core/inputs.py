"""Input checking shared by every solver: names or specs in, validated values out, clear errors."""
from __future__ import annotations

import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .. import registry as _registry  # the module only: the catalog loads on the first registries() call
from ..errors import CatalogError, InvalidInputError, InvalidTypeError
from ..specs.hardware import HardwareSpec
from ..specs.models import ModelSpec


def _resolve(value: Any, spec_type: type, root: str, example: str) -> Any:
    if isinstance(value, spec_type):
        return value
    if isinstance(value, str):
        return _registry.registries().roots[root].get(value)
    raise InvalidTypeError(f"{root.lower().rstrip('s')} must be a {spec_type.__name__} or a registry name such as "
                           f"{example!r}, got {type(value).__name__}")


def resolve_model(model: Any) -> ModelSpec:
    return _resolve(model, ModelSpec, "Models", "Llama3_70B")


def resolve_hardware(hardware: Any) -> HardwareSpec:
    return _resolve(hardware, HardwareSpec, "Hardware", "H100")


# Counts above 2**53 lose integer precision as floats, and no batch or context comes near it.
MAX_COUNT = 2**53


def check_positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidTypeError(f"{name} must be a positive int, got {value!r} ({type(value).__name__})")
    if not 1 <= value <= MAX_COUNT:
        raise InvalidInputError(f"{name} must be a positive int no larger than 2**53, got {value}")
    return value


def check_bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidTypeError(f"{name} must be True or False, got {value!r}")
    return value


# The lowest fraction of the dense peak accepted: no real kernel reaches less than a millionth of peak (a
# millionth of an H100's 989 TFLOP/s dense fp16 is ~1 GFLOP/s, below one scalar FP32 lane: 2 FLOP x 1.98 GHz),
# so anything below is a unit mistake (a percentage divided by 100 twice); subnormals would make results infinite.
MIN_EFFICIENCY = 1e-6
# The highest fraction: the dense datasheet peak itself.
MAX_EFFICIENCY = 1.0


def check_efficiency(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidTypeError(f"efficiency must be a float in [{MIN_EFFICIENCY:g}, {MAX_EFFICIENCY:g}] or None "
                               f"(calibrated default), got {value!r}")
    # NaN fails both comparisons; ints compare exactly (float() of a huge int would overflow).
    if not MIN_EFFICIENCY <= value <= MAX_EFFICIENCY:
        raise InvalidInputError(f"efficiency must be in (0, 1], the fraction of the dense peak reached, and at least "
                                f"{MIN_EFFICIENCY:g} (less is a unit mistake): accepted [{MIN_EFFICIENCY:g}, "
                                f"{MAX_EFFICIENCY:g}], got {value!r}")
    return float(value)


# --- output checks shared by every solver ----------------------------------------------------------------

# Float rounding slack on MFU: model FLOPs / (latency x peak) of a pass that sits exactly on the compute roof
# can exceed 1 by a few ulps of the summed phase times, never by more than this relative amount.
MFU_ROUNDING_TOLERANCE = 1e-9


@dataclass(frozen=True)
class Source:
    """Where a figure of a solve came from: field `field` of catalog entry `entry`, or the call argument
    `field` when `entry` is None."""

    field: str | None
    value: Any = None
    entry: str | None = None

    def describe(self) -> str:
        shown = f" = {self.value!r}" if self.value is not None else ""
        if self.entry is None:
            return f"argument {self.field}{shown}"
        return f"{self.field}{shown} of entry {self.entry!r}" if self.field else f"the figures of entry {self.entry!r}"


def _normal_positive(value: Any) -> bool:
    """Finite and at least the smallest normal float: zero, subnormal, inf and NaN are never a physical result."""
    return isinstance(value, (int, float)) and math.isfinite(value) and value >= sys.float_info.min


_TINY, _INF = sys.float_info.min, math.inf  # smallest normal float; overflow


def check_outputs(solver: str, *, latency: float, throughput: float, energy: float, mfu: float,
                  terms: Sequence[tuple[float, Source]] | Callable[[], Sequence[tuple[float, Source]]] = (),
                  mfu_source: Source | None | Callable[[], Source | None] = None) -> float:
    """Raise unless latency, throughput and energy are finite and positive and MFU lies in [0, 1]; return MFU.

    `terms` are the parts the latency adds up (seconds), each with the figure that set it; a bad result is
    blamed on the figure of the first part that is not finite, else on that of the largest part (it set the
    latency that overflowed the energy or underflowed the throughput). `mfu_source` is the figure that set the
    compute efficiency, blamed for an MFU above 1. A figure of a catalog entry raises CatalogError naming the
    entry and field; a call argument (entry None) raises InvalidInputError. Either may be given as a function
    returning it: it is called only to word an error (the hot path builds no blame).
    """
    # The common case, decided in a few float comparisons (NaN fails every one of them).
    if type(latency) is float and type(throughput) is float and type(energy) is float and type(mfu) is float \
            and _TINY <= latency < _INF and _TINY <= throughput < _INF and _TINY <= energy < _INF \
            and 0.0 <= mfu <= MAX_EFFICIENCY + MFU_ROUNDING_TOLERANCE:
        return mfu if mfu <= MAX_EFFICIENCY else MAX_EFFICIENCY
    if callable(terms):
        terms = terms()
    if callable(mfu_source):
        mfu_source = mfu_source()
    problems = [f"{name} {value!r}" for name, value in (("latency", latency), ("throughput", throughput),
                                                       ("energy", energy)) if not _normal_positive(value)]
    mfu_bad = not (isinstance(mfu, (int, float)) and math.isfinite(mfu)
                   and 0.0 <= mfu <= MAX_EFFICIENCY + MFU_ROUNDING_TOLERANCE)
    if not problems and not mfu_bad:
        return min(float(mfu), MAX_EFFICIENCY)  # only float rounding within the tolerance is clipped
    culprit: Source | None = None
    if problems:
        culprit = next((s for t, s in terms if not (isinstance(t, (int, float)) and math.isfinite(t))), None)
        if culprit is None and terms:
            culprit = max(terms, key=lambda ts: ts[0])[1]
    else:
        problems.append(f"MFU {mfu!r} above 1 (model FLOPs/s beyond the dense peak)")
        culprit = mfu_source
    what = f"{solver} computed an unphysical " + ", ".join(problems)
    if culprit is None or culprit.entry is None:
        cause = f" from {culprit.describe()}" if culprit is not None else ""
        raise InvalidInputError(f"{what}{cause}; results must be finite and positive with MFU <= 1: check the "
                                "arguments' magnitudes")
    raise CatalogError(f"{what}, caused by {culprit.describe()}", entry=culprit.entry, field=culprit.field,
                       expected="a real device's or model's figure (check the unit prefix, and that measured "
                                "rates do not exceed the datasheet peak)")


# --- references between specs --------------------------------------------------------------------------

def _known_paths(reg: Any, roots: tuple[str, ...], spec_type: type | tuple[type, ...]) -> list[str]:
    """Paths under `roots` whose entry is a `spec_type`, one per entry (the longest: the grouped path)."""
    best: dict[int, str] = {}
    for path in (p for root in roots for p in reg.roots[root].paths()):
        spec = reg.resolve_path(path)
        if isinstance(spec, spec_type) and len(path) > len(best.get(id(spec), "")):
            best[id(spec)] = path
    return sorted(best.values())


def resolve_reference(owner: Any, field: str, spec_type: type | tuple[type, ...], what: str,
                      roots: str | tuple[str, ...]) -> Any:
    """The spec that `owner.<field>` (a registry path) names, checked to be a `spec_type`.

    Specs from the catalog were reference-checked when it loaded; one built in Python may name anything, so
    a missing or wrong-kind target raises CatalogError naming the owner entry, the field and what is accepted.
    """
    from ..registry import registries

    reg = registries()
    path = getattr(owner, f"_{field}", None)  # a reference field stores the path as `_field`
    if path is None:
        path = getattr(owner, field)
    if isinstance(path, spec_type):  # a spec built in Python may hold the spec itself
        return path
    target = reg.resolve_path(path) if isinstance(path, str) else None
    if isinstance(target, spec_type):
        return target
    known = _known_paths(reg, (roots,) if isinstance(roots, str) else roots, spec_type)
    import difflib  # only this error's message needs it

    close = difflib.get_close_matches(path, known, n=5, cutoff=0.5) if isinstance(path, str) else []
    shown = close or known[:_MAX_LISTED]
    more = "" if close or len(known) <= _MAX_LISTED else f" and {len(known) - _MAX_LISTED} more"
    raise CatalogError(f"{path!r} does not name {what}", entry=getattr(owner, "name", None), field=field,
                       expected=f"a registry path of {what}, e.g. {', '.join(shown)}{more}")


# How many accepted paths an error message lists when none is a close match.
_MAX_LISTED = 8
