"""The ``charts`` sheet of the results workbook: native Excel charts, one function a chart.

Each chart sits in a block of rows at column A with the numbers it plots in a table to its right
(from column N, :data:`DATA_COL`), so a planner can read and re-plot them. The numbers come from
:func:`model.figures.chart_data` (the same as the PNG figures). :func:`write_charts` lays the
blocks out and sets the sheet to print the charts whole, two to a landscape page.
"""
from __future__ import annotations

from typing import Any, Sequence

from . import styles, xlsx_util

DATA_COL = 14  # column N: chart data tables start here, right of the charts
BLOCK_ROWS = 16  # rows of 15 pt per chart block: two blocks fill a landscape A4 page
CHART_W, CHART_H = 21.0, 7.8  # cm


class ChartSheet:
    """Where the next chart block goes: the worksheet, its styles, the years across, the rows used."""

    def __init__(self, ws, st: styles.Styles, years: Sequence[int]):
        self.ws, self.st, self.years = ws, st, list(years)
        self.top = 4  # first row of the current block
        self.chart_rows: list[int] = []  # first row of each chart placed

    @property
    def count(self) -> int:
        return len(self.chart_rows)

    def table(self, title: str, series: list[tuple[str, Sequence[Any]]], fmt: str, first_label: str):
        """Write a data table (series as rows, years across) at the current block; return (header row, rows)."""
        ws, st, dc, top = self.ws, self.st, DATA_COL, self.top
        t = ws.cell(row=top, column=dc)
        xlsx_util.set_cell(t, title)
        t.font = st.subtitle
        hdr = top + 1
        h = ws.cell(row=hdr, column=dc)
        xlsx_util.set_cell(h, first_label)
        h.font = st.bold
        for j, y in enumerate(self.years, start=1):
            c = ws.cell(row=hdr, column=dc + j)
            c.value = int(y)
            c.font = st.bold
        rows = []
        for i, (name, vals) in enumerate(series, start=1):
            r = hdr + i
            xlsx_util.set_cell(ws.cell(row=r, column=dc), str(name))
            for j, v in enumerate(vals, start=1):
                v = styles.plain(v)
                if v is None:
                    continue
                c = ws.cell(row=r, column=dc + j)
                xlsx_util.set_cell(c, v)
                if styles.is_number(v):
                    c.number_format = fmt
            rows.append(r)
        return hdr, rows

    def rows(self, r1: int, r2: int):
        """The data rows r1..r2 (name column first) as a chart reference."""
        from openpyxl.chart import Reference

        return Reference(self.ws, min_col=DATA_COL, max_col=DATA_COL + len(self.years), min_row=r1, max_row=r2)

    def categories(self, hdr: int):
        """The years of the header row ``hdr`` as a chart reference."""
        from openpyxl.chart import Reference

        return Reference(self.ws, min_col=DATA_COL + 1, max_col=DATA_COL + len(self.years), min_row=hdr, max_row=hdr)

    def place(self, chart, n_rows: int) -> None:
        """Put ``chart`` at the current block and move to the next (tall enough for ``n_rows`` data rows)."""
        self.ws.add_chart(chart, f"A{self.top}")
        self.chart_rows.append(self.top)
        self.top += max(BLOCK_ROWS, n_rows + 4)


# --------------------------------------------------------------------------- chart styling
def style(chart, title: str, y_title: str, y_fmt: str | None = None) -> None:
    chart.title = title
    title_size(chart, 1100)
    chart.y_axis.title = y_title
    chart.x_axis.title = "year"
    chart.width, chart.height = CHART_W, CHART_H
    chart.legend.position = "b"
    # openpyxl 3.1 marks axes as deleted unless told otherwise: Excel would hide them
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    if y_fmt:
        chart.y_axis.number_format = y_fmt  # NumFmt(sourceLinked=False)


def line_style(chart, colors: Sequence[str | None] = (), width: int = 22225, dash: str | None = None) -> None:
    for i, ser in enumerate(chart.series):
        ser.smooth = False  # Excel smooths lines unless told not to
        ln = ser.graphicalProperties.line
        ln.width = width
        if i < len(colors) and colors[i]:
            ln.solidFill = colors[i]
        if dash:
            ln.dashStyle = dash


def fill(chart, colors: Sequence[str]) -> None:
    for ser, col in zip(chart.series, colors):
        ser.graphicalProperties.solidFill = col
        ser.graphicalProperties.line.solidFill = col


def stacked_bar():
    from openpyxl.chart import BarChart

    b = BarChart()
    b.type = "col"
    b.grouping = "stacked"
    b.overlap = 100
    b.gapWidth = 60
    return b


def line_chart(sheet: ChartSheet, hdr: int, r1: int, r2: int):
    """A line chart of the data rows r1..r2 over the years of header row ``hdr``."""
    from openpyxl.chart import LineChart

    ch = LineChart()
    ch.add_data(sheet.rows(r1, r2), from_rows=True, titles_from_data=True)
    ch.set_categories(sheet.categories(hdr))
    return ch


def title_size(chart, size: int) -> None:
    """Chart title in ``size``/100 pt bold (the default is large enough to take two lines)."""
    try:
        from openpyxl.drawing.text import CharacterProperties, ParagraphProperties

        for p in chart.title.tx.rich.p:
            p.pPr = ParagraphProperties(defRPr=CharacterProperties(sz=size, b=True))
            for run in p.r or ():
                run.rPr = CharacterProperties(sz=size, b=True)
    except AttributeError:  # pragma: no cover - a title openpyxl did not build as rich text
        pass


# --------------------------------------------------------------------------- one function a chart
def cell_chart(sheet: ChartSheet, cd) -> None:
    """Cells: capacity by plant and imported cells (stacked bars) vs cell demand (line)."""
    series = [(f, cd.cell_capacity.loc[f].tolist()) for f in cd.cell_capacity.index]
    if len(cd.cell_imported) and cd.cell_imported.max() > 1e-9:
        series.append(("imported cells", cd.cell_imported.tolist()))
    n_cap = len(series)
    series.append(("cell demand (GWh)", cd.cell_demand.tolist()))
    unmet = (cd.cell_demand - cd.cell_met).abs().max() > 1e-6
    if unmet:
        series.append(("demand met (GWh)", cd.cell_met.tolist()))
    hdr, rows = sheet.table("Cell capacity by plant and imported cells (GWh/yr), cell demand (GWh)", series,
                            "#,##0.0", "series (GWh)")
    line = line_chart(sheet, hdr, rows[n_cap], rows[-1])
    line_style(line, ("000000", "C62828"), width=28575)
    if n_cap:
        bar = stacked_bar()
        bar.add_data(sheet.rows(rows[0], rows[n_cap - 1]), from_rows=True, titles_from_data=True)
        bar.set_categories(sheet.categories(hdr))
        bar += line
    else:  # no cell capacity at all: the demand lines alone
        bar = line
    style(bar, "Cell capacity by plant and imported cells (bars) vs cell demand (line), GWh per year",
          "GWh per year", "#,##0")
    sheet.place(bar, len(series))


def material_share_chart(sheet: ChartSheet, cd) -> None:
    """Materials: local plant capacity as a share of what the value chain uses (skipped without materials)."""
    share = cd.material_capacity_share
    if not len(share):
        return
    series = [(m, share.loc[m].tolist()) for m in share.index]
    hdr, rows = sheet.table("Material plant capacity / material consumption", series, "0%", "material")
    ch = line_chart(sheet, hdr, rows[0], rows[-1])
    line_style(ch)
    style(ch, "Local material plant capacity as % of what the value chain uses", "capacity / use", "0%")
    sheet.place(ch, len(series))


def sourcing_chart(sheet: ChartSheet, cd, m: str) -> None:
    """Sourcing of material ``m``: local production, imports and exports (bars), local capacity (dashed line)."""
    t = cd.sourcing[m]
    unit = cd.unit(m)
    scale = 1.0
    if unit == "t":  # tonnes read as kt on a chart axis
        t, unit, scale = t / 1000.0, "kt", 1000.0
    series = [("local production", t.loc["local"].tolist()), ("import", t.loc["import"].tolist())]
    has_export = bool((t.loc["export"] > 1e-9).any())
    if has_export:
        series.append(("export (negative)", (-t.loc["export"]).tolist()))
    n_bar = len(series)
    has_cap = m in cd.material_capacity.index and bool((cd.material_capacity.loc[m] > 1e-9).any())
    if has_cap:
        series.append(("local capacity", (cd.material_capacity.loc[m] / scale).tolist()))
    hdr, rows = sheet.table(f"Sourcing of {m} ({unit}/yr)", series, "#,##0.0" if unit in ("kt", "GWh") else "#,##0",
                            f"source ({unit}/yr)")
    bar = stacked_bar()
    bar.add_data(sheet.rows(rows[0], rows[n_bar - 1]), from_rows=True, titles_from_data=True)
    bar.set_categories(sheet.categories(hdr))
    fill(bar, ("2E7D32", "EF6C00", "1565C0"))
    style(bar, f"Sourcing of {m}: local production vs imports ({unit} per year)", f"{unit} per year", "#,##0")
    if has_cap:
        line = line_chart(sheet, hdr, rows[-1], rows[-1])
        line_style(line, ("000000",), dash="dash")
        bar += line
    sheet.place(bar, len(series))


def cost_chart(sheet: ChartSheet, cd) -> None:
    """Discounted cost by category and year (stacked bars, bn USD); skipped without costs."""
    if not len(cd.costs):
        return
    series = [(c, (cd.costs.loc[c] / 1e9).tolist()) for c in cd.costs.index]
    hdr, rows = sheet.table("Discounted cost by category (bn USD)", series, "#,##0.00", "category (bn USD)")
    bar = stacked_bar()
    bar.add_data(sheet.rows(rows[0], rows[-1]), from_rows=True, titles_from_data=True)
    bar.set_categories(sheet.categories(hdr))
    total = float(cd.costs.values.sum()) / 1e9
    style(bar, f"Net present cost by category and year, bn USD (total {total:,.1f} bn USD)", "bn USD, discounted",
          "#,##0.0")
    sheet.place(bar, len(series))


def local_content_chart(sheet: ChartSheet, cd) -> None:
    """Local value share vs its target (lines); skipped when the share is never known."""
    lc = cd.local_content
    if not (len(lc) and lc.loc["local_value_share"].notna().any()):
        return
    series = [("local value share", lc.loc["local_value_share"].tolist())]
    if "target" in lc.index and lc.loc["target"].notna().any():
        series.append(("target", lc.loc["target"].tolist()))
    hdr, rows = sheet.table("Local value share and target", series, "0.0%", "series")
    ch = line_chart(sheet, hdr, rows[0], rows[-1])
    line_style(ch, ("2E7D32", "C62828"), width=28575)
    style(ch, "Local value share vs the target, % of value", "local value share", "0%")
    sheet.place(ch, len(series))


# --------------------------------------------------------------------------- the sheet
def write_charts(ws, results, st: styles.Styles) -> int:
    """Native charts with their data tables to the right; returns the number of charts."""
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.pagebreak import Break

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
    sheet = ChartSheet(ws, st, years)
    cell_chart(sheet, cd)
    material_share_chart(sheet, cd)
    for m in cd.materials:
        sourcing_chart(sheet, cd, m)
    cost_chart(sheet, cd)
    local_content_chart(sheet, cd)

    ws.column_dimensions[get_column_letter(DATA_COL)].width = 26
    for j in range(1, len(years) + 1):
        ws.column_dimensions[get_column_letter(DATA_COL + j)].width = 10
    # print the charts whole, two to a landscape page; the data tables are on screen, right of the charts
    styles.print_setup(ws, header_rows=None)
    ws.sheet_format.defaultRowHeight = 15
    ws.sheet_format.customHeight = True  # rows as tall in every program, so two chart blocks fit a page
    ws.page_margins.top = ws.page_margins.bottom = 0.4
    ws.print_area = f"A1:{get_column_letter(DATA_COL - 1)}{sheet.top}"
    for r in sheet.chart_rows[2::2]:
        ws.row_breaks.append(Break(id=r - 1))
    return sheet.count
