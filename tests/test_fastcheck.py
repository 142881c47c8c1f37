"""The compiled schema-and-units pass agrees with jsonschema and the reference unit walk: it converts the
shipped catalog to exactly the same data, and whatever it accepts, jsonschema accepts."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlsysim.catalog import locations
from mlsysim.catalog.fastcheck import Compiler, Reject
from mlsysim.catalog.files import catalog_files
from mlsysim.catalog.validate import SchemaSet, check_schema, convert_units, parse_toml
from mlsysim.errors import CatalogError

RAW = {p.name.removesuffix(".schema.json"): json.loads(p.read_bytes())
       for p in sorted(locations.schema_dir().glob("*.schema.json"))}
REFERENCE = SchemaSet(RAW)
FAST = {kind: Compiler(RAW).top(RAW[kind]) for kind in locations.KINDS}
SHIPPED = [(f.kind, f.label, parse_toml(f.data, f.label))
           for f in catalog_files(locations.shipped_catalog_dir(), "catalog")]


@pytest.mark.parametrize("kind,label,doc", SHIPPED, ids=[s[1] for s in SHIPPED])
def test_fast_pass_equals_reference_on_the_shipped_catalog(kind, label, doc):
    check_schema(REFERENCE, kind, doc, label)
    assert FAST[kind](doc)[0] == convert_units(REFERENCE, kind, doc, label)


def _reference_accepts(kind, doc) -> bool:
    try:
        check_schema(REFERENCE, kind, doc, "fuzz")
        convert_units(REFERENCE, kind, doc, "fuzz")
    except CatalogError:
        return False
    return True


def _paths(node, prefix=()):
    """Every key path inside one entry (tables and their leaves)."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield prefix + (key,)
            yield from _paths(value, prefix + (key,))


ENTRIES = [(kind, array, item) for kind, _, doc in SHIPPED for array in locations.ENTRY_ARRAYS[kind]
           for item in doc.get(array, [])]
junk = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**20), st.floats(allow_nan=True),
                 st.text(max_size=12), st.sampled_from(["-1 W", "0 GB/s", "1e400 W", "5 furlongs", "3 TB/s", "80 GiB",
                                                        "1 s", "12", "", "decoder", "moe", "Cloud", "fp16"]),
                 st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(), max_size=2))


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(range(len(ENTRIES))), st.data())
def test_whatever_the_fast_pass_accepts_jsonschema_accepts_with_equal_data(index, data):
    kind, array, item = ENTRIES[index]
    item = copy.deepcopy(item)
    paths = list(_paths(item))
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(paths))
        node = item
        try:
            for key in path[:-1]:
                node = node[key]
            if data.draw(st.booleans()):
                node.pop(path[-1], None)
            else:
                node[path[-1]] = data.draw(junk)
        except (KeyError, TypeError, AttributeError):  # an earlier mutation replaced a table
            break
    doc = {"schema_version": 1, array: [item]}
    try:
        fast = FAST[kind](doc)[0]
    except Reject:
        return  # the loader then asks jsonschema: never a wrong acceptance
    assert _reference_accepts(kind, doc), doc
    assert fast == convert_units(REFERENCE, kind, doc, "fuzz")
