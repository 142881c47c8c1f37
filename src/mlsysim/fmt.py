"""Numbers for prose, tables and LaTeX: the 0.1.x ``mlsysim.fmt`` helpers, same names and call shapes.

Text helpers return ``str``; the ``md*`` helpers return :class:`Markdown`, a ``str`` that notebooks render as
Markdown (no IPython needed). A non-zero figure that would print as zero at the asked precision is refused
(:class:`mlsysim.errors.InvalidInputError`, a ``ValueError``), as is NaN; infinity prints as ``inf``.
:func:`auto` prints a quantity in the unit that suits its magnitude (``6.386 ms``, ``14.96 GiB``).
"""
from __future__ import annotations

import math
from typing import Any

from .errors import InvalidInputError, InvalidTypeError, MlsysimError

__all__ = ["fmt", "fmt_full", "fmt_split", "fmt_percent", "auto", "sci", "sci_latex", "display_value",
           "display_percent", "display_fraction", "md", "md_math", "md_frac", "md_sci", "check", "Markdown",
           "NarrativeError"]

# Unicode superscripts for the exponent of sci() (U+2070 block; 1-3 live in Latin-1).
_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
# Below this magnitude a value is taken as exactly zero by the rounding guard (float noise of a difference).
_ZERO_EPSILON = 1e-12


class NarrativeError(MlsysimError, ValueError):
    """A figure no longer supports the sentence written around it (raised by :func:`check`)."""


class Markdown(str):
    """Markdown/LaTeX text: a ``str`` (prints as itself) that Jupyter renders as Markdown."""

    @property
    def data(self) -> str:  # the attribute IPython.display.Markdown offers
        return str(self)

    def _repr_markdown_(self) -> str:
        return str(self)


def _is_quantity(value: Any) -> bool:
    return hasattr(value, "units") and hasattr(value, "magnitude")


def _magnitude(value: Any, name: str) -> float:
    """A real number from a number or a quantity (its magnitude in its own unit)."""
    raw = value.magnitude if _is_quantity(value) else value
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        try:
            raw = float(raw)  # numpy scalars and Decimals
        except (TypeError, ValueError):
            raise InvalidTypeError(f"{name} must be a number or a pint Quantity, got {value!r}") from None
    if math.isnan(raw):
        raise InvalidInputError(f"{name} is NaN: there is no figure to print")
    return float(raw)


def _in_unit(quantity: Any, unit: str, name: str) -> Any:
    try:
        return quantity.to(unit)
    except Exception:  # pint's DimensionalityError / UndefinedUnitError
        raise InvalidInputError(f"{name} {quantity!r} cannot be expressed in {unit!r}") from None


def _fixed(value: float, precision: int, commas: bool, allow_zero: bool = False) -> str:
    """`value` with `precision` decimals; refuses to print a non-zero value as 0 (it would hide it)."""
    if isinstance(precision, bool) or not isinstance(precision, int) or precision < 0:
        raise InvalidInputError(f"precision must be a whole number of decimals >= 0, got {precision!r}")
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    text = f"{value:{',' if commas else ''}.{precision}f}"
    if not allow_zero and abs(value) > _ZERO_EPSILON and float(text.replace(",", "")) == 0.0:
        raise InvalidInputError(f"{value!r} would print as {text!r} with precision={precision}, hiding it; "
                                f"raise precision, or pass allow_zero=True if zero is what the text means")
    return text


def fmt(quantity: Any, unit: str | None = None, precision: int = 1, commas: bool = True,
        allow_zero: bool = False) -> str:
    """The number only (no unit), in `unit` if given: ``fmt(hw.memory.bandwidth, "GB/s", 0)`` -> ``"3,350"``.

    A plain number is printed as it is (it is taken to be in `unit` already)."""
    if unit and _is_quantity(quantity):
        quantity = _in_unit(quantity, unit, "quantity")
    return _fixed(_magnitude(quantity, "quantity"), precision, commas, allow_zero)


def fmt_full(quantity: Any, precision: int = 1, commas: bool = True) -> str:
    """Number and unit in one string, the unit taken from the quantity: ``"3.4 TB/s"``."""
    if not _is_quantity(quantity):
        raise InvalidTypeError(f"fmt_full() needs a pint Quantity (it prints the unit), got "
                               f"{type(quantity).__name__}; use fmt() for a plain number")
    return f"{_fixed(_magnitude(quantity, 'quantity'), precision, commas)} {quantity.units:~P}"


def fmt_split(quantity: Any, precision: int = 1, commas: bool = True) -> tuple[str, str]:
    """``(number, unit)`` for a table with separate value and unit columns: ``("3.4", "TB/s")``."""
    number, _, unit = fmt_full(quantity, precision, commas).partition(" ")
    return number, unit


def _ratio(ratio: Any) -> float:
    if _is_quantity(ratio):
        ratio = _in_unit(ratio, "dimensionless", "ratio")  # flop/flop, s/s ... cancel before scaling
    return _magnitude(ratio, "ratio")


def fmt_percent(ratio: Any, precision: int = 1, commas: bool = False) -> str:
    """A fraction (0.42, or a dimensionless quantity) as a percentage number without the sign: ``"42.0"``."""
    return _fixed(_ratio(ratio) * 100.0, precision, commas)


def auto(quantity: Any, digits: int = 4) -> str:
    """A quantity in the unit that suits its magnitude (``6.386 ms``, ``14.96 GiB``, ``989.4 Tflop/s``)."""
    from .core.formatting import human

    return human(quantity, digits)


def _mantissa_exponent(val: Any, precision: int) -> tuple[str, int]:
    value = _magnitude(val, "value")
    if math.isinf(value):
        raise InvalidInputError("an infinite value has no scientific notation")
    mantissa, _, exponent = f"{value:.{precision}e}".partition("e")
    return mantissa, int(exponent)


def sci(val: Any, precision: int = 2) -> str:
    """Scientific notation in Unicode: ``sci(4.1e9)`` -> ``"4.10 × 10⁹"``."""
    mantissa, exponent = _mantissa_exponent(val, precision)
    return f"{mantissa} × 10{str(exponent).translate(_SUPERSCRIPT)}"


def sci_latex(val: Any, precision: int = 2) -> str:
    """Scientific notation in LaTeX: ``sci_latex(4.1e9)`` -> ``"4.10 \\times 10^{9}"``."""
    mantissa, exponent = _mantissa_exponent(val, precision)
    return f"{mantissa} \\times 10^{{{exponent}}}"


def md(latex_str: str) -> Markdown:
    """Text (usually LaTeX between dollar signs) that a notebook renders as Markdown."""
    return Markdown(latex_str)


def md_math(expression: str) -> Markdown:
    """An inline math expression: ``md_math("x^2")`` -> ``$x^2$``."""
    return Markdown(f"${expression}$")


def md_frac(numerator: Any, denominator: Any, result: Any = None, unit: str | None = None) -> Markdown:
    """``$\\frac{numerator}{denominator}$``, then `` = result`` and the unit when given."""
    text = f"$\\frac{{{numerator}}}{{{denominator}}}$"
    if result is not None:
        text += f" = {result}"
    if unit is not None:
        text += f" {unit}"
    return Markdown(text)


def md_sci(val: Any, precision: int = 2) -> Markdown:
    """:func:`sci_latex` as inline math."""
    return md_math(sci_latex(val, precision))


def display_value(value: Any, unit: str | None = None, precision: int = 1, commas: bool = True) -> dict:
    """``{"value": value, "str": fmt(value, unit, precision, commas)}``."""
    return {"value": value, "str": fmt(value, unit=unit, precision=precision, commas=commas)}


def display_percent(ratio: Any, precision: int = 0) -> dict:
    """A fraction as ``{"value": fraction, "str": "42", "math": $42\\%$}``."""
    fraction = _ratio(ratio)
    text = _fixed(fraction * 100.0, precision, commas=False, allow_zero=True)
    return {"value": fraction, "str": text, "math": md_math(f"{text}\\%")}


def display_fraction(numerator: Any, denominator: Any, result: str | None = None, unit: str | None = None,
                     precision: int = 2) -> dict:
    """A quotient as ``{"value": n/d, "str": result, "frac": $\\frac{n}{d}$ = result unit}``; `result`
    defaults to the quotient with `precision` significant digits."""
    if _magnitude(denominator, "denominator") == 0:
        raise InvalidInputError("denominator is zero: the fraction has no value")
    value = numerator / denominator
    if _is_quantity(value):
        value = value.to_reduced_units()  # TB/GB -> 1000, not "1 TB/GB"
    if result is None:
        result = f"{_magnitude(value, 'quotient'):.{precision}g}"
    frac = md_frac(sci_latex(numerator, precision), sci_latex(denominator, precision), result=result, unit=unit)
    return {"value": value, "str": result, "frac": frac}


def check(condition: Any, message: str) -> None:
    """Stop a notebook whose numbers no longer support its text (raises :class:`NarrativeError`)."""
    if not condition:
        raise NarrativeError(f"the text no longer holds: {message}")
