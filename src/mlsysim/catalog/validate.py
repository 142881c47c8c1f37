"""Reference path of catalog validation: TOML syntax, JSON Schema (jsonschema), unit parsing, dimensions.

The loader runs the compiled fast pass (fastcheck.py) first; this path runs when that pass does not accept a
file, to produce the exact error (file, entry, field, what is expected), and for specs built in Python.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import CatalogError
from .locations import ENTRY_ARRAYS
from .quantities import QuantityError, parse_quantity

# Deepest nesting of tables and arrays a catalog file may have: the deepest shipped structure (a model's
# layer table: file > models > entry > layer_table > rows > row) is 6 levels. Bounding it keeps the TOML
# parser and jsonschema (both recursive) away from the interpreter's recursion limit.
MAX_NESTING = 32


class SchemaSet:
    """All JSON Schemas of schemas/ (name -> parsed JSON), resolvable by $id, with validators built once."""

    def __init__(self, raw: dict[str, dict] | Path):
        import jsonschema
        import referencing

        if isinstance(raw, Path):  # a schemas/ directory
            raw = {p.name.removesuffix(".schema.json"): json.loads(p.read_bytes())
                   for p in sorted(raw.glob("*.schema.json"))}
        self.raw = raw
        resources = [(s["$id"], referencing.Resource.from_contents(s)) for s in self.raw.values()]
        self.registry = referencing.Registry().with_resources(resources)
        self._by_id = {s["$id"]: s for s in self.raw.values()}
        self.validators = {k: jsonschema.Draft202012Validator(s, registry=self.registry)
                           for k, s in self.raw.items() if k != "common"}

    def resolve(self, node: dict, base: dict) -> tuple[dict, dict]:
        """Follow one $ref (relative to the document `base`); return (merged node, its document)."""
        ref = node.get("$ref")
        if not ref:
            return node, base
        doc_part, _, pointer = ref.partition("#")
        doc = base if not doc_part else self._by_id[base["$id"].rsplit("/", 1)[0] + "/" + doc_part]
        target: Any = doc
        for part in pointer.strip("/").split("/") if pointer.strip("/") else []:
            target = target[part]
        if "$ref" in target:
            target, doc = self.resolve(target, doc)
        return _merge(target, {k: v for k, v in node.items() if k != "$ref"}), doc

    def properties(self, node: dict, doc: dict) -> dict[str, tuple[dict, dict]]:
        """Every property a node may hold, through $ref, allOf and if/then branches."""
        node, doc = self.resolve(node, doc)
        props = {name: (sub, doc) for name, sub in node.get("properties", {}).items()}
        for branch in node.get("allOf", []):
            for key in ("then",):
                if key in branch:
                    props.update(self.properties(branch[key], doc))
        return props


def _merge(base: dict, extra: dict) -> dict:
    """Overlay a referring node on its $ref target; `properties` of both are kept (a sibling $ref extends)."""
    merged = {**base, **extra}
    if "properties" in base and "properties" in extra:
        merged["properties"] = {**base["properties"], **extra["properties"]}
    return merged


def parse_toml(data: bytes, label: str) -> dict:
    """Parse one catalog file's bytes (tomli: the compiled TOML parser), bounded in nesting depth."""
    import tomli

    try:
        doc = tomli.loads(data.decode("utf-8"))
    except tomli.TOMLDecodeError as exc:
        raise CatalogError(f"TOML syntax error: {exc}", file=label, expected="valid TOML (https://toml.io)") from None
    except UnicodeDecodeError as exc:
        raise CatalogError(f"not UTF-8 text: {exc}", file=label) from None
    except RecursionError:
        raise CatalogError(f"nested too deeply (over {MAX_NESTING} levels of arrays or tables)", file=label,
                           expected=f"at most {MAX_NESTING} levels") from None
    _check_depth(doc, label)
    return doc


def _check_depth(doc: dict, label: str) -> None:
    stack: list[tuple[Any, int]] = [(doc, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_NESTING:
            raise CatalogError(f"nested too deeply (over {MAX_NESTING} levels of arrays or tables)", file=label,
                               expected=f"at most {MAX_NESTING} levels")
        children = node.values() if isinstance(node, dict) else node
        stack.extend((c, depth + 1) for c in children if isinstance(c, (dict, list)))


def _entry_label(data: dict, path: list) -> tuple[str | None, list]:
    """Split a JSON path into (entry name, field path inside the entry)."""
    if len(path) >= 2 and isinstance(path[1], int) and isinstance(data.get(path[0]), list):
        item = data[path[0]][path[1]]
        name = item.get("name") if isinstance(item, dict) else None
        return (name or f"{path[0]}[{path[1]}]"), list(path[2:])
    return None, list(path)


def check_schema(schemas: SchemaSet, kind: str, data: dict, label: str) -> None:
    import jsonschema

    errors = list(schemas.validators[kind].iter_errors(data))
    if not errors:
        return
    # An if/then branch that fails leaves its properties "unevaluated": report the branch's own error.
    specific = [e for e in errors if e.validator != "unevaluatedProperties"] or errors
    err = jsonschema.exceptions.best_match(specific)
    while err.context:  # descend into the most specific failure of an allOf/if-then
        err = jsonschema.exceptions.best_match(err.context)
    entry, field = _entry_label(data, list(err.absolute_path))
    field_name = ".".join(str(p) for p in field) or None
    message, expected = err.message, None
    if err.validator == "required":
        missing = message.split("'")[1] if "'" in message else message
        field_name = f"{field_name}.{missing}" if field_name else missing
        message, expected = "required field is missing", f"see schemas/{kind}.schema.json"
    elif err.validator in ("additionalProperties", "unevaluatedProperties"):
        expected = f"only the fields of schemas/{kind}.schema.json"
    elif err.validator == "pattern" and err.schema == schemas.raw["common"]["$defs"]["quantity"]:
        message = f"{err.instance!r} is not a non-negative number followed by a unit"
        expected = "e.g. '989 TFLOP/s', '80 GiB', '3.35 TB/s', '700 W'"
    elif err.validator in ("enum", "const"):
        expected = f"one of {err.validator_value!r}" if err.validator == "enum" else repr(err.validator_value)
    total = len(errors)
    if total > 1:
        message += f" [{total - 1} further problem(s) in this file]"
    raise CatalogError(message, file=label, entry=entry, field=field_name, expected=expected)


def convert_units(schemas: SchemaSet, kind: str, data: dict, label: str) -> dict:
    """Replace every quantity string by a float in the schema's canonical unit (x-unit), checking dimension."""
    top = schemas.raw[kind]

    def walk(value: Any, node: dict, doc: dict, entry: str | None, field: str) -> Any:
        node, doc = schemas.resolve(node, doc)
        unit = node.get("x-unit")
        if unit is not None and isinstance(value, str):
            try:
                return parse_quantity(value, unit)
            except QuantityError as exc:
                raise CatalogError(f"cannot read {value!r} as {unit}: {exc}", file=label, entry=entry, field=field,
                                   expected=f"a number with a unit convertible to {unit}, e.g. '80 GiB'") from None
        if isinstance(value, dict):
            props = schemas.properties(node, doc)
            extra = node.get("additionalProperties")
            out = {}
            for k, v in value.items():
                sub = props.get(k) or ((extra, doc) if isinstance(extra, dict) else None)
                out[k] = walk(v, sub[0], sub[1], entry, f"{field}.{k}" if field else k) if sub else v
            return out
        if isinstance(value, list):
            items = node.get("items")
            return [walk(v, items, doc, entry, field) for v in value] if isinstance(items, dict) else value
        return value

    out: dict[str, Any] = {"schema_version": data["schema_version"]}
    props = schemas.properties(top, top)
    for array in ENTRY_ARRAYS[kind]:
        if array not in data:
            continue
        item_node, doc = schemas.resolve(props[array][0]["items"], props[array][1])
        out[array] = [walk(item, item_node, doc, item.get("name"), "") for item in data[array]]
    return out
