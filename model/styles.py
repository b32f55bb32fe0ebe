"""The look of every workbook the tool writes: units, number formats, the table writer, print set-up.

One place decides how a column is shown, from its *unit* (:data:`model.output_schema.COLUMN_UNITS`,
keyed by column name beside the result tables' columns), so the results, comparison,
sweep and template workbooks format a number the same way:

* money in USD with thousands separators (``4,712,000,000``); on cover sheets in billions with one
  decimal (``4.7 bn``); prices per unit without spurious decimals (``15,000``);
* shares as percentages (``70.3%``); years as years (``2030``); modules as whole numbers;
* tonnes (and other material units) as whole numbers, GWh with one decimal.

Columns whose unit depends on the row (a quantity of cells in GWh next to one of cathode in t)
are marked :data:`ROW_UNIT`; the table carrying them has a ``unit`` column.

:func:`write_table` writes one table (header in row 1, bold and frozen, autofilter, widths from
the formatted text, long text wrapped) and :func:`print_setup` makes any sheet print landscape,
fitted to the page width, with the header row repeated and the sheet name and page in the footer.
:func:`write_cover` writes a sectioned ``key, value, unit, meaning`` cover sheet.
"""
from __future__ import annotations

import datetime as _dt
import math
import os
from decimal import Decimal
from typing import Any, Iterable, Mapping, Sequence

from . import xlsx_util
from .output_schema import COLUMN_UNITS, ROW_UNIT  # noqa: F401 - importable from here as before

# --------------------------------------------------------------------------- number formats
FMT_USD = "#,##0"
FMT_USD_BN = '#,##0.0,,," bn"'  # a USD value shown in billions (the cell keeps USD)
FMT_USD_MN = '#,##0.0,," mn"'
FMT_RATE = "#,##0"  # USD per t, per GWh, per module: no spurious cents
FMT_RATE_FINE = "#,##0.00"  # USD per kWh
FMT_SHARE = "0.0%"
FMT_PCT_CHANGE = "+0.0%;-0.0%;0.0%"
FMT_GWH = "#,##0.0"
FMT_QTY = "#,##0"  # tonnes and other material units
FMT_COUNT = "#,##0"
FMT_YEAR = "0"
FMT_SECONDS = "0.00"
FMT_INDEX = "0.000"
FMT_SIGNED_USD = "+#,##0;-#,##0;0"
FMT_SIGNED_QTY = "+#,##0.0;-#,##0.0;0"


#: Number format of each unit.
UNIT_FORMATS: dict[str, str] = {
    "USD": FMT_USD, "USD/yr": FMT_USD, "USD/module": FMT_USD, "USD/unit": FMT_RATE, "USD/t": FMT_RATE,
    "USD/GWh": FMT_RATE, "USD/kWh": FMT_RATE_FINE, "USD/percentage point": FMT_RATE,
    "share": FMT_SHARE, "%": FMT_SHARE, "change": FMT_PCT_CHANGE, "year": FMT_YEAR, "years": "0",
    "modules": FMT_COUNT, "count": FMT_COUNT, "flag": "0", "GWh": FMT_GWH, "GWh/yr": FMT_GWH, "t": FMT_QTY, "t/yr": FMT_QTY,
    "kt": FMT_GWH, "seconds": FMT_SECONDS, "index": FMT_INDEX, ROW_UNIT: FMT_QTY, "fraction": "0.00%",
}



def unit_of(column: str) -> str | None:
    """The unit of a column: :data:`COLUMN_UNITS`, else from its name; None when it says nothing."""
    n = str(column).strip()
    if n in COLUMN_UNITS:
        return COLUMN_UNITS[n]
    low = n.lower()
    if low in COLUMN_UNITS:
        return COLUMN_UNITS[low]
    if low.endswith(("_year", "_year_first")) or low.startswith("first_build_year") or low in ("years",):
        return "year"
    if "_usd_per_" in low or low.startswith("usd_per_"):
        per = low.split("usd_per_", 1)[1]
        return {"kwh": "USD/kWh", "module": "USD/module", "gwh": "USD/GWh", "t": "USD/t"}.get(per, "USD/unit")
    if low.endswith("_usd") or "_usd_" in low or low == "usd":
        return "USD"
    if low.endswith("_gwh") or "_gwh_" in low:
        return "GWh"
    if "share" in low or low.endswith(("_pct", "_fraction", "_rate")):
        return "share"
    if low.startswith("modules"):
        return "modules"
    if low.startswith(("imports_cells", "capacity_cells")):  # KPI columns: imported cells, cell capacity
        return "GWh"
    if low.startswith(("imports_", "exports_", "capacity_")):  # KPI columns of a material: in its unit
        return "units"
    if low.endswith("seconds"):
        return "seconds"
    return None


def format_of_unit(unit: str | None) -> str | None:
    if unit is None:
        return None
    if unit in UNIT_FORMATS:
        return UNIT_FORMATS[unit]
    if unit.startswith("USD/"):
        return FMT_RATE
    if unit.endswith("/yr") or unit in ("t", "kg", "units"):
        return FMT_QTY
    return None


def column_format(name: str) -> str | None:
    """Number format of a table column, from its unit (:func:`unit_of`); None leaves General."""
    return format_of_unit(unit_of(name))


def quantity_format(unit: str | None) -> str:
    """Format of a quantity in ``unit`` (a row's unit): GWh one decimal, USD rates and tonnes whole."""
    u = (unit or "").strip()
    if u.startswith("GWh"):
        return FMT_GWH
    if u.lower().endswith("kwh"):
        return FMT_RATE_FINE
    if u in ("share", "%"):
        return FMT_SHARE
    return FMT_QTY


# --------------------------------------------------------------------------- values
def plain(v: Any) -> Any:
    """A value openpyxl can store: None for NaN/NA, Python scalars, text for anything exotic."""
    if v is None or isinstance(v, (str, bool)):
        return v
    if hasattr(v, "item") and type(v).__module__ == "numpy":  # numpy scalar
        v = v.item()
        if isinstance(v, (str, bool)):
            return v
    if isinstance(v, float):
        if math.isnan(v):
            return None
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return v
    if isinstance(v, (int, Decimal)):
        return v
    try:
        import pandas as pd

        if v is pd.NA or v is pd.NaT:
            return None
        if isinstance(v, pd.Timestamp):
            v = v.to_pydatetime()
    except ImportError:  # pragma: no cover
        pass
    if isinstance(v, _dt.datetime):
        return v.replace(tzinfo=None) if v.tzinfo else v
    if isinstance(v, (_dt.date, _dt.time, _dt.timedelta)):
        return v
    if isinstance(v, os.PathLike):
        return os.fspath(v)
    return str(v)


def is_number(v: Any) -> bool:
    return isinstance(v, (int, float, Decimal)) and not isinstance(v, bool)


def text_width(v: Any, fmt: str | None) -> int:
    """Characters the value takes once formatted (for column widths)."""
    if v is None:
        return 0
    if isinstance(v, str):
        return max((len(x) for x in v.split("\n")), default=0)
    if is_number(v):
        try:
            x = float(v)
            if fmt is None:
                return min(len(repr(v)), 14)
            if fmt.endswith("%") or "%;" in fmt:
                return len(f"{x * 100:+.1f}%")
            if fmt == FMT_YEAR:
                return len(f"{x:.0f}")
            if fmt == FMT_USD_BN:
                return len(f"{x / 1e9:,.1f} bn")
            if fmt == FMT_USD_MN:
                return len(f"{x / 1e6:,.1f} mn")
            if fmt in (FMT_GWH, FMT_SIGNED_QTY):
                return len(f"{x:+,.1f}")
            if fmt in (FMT_RATE_FINE, FMT_SECONDS, "0.00"):
                return len(f"{x:,.2f}")
            if fmt == FMT_INDEX:
                return len(f"{x:.3f}")
            return len(f"{x:+,.0f}")
        except (OverflowError, ValueError):
            return 12
    if isinstance(v, (_dt.datetime, _dt.date)):
        return 12
    return len(str(v))


class Styles:
    """Style objects created once and shared by every cell (openpyxl keeps them in index lists)."""

    def __init__(self):
        from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

        self.bold = Font(bold=True)
        self.title = Font(bold=True, size=14)
        self.subtitle = Font(bold=True, size=11)
        self.section = Font(bold=True, size=12, color="1F3864")
        self.note = Font(italic=True, color="555555")
        self.alert = Font(bold=True, color="C00000")
        self.header_fill = PatternFill("solid", fgColor="DDEBF7")
        self.section_fill = PatternFill("solid", fgColor="F2F2F2")
        self.alert_fill = PatternFill("solid", fgColor="FDE9E7")
        self.base_fill = PatternFill("solid", fgColor="FFF2CC")
        self.wrap = Alignment(wrap_text=True, vertical="top")
        self.top = Alignment(vertical="top")
        self.unit = Alignment(vertical="top", indent=1)
        self.unit_cell = Alignment(horizontal="center")
        self.header = Alignment(wrap_text=True, vertical="bottom")
        self.section_rule = Border(bottom=Side(style="thin", color="1F3864"))


# --------------------------------------------------------------------------- page set-up
def print_setup(ws, *, header_rows: int | None = 1, landscape: bool = True) -> None:
    """Landscape, fit to one page wide, header row repeated on every page, sheet name and page in the footer."""
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # as many pages down as needed
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.gridLines = False
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    if header_rows:
        ws.print_title_rows = f"1:{header_rows}"
    ws.oddFooter.left.text = "&A"
    ws.oddFooter.right.text = "page &P of &N"
    ws.oddFooter.left.size = ws.oddFooter.right.size = 8
    ws.evenFooter.left.text = "&A"
    ws.evenFooter.right.text = "page &P of &N"


MAX_COL_WIDTH = 40
MAX_TEXT_WIDTH = 70
MAX_HEADER_WIDTH = 24  # a longer header wraps
PAGE_WIDTH_CHARS = 320  # characters of column width one landscape page shows at a readable size
MIN_COL_WIDTH = 6


def _set_widths(ws, widths: Sequence[int], caps: Sequence[int]) -> None:
    from openpyxl.utils import get_column_letter

    for i, (w, cap) in enumerate(zip(widths, caps), start=1):
        ws.column_dimensions[get_column_letter(i)].width = max(MIN_COL_WIDTH, min(cap, w + 2))


def write_table(ws, header: Sequence[Any], rows: Iterable[Sequence[Any]], st: Styles | None = None, *,
                formats: Any = "auto", notes: Mapping[str, str] | None = None, row_unit_col: str | None = "unit",
                first_row: int = 1, print_ready: bool = True) -> int:
    """Write a table on ``ws``: header at ``first_row`` (bold, frozen, autofilter), then the rows.

    ``formats`` is ``"auto"`` (number formats from the column units, :func:`column_format`; a column
    whose unit is :data:`ROW_UNIT` takes the format of the row's ``unit`` cell), ``None`` (none), or
    one entry per column: a number format, ``None``, or a callable ``row -> format``. Columns are
    fitted to their formatted text (text over :data:`MAX_TEXT_WIDTH` wraps); ``notes`` become header
    comments. Every value goes through :func:`xlsx_util.set_cell`. Returns the last row written.
    Shared by the report, the comparison, the sweep and the template workbooks.
    """
    from openpyxl.comments import Comment
    from openpyxl.utils import get_column_letter

    st = st or Styles()
    header = ["" if h is None else str(h) for h in header]
    ncol = len(header)
    unit_idx = header.index(row_unit_col) if row_unit_col and row_unit_col in header else None
    if formats == "auto":
        fmts: list[Any] = []
        for h in header:
            u = unit_of(h) if h else None
            if u == ROW_UNIT and unit_idx is not None:
                fmts.append(lambda row, _i=unit_idx: quantity_format(plain(row[_i]) if _i < len(row) else None))
            else:
                fmts.append(format_of_unit(u))
    elif formats is None:
        fmts = [None] * ncol
    else:
        fmts = list(formats)[:ncol] + [None] * max(0, ncol - len(formats))
    # + room for the filter button; long names wrap in the header row instead of widening the column
    widths = [min(len(h) + 3, MAX_HEADER_WIDTH) for h in header]
    caps = [MAX_COL_WIDTH] * ncol
    has_long = [False] * ncol
    tall: dict[int, int] = {}  # row -> lines of its longest wrapped text
    for c, h in enumerate(header, start=1):
        cell = ws.cell(row=first_row, column=c)
        xlsx_util.set_cell(cell, h if h else None)
        cell.font = st.bold
        cell.fill = st.header_fill
        cell.alignment = st.header
        if notes and h in notes:
            cm = Comment(notes[h], "battery-plan")
            cm.width, cm.height = 260, 80
            cell.comment = cm
    last = first_row
    for r, row in enumerate(rows, start=first_row + 1):
        last = r
        for c, v in enumerate(row, start=1):
            v = plain(v)
            if v is None:
                continue
            cell = ws.cell(row=r, column=c)
            xlsx_util.set_cell(cell, v)
            i = c - 1
            if i == unit_idx:
                cell.alignment = st.unit_cell
            if i < ncol:
                f = fmts[i]
                if callable(f):
                    f = f(row)
                if f is not None and is_number(v):
                    cell.number_format = f
                w = text_width(v, f if is_number(v) else None)
                if isinstance(v, str) and w > MAX_COL_WIDTH:
                    has_long[i] = True
                    cell.alignment = st.wrap
                    tall[r] = max(tall.get(r, 1), _lines(v, MAX_TEXT_WIDTH))
                if w > widths[i]:
                    widths[i] = w
    for i in range(ncol):
        if has_long[i]:
            caps[i] = MAX_TEXT_WIDTH
    _set_widths(ws, widths, caps)
    final = [max(MIN_COL_WIDTH, min(cap, w + 2)) for w, cap in zip(widths, caps)]
    for r, n in tall.items():  # spreadsheet programs do not grow rows for wrapped text written by a program
        if n > 1:
            ws.row_dimensions[r].height = 13.5 * n + 2
    head_lines = max((_lines(h, w) for h, w in zip(header, final)), default=1)
    if head_lines > 1:
        ws.row_dimensions[first_row].height = 13.5 * head_lines + 2
    ws.freeze_panes = f"A{first_row + 1}"
    if ncol:
        ws.auto_filter.ref = f"A{first_row}:{get_column_letter(ncol)}{last}"
    if print_ready:
        print_setup(ws, header_rows=first_row)
        pages_wide = math.ceil(sum(final) / PAGE_WIDTH_CHARS)
        if pages_wide > 1:  # a very wide table: readable type over several pages, first column repeated
            ws.page_setup.fitToWidth = pages_wide
            ws.print_title_cols = "A:A"
    return last


# --------------------------------------------------------------------------- cover sheets
COVER_HEADER = ("key", "value", "unit", "meaning")
COVER_WIDTHS = (44, 40, 13, 72)


def _lines(v: Any, width: int) -> int:
    """Lines a wrapped text takes in a column ``width`` characters wide."""
    if not isinstance(v, str) or not v:
        return 1
    return sum(max(1, math.ceil(len(part) / max(1, width - 3))) for part in v.split("\n"))


def write_cover(ws, sections: Sequence[tuple[str, Sequence[Sequence[Any]]]], st: Styles | None = None, *,
                alerts: Sequence[tuple[str, str]] = ()) -> None:
    """A ``key, value, unit, meaning`` cover sheet in sections.

    ``sections`` is ``[(title, [(key, value, unit, meaning, fmt), ...]), ...]``; ``fmt`` may be
    omitted (then it comes from the unit). A section starts with a heading row whose ``key`` cell is
    blank (programs reading ``key``/``value`` skip it) and whose ``value`` cell holds the title.
    ``alerts`` (key, text) come first, in red: e.g. unmet demand. Header row frozen and repeated.
    """
    st = st or Styles()
    for c, h in enumerate(COVER_HEADER, start=1):
        cell = ws.cell(row=1, column=c)
        xlsx_util.set_cell(cell, h)
        cell.font = st.bold
        cell.fill = st.header_fill
    r = 2
    kw, vw = 10, 14
    for key, text in alerts:
        xlsx_util.set_cell(ws.cell(row=r, column=1), key)
        ws.cell(row=r, column=1).alignment = st.top
        vc = ws.cell(row=r, column=2)
        xlsx_util.set_cell(vc, text)
        for c in range(1, 5):
            ws.cell(row=r, column=c).fill = st.alert_fill
            ws.cell(row=r, column=c).font = st.alert
        vc.alignment = st.wrap
        ws.row_dimensions[r].height = 13.5 * max(2, _lines(text, COVER_WIDTHS[1])) + 2
        kw = max(kw, len(key))
        r += 1
    for title, rows in sections:
        if not rows:
            continue
        if r > 2:
            r += 1  # a blank line between sections
        tc = ws.cell(row=r, column=2)
        xlsx_util.set_cell(tc, title)
        for c in range(1, 5):
            ws.cell(row=r, column=c).fill = st.section_fill
            ws.cell(row=r, column=c).font = st.section
            ws.cell(row=r, column=c).border = st.section_rule
        r += 1
        for row in rows:
            key, value, unit, meaning = (list(row) + [None] * 4)[:4]
            fmt = row[4] if len(row) > 4 else (FMT_USD_BN if unit == "USD" else format_of_unit(unit))
            value = plain(value)
            kc = ws.cell(row=r, column=1)
            xlsx_util.set_cell(kc, key)
            kc.alignment = st.top
            vc = ws.cell(row=r, column=2)
            xlsx_util.set_cell(vc, value)
            if is_number(value) and fmt:
                vc.number_format = fmt
            if isinstance(value, str):
                vc.alignment = st.wrap
            else:
                vc.alignment = st.top
            if unit:
                uc = ws.cell(row=r, column=3)
                xlsx_util.set_cell(uc, unit)
                uc.alignment = st.unit
            if meaning:
                mc = ws.cell(row=r, column=4)
                xlsx_util.set_cell(mc, meaning)
                mc.alignment = st.wrap
                mc.font = st.note
            lines = max(_lines(meaning, COVER_WIDTHS[3]), _lines(value, COVER_WIDTHS[1]))
            if lines > 1:  # spreadsheet programs do not grow rows for wrapped text written by a program
                ws.row_dimensions[r].height = 13.5 * lines + 2
            kw = max(kw, len(str(key)))
            vw = max(vw, min(40, text_width(value, fmt if is_number(value) else None)))
            r += 1
    ws.column_dimensions["A"].width = min(COVER_WIDTHS[0], kw + 2)
    ws.column_dimensions["B"].width = COVER_WIDTHS[1]
    ws.column_dimensions["C"].width = COVER_WIDTHS[2]
    ws.column_dimensions["D"].width = COVER_WIDTHS[3]
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:D{max(2, r - 1)}"
    print_setup(ws)
