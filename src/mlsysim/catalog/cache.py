"""The validated-catalog cache: plain JSON, written atomically, verified on every read, never trusted.

File format (one file per catalog fingerprint, catalog-<key[:32]>.json):

    line 1: MAGIC <format> <full key> <sha256 of the payload bytes>
    rest:   the payload: JSON list, one {"kind", "file", "entries"} per catalog file; each entry is
            [array, name, display_name, category, aliases, references, validated entry as JSON text]

A read returns the payload only if the header, the key, the digest and the payload's shape all check out;
anything else (truncated, edited, foreign, from another catalog or loader version) reads as a miss, and the
caller rebuilds and rewrites it. A write goes to a unique temporary file in the same directory and is renamed
into place (os.replace is atomic on POSIX and Windows), so concurrent writers and a killed process never
leave a partial file under the final name. Nothing here can execute code: no pickle, only json.loads.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from . import locations

MAGIC = b"MLSYSIM-CATALOG-CACHE"


def _shape_ok(payload: Any, labels: list[str]) -> bool:
    """The payload is what load_catalog writes: one validated item per expected file, in order."""
    if not isinstance(payload, list) or len(payload) != len(labels):
        return False
    for item, label in zip(payload, labels):
        if not isinstance(item, dict) or set(item) != {"kind", "file", "entries"}:
            return False
        if item["file"] != label or item["kind"] not in locations.ENTRY_ARRAYS or not isinstance(item["entries"], list):
            return False
        arrays = locations.ENTRY_ARRAYS[item["kind"]]
        for row in item["entries"]:
            # [array, name, display_name, category, aliases, {reference: path}, entry JSON text]
            if not (isinstance(row, list) and len(row) == 7 and row[0] in arrays and isinstance(row[1], str)
                    and isinstance(row[2], str) and (row[3] is None or isinstance(row[3], str))
                    and isinstance(row[4], list) and all(isinstance(a, str) for a in row[4])
                    and isinstance(row[5], dict) and all(isinstance(v, str) for v in row[5].values())
                    and isinstance(row[6], str)):
                return False
    return True


def read(path: Path | None, key: str, fmt: int, labels: list[str]) -> list[dict] | None:
    if path is None:
        return None
    try:
        with open(path, "rb") as fh:
            blob = fh.read()
    except OSError:
        return None
    header, sep, body = blob.partition(b"\n")
    if not sep:
        return None
    parts = header.split(b" ")
    if len(parts) != 4 or parts[0] != MAGIC or parts[1] != str(fmt).encode() or parts[2] != key.encode():
        return None
    if hashlib.sha256(body).hexdigest().encode() != parts[3]:
        return None
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        return None
    return payload if _shape_ok(payload, labels) else None


def write(path: Path | None, key: str, fmt: int, payload: list[dict]) -> None:
    """Best effort: an unwritable cache location only costs the next import its time."""
    if path is None:
        return
    body = json.dumps(payload, separators=(",", ":"), allow_nan=False).encode()
    header = b" ".join((MAGIC, str(fmt).encode(), key.encode(), hashlib.sha256(body).hexdigest().encode()))
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        import tempfile  # only a cache miss writes (tempfile and shutil cost an import ~4 ms)

        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".catalog-", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(header + b"\n" + body)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        tmp = None
    except OSError:
        pass
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
