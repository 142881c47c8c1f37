"""tools/audit_catalog.py: the shipped catalog passes; each bad fixture triggers exactly its one rule."""
import copy
import datetime as dt
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("audit_catalog", ROOT / "tools" / "audit_catalog.py")
audit_catalog = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(audit_catalog)

PROV = {"source": "fixture", "checked": "2026-01-01", "kind": "datasheet"}
GOOD_HW = {"name": "X1", "display_name": "Fixture X1", "calibration_class": "c", "provenance": PROV,
           "peak_dense": {"fp16": "100 TFLOP/s", "bf16": "100 TFLOP/s", "fp8": "200 TFLOP/s"},
           "peak_sparse": {"fp16": "200 TFLOP/s"},
           "memory": {"capacity": "80 GiB", "bandwidth": "3 TB/s"}, "power": {"tdp": "700 W", "idle": "70 W"}}


def _hw(i, **changes):
    raw = copy.deepcopy(GOOD_HW)
    raw.update(name=f"X{i}", display_name=f"Fixture X{i}")
    for path, value in changes.items():
        node = raw
        *parents, leaf = path.split("__")
        for p in parents:
            node = node[p]
        if value is None:
            del node[leaf]
        else:
            node[leaf] = value
    return ("hardware", "fixture.toml", raw, None)


def _rules(entries):
    return [f.rule for f in audit_catalog.audit(entries, today=dt.date(2026, 6, 1))]


def test_shipped_catalog_passes(capsys):
    rc = audit_catalog.main([])
    assert rc == 0, capsys.readouterr().out


def test_good_fixture_is_clean():
    assert _rules([_hw(i) for i in range(3)]) == []


@pytest.mark.parametrize("change, rule", [
    ({"provenance": None}, "provenance"),
    ({"peak_sparse__fp16": "50 TFLOP/s"}, "dense-above-sparse"),
    ({"peak_dense__fp8": "300 TFLOP/s"}, "precision-ratio"),
    ({"power__idle": "800 W"}, "tdp-below-idle"),
    ({"provenance__checked": "2027-01-01"}, "checked-date"),
    ({"memory__bandwidth": "3 PB/s"}, "unit-prefix"),
    ({"memory__capacity": "80 MiB"}, "unit-prefix"),
])
def test_each_rule_fires_alone(change, rule):
    entries = [_hw(0, **change), _hw(1), _hw(2), _hw(3)]
    found = audit_catalog.audit(entries, today=dt.date(2026, 6, 1))
    assert [f.rule for f in found] == [rule]
    assert found[0].entry == "X0" and found[0].file == "fixture.toml" and "fix:" in found[0].line()


def test_precision_ratio_explained_by_a_note_passes():
    prov = dict(PROV, notes="fp8 runs at 3x bf16 on this part")
    assert _rules([_hw(0, peak_dense__fp8="300 TFLOP/s", provenance=prov)]) == []


def test_duplicate_display_name():
    a, b = _hw(0), _hw(1)
    b[2]["display_name"] = "fixture x0"
    assert _rules([a, b]) == ["display-name"]


class _Model:
    parameter_count = 1.01e9
    active_parameter_count = 1.01e9


def test_parameter_count_off_by_more_than_half_a_percent():
    raw = {"name": "M", "provenance": PROV, "published_parameters": 1.0e9}
    assert _rules([("models", "m.toml", raw, _Model())]) == ["parameter-count"]
    raw["published_parameters"] = 1.006e9
    assert _rules([("models", "m.toml", raw, _Model())]) == []


def test_allow_list_needs_reason_and_stale_entries_fail(tmp_path):
    bad = tmp_path / "allow.toml"
    bad.write_text('[[allow]]\nrule = "unit-prefix"\nentry = "X"\nfield = "memory.bandwidth"\n')
    with pytest.raises(SystemExit):
        audit_catalog.load_allow(bad)
    stale = tmp_path / "stale.toml"
    stale.write_text('[[allow]]\nrule = "unit-prefix"\nentry = "NoSuch"\nfield = "memory.bandwidth"\nreason = "x"\n')
    assert audit_catalog.main(["--allow", str(stale)]) == 1


def test_user_catalog_dir_is_audited(tmp_path, capsys):
    import tomllib
    shipped = tomllib.loads((ROOT / "catalog" / "hardware" / "nvidia.toml").read_text())
    entry = dict(shipped["hardware"][0], name="MyH100Copy")
    entry.pop("aliases", None)
    import json
    lines = ["schema_version = 1", "", "[[hardware]]"]
    for k, v in entry.items():
        lines.append(f"{k} = {_toml(v)}")
    (tmp_path / "hardware").mkdir()
    (tmp_path / "hardware" / "mine.toml").write_text("\n".join(lines) + "\n")
    rc = audit_catalog.main(["--catalog", str(tmp_path)])
    out = capsys.readouterr().out
    assert rc == 1 and "MyH100Copy: display_name: [display-name]" in out, out


def _toml(v):
    import json
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_toml(x)}" for k, x in v.items()) + " }"
    if isinstance(v, list):
        return "[" + ", ".join(_toml(x) for x in v) + "]"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    return json.dumps(v)
