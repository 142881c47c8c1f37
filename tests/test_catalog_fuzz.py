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


anything = st.one_of(st.none(), st.booleans(), st.integers(-10**30, 10**30), st.floats(allow_nan=True),
                     st.text(max_size=8), st.sampled_from(["fp16", "int4", "bf16", "fp8", "H100", "Llama3_8B"]))


@fuzz
@given(st.sampled_from(["Llama3_8B", "ResNet50", "DS_CNN", "Mixtral_8x7B", "Mamba_130M", "DLRM", "BERT_Base",
                        "StableDiffusion_v1_5", "Nope", 7]),
       st.sampled_from(["H100", "STM32L4R5", "V100", "TPUv5p", "M2Ultra", "Nope", None]),
       st.one_of(st.integers(-3, 4096), anything), st.one_of(st.sampled_from(["fp16", "int8", "int4", "fp8"]), anything),
       st.one_of(st.floats(0, 1.5), anything), st.dictionaries(
           st.sampled_from(["seq_len", "is_training", "zero_stage", "dp_size", "weight_only",
                            "activation_recomputation"]), anything, max_size=2))
def test_engine_solve_returns_or_raises_an_mlsysim_error(model, hardware, batch, precision, efficiency, options):
    from mlsysim import Engine
    from mlsysim.errors import MlsysimError

    try:
        r = Engine.solve(model, hardware, batch, precision, efficiency, **options)
    except MlsysimError as exc:
        assert isinstance(exc, (ValueError, TypeError, LookupError, RuntimeError)) and str(exc)
    else:
        assert r.latency.magnitude > 0 and 0 <= r.mfu <= 1
