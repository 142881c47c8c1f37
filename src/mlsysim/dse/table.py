"""The results of a sweep: one record per grid point, in the grid's order (model, hardware, batch size,
precision, sequence length; the last fastest). Values are SI floats: latency in s (one pass: a decode step for
a decoder, so its TPOT), throughput in throughput_unit (token/s or sample/s), energy in J per pass. A point
that cannot run has error set and NaN figures; an infeasible one (does not fit in memory) is kept with
feasible False unless the sweep dropped it. reasons: the error, or what does not fit (built when read)."""
from __future__ import annotations

import csv
import io
import json
import math
from typing import Any, Iterator

from .engine_tier import UNITS
from .grid import Space

FIELDS = ("model", "hardware", "batch_size", "precision", "seq_len", "latency", "throughput", "throughput_unit",
          "bottleneck", "mfu", "feasible", "energy")
NUMERIC = ("latency", "throughput", "mfu", "energy", "ttft", "tpot")


def _concat(parts: list) -> Any:
    """One column from the chunks' parts: a numpy array when the chunks are arrays (kept as arrays), else a list."""
    if parts and all(hasattr(p, "dtype") for p in parts):
        import numpy as np
        return np.concatenate(parts)
    out: list = []
    for p in parts:
        out.extend(p.tolist() if hasattr(p, "tolist") else p)
    return out


class Table:
    """Iterable records (dicts) with column access, CSV/JSON export, and pandas/pyarrow when installed."""

    def __init__(self, space: Space, chunks: list[dict], drop_infeasible: bool = False):
        self.space = space
        self._messages: list[str] = []
        codes: list = []
        for c in chunks:  # error per row: an index into _messages, -1 for none
            base = len(self._messages)
            if "err" in c:
                self._messages.extend(c["messages"])
                codes.append(c["err"] + (c["err"] >= 0) * base)
            else:
                errs = c["errors"]
                self._messages.extend(errs.values())
                pos = {f: base + j for j, f in enumerate(errs)}
                codes.append([pos.get(f, -1) for f in range(c["start"], c["stop"])])
        extra = [k for k in ("ttft", "tpot") if chunks and k in chunks[0]]
        names = ["latency", "throughput", "energy", "mfu", "feasible", "compute_bound", "unit", *extra]
        self._cols = {k: _concat([c[k] for c in chunks]) for k in names}
        codes = _concat(codes)
        self._flat: Any = range(space.size)
        if drop_infeasible:  # drops what cannot run too: it has no feasible result
            keep = [i for i, f in enumerate(self._cols["feasible"]) if f]
            self._flat = [self._flat[i] for i in keep]
            self._cols = {k: _take(v, keep) for k, v in self._cols.items()}
            codes = _take(codes, keep)
        self._err = codes
        self.fields = FIELDS + tuple(extra) + ("reasons", "error")
        self._names: dict[tuple, Any] = {}
        self._reasons: dict[int, tuple[str, ...]] = {}

    @property
    def errors(self) -> dict[int, str]:
        """{flat grid index: error} of the points that cannot run."""
        return {self._flat[i]: self._messages[int(e)] for i, e in enumerate(self._err) if e >= 0}

    def error(self, i: int) -> str | None:
        e = int(self._err[i])
        return None if e < 0 else self._messages[e]

    def __len__(self) -> int:
        return len(self._flat)

    def __iter__(self) -> Iterator[dict]:
        return (self[i] for i in range(len(self)))

    def __getitem__(self, i: int) -> dict:
        flat = self._flat[i]
        mi, hi, bi, pi, si = self.space.unravel(flat)
        c = self._cols
        err = self.error(i)
        rec = {"model": self.space.models[mi].name, "hardware": self.space.hardware[hi].name,
               "batch_size": self.space.batch_sizes[bi], "precision": self._precision(hi, pi),
               "seq_len": self._seq(mi, si),
               "latency": float(c["latency"][i]), "throughput": float(c["throughput"][i]),
               "throughput_unit": None if err else UNITS[int(c["unit"][i])] + "/s",
               "bottleneck": None if err else ("Compute" if c["compute_bound"][i] else "Memory"),
               "mfu": float(c["mfu"][i]), "feasible": bool(c["feasible"][i]), "energy": float(c["energy"][i])}
        for k in ("ttft", "tpot"):
            if k in c:
                rec[k] = float(c[k][i])
        rec["reasons"] = self.reasons(i)
        rec["error"] = err
        return rec

    def column(self, name: str) -> list:
        """One field for every record (the numeric ones read without building records)."""
        if name in ("latency", "throughput", "mfu", "energy", "ttft", "tpot", "feasible") and name in self._cols:
            v = self._cols[name]
            return v.tolist() if hasattr(v, "tolist") else list(v)
        return [r[name] for r in self]

    def reasons(self, i: int) -> tuple[str, ...]:
        """Why record i cannot run (its error) or does not fit (the solver's memory reasons); () when it runs."""
        flat = self._flat[i]
        err = self.error(i)
        if err is not None:
            return (err,)
        if self._cols["feasible"][i]:
            return ()
        if flat not in self._reasons:
            self._reasons[flat] = _point_reasons(self.space, flat)
        return self._reasons[flat]

    def _precision(self, hi: int, pi: int) -> str | None:
        key = ("p", hi, pi)
        if key not in self._names:
            p = self.space.precisions[pi]
            if p is None:
                from ..core.precision import default_precision
                try:
                    from .grid import device_of
                    p = default_precision(device_of(self.space.hardware[hi]), self.space.solver == "training")[0]
                except Exception:  # noqa: BLE001 -- the row's error says why
                    p = None
            self._names[key] = p
        return self._names[key]

    def _seq(self, mi: int, si: int) -> int | None:
        key = ("s", mi, si)
        if key not in self._names:
            from .prepare import sequence
            s = sequence(self.space.models[mi], self.space.seq_lens[si])
            self._names[key] = self.space.seq_lens[si] if isinstance(s, tuple) else s
        return self._names[key]

    # --- export -----------------------------------------------------------------------------------------
    def records(self) -> list[dict]:
        return list(self)

    def to_csv(self, path: Any = None) -> str | None:
        """CSV of every record (reasons joined with ' | '); written to `path` if given, else returned."""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(self.fields)
        for r in self:
            w.writerow(["" if r[k] is None or (k in NUMERIC and math.isnan(r[k])) else
                        (" | ".join(r[k]) if k == "reasons" else r[k]) for k in self.fields])
        return _emit(buf.getvalue(), path)

    def to_json(self, path: Any = None) -> str | None:
        """A JSON list of records (NaN written as null); written to `path` if given, else returned."""
        rows = [{k: (None if k in NUMERIC and isinstance(v, float) and math.isnan(v) else
                     (list(v) if k == "reasons" else v)) for k, v in r.items()} for r in self]
        return _emit(json.dumps(rows), path)

    def to_pandas(self) -> Any:
        try:
            import pandas as pd
        except ImportError as exc:
            raise ImportError("to_pandas needs pandas: pip install pandas") from exc
        return pd.DataFrame.from_records(self.records(), columns=list(self.fields))

    def to_arrow(self) -> Any:
        try:
            import pyarrow as pa
        except ImportError as exc:
            raise ImportError("to_arrow needs pyarrow: pip install pyarrow") from exc
        recs = self.records()
        return pa.table({k: [r[k] if k != "reasons" else list(r[k]) for r in recs] for k in self.fields})

    def plot_pareto(self, x: str = "latency", y: str = "throughput", **kw: Any) -> Any:
        """(fig, ax): the configurations that fit as points of (x, y) and their Pareto front (mlsysim[plot];
        see mlsysim.viz_dse.plot_pareto for minimize=, group_by=, ax=, log=)."""
        from ..viz import _pyplot

        _pyplot()  # a clear error when matplotlib is missing
        from ..viz_dse import plot_pareto
        return plot_pareto(self, x, y, **kw)

    def __repr__(self) -> str:
        feasible = sum(1 for f in self._cols["feasible"] if f)
        errors = sum(1 for e in self._err if e >= 0)
        return f"<mlsysim.dse.Table {len(self)} points, {feasible} feasible, {errors} errors>"


def _take(values: Any, keep: list[int]) -> Any:
    if hasattr(values, "dtype"):
        return values[keep]
    return [values[i] for i in keep]


def _emit(text: str, path: Any) -> str | None:
    if path is None:
        return text
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    return None


def _point_reasons(space: Space, flat: int) -> tuple[str, ...]:
    from .engine_tier import _precision

    mi, hi, bi, pi, si = space.unravel(flat)
    args = (space.models[mi], space.hardware[hi], space.batch_sizes[bi], _precision(space, pi), space.efficiency)
    try:
        if space.solver == "serving":
            from .scalar_tier import _serving
            return tuple(_serving(space, mi, hi, bi, pi, si).reasons)
        if space.solver == "training":
            from .scalar_tier import _training
            r = _training(space, mi, hi, bi, pi, si)
        else:
            from ..core.engine import Engine
            r = Engine.solve(*args, seq_len=space.seq_lens[si], **dict(space.options))
        return tuple(getattr(r, "memory_reasons", ())) or tuple(r.reasons)
    except Exception as exc:  # noqa: BLE001
        return (f"{type(exc).__name__}: {exc}",)
