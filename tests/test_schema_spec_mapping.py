"""Schemas are the single source of truth for field names: every schema field is a spec attribute with the
same unit, and every spec attribute is a schema field."""
from __future__ import annotations

import attrs
import pytest

from mlsysim import specs
from mlsysim.catalog import locations
from mlsysim.catalog.validate import SchemaSet

SCHEMAS = SchemaSet(locations.schema_dir())
# (schema kind, top-level array) -> spec classes whose fields it describes
TABLES = [
    ("hardware", "hardware", [specs.HardwareSpec]),
    ("models", "models", [specs.TransformerSpec, specs.MoESpec, specs.CNNSpec, specs.MLPSpec, specs.SSMSpec,
                          specs.DiffusionSpec, specs.RecommendationSpec, specs.VisionTransformerSpec,
                          specs.EncoderDecoderSpec, specs.Mamba2Spec, specs.SpeechEncoderSpec]),
    ("scenarios", "scenarios", [specs.ScenarioSpec]),
    ("systems", "fabrics", [specs.FabricSpec]), ("systems", "nodes", [specs.NodeSpec]),
    ("systems", "clusters", [specs.ClusterSpec]), ("systems", "tiers", [specs.TierSpec]),
    ("infra", "grids", [specs.GridSpec]), ("infra", "racks", [specs.RackSpec]),
    ("calibration", "classes", [specs.CalibrationClass]),
    ("runtimes", "runtimes", [specs.RuntimeSpec]),
]


def schema_fields(node, doc, prefix=""):
    """{dotted field: x-unit or None} for every leaf of a schema node (through $ref, allOf/then)."""
    out = {}
    props = SCHEMAS.properties(node, doc)
    for name, (sub, sdoc) in props.items():
        sub, sdoc = SCHEMAS.resolve(sub, sdoc)
        path = f"{prefix}{name}"
        items = SCHEMAS.resolve(sub["items"], sdoc) if sub.get("type") == "array" and "items" in sub else None
        if items is not None and items[0].get("type") == "object":  # an array of tables: its rows' fields
            out.update(schema_fields(items[0], items[1], path + "."))
        elif name == "provenance" or sub.get("type") != "object" or "additionalProperties" in sub and \
                isinstance(sub["additionalProperties"], dict):
            out[path] = sub.get("x-unit") or (sub.get("additionalProperties") or {}).get("x-unit") \
                if isinstance(sub.get("additionalProperties"), dict) else sub.get("x-unit")
        else:
            out.update(schema_fields(sub, sdoc, path + "."))
    return out


def spec_fields(cls, prefix=""):
    attrs.resolve_types(cls)
    out = {}
    for f in attrs.fields(cls):
        if not f.init:  # derived in __attrs_post_init__ (LayerTable.macs_by_kind): not a catalog key
            continue
        nested = [t for t in getattr(f.type, "__args__", (f.type,)) if attrs.has(t)] if f.type else []
        path = f"{prefix}{f.alias}"  # the catalog key: a figure stored as `_x` is written `x`
        if nested and nested[0] is specs.PrecisionTable:
            out[path] = specs.PrecisionTable.UNIT
        elif nested and nested[0] is not specs.Provenance:
            out.update(spec_fields(nested[0], path + "."))
        else:
            out[path] = f.metadata.get("unit") or None
    return out


@pytest.mark.parametrize("kind,array,classes", TABLES, ids=[t[1] for t in TABLES])
def test_schema_fields_match_spec_attributes(kind, array, classes):
    top = SCHEMAS.raw[kind]
    item, doc = SCHEMAS.resolve(SCHEMAS.properties(top, top)[array][0]["items"], top)
    in_schema = schema_fields(item, doc)
    in_specs = {}
    for cls in classes:
        in_specs.update(spec_fields(cls))
    assert set(in_schema) == set(in_specs), (set(in_schema) ^ set(in_specs))
    for name, unit in in_schema.items():
        if unit:
            assert in_specs[name] == unit, f"{name}: schema {unit}, spec {in_specs[name]}"
