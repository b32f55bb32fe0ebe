"""The output workbook (interface.md, "Output workbook"), written atomically.

Sheets, in order:

1. ``summary``: a ``key``, ``value`` table: :attr:`Results.summary` (nested mappings flattened to
   ``parent.child`` keys, lists joined with ``"; "``), ``timings.<phase>`` when the summary has no
   timings of its own, then ``note_1``, ``note_2`` ... for :attr:`Results.notes` and the report's
   own notes.
2. ``charts``: native Excel charts; the numbers each chart plots are in a table to its right.
3. One sheet per result table, the core ones in :data:`TABLE_COLUMNS` order, then any others in
   the order of :attr:`Results.tables`. Header text = the DataFrame's column names exactly.
4. The input sheets as solved (``Results.case.raw``), same names, headers and rows, so the output
   can be read again as an input. An input sheet whose name is taken by a result sheet (the core
   input sheets ``demand`` and ``local_content`` always are) is written as ``input_<name>`` and
   listed in the summary row ``input_sheets_renamed``; :func:`inputs_from_report` undoes that when
   a report is read back as a case.

Every string goes through :func:`xlsx_util.set_cell`, so text that starts with ``=`` is stored as
text, never as a live formula.
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import math
import os
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from . import xlsx_util
from .results import TABLE_COLUMNS, Results
from .workbook import RawSheet, RawWorkbook, normalise

SUMMARY_SHEET = "summary"
CHARTS_SHEET = "charts"
#: Prefix of an input sheet whose own name is taken by a result sheet.
INPUT_COPY_PREFIX = "input_"
MAX_SHEET_NAME = 31
MAX_COL_WIDTH = 40
MIN_COL_WIDTH = 6

FMT_USD = "#,##0"
FMT_USD_RATE = "#,##0.00"
FMT_SHARE = "0.0%"
FMT_QTY = "#,##0.00"
FMT_COUNT = "#,##0"
FMT_YEAR = "0"

#: Unit notes shown as comments on the header cells of result tables (the header text stays the column name).
COLUMN_NOTES = {
    "year": "calendar year",
    "modules_built": "modules that come online in this year",
    "modules_in_service": "modules in service in this year (built, not yet retired)",
    "capacity": "capacity available in this year: GWh/yr for cells, the material's unit per year otherwise "
                "(see input sheet materials)",
    "quantity": "GWh for cells, the material's unit otherwise (see input sheet materials)",
    "utilisation": "production / capacity",
    "chemistry": "cell chemistry; blank for material plants",
    "source_kind": "local (a facility's production), import, or export; local + import - export = consumption",
    "source": "facility (local) or origin (import)",
    "demand_gwh": "cell demand, GWh",
    "met_gwh": "cell demand met, GWh",
    "unmet_gwh": "cell demand not met, GWh",
    "undiscounted_usd": "USD (real) in this year",
    "discounted_usd": "USD discounted to base_year; the column sums to objective_npv_usd",
    "capex_usd": "USD (real): each module's lump-sum capex spread over its lead time",
    "local_value_share": "local production less exports, valued at reference prices, over consumption",
    "target": "min_local_value_share of the input (blank = no target)",
}


# --------------------------------------------------------------------------- values and formats
def _plain(v: Any) -> Any:
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


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float, Decimal)) and not isinstance(v, bool)


def column_format(name: str) -> str | None:
    """Number format of a result column, from its name."""
    n = str(name).strip().lower()
    if n in ("year", "years") or n.endswith("_year"):
        return FMT_YEAR
    if "usd_per" in n:
        return FMT_USD_RATE
    if "usd" in n:
        return FMT_USD
    if "share" in n or "utilisation" in n or "utilization" in n or n == "target" or n.endswith(("_pct", "_fraction")):
        return FMT_SHARE
    if n.startswith("modules"):
        return FMT_COUNT
    return FMT_QTY


def _text_width(v: Any, fmt: str | None) -> int:
    if v is None:
        return 0
    if isinstance(v, str):
        return len(v)
    if _is_number(v):
        try:
            if fmt and fmt.endswith("%"):
                return len(f"{float(v) * 100:.1f}%")
            if fmt == FMT_YEAR:
                return len(f"{float(v):.0f}")
            if fmt in (FMT_USD, FMT_COUNT):
                return len(f"{float(v):,.0f}")
            if fmt in (FMT_QTY, FMT_USD_RATE):
                return len(f"{float(v):,.2f}")
            return min(len(repr(v)), 12)
        except (OverflowError, ValueError):
            return 12
    if isinstance(v, (_dt.datetime, _dt.date)):
        return 12
    return len(str(v))


class _Styles:
    """Style objects created once and shared by every cell (openpyxl keeps them in index lists)."""

    def __init__(self):
        from openpyxl.styles import Alignment, Font, PatternFill

        self.bold = Font(bold=True)
        self.title = Font(bold=True, size=14)
        self.subtitle = Font(bold=True, size=11)
        self.note = Font(italic=True, color="555555")
        self.header_fill = PatternFill("solid", fgColor="DDEBF7")
        self.wrap = Alignment(wrap_text=True, vertical="top")
        self.top = Alignment(vertical="top")


def _set_widths(ws, widths: Sequence[int], cap: int = MAX_COL_WIDTH) -> None:
    from openpyxl.utils import get_column_letter

    for i, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = max(MIN_COL_WIDTH, min(cap, w + 2))


def write_table(ws, header: Sequence[Any], rows: Iterable[Sequence[Any]], st: _Styles | None = None, *,
                formats: Any = "auto", notes: Mapping[str, str] | None = None) -> int:
    """Write a table on ``ws``: header at row 1 (bold, frozen, autofilter), then the rows.

    ``formats`` is ``"auto"`` (number formats from the column names, :func:`column_format`),
    ``None`` (none), or one entry per column: a number format, ``None``, or a callable
    ``row -> format``. Columns are fitted to their text; ``notes`` become header comments.
    Every value goes through :func:`xlsx_util.set_cell`. Returns the last row written.
    Shared by the report, the comparison and the sweep workbooks.
    """
    from openpyxl.comments import Comment
    from openpyxl.utils import get_column_letter

    st = st or _Styles()
    header = ["" if h is None else str(h) for h in header]
    ncol = len(header)
    if formats == "auto":
        fmts = [column_format(h) if h else None for h in header]
    elif formats is None:
        fmts = [None] * ncol
    else:
        fmts = list(formats)[:ncol] + [None] * max(0, ncol - len(formats))
    widths = [len(h) + 2 for h in header]  # + room for the filter button
    for c, h in enumerate(header, start=1):
        cell = ws.cell(row=1, column=c)
        xlsx_util.set_cell(cell, h if h else None)
        cell.font = st.bold
        cell.fill = st.header_fill
        if notes and h in notes:
            cm = Comment(notes[h], "battery-plan")
            cm.width, cm.height = 260, 80
            cell.comment = cm
    last = 1
    for r, row in enumerate(rows, start=2):
        last = r
        for c, v in enumerate(row, start=1):
            v = _plain(v)
            if v is None:
                continue
            cell = ws.cell(row=r, column=c)
            xlsx_util.set_cell(cell, v)
            i = c - 1
            if i < ncol:
                f = fmts[i]
                if callable(f):
                    f = f(row)
                if f is not None and _is_number(v):
                    cell.number_format = f
                w = _text_width(v, f)
                if w > widths[i]:
                    widths[i] = w
    _set_widths(ws, widths)
    ws.freeze_panes = "A2"
    if ncol:
        ws.auto_filter.ref = f"A1:{get_column_letter(ncol)}{last}"
    return last


# --------------------------------------------------------------------------- summary
def _flatten(key: str, value: Any, out: list[tuple[str, Any]]) -> None:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        if not value:
            out.append((key, None))
        for k, v in value.items():
            _flatten(f"{key}.{k}", v, out)
        return
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_plain(v) for v in value]
        out.append((key, "; ".join("" if v is None else str(v) for v in items) if items else None))
        return
    out.append((key, _plain(value)))


def summary_rows(results: Results, extra_notes: Sequence[str] = (),
                 renamed: Sequence[tuple[str, str]] = ()) -> list[tuple[str, Any]]:
    """The key/value rows of the summary sheet."""
    rows: list[tuple[str, Any]] = []
    for k, v in (results.summary or {}).items():
        _flatten(str(k), v, rows)
    if results.timings and not any(k == "timings" or k.startswith(("timings.", "seconds_")) for k, _ in rows):
        for phase, sec in results.timings.items():
            rows.append((f"timings.{phase}", _plain(sec)))
    if renamed:
        rows = [r for r in rows if r[0] != RENAMED_KEY]
        rows.append((RENAMED_KEY, "; ".join(f"{a} -> {b}" for a, b in renamed)))
    for i, note in enumerate([*(results.notes or []), *extra_notes], start=1):
        rows.append((f"note_{i}", str(note)))
    return rows


def _summary_format(key: str, v: Any) -> str | None:
    if not _is_number(v):
        return None
    k = key.lower()
    if "usd" in k or "npv" in k or "objective" in k or k.endswith(".bound") or k == "bound":
        return FMT_USD
    if k.endswith("gap"):
        return "0.00%"
    if "seconds" in k or k.startswith("timings"):
        return "0.00"
    if isinstance(v, float) and abs(v) >= 1000:
        return FMT_USD
    return None


def _write_summary(ws, rows: list[tuple[str, Any]], st: _Styles) -> None:
    for c, h in enumerate(("key", "value"), start=1):
        cell = ws.cell(row=1, column=c)
        xlsx_util.set_cell(cell, h)
        cell.font = st.bold
        cell.fill = st.header_fill
    kw, vw = 8, 12
    for r, (k, v) in enumerate(rows, start=2):
        kc = ws.cell(row=r, column=1)
        xlsx_util.set_cell(kc, k)
        kc.alignment = st.top
        vc = ws.cell(row=r, column=2)
        xlsx_util.set_cell(vc, v)
        fmt = _summary_format(k, v)
        if fmt:
            vc.number_format = fmt
        if isinstance(v, str) and len(v) > 70:
            vc.alignment = st.wrap
        kw = max(kw, len(k))
        vw = max(vw, _text_width(v, fmt))
    ws.column_dimensions["A"].width = min(45, kw + 2)
    ws.column_dimensions["B"].width = min(80, vw + 2)
    ws.freeze_panes = "A2"


# --------------------------------------------------------------------------- sheet names
_BAD_TITLE_CHARS = str.maketrans({c: "_" for c in "[]:*?/\\"})


def _sheet_title(name: str) -> str:
    t = str(name).translate(_BAD_TITLE_CHARS).strip().strip("'")[:MAX_SHEET_NAME]
    return t or "table"


#: Summary key listing input sheets echoed under another name: ``demand -> input_demand; ...``.
RENAMED_KEY = "input_sheets_renamed"


@dataclasses.dataclass
class _Plan:
    tables: list[tuple[str, str]]  # (table key, sheet title)
    inputs: list[tuple[RawSheet, str]]  # (raw sheet, sheet title)
    renamed: list[tuple[str, str]]  # (input sheet name, sheet title) for inputs not under their own name
    notes: list[str]


def _plan(results: Results) -> _Plan:
    used = {normalise(SUMMARY_SHEET), normalise(CHARTS_SHEET)}
    notes: list[str] = []
    tables: list[tuple[str, str]] = []
    names = list(TABLE_COLUMNS) + [k for k in (results.tables or {}) if k not in TABLE_COLUMNS]
    for key in names:
        title = _sheet_title(key)
        if normalise(title) in used:
            base, i = title[: MAX_SHEET_NAME - 3], 2
            while normalise(f"{base}_{i}") in used:
                i += 1
            notes.append(f"result table '{key}' is on sheet '{base}_{i}' (its own name is taken)")
            title = f"{base}_{i}"
        elif title != key:
            notes.append(f"result table '{key}' is on sheet '{title}' (Excel sheet names allow 31 characters, "
                         "no []:*?/\\)")
        used.add(normalise(title))
        tables.append((key, title))

    inputs: list[tuple[RawSheet, str]] = []
    renamed: list[tuple[str, str]] = []
    raw = getattr(results.case, "raw", None) if results.case is not None else None
    if raw is not None:
        raw_names = {normalise(s.name) for s in raw.sheets.values()}
        for sh in raw.sheets.values():
            title = sh.name
            if normalise(title) in used:
                alt = INPUT_COPY_PREFIX + sh.name
                if len(alt) <= MAX_SHEET_NAME and normalise(alt) not in used and normalise(alt) not in raw_names:
                    renamed.append((sh.name, alt))
                    title = alt
                else:
                    notes.append(f"input sheet '{sh.name}' is not echoed: a result sheet has its name")
                    continue
            used.add(normalise(title))
            inputs.append((sh, title))
    return _Plan(tables, inputs, renamed, notes)


# --------------------------------------------------------------------------- charts
_DATA_COL = 14  # column N: chart data tables start here, right of the charts
_BLOCK_ROWS = 20  # rows per chart block
_CHART_W, _CHART_H = 19.0, 9.0  # cm


def _write_charts(ws, results: Results, st: _Styles) -> int:
    """Native charts with their data tables to the right; returns the number of charts."""
    from openpyxl.chart import BarChart, LineChart, Reference

    from .figures import chart_data

    cd = chart_data(results)
    years = cd.years
    cell = ws.cell(row=1, column=1)
    xlsx_util.set_cell(cell, "Charts of the plan")
    cell.font = st.title
    status = results.summary.get("status") if results.summary else None
    status = status or getattr(results.solve, "status", None)
    if not years or not cd.has_data:
        xlsx_util.set_cell(ws.cell(row=2, column=1), f"No plan to chart (status: {status or 'unknown'}).")
        ws.cell(row=2, column=1).font = st.note
        return 0
    xlsx_util.set_cell(ws.cell(row=2, column=1),
                       "The numbers behind each chart are in the table to its right (from column N).")
    ws.cell(row=2, column=1).font = st.note
    ny = len(years)
    top = 4
    count = 0
    dc = _DATA_COL

    def block(title: str, series: list[tuple[str, Sequence[Any]]], fmt: str, first_label: str):
        """Write a data table (series as rows, years across) at the current block; return row numbers."""
        t = ws.cell(row=top, column=dc)
        xlsx_util.set_cell(t, title)
        t.font = st.subtitle
        hdr = top + 1
        h = ws.cell(row=hdr, column=dc)
        xlsx_util.set_cell(h, first_label)
        h.font = st.bold
        for j, y in enumerate(years, start=1):
            c = ws.cell(row=hdr, column=dc + j)
            c.value = int(y)
            c.font = st.bold
        rows = []
        for i, (name, vals) in enumerate(series, start=1):
            r = hdr + i
            xlsx_util.set_cell(ws.cell(row=r, column=dc), str(name))
            for j, v in enumerate(vals, start=1):
                v = _plain(v)
                if v is None:
                    continue
                c = ws.cell(row=r, column=dc + j)
                xlsx_util.set_cell(c, v)
                if _is_number(v):
                    c.number_format = fmt
            rows.append(r)
        return hdr, rows

    def style(chart, title: str, y_title: str, y_fmt: str | None = None):
        chart.title = title
        chart.y_axis.title = y_title
        chart.x_axis.title = "year"
        chart.width, chart.height = _CHART_W, _CHART_H
        chart.legend.position = "b"
        # openpyxl 3.1 marks axes as deleted unless told otherwise: Excel would hide them
        chart.x_axis.delete = False
        chart.y_axis.delete = False
        if y_fmt:
            chart.y_axis.number_format = y_fmt  # NumFmt(sourceLinked=False)

    def ref_rows(r1: int, r2: int):
        return Reference(ws, min_col=dc, max_col=dc + ny, min_row=r1, max_row=r2)

    def cats(hdr: int):
        return Reference(ws, min_col=dc + 1, max_col=dc + ny, min_row=hdr, max_row=hdr)

    def line_style(chart, colors: Sequence[str | None] = (), width: int = 22225, dash: str | None = None):
        for i, ser in enumerate(chart.series):
            ser.smooth = False  # Excel smooths lines unless told not to
            ln = ser.graphicalProperties.line
            ln.width = width
            if i < len(colors) and colors[i]:
                ln.solidFill = colors[i]
            if dash:
                ln.dashStyle = dash

    def fill(chart, colors: Sequence[str]):
        for ser, col in zip(chart.series, colors):
            ser.graphicalProperties.solidFill = col
            ser.graphicalProperties.line.solidFill = col

    def stacked_bar():
        b = BarChart()
        b.type = "col"
        b.grouping = "stacked"
        b.overlap = 100
        b.gapWidth = 60
        return b

    def place(chart):
        nonlocal count
        ws.add_chart(chart, f"A{top}")
        count += 1

    def next_block(n_rows: int):
        nonlocal top
        top += max(_BLOCK_ROWS, n_rows + 4)

    # (a) cells: capacity by plant (stacked) and demand (line)
    series = [(f, cd.cell_capacity.loc[f].tolist()) for f in cd.cell_capacity.index]
    series.append(("cell demand (GWh)", cd.cell_demand.tolist()))
    unmet = (cd.cell_demand - cd.cell_met).abs().max() > 1e-6
    if unmet:
        series.append(("demand met (GWh)", cd.cell_met.tolist()))
    hdr, rows = block("Cell capacity by plant (GWh/yr) and cell demand (GWh)", series, "#,##0.0", "series")
    n_cap = len(cd.cell_capacity)
    line = LineChart()
    line.add_data(ref_rows(rows[n_cap], rows[-1]), from_rows=True, titles_from_data=True)
    line.set_categories(cats(hdr))
    line_style(line, ("000000", "C62828"), width=28575)
    if n_cap:
        bar = stacked_bar()
        bar.add_data(ref_rows(rows[0], rows[n_cap - 1]), from_rows=True, titles_from_data=True)
        bar.set_categories(cats(hdr))
        bar += line
    else:  # no cell capacity at all: the demand lines alone
        bar = line
    style(bar, "Cell capacity by plant vs demand", "GWh per year", "#,##0")
    place(bar)
    next_block(len(series))

    # (a') materials: local capacity as a share of consumption
    share = cd.material_capacity_share
    if len(share):
        series = [(m, share.loc[m].tolist()) for m in share.index]
        hdr, rows = block("Material plant capacity / material consumption", series, "0%", "material")
        ch = LineChart()
        ch.add_data(ref_rows(rows[0], rows[-1]), from_rows=True, titles_from_data=True)
        ch.set_categories(cats(hdr))
        line_style(ch)
        style(ch, "Local material capacity, % of consumption", "capacity / consumption", "0%")
        place(ch)
        next_block(len(series))

    # (b) sourcing mix per material
    for m in cd.materials:
        t = cd.sourcing[m]
        unit = cd.unit(m)
        series = [("local production", t.loc["local"].tolist()), ("import", t.loc["import"].tolist())]
        has_export = bool((t.loc["export"] > 1e-9).any())
        if has_export:
            series.append(("export (negative)", (-t.loc["export"]).tolist()))
        n_bar = len(series)
        has_cap = m in cd.material_capacity.index and bool((cd.material_capacity.loc[m] > 1e-9).any())
        if has_cap:
            series.append(("local capacity", cd.material_capacity.loc[m].tolist()))
        hdr, rows = block(f"Sourcing of {m} ({unit}/yr)", series, "#,##0", "source")
        bar = stacked_bar()
        bar.add_data(ref_rows(rows[0], rows[n_bar - 1]), from_rows=True, titles_from_data=True)
        bar.set_categories(cats(hdr))
        fill(bar, ("2E7D32", "EF6C00", "1565C0"))
        style(bar, f"Sourcing of {m}: local vs import", f"{unit} per year", "#,##0")
        if has_cap:
            line = LineChart()
            line.add_data(ref_rows(rows[-1], rows[-1]), from_rows=True, titles_from_data=True)
            line.set_categories(cats(hdr))
            line_style(line, ("000000",), dash="dash")
            bar += line
        place(bar)
        next_block(len(series))

    # (c) discounted cost by category
    if len(cd.costs):
        series = [(c, (cd.costs.loc[c] / 1e6).tolist()) for c in cd.costs.index]
        hdr, rows = block("Discounted cost by category (USD million)", series, "#,##0.0", "category")
        bar = stacked_bar()
        bar.add_data(ref_rows(rows[0], rows[-1]), from_rows=True, titles_from_data=True)
        bar.set_categories(cats(hdr))
        style(bar, "Cost by category, discounted to base year", "USD million", "#,##0")
        place(bar)
        next_block(len(series))

    # local content vs target
    lc = cd.local_content
    if len(lc) and lc.loc["local_value_share"].notna().any():
        series = [("local value share", lc.loc["local_value_share"].tolist())]
        if "target" in lc.index and lc.loc["target"].notna().any():
            series.append(("target", lc.loc["target"].tolist()))
        hdr, rows = block("Local value share and target", series, "0.0%", "series")
        ch = LineChart()
        ch.add_data(ref_rows(rows[0], rows[-1]), from_rows=True, titles_from_data=True)
        ch.set_categories(cats(hdr))
        line_style(ch, ("2E7D32", "C62828"), width=28575)
        style(ch, "Local value share vs target", "share of material value", "0%")
        place(ch)
        next_block(len(series))

    from openpyxl.utils import get_column_letter

    ws.column_dimensions[get_column_letter(dc)].width = 24
    for j in range(1, ny + 1):
        ws.column_dimensions[get_column_letter(dc + j)].width = 10
    return count


# --------------------------------------------------------------------------- the workbook
def build_workbook(results: Results):
    """The output workbook, in memory (an ``openpyxl.Workbook``)."""
    from openpyxl import Workbook

    st = _Styles()
    plan = _plan(results)
    wb = Workbook()
    ws = wb.active
    ws.title = SUMMARY_SHEET
    _write_summary(ws, summary_rows(results, plan.notes, plan.renamed), st)

    _write_charts(wb.create_sheet(CHARTS_SHEET), results, st)

    for key, title in plan.tables:
        ws = wb.create_sheet(title)
        df = (results.tables or {}).get(key)
        if df is None:
            header, rows = list(TABLE_COLUMNS.get(key, ())), []
        else:
            header = [str(c) for c in df.columns]
            rows = df.itertuples(index=False, name=None)
        write_table(ws, header, rows, st, formats="auto", notes=COLUMN_NOTES)

    for sh, title in plan.inputs:
        ws = wb.create_sheet(title)
        write_table(ws, sh.header, sh.rows, st, formats=None)
    return wb


def write_report(results: Results, path, *, figures_dir=None) -> Path:
    """Write the output workbook to ``path`` atomically; with ``figures_dir``, also the PNG figures.

    The workbook is built in memory and saved to a temporary file next to ``path``, then moved
    into place: an existing file at ``path`` is untouched if anything fails. The PNGs are named
    ``<stem of path>_capacity.png`` etc. Returns ``path``.
    """
    path = Path(path)
    wb = build_workbook(results)
    out = xlsx_util.atomic_save(wb, path)
    if figures_dir is not None:
        from .figures import write_figures

        write_figures(results, figures_dir, stem=path.stem)
    return out


# --------------------------------------------------------------------------- reading a report back
def _summary_value(raw: RawWorkbook, key: str) -> Any:
    s = raw.sheet(SUMMARY_SHEET)
    if s is None:
        return None
    for _, rec in s.records():
        if normalise(rec.get("key")) == key:
            return rec.get("value")
    return None


#: Result tables beyond the core ones; never read back as inputs.
EXTRA_RESULT_SHEETS = ("marginal_costs", "make_vs_buy", "infeasibility", "infeasibility_iis", "iis")


def is_report(raw: RawWorkbook) -> bool:
    """True when ``raw`` looks written by :func:`write_report` (a key/value summary and a core result sheet)."""
    s = raw.sheet(SUMMARY_SHEET)
    if s is None or tuple(normalise(h) for h in s.header[:2]) != ("key", "value"):
        return False
    return any(_is_result_sheet(raw.sheet(name), name) for name in TABLE_COLUMNS)


def _is_result_sheet(sh: RawSheet | None, name: str) -> bool:
    """A result table starts with its interface.md columns (extension columns may follow)."""
    cols = TABLE_COLUMNS[name]
    return sh is not None and tuple(normalise(h) for h in sh.header)[: len(cols)] == cols


def inputs_from_report(raw: RawWorkbook) -> RawWorkbook:
    """The input workbook inside a report: result sheets dropped, renamed input sheets given their names back.

    The renamed sheets are listed in the summary row ``input_sheets_renamed``. A workbook that is
    not a report is returned unchanged, so ``build_case(inputs_from_report(read_workbook(path)))``
    reads a case and the output of a run alike.
    """
    if not is_report(raw):
        return raw
    pairs: dict[str, str] = {}  # normalised sheet title -> input name
    text = _summary_value(raw, RENAMED_KEY)
    if isinstance(text, str):
        for part in text.split(";"):
            if "->" in part:
                name, title = (x.strip() for x in part.split("->", 1))
                if name and title:
                    pairs[normalise(title)] = name
    drop = {normalise(SUMMARY_SHEET), normalise(CHARTS_SHEET)} | {normalise(n) for n in EXTRA_RESULT_SHEETS}
    drop |= {normalise(name) for name in pairs.values()}  # the sheets that took the inputs' names
    drop |= {k for k in TABLE_COLUMNS if _is_result_sheet(raw.sheets.get(k), k)}
    out: dict[str, RawSheet] = {}
    for k, sh in raw.sheets.items():
        if k in pairs:
            name = pairs[k]
            out[normalise(name)] = dataclasses.replace(sh, name=name)
        elif k not in drop:
            out[k] = sh
    return dataclasses.replace(raw, sheets=out)
