"""Build a spec from an entry a cold load already structured (a row of the verified cache), without cattrs.

cattrs' import and the structuring hooks it generates per class cost ~25 ms of a first ``Engine.solve``; a cached
entry was structured by cattrs when the cache was written (by the same code: the cache key hashes the specs and
catalog modules), so it is built here from the fields' declared types with the same rules cattrs applies
(``mlsysim.catalog.structure.converter``): a key is the field's alias, a missing key leaves the field's default,
``float``/``int``/``str``/``bool`` call the type, ``X | None`` keeps None, ``tuple[X, ...]`` and ``tuple[X, Y]``
build tuples element by element, an attrs class recurses. tests/test_cached_structuring.py checks every shipped
entry against cattrs, type for type. A field type outside these forms raises Unsupported, and the caller uses
cattrs; so does any failure, so that an error still names its file, entry and field.
"""
from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import attrs

_PRIMITIVES = {"float": float, "int": int, "str": str, "bool": bool}


class Unsupported(Exception):
    """A field type this builder does not know (cattrs structures that class)."""


# Per class: ((alias, build function), ...) and the set of aliases; built once per class, read without a lock (a
# plan built twice by two threads is the same plan).
_plans: dict[type, tuple[tuple[tuple[str, Callable[[Any], Any]], ...], frozenset[str]]] = {}


def build(cls: type, data: dict) -> Any:
    """``cls`` from validated catalog data (the cattrs converter's result; Unsupported for a type it lacks)."""
    fields, names = _plans.get(cls) or _plan(cls)
    if not names.issuperset(data):  # an unknown key: cattrs names it
        raise Unsupported(f"keys {sorted(set(data) - names)} are not fields of {cls.__name__}")
    return cls(**{alias: convert(data[alias]) for alias, convert in fields if alias in data})


def _plan(cls: type) -> tuple[tuple[tuple[str, Callable[[Any], Any]], ...], frozenset[str]]:
    annotations = _annotations(cls)
    fields = []
    for a in attrs.fields(cls):
        if not a.init:  # not an __init__ keyword: cattrs skips it too
            continue
        declared, namespace = annotations.get(a.name, (a.type, {}))
        fields.append((a.alias, _converter(declared, namespace)))
    plan = (tuple(fields), frozenset(alias for alias, _ in fields))
    _plans[cls] = plan
    return plan


def _annotations(cls: type) -> dict[str, tuple[Any, dict]]:
    """field name -> (its annotation, the globals of the module of the class declaring it)."""
    out: dict[str, tuple[Any, dict]] = {}
    for klass in reversed(cls.__mro__):
        namespace = vars(sys.modules[klass.__module__]) if klass.__module__ in sys.modules else {}
        for name, annotation in vars(klass).get("__annotations__", {}).items():
            out[name] = (annotation, namespace)
    return out


def _converter(declared: Any, namespace: dict) -> Callable[[Any], Any]:
    if isinstance(declared, str):
        return _parse(declared.strip(), namespace)
    if declared in _PRIMITIVES.values():
        return declared
    if isinstance(declared, type) and attrs.has(declared):
        return _nested(declared)
    raise Unsupported(f"field type {declared!r}")  # an evaluated annotation other than a primitive or a spec


def _split(text: str, sep: str) -> list[str]:
    """`text` split at `sep` outside brackets."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return parts


def _parse(text: str, namespace: dict) -> Callable[[Any], Any]:
    union = _split(text, "|")
    if len(union) == 2 and "None" in union:  # X | None: cattrs' optional structuring
        inner = _parse(union[0] if union[1] == "None" else union[1], namespace)
        return lambda value: None if value is None else inner(value)
    if len(union) > 1:
        raise Unsupported(f"union {text!r}")
    if text in _PRIMITIVES:
        return _PRIMITIVES[text]
    if text.startswith("tuple[") and text.endswith("]"):
        args = _split(text[len("tuple["):-1], ",")
        if len(args) == 2 and args[1] == "...":
            element = _parse(args[0], namespace)
            return lambda value: tuple([element(v) for v in value])
        members = tuple(_parse(arg, namespace) for arg in args)

        def hetero(value: Any) -> tuple:
            if len(value) != len(members):
                raise Unsupported(f"{value!r} is not a {len(members)}-tuple")
            return tuple([f(v) for f, v in zip(members, value)])

        return hetero
    target = namespace.get(text)
    if isinstance(target, type) and attrs.has(target):
        return _nested(target)
    raise Unsupported(f"field type {text!r}")


def _nested(cls: type) -> Callable[[Any], Any]:
    return lambda value: build(cls, value)
