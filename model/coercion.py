"""Cell values to typed values: :func:`coerce` (one cell, one schema kind) and :func:`check_bounds`.

Numbers typed as text are understood in the usual forms and ``5%`` means 0.05 (what Excel stores
for a percent-formatted cell); a decimal comma, NaN, infinity, dates and Excel error values are
refused with a reason (raised as :class:`_Bad`, turned into a Problem by the caller).
"""
from __future__ import annotations

import math
import re
from typing import Any

from . import schema as S
from .workbook import is_date

class _Bad(Exception):
    pass


_TRUE = {"true", "yes", "y", "1", "t", "on"}
_FALSE = {"false", "no", "n", "0", "f", "off"}
#: Values Excel stores when a formula fails; they arrive as text and are never data.
EXCEL_ERRORS = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA",
                          "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!",
                          "#EXTERNAL!", "#PYTHON!"})
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?")
_DECIMAL_COMMA = re.compile(r"[+-]?\d*,\d+")
_NON_FINITE = {"nan", "+nan", "-nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity", "#num!"}
#: Whole numbers beyond this are refused in integer columns (exact in a float; no plan needs more).
MAX_INT = 2**53


def _parse_number_text(text: str, kind: str) -> float:
    """A number typed as text: ``1e-4``, ``1,000.5`` (thousands separators), ``5%`` (= 0.05)."""
    t = text.strip().replace("\u2212", "-").replace("\u00a0", "").replace("\u202f", "")
    scale = 1.0
    if t.endswith("%"):
        t, scale = t[:-1].strip(), 0.01
    if t.lower() in _NON_FINITE:
        raise _Bad(f"{text[:40]!r} is not a finite number; type a number")
    if _PLAIN_NUMBER.fullmatch(t):
        num = float(t)
    elif _THOUSANDS.fullmatch(t):
        num = float(t.replace(",", ""))
    elif _DECIMAL_COMMA.fullmatch(t):
        raise _Bad(f"text {text[:40]!r} where a {_kind_word(kind)} belongs; write the decimal point as '.', "
                   f"e.g. {t.replace(',', '.')}")
    else:
        raise _Bad(f"text {text[:40]!r} where a {_kind_word(kind)} belongs")
    if not math.isfinite(num):
        raise _Bad(f"{text[:40]!r} is too large a number")
    return num * scale


def coerce(value: Any, kind: str) -> Any:
    """Turn one cell into the column's type or raise _Bad with a planner-readable reason.

    Numbers may also be typed as text: surrounding spaces, exponents (``1e-4``), thousands
    separators (``1,000,000``) and percentages (``5%`` is 0.05) are understood; a decimal comma
    (``1,5``), NaN, infinity, dates, TRUE/FALSE and Excel error values (``#N/A``) are refused.
    Whole-number columns accept ``3`` and ``3.0`` but not ``1.5``. Blank (None) stays None.
    """
    if value is None:
        return None
    if is_date(value):
        raise _Bad(f"a date ({value}) where a {_kind_word(kind)} belongs; format the cell as a number"
                   + (" or as text" if kind == "text" else ""))
    if isinstance(value, str) and value.strip().upper() in EXCEL_ERRORS:
        raise _Bad(f"Excel error value {value.strip().upper()} (a formula failed); fix the formula or type the value")
    if kind == "text":
        if isinstance(value, bool):
            raise _Bad("TRUE/FALSE where text belongs")
        if isinstance(value, float):
            if not math.isfinite(value):
                raise _Bad(f"{value} is not a valid name")
            return str(int(value)) if value.is_integer() else repr(value)
        if isinstance(value, (int, str)):
            return str(value).strip()
        raise _Bad(f"{type(value).__name__} where text belongs")
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, (int, float)) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        shown = repr(value[:40]) if isinstance(value, str) else f"{value}"
        raise _Bad(f"{shown} is not true/false; write TRUE or FALSE")
    # numbers
    if isinstance(value, bool):
        raise _Bad(f"TRUE/FALSE where a {_kind_word(kind)} belongs")
    text = None
    if isinstance(value, str):
        text, value = value, _parse_number_text(value, kind)
    if not isinstance(value, (int, float)):
        raise _Bad(f"{type(value).__name__} where a {_kind_word(kind)} belongs")
    if isinstance(value, float) and not math.isfinite(value):
        what = "NaN (not a number)" if math.isnan(value) else "an infinite value"
        raise _Bad(f"{what} is not allowed; type a number")
    if kind == "int":
        if isinstance(value, float):
            if not value.is_integer():
                raise _Bad(f"{text.strip()[:40]!r} is not a whole number" if text is not None
                           else f"{value:g} is not a whole number")
        if abs(value) > MAX_INT:
            raise _Bad(f"{str(value)[:20]} is too large for a whole-number column")
        return int(value)
    try:
        return float(value)
    except OverflowError:
        raise _Bad(f"{str(value)[:20]}... is too large a number")


def _kind_word(kind: str) -> str:
    return {"int": "whole number", "float": "number", "bool": "true/false", "text": "text"}[kind]


def check_bounds(col: S.Column, v: Any) -> str | None:
    if v is None or col.kind in ("text", "bool"):
        return None
    low = (col.ge is not None and v < col.ge) or (col.gt is not None and v <= col.gt)
    high = (col.le is not None and v > col.le) or (col.lt is not None and v >= col.lt)
    if not (low or high):
        return None
    both = (col.ge is not None or col.gt is not None) and (col.le is not None or col.lt is not None)
    if both:  # name the side that is broken, then the whole range
        side = (f">= {col.ge:g}" if col.ge is not None else f"> {col.gt:g}") if low else \
               (f"<= {col.le:g}" if col.le is not None else f"< {col.lt:g}")
        return f"{v:g} is out of range: must be {side} ({col.bounds_text()})"
    return f"{v:g} is out of range: must be {col.bounds_text()}"
