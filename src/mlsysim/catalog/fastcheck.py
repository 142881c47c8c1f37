"""One compiled pass that validates a catalog file against its JSON Schema and converts its quantities.

jsonschema is the authority on what the schemas mean and it writes the error messages, but it interprets the
schema anew for every entry (~0.8 ms an accelerator entry: 8 s for a 10,000-entry user catalog). This module
compiles the keyword subset our schemas use into closures once per process (~20 us an entry). It can only ever
*accept*: whenever it finds a problem, or a keyword or value it does not handle, it raises Reject and the
loader runs jsonschema and the reference unit walk (validate.py) for the exact error, or for the result if
the fast pass was merely too strict. Where it is unsure it is stricter than JSON Schema (booleans are never
numbers, a float is never an integer), so "fast accepts => jsonschema accepts" holds; tests check both that
and that the converted data equals the reference walk's on the shipped catalog.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .quantities import QuantityError, parse_quantity


class Reject(Exception):
    """The fast pass will not accept this instance; ask jsonschema."""


class Unsupported(Exception):
    """A schema uses a keyword this compiler does not implement; that kind always takes the reference path."""


_IGNORED = {"description", "title", "$schema", "$id", "$defs", "examples", "default", "$comment", "x-unit"}
_SUPPORTED = {"type", "enum", "const", "pattern", "minLength", "minimum", "maximum", "exclusiveMinimum",
              "properties", "required", "additionalProperties", "unevaluatedProperties", "minProperties",
              "propertyNames", "items", "minItems", "maxItems", "uniqueItems", "$ref", "allOf", "if", "then", "else"}

Fn = Callable[[Any], tuple[Any, Any]]  # instance -> (converted instance, evaluated property names or None)


def _is(value: Any, kind: str) -> bool:
    t = type(value)
    if kind == "object":
        return t is dict
    if kind == "array":
        return t is list
    if kind == "string":
        return t is str
    if kind == "integer":
        return t is int
    if kind == "number":
        return t is int or t is float
    if kind == "boolean":
        return t is bool
    raise Unsupported(f"type {kind!r}")


def _same(value: Any, choice: Any) -> bool:
    return type(value) is type(choice) and value == choice


class Compiler:
    def __init__(self, schemas: dict[str, dict]):
        self._by_id = {s["$id"]: s for s in schemas.values()}
        self._memo: dict[tuple[int, str], Fn] = {}

    def top(self, schema: dict) -> Fn:
        return self._compile(schema, schema)

    def _ref(self, ref: str, doc: dict) -> Fn:
        doc_part, _, pointer = ref.partition("#")
        target_doc = doc if not doc_part else self._by_id.get(doc["$id"].rsplit("/", 1)[0] + "/" + doc_part)
        if target_doc is None:
            raise Unsupported(f"$ref {ref!r}")
        key = (id(target_doc), pointer)
        if key in self._memo:
            return self._memo[key]
        cell: list[Fn] = []
        self._memo[key] = lambda v: cell[0](v)  # recursion-safe indirection until compiled
        node: Any = target_doc
        for part in (p for p in pointer.strip("/").split("/") if p):
            node = node[part]
        fn = self._compile(node, target_doc)
        cell.append(fn)
        self._memo[key] = fn
        return fn

    def _compile(self, node: Any, doc: dict) -> Fn:  # noqa: C901 - one keyword per branch, read top to bottom
        if node is True:
            return lambda v: (v, None)
        if not isinstance(node, dict):
            raise Unsupported(f"schema {node!r}")
        unknown = set(node) - _IGNORED - _SUPPORTED
        if unknown:
            raise Unsupported(", ".join(sorted(unknown)))
        kind = node.get("type")
        if kind is not None and not isinstance(kind, str):
            raise Unsupported("type lists")
        if kind is not None:
            _is(None, kind)  # raises Unsupported for a type name we do not know
        unit = node.get("x-unit")
        enum = tuple(node["enum"]) if "enum" in node else None
        has_const, const = "const" in node, node.get("const")
        pattern = re.compile(node["pattern"]) if "pattern" in node else None
        min_len = node.get("minLength")
        minimum, maximum, exc_min = node.get("minimum"), node.get("maximum"), node.get("exclusiveMinimum")
        props = {k: self._compile(s, doc) for k, s in node.get("properties", {}).items()}
        addl_present, addl = "additionalProperties" in node, node.get("additionalProperties", True)
        addl_fn = self._compile(addl, doc) if isinstance(addl, dict) else None
        if "unevaluatedProperties" in node and node["unevaluatedProperties"] is not False:
            raise Unsupported("unevaluatedProperties other than false")
        closed = node.get("unevaluatedProperties") is False
        required = tuple(node.get("required", ()))
        min_props = node.get("minProperties")
        names_fn = self._compile(node["propertyNames"], doc) if "propertyNames" in node else None
        items = node.get("items")
        if items is not None and not isinstance(items, dict):
            raise Unsupported("items other than one schema")
        items_fn = self._compile(items, doc) if items is not None else None
        min_items, max_items, unique = node.get("minItems"), node.get("maxItems"), node.get("uniqueItems", False)
        subs = ([self._ref(node["$ref"], doc)] if "$ref" in node else []) + \
            [self._compile(s, doc) for s in node.get("allOf", [])]
        if_fn = self._compile(node["if"], doc) if "if" in node else None
        then_fn = self._compile(node["then"], doc) if "then" in node else None
        else_fn = self._compile(node["else"], doc) if "else" in node else None

        def check(v: Any) -> tuple[Any, Any]:
            if kind is not None and not _is(v, kind):
                raise Reject
            if enum is not None and not any(_same(v, c) for c in enum):
                raise Reject
            if has_const and not _same(v, const):
                raise Reject
            t = type(v)
            if t is str:
                if pattern is not None and not pattern.search(v):
                    raise Reject
                if min_len is not None and len(v) < min_len:
                    raise Reject
            elif t is int or t is float:
                if (minimum is not None and v < minimum) or (maximum is not None and v > maximum) \
                        or (exc_min is not None and v <= exc_min):
                    raise Reject
            out, evaluated = v, None
            if t is dict:
                for r in required:
                    if r not in v:
                        raise Reject
                if min_props is not None and len(v) < min_props:
                    raise Reject
                evaluated = set()
                changed: dict | None = None
                for k, val in v.items():
                    if names_fn is not None:
                        names_fn(k)
                    fn = props.get(k)
                    if fn is None:
                        if addl is False:
                            raise Reject
                        if addl_fn is None:
                            if addl_present:  # additionalProperties: true evaluates every remaining key
                                evaluated.add(k)
                            continue
                        fn = addl_fn
                    new, _ = fn(val)
                    evaluated.add(k)
                    if new is not val:
                        changed = changed if changed is not None else dict(v)
                        changed[k] = new
                branches = list(subs)
                if if_fn is not None:
                    try:
                        _, if_ev = if_fn(v)
                        evaluated |= if_ev or set()
                        if then_fn is not None:
                            branches.append(then_fn)
                    except Reject:
                        if else_fn is not None:
                            branches.append(else_fn)
                for sub in branches:
                    new, ev = sub(v)
                    evaluated |= ev or set()
                    if new is not v:
                        for k, val in new.items():
                            if val is not v[k]:
                                changed = changed if changed is not None else dict(v)
                                changed[k] = val
                if closed and len(evaluated) < len(v):
                    raise Reject
                return (changed if changed is not None else v), evaluated
            if t is list:
                if (min_items is not None and len(v) < min_items) or (max_items is not None and len(v) > max_items):
                    raise Reject
                if unique and (not all(type(x) is str for x in v) or len(set(v)) != len(v)):
                    raise Reject
                if items_fn is not None:
                    new_items = [items_fn(x)[0] for x in v]
                    if any(a is not b for a, b in zip(new_items, v)):
                        out = new_items
            if if_fn is not None:
                raise Reject  # if/then on a non-object: never used by our schemas, leave it to jsonschema
            for sub in subs:
                sub(v)  # scalars and arrays: sub-schemas validate, the unit of this node converts
            if unit is not None and t is str:
                try:
                    return parse_quantity(v, unit), None
                except QuantityError:
                    raise Reject from None
            return out, evaluated

        return check
