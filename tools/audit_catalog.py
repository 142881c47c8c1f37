"""Audit the catalog for slips a schema cannot see (issue 13); exit 1 with one line per finding.

    python tools/audit_catalog.py [--catalog DIR ...] [--allow FILE]

Reads the catalog through mlsysim's own loader (so it audits what users get: the shipped catalog, plus each
--catalog directory as MLSYSIM_CATALOG_PATH would add it). Each finding names file, entry, field and the fix.
Accepted exceptions live in tools/audit_allow.toml, one per (rule, entry, field), each with its reason.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import math
import statistics
import sys
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_ALLOW = HERE / "audit_allow.toml"

# Usual peak ratios between precisions of one tensor unit: halving the operand width doubles the rate
# (NVIDIA Ampere/Hopper/Blackwell architecture whitepapers: INT8 = 2x FP16 on Ampere, FP8 = 2x BF16 on
# Hopper/Blackwell, FP4 = 2x FP8 on Blackwell); 1x where a unit runs both at one rate (INT8 = FP8 on
# Hopper, FP16 = BF16). (low precision, high precision, accepted ratios low/high).
PRECISION_RATIOS = (("bf16", "fp16", (1.0,)), ("fp8", "bf16", (2.0,)), ("int8", "fp16", (1.0, 2.0)),
                    ("fp4", "fp8", (1.0, 2.0)), ("int4", "int8", (1.0, 2.0)))
RATIO_TOLERANCE = 0.03  # vendors round printed peaks (1978.9 vs 2 x 989.4): 3 % covers rounding, not a slip
# A unit-prefix slip is a factor 1000; siblings of one class legitimately span ~30x (an L4 to a B200).
PREFIX_FACTOR = 300.0
PARAM_TOLERANCE = 0.005  # issue 13: a derived count more than 0.5 % from the published one


def _flops(text: str) -> float:
    from mlsysim.catalog.quantities import parse_quantity

    return parse_quantity(text.replace("TOP/s", "TFLOP/s").replace("POP/s", "PFLOP/s").replace("GOP/s", "GFLOP/s")
                          .replace("TOPS", "TFLOP/s"), "FLOP/s")


def _qty(text: str, unit: str) -> float:
    from mlsysim.catalog.quantities import parse_quantity

    return parse_quantity(text, unit)


def _notes(raw: dict) -> str:
    """Every provenance note of an entry, lower-cased (where an explanation of an unusual figure stands)."""
    out = []

    def walk(node):
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "notes" and isinstance(v, str):
                    out.append(v)
                else:
                    walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    walk(raw)
    return " ".join(out).lower()


def _checked_dates(node, path=""):
    if isinstance(node, dict):
        for k, v in node.items():
            sub = f"{path}.{k}" if path else k
            if k == "checked":
                yield sub, v
            else:
                yield from _checked_dates(v, sub)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _checked_dates(v, f"{path}[{i}]")


class Finding:
    __slots__ = ("rule", "file", "entry", "field", "message", "fix")

    def __init__(self, rule, file, entry, field, message, fix):
        self.rule, self.file, self.entry, self.field, self.message, self.fix = rule, file, entry, field, message, fix

    def line(self) -> str:
        return f"{self.file}: {self.entry}: {self.field}: [{self.rule}] {self.message}; fix: {self.fix}"


def load_entries(extra_dirs: list[Path] | None):
    """[(array, file label, raw dict, spec)] of every entry, via the package loader (validates all)."""
    from mlsysim.catalog.files import all_catalog_files
    from mlsysim.catalog.loader import load_catalog
    from mlsysim.catalog.locations import ENTRY_ARRAYS

    catalog = load_catalog(extra_dirs if extra_dirs is not None else [], use_cache=False)
    raws = {}
    for f in all_catalog_files(extra_dirs if extra_dirs is not None else []):
        data = tomllib.loads(f.data.decode("utf-8"))
        for array in ENTRY_ARRAYS[f.kind]:
            for raw in data.get(array, ()):
                raws[(f.label, array, raw["name"])] = raw
    return [(e.array, e.file, raws[(e.file, e.array, e.name)], e.spec) for e in catalog.entries]


def audit(entries, today: _dt.date | None = None) -> list[Finding]:
    today = today or _dt.date.today()
    found: list[Finding] = []
    add = lambda *a: found.append(Finding(*a))  # noqa: E731
    names: dict[tuple[str, str], str] = {}
    for array, file, raw, spec in entries:
        name = raw["name"]
        # provenance: every entry says where its figures come from
        if "provenance" not in raw:
            add("provenance", file, name, "provenance", "entry has no provenance",
                "add provenance = { source = ..., checked = YYYY-MM-DD, kind = datasheet|measured|estimate }")
        # checked dates in the future
        for path, value in _checked_dates(raw):
            try:
                day = value if isinstance(value, _dt.date) else _dt.date.fromisoformat(str(value))
            except ValueError:
                add("checked-date", file, name, path, f"checked {value!r} is not a date", "write YYYY-MM-DD")
                continue
            if day > today:
                add("checked-date", file, name, path, f"checked {day} is after today ({today})",
                    "set the date the source was actually read")
        # duplicated display names within one registry
        display = raw.get("display_name")
        if display:
            key = (array, display.casefold())
            if key in names:
                add("display-name", file, name, "display_name", f"{display!r} is also {names[key]}'s display name",
                    "make display names unique (add the variant: memory, form factor)")
            else:
                names[key] = name
        if array == "hardware":
            _hardware(raw, file, name, add)
        if array == "models":
            _model(raw, spec, file, name, add)
    _prefix_slips([e for e in entries if e[0] == "hardware"], add)
    return found


def _hardware(raw, file, name, add):
    dense = {k: _flops(v) for k, v in raw.get("peak_dense", {}).items() if isinstance(v, str)}
    sparse = {k: _flops(v) for k, v in raw.get("peak_sparse", {}).items() if isinstance(v, str)}
    for p, s in sparse.items():
        if p in dense and dense[p] > s * (1 + 1e-9):
            add("dense-above-sparse", file, name, f"peak_dense.{p}", f"dense {dense[p]:.4g} FLOP/s above sparse "
                f"{s:.4g}", "dense is the no-sparsity figure (usually half the 'with sparsity' one): swap or fix")
    notes = _notes(raw)
    for low, high, ratios in PRECISION_RATIOS:
        if low in dense and high in dense and dense[high] > 0:
            r = dense[low] / dense[high]
            if not any(abs(r - want) <= RATIO_TOLERANCE * want for want in ratios) and low not in notes:
                add("precision-ratio", file, name, f"peak_dense.{low}", f"{low}/{high} = {r:.3g}, usual "
                    f"{' or '.join(f'{w:g}' for w in ratios)}", f"check the figure, or explain the ratio in a "
                    f"provenance note that names {low}")
    power = raw.get("power", {})
    if "tdp" in power and "idle" in power:
        tdp, idle = _qty(power["tdp"], "W"), _qty(power["idle"], "W")
        if tdp < idle:
            add("tdp-below-idle", file, name, "power.tdp", f"TDP {tdp:g} W below idle {idle:g} W",
                "check both figures' units")


def _model(raw, spec, file, name, add):
    for field, derived in (("published_parameters", "parameter_count"),
                           ("published_active_parameters", "active_parameter_count")):
        published = raw.get(field)
        if published is None:
            continue
        value = float(getattr(spec, derived))
        if abs(value - published) > PARAM_TOLERANCE * published:
            add("parameter-count", file, name, field, f"geometry gives {value:.6g}, published {published:.6g} "
                f"({100 * (value / published - 1):+.2f} %)", "check the geometry against the official config")


def _prefix_slips(hardware, add):
    """Bandwidth and capacity against the median of entries of one calibration class (category if none)."""
    groups: dict[str, list] = {}
    for _, file, raw, _ in hardware:
        groups.setdefault(raw.get("calibration_class") or raw.get("category", "?"), []).append((file, raw))
    for group, members in groups.items():
        for field, unit in (("bandwidth", "B/s"), ("capacity", "B")):
            vals = [(f, r, _qty(r["memory"][field], unit)) for f, r in members
                    if isinstance(r.get("memory", {}).get(field), str)]
            if len(vals) < 3:
                continue
            median = statistics.median(v for _, _, v in vals)
            for f, r, v in vals:
                if v > 0 and abs(math.log10(v / median)) > math.log10(PREFIX_FACTOR):
                    add("unit-prefix", f, r["name"], f"memory.{field}", f"{r['memory'][field]} is "
                        f"{v / median:.3g}x the median of class {group!r}", "check the unit prefix (k/M/G/T)")


def load_allow(path: Path) -> list[dict]:
    if not path.exists():
        return []
    allow = tomllib.loads(path.read_text()).get("allow", [])
    for a in allow:
        if not str(a.get("reason", "")).strip() or not a.get("rule") or not a.get("entry") or not a.get("field"):
            raise SystemExit(f"{path}: every [[allow]] needs rule, entry, field and a reason: {a}")
    return allow


def apply_allow(found: list[Finding], allow: list[dict]) -> tuple[list[Finding], list[dict]]:
    """Findings not allowed, and allow entries that matched nothing (stale: to be removed)."""
    used, left = set(), []
    for f in found:
        hit = [i for i, a in enumerate(allow) if (a["rule"], a["entry"], a["field"]) == (f.rule, f.entry, f.field)]
        if hit:
            used.update(hit)
        else:
            left.append(f)
    return left, [a for i, a in enumerate(allow) if i not in used]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--catalog", action="append", type=Path, default=None, help="a user catalog directory")
    ap.add_argument("--allow", type=Path, default=DEFAULT_ALLOW, help="allow-list TOML (default %(default)s)")
    args = ap.parse_args(argv)
    found = audit(load_entries(args.catalog))
    left, stale = apply_allow(found, load_allow(args.allow))
    for f in left:
        print(f.line())
    if args.catalog is None:  # a stale allow entry only means something against the shipped catalog
        for a in stale:
            print(f"{args.allow.name}: {a['entry']}: {a['field']}: [{a['rule']}] allow entry matches no finding; "
                  f"fix: remove it")
            left.append(a)
    return 1 if left else 0


if __name__ == "__main__":
    sys.exit(main())
