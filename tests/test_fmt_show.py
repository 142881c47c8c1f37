"""mlsysim.fmt and mlsysim.show: 0.1.x's text helpers. Numbers round as printed, never hide a non-zero figure,
units convert (or refuse), LaTeX and Unicode forms agree, tables align."""
from __future__ import annotations

import contextlib
import io

import pytest

import mlsysim
from mlsysim import fmt as F
from mlsysim import show
from mlsysim.errors import InvalidInputError, InvalidTypeError

u = mlsysim.ureg


def test_fmt_converts_then_rounds_with_separators():
    bw = u("3.35 TB/s")
    assert F.fmt(bw, "GB/s", precision=0) == "3,350"
    assert F.fmt(bw, "GB/s", precision=0, commas=False) == "3350"
    assert F.fmt(bw, precision=2) == "3.35"  # no unit: the quantity's own
    assert F.fmt(1234.5678, precision=2) == "1,234.57"  # a plain number is taken as already in `unit`
    assert F.fmt(1234.5678, "ms", precision=0) == "1,235"


def test_fmt_refuses_to_print_a_nonzero_value_as_zero():
    with pytest.raises(InvalidInputError, match="precision"):
        F.fmt(u("0.4 ms"), "s", precision=3)
    assert F.fmt(u("0.4 ms"), "s", precision=4) == "0.0004"
    assert F.fmt(0.0004, precision=1, allow_zero=True) == "0.0"
    assert F.fmt(0.0, precision=1) == "0.0"


def test_fmt_refuses_nan_wrong_dimension_and_non_numbers():
    with pytest.raises(InvalidInputError, match="NaN"):
        F.fmt(float("nan"))
    with pytest.raises(InvalidInputError, match="cannot be expressed"):
        F.fmt(u("3 ms"), "GB")
    with pytest.raises(InvalidTypeError):
        F.fmt("fast")
    with pytest.raises(InvalidInputError, match="precision"):
        F.fmt(1.0, precision=-1)
    assert F.fmt(float("inf")) == "inf"  # an unstable queue's wait is infinite, and prints so


def test_fmt_full_and_split_keep_number_and_unit_together():
    assert F.fmt_full(u("2039 GB/s"), precision=0) == "2,039 GB/s"
    assert F.fmt_split(u("2039 GB/s"), precision=0) == ("2,039", "GB/s")
    assert F.fmt_split(u("80 GiB"), precision=0) == ("80", "GiB")
    with pytest.raises(InvalidTypeError, match="fmt\\(\\)"):
        F.fmt_full(2039.0)


def test_percent_cancels_units_before_scaling():
    assert F.fmt_percent(0.4213) == "42.1"
    assert F.fmt_percent(u("200 TFLOPs/s") / u("1 PFLOPs/s")) == "20.0"  # not 200/1 = 20000 %
    d = F.display_percent(u("3 ms") / u("12 ms"))
    assert d["value"] == pytest.approx(0.25) and d["str"] == "25" and str(d["math"]) == "$25\\%$"
    with pytest.raises(InvalidInputError):
        F.fmt_percent(u("3 ms"))


@pytest.mark.parametrize("value,text,latex", [
    (4.1e9, "4.10 × 10⁹", "4.10 \\times 10^{9}"), (2.5e-7, "2.50 × 10⁻⁷", "2.50 \\times 10^{-7}"),
    (1.0, "1.00 × 10⁰", "1.00 \\times 10^{0}"), (-3.2e12, "-3.20 × 10¹²", "-3.20 \\times 10^{12}"),
])
def test_scientific_forms_agree(value, text, latex):
    assert F.sci(value) == text and F.sci_latex(value) == latex
    assert str(F.md_sci(value)) == f"${latex}$"
    mantissa, exponent = F.sci_latex(value).split(" \\times 10^")
    assert float(mantissa) * 10 ** int(exponent.strip("{}")) == pytest.approx(value, rel=0.01)


def test_markdown_renders_in_a_notebook_and_prints_as_text():
    m = F.md_frac("a", "b", result="0.5", unit="s")
    assert isinstance(m, str) and m == "$\\frac{a}{b}$ = 0.5 s" and m._repr_markdown_() == m and m.data == m
    assert F.md_math("x^2") == "$x^2$" and F.md("**bold**") == "**bold**"


def test_display_fraction_reduces_units():
    d = F.display_fraction(u("1 TB"), u("2 GB/s"))
    assert d["value"].to("s").magnitude == pytest.approx(500.0) and d["str"] == "5e+02"
    assert "\\frac{1.00 \\times 10^{0}}{2.00 \\times 10^{0}}" in d["frac"]
    assert F.display_fraction(3, 4)["str"] == "0.75"
    with pytest.raises(InvalidInputError, match="zero"):
        F.display_fraction(1, 0)
    assert F.display_value(u("3.35 TB/s"), "GB/s") == {"value": u("3.35 TB/s"), "str": "3,350.0"}


def test_check_stops_a_broken_narrative():
    F.check(mlsysim.Hardware.H100.memory.bandwidth > mlsysim.Hardware.A100.memory.bandwidth, "H100 is faster")
    with pytest.raises(F.NarrativeError, match="A100 beats H100") as err:
        F.check(False, "A100 beats H100")
    assert isinstance(err.value, ValueError)


def test_auto_picks_the_unit_of_the_magnitude():
    assert F.auto(u("0.006386 s")) == "6.386 ms" and F.auto(u("17.4e9 B")) == "16.21 GiB"


def _printed(fn, *args, **kwargs) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert fn(*args, **kwargs) is None
    return out.getvalue()


def test_info_aligns_labels_and_formats_by_magnitude():
    text = _printed(show.info, "Decode", Time_per_token=u("0.006386 s"), Weights=u("16.06e9 B"), MFU=0.00254,
                    Requests=1200000, Bound="Memory")
    lines = text.splitlines()
    assert lines[0].startswith("── Decode ") and set(lines[0][len("── Decode "):]) == {"─"}
    values = [line.split(":", 1)[1] for line in lines[1:]]
    assert len({len(line) - len(line.split(":", 1)[1].lstrip()) for line in lines[1:]}) == 1  # one column
    assert "Time per token:" in text and [v.strip() for v in values] == [
        "6.386 ms", "14.96 GiB", "0.00254", "1,200,000", "Memory"]
    assert _printed(show.info) == ""


def test_table_aligns_columns():
    text = _printed(show.table, ["GPU", "BW", "Note"], [["H100", u("3.35e12 B/s"), "hbm3"], ["A100", 2.0e12]])
    head, rule, *rows = text.splitlines()
    assert set(rule) == {"─"} and len(rule) == len(head)
    assert all(len(r) == len(head) for r in rows)
    assert rows[0].startswith("H100 ") and rows[0].split()[1:] == ["3.35", "TB/s", "hbm3"]
    assert rows[1].split() == ["A100", "2,000,000,000,000"]  # short row padded, numbers right-aligned
    centred = _printed(show.table, ["a", "bbbbb"], [["x", "y"]], alignments="<^").splitlines()[2]
    assert centred == "x    y  "


def test_table_refuses_malformed_input():
    with pytest.raises(InvalidInputError, match="cells for 2 columns"):
        show.table(["a", "b"], [[1, 2, 3]])
    with pytest.raises(InvalidInputError, match="alignments"):
        show.table(["a", "b"], [[1, 2]], alignments="<|")
    with pytest.raises(InvalidTypeError):
        show.table("ab", [[1, 2]])


def test_banner():
    assert _printed(show.banner, "Node (Walls 1-4)") == "\n=== Node (Walls 1-4) ===\n"
