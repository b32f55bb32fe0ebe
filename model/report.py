"""The output workbook (interface.md, "Output workbook"), written atomically.

Sheets, in order:

1. ``summary``: a cover with the columns ``key``, ``value``, ``unit``, ``meaning`` (``key`` and
   ``value`` first: programs read them) in sections (plan, cost, demand, local content, run
   provenance; :func:`cover_sections`), a heading row (blank ``key``) starting each section and,
   whenever demand is unmet, an ``unmet_demand_alert`` row first. The rows are
   :attr:`Results.summary` (nested mappings flattened to ``parent.child`` keys, lists joined with
   ``"; "``), ``timings.<phase>`` when the summary has no timings of its own, then ``note_1``,
   ``note_2`` ... for :attr:`Results.notes` and the report's own notes. USD values show in
   billions with one decimal (the cell keeps USD), shares as percentages.
2. ``charts``: native Excel charts (axes in GWh, kt, bn USD, %); the numbers each chart plots are
   in a table to its right; the sheet prints the charts whole, two to a page.
3. One sheet per result table, the core ones in :data:`TABLE_COLUMNS` order, then any others in
   the order of :attr:`Results.tables`. Header text = the DataFrame's column names exactly; a
   table whose quantities' unit depends on the row (:data:`ROW_UNIT_TABLES`) gets a last ``unit``
   column. Number formats come from the column units (:mod:`model.styles`); every sheet prints
   landscape, one page wide, header row repeated, sheet name and page in the footer.
4. The input sheets as solved (``Results.case.raw``), same names, headers and rows, so the output
   can be read again as an input. An input sheet whose name is taken by a result sheet (the core
   input sheets ``demand`` and ``local_content`` always are) is written as ``input_<name>`` and
   listed in the summary row ``input_sheets_renamed``; :func:`model.results_workbook.inputs_from_report` undoes that when
   a report is read back as a case.

Every string goes through :func:`xlsx_util.set_cell`, so text that starts with ``=`` is stored as
text, never as a live formula.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Mapping, Sequence

from . import styles, xlsx_util
from .charts import write_charts
from .output_schema import (
    CHARTS_SHEET, COLUMN_NOTES, INPUT_COPY_PREFIX, RENAMED_KEY, ROW_UNIT_TABLES, SUMMARY_SHEET, TABLE_COLUMNS)
from .results import Results
from .workbook import RawSheet, normalise

MAX_SHEET_NAME = 31
FMT_USD = styles.FMT_USD

_Styles = styles.Styles
_plain = styles.plain
_is_number = styles.is_number
write_table = styles.write_table


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


#: Cover-sheet sections, in order: the headline (how the run ended and what it costs) first, so that a
#: printed cover leads with it; then demand, local content, the plan in detail, provenance.
SECTION_TITLES = {"cost": "Cost", "demand": "Demand", "local content": "Local content", "plan": "Plan",
                  "run provenance": "Run provenance"}


def _summary_unit_format(key: str, v: Any, units: Mapping[str, str]) -> tuple[str | None, str | None]:
    """(unit, number format) of a summary value: USD in billions with one decimal, shares as %."""
    from .output_schema import describe

    unit = describe(key, units)[1] or styles.unit_of(key)  # the schema's unit, else the name's
    if not _is_number(v):
        return unit, None
    if unit == "USD":
        return unit, styles.FMT_USD_BN
    if unit is None:
        if isinstance(v, float) and abs(v) >= 1000:
            return None, FMT_USD
        return None, None
    return unit, styles.format_of_unit(unit) or styles.quantity_format(unit)


def cover_sections(rows: Sequence[tuple[str, Any]], units: Mapping[str, str] | None = None):
    """Summary rows grouped into the cover's sections: ``[(title, [(key, value, unit, meaning, fmt)])]``."""
    from .output_schema import describe

    units = units or {}
    groups: dict[str, list] = {k: [] for k in SECTION_TITLES}
    for key, v in rows:
        section, _, meaning, _ = describe(key, units)
        unit, fmt = _summary_unit_format(key, v, units)
        if key == RENAMED_KEY:
            meaning = "input sheets echoed under another name (a result sheet has theirs)"
        groups.setdefault(section, []).append((key, v, unit, meaning, fmt))
    return [(SECTION_TITLES.get(k, k), g) for k, g in groups.items() if g]


def _write_summary(ws, rows: list[tuple[str, Any]], st: _Styles, units: Mapping[str, str] | None = None) -> None:
    from .kpis import unmet_alert

    kv = dict(rows)
    alerts = []
    unmet = kv.get("unmet_gwh_total")
    text = unmet_alert(unmet if _is_number(unmet) else None,
                       kv.get("penalty_share_of_cost") if _is_number(kv.get("penalty_share_of_cost")) else None,
                       kv.get("unmet_penalty_usd") if _is_number(kv.get("unmet_penalty_usd")) else None)
    if text:
        alerts.append(("unmet_demand_alert", text))
    styles.write_cover(ws, cover_sections([r for r in rows if r[0] != "unmet_demand_alert"], units), st,
                       alerts=alerts)


# --------------------------------------------------------------------------- sheet names
_BAD_TITLE_CHARS = str.maketrans({c: "_" for c in "[]:*?/\\"})


def _sheet_title(name: str) -> str:
    t = str(name).translate(_BAD_TITLE_CHARS).strip().strip("'")[:MAX_SHEET_NAME]
    return t or "table"


#: Summary key listing input sheets echoed under another name: ``demand -> input_demand; ...``.


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


# --------------------------------------------------------------------------- the workbook
def build_workbook(results: Results):
    """The output workbook, in memory (an ``openpyxl.Workbook``)."""
    from openpyxl import Workbook

    st = _Styles()
    plan = _plan(results)
    wb = Workbook()
    ws = wb.active
    ws.title = SUMMARY_SHEET
    units = _material_units(results)
    _write_summary(ws, summary_rows(results, plan.notes, plan.renamed), st, units)

    write_charts(wb.create_sheet(CHARTS_SHEET), results, st)

    for key, title in plan.tables:
        ws = wb.create_sheet(title)
        df = (results.tables or {}).get(key)
        if df is None:
            header, rows = list(TABLE_COLUMNS.get(key, ())), []
        else:
            if key == "make_vs_buy":
                df = make_vs_buy_view(df, results)
            header, rows = _with_row_units(key, df, units)
        write_table(ws, header, rows, st, formats="auto", notes=COLUMN_NOTES)

    for sh, title in plan.inputs:
        ws = wb.create_sheet(title)
        write_table(ws, sh.header, sh.rows, st, formats="auto", row_unit_col=None)
    return wb


def make_vs_buy_view(df, results: Results):
    """The make-vs-buy table as a planner reads it: whether the best facility is already at its maximum modules.

    Adds ``modules_in_service`` and ``max_modules`` of the best facility in that year, and when it
    is full while material is imported, says so first in ``break_even`` (a new module being cheaper
    than importing does not help when no module may be added).
    """
    if df is None or not len(df) or "best_facility" not in df.columns or results.case is None:
        return df
    b = (results.tables or {}).get("build_schedule")
    in_service: dict[tuple[str, int], float] = {}
    if b is not None and len(b):
        for f, y, n in zip(b["facility"], b["year"], b["modules_in_service"]):
            in_service[(str(f), int(y))] = float(n)
    facs = results.case.facilities
    out = df.copy()
    mods, maxes, texts = [], [], []
    for row in out.itertuples(index=False):
        best = getattr(row, "best_facility", None)
        fac = facs.get(best) if isinstance(best, str) else None
        text = getattr(row, "break_even", None)
        if fac is None:
            mods.append(None)
            maxes.append(None)
            texts.append(text)
            continue
        n = in_service.get((best, int(row.year)))
        mods.append(n)
        maxes.append(fac.max_modules)
        imp = getattr(row, "import_quantity", 0.0) or 0.0
        if n is not None and fac.max_modules > 0 and n >= fac.max_modules and imp > 1e-9:
            unit = getattr(row, "unit", "") or ""
            text = (f"{best} is already at its maximum of {fac.max_modules} modules in {int(row.year)}: the "
                    f"{imp:,.0f} {unit} imported cannot be made locally unless max_modules is raised. " + (text or ""))
        texts.append(text)
    out["modules_in_service"] = mods
    out["max_modules"] = maxes
    if "break_even" in out.columns:
        out["break_even"] = texts
    return out


def _material_units(results: Results) -> dict[str, str]:
    from .kpis import material_units

    return material_units(results.case) if results.case is not None else {}


def row_unit(table: str, name: Any, units: Mapping[str, str]) -> str | None:
    """The unit of a row of ``table`` about ``name`` (a product or material): GWh for cells."""
    spec = ROW_UNIT_TABLES.get(table)
    if spec is None or name is None:
        return None
    n = str(name)
    u = units.get(n) or ("GWh" if n == "cells" or n.startswith("cells_") else None)
    if u is None:
        return None
    return f"{u}/yr" if spec[1] else u


def _with_row_units(key: str, df, units: Mapping[str, str]):
    """Header and rows of a result table, with a ``unit`` column when its quantities' unit varies by row."""
    header = [str(c) for c in df.columns]
    spec = ROW_UNIT_TABLES.get(key)
    if spec is None or "unit" in header or spec[0] not in header:
        return header, df.itertuples(index=False, name=None)
    i = header.index(spec[0])
    rows = ((*row, row_unit(key, row[i], units)) for row in df.itertuples(index=False, name=None))
    return header + ["unit"], rows


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
