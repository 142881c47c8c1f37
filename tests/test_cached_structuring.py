"""A warm load builds each cached entry without cattrs (mlsysim.catalog.direct): the result must be the spec cattrs
builds from the same validated data, value for value and type for type, for every shipped entry; and a row that
cannot be built that way still fails with cattrs' CatalogError naming file, entry and field."""
from __future__ import annotations

import json

import attrs
import pytest

from mlsysim.catalog import direct, loader
from mlsysim.catalog.structure import spec_class, structure, structure_cached
from mlsysim.errors import CatalogError


@pytest.fixture(scope="module")
def cached_rows(tmp_path_factory, request):
    """(array, file, validated data) of every entry, read back from a cache this module wrote."""
    cache = tmp_path_factory.mktemp("cache")
    patch = pytest.MonkeyPatch()
    request.addfinalizer(patch.undo)
    patch.setenv("MLSYSIM_CACHE_DIR", str(cache))
    cold = loader.load_catalog()  # validates every file, structures every entry, writes the cache
    warm = loader.load_catalog()  # reads it back: each entry carries its validated JSON
    assert [e.name for e in warm.entries] == [e.name for e in cold.entries]
    rows = [(e.array, e.file, json.loads(e._raw)) for e in warm.entries]
    assert rows and all(isinstance(data, dict) for _, _, data in rows)
    return rows


def _same(a, b, path="") -> None:
    """a == b with every value of the same type (3 and 3.0 are equal but not the same figure)."""
    assert type(a) is type(b), f"{path}: {type(a).__name__} vs {type(b).__name__}"
    if attrs.has(type(a)):
        for f in attrs.fields(type(a)):
            _same(getattr(a, f.name), getattr(b, f.name), f"{path}.{f.name}")
    elif isinstance(a, tuple):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            _same(x, y, f"{path}[{i}]")
    else:
        assert a == b or (a != a and b != b), f"{path}: {a!r} vs {b!r}"


def test_every_shipped_entry_is_built_directly_as_cattrs_builds_it(cached_rows):
    kinds = set()
    for array, file, data in cached_rows:
        cls = spec_class(array, data)
        built = direct.build(cls, data)  # no fallback: Unsupported here would put cattrs back on the warm path
        _same(built, structure(array, data, file=file), f"{file}:{data['name']}")
        assert built == structure_cached(array, data, file=file)
        kinds.add(type(built).__name__)
    # every table and model kind of the catalog took part
    assert {"HardwareSpec", "TransformerSpec", "MoESpec", "CNNSpec", "RuntimeSpec", "ScenarioSpec", "NodeSpec",
            "ClusterSpec", "FabricSpec", "CalibrationClass", "GridSpec", "RackSpec"} <= kinds


def test_ints_given_for_floats_become_floats_as_with_cattrs(cached_rows):
    array, file, data = next(r for r in cached_rows if r[0] == "hardware" and r[2]["name"] == "H100")
    data = dict(data, memory=dict(data["memory"], bandwidth=int(data["memory"]["bandwidth"])))
    built = direct.build(spec_class(array, data), data)
    assert type(built.memory._bandwidth) is float
    _same(built, structure(array, data, file=file))


def test_an_unknown_key_falls_back_to_cattrs_error_naming_file_and_entry(cached_rows):
    array, _, data = next(r for r in cached_rows if r[0] == "hardware")
    bad = dict(data, not_a_field=1)
    with pytest.raises(direct.Unsupported):
        direct.build(spec_class(array, bad), bad)
    with pytest.raises(CatalogError) as err:
        structure_cached(array, bad, file="catalog/hardware/x.toml")
    assert err.value.file == "catalog/hardware/x.toml" and err.value.entry == data["name"]
    assert "not_a_field" in str(err.value)


def test_a_value_a_validator_refuses_is_named_by_file_entry_and_field(cached_rows):
    array, _, data = next(r for r in cached_rows if r[0] == "hardware" and "memory" in r[2])
    bad = dict(data, memory=dict(data["memory"], bandwidth=-1.0))
    with pytest.raises(CatalogError) as err:
        structure_cached(array, bad, file="catalog/hardware/x.toml")
    assert (err.value.file, err.value.entry, err.value.field) == ("catalog/hardware/x.toml", data["name"],
                                                                   "memory.bandwidth")


def test_field_types_outside_the_known_forms_are_unsupported_not_guessed():
    ns = {"Inner": None}
    for text in ("dict[str, float]", "int | str", "list[int]", "Inner", "Any"):
        with pytest.raises(direct.Unsupported):
            direct._parse(text, ns)
    assert direct._parse("tuple[tuple[int, float], ...]", {})([[1, 2]]) == ((1, 2.0),)
    assert direct._parse("float | None", {})(None) is None
