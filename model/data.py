"""Validation: a raw workbook becomes a :class:`~model.records.CaseData`, or every problem at once.

``load_case(path)`` = ``read_workbook`` (plain cells; a results workbook gives back the inputs it
solved, :mod:`model.results_workbook`) -> ``build_case`` (types via :mod:`model.coercion`,
defaults, every rule of the input schema) -> :class:`~model.records.CaseData`. Nothing here
imports Pyomo. The records and :func:`coerce` stay importable from here.

Decisions beyond the letter of the schema (docs/reliability.md explains them):

* rows of ``demand``, ``chemistry_mix`` and ``local_content`` for years outside the horizon are
  ignored with a warning (``CaseData.warnings``), because planners shorten the horizon with an
  override and keep the later years' data; every year column is still bounded to [1900, 2500];
* numbers typed as text are understood in the usual forms, and ``5%`` means 0.05 (what Excel
  stores for a percent-formatted cell); a decimal comma, NaN, infinity, dates and Excel error
  values are refused with a reason (:func:`coerce`);
* a formula without a saved value or a merged range is an error only where the model reads
  (schema sheets and columns); extra sheets and columns are never judged;
* one mistake gives one problem: a check is skipped when its inputs are already reported as
  broken (a share of 1.2 is not reported again as a bad sum).
"""
from __future__ import annotations

import math
from dataclasses import replace
from types import MappingProxyType
from typing import Any, Mapping

from . import schema as S
from .coercion import _Bad, check_bounds, coerce  # noqa: F401 - importable from here as before
from .errors import InputError, Problem
from .records import (  # noqa: F401 - importable from here as before
    CaseData, CellImportRoute, ExportOption, Facility, ImportRoute, Material, Settings)
from .results_workbook import inputs_from_report
from .workbook import RawSheet, RawWorkbook, normalise, read_workbook

SHARE_TOL = 1e-6


# --------------------------------------------------------------------------- sheet parsing
_MAX_NOTES = 20  # formula / merged-cell problems reported per sheet


def _cells_of(ref: str) -> tuple[int, int, int, int] | None:
    """``"A3:B4"`` -> (min_col, min_row, max_col, max_row), 0-based columns, Excel rows."""
    from openpyxl.utils.cell import range_boundaries

    try:
        c1, r1, c2, r2 = range_boundaries(ref)
    except (ValueError, TypeError):
        return None
    if None in (c1, r1, c2, r2):
        return None
    return c1 - 1, r1, c2 - 1, r2


class _Covered:
    """Cells whose blank reading is already explained (formula without value, merged cell)."""

    def __init__(self, raw: RawSheet, cols: set[int]):
        self.formula = {(r, c) for r, c, _ in raw.formula_cells if c in cols}
        self.ranges = [b for b in (_cells_of(ref) for ref in raw.merged) if b is not None]

    def __contains__(self, rc: tuple[int, int]) -> bool:
        r, c = rc
        if rc in self.formula:
            return True
        return any(c1 <= c <= c2 and r1 <= r <= r2 and (r, c) != (r1, c1) for c1, r1, c2, r2 in self.ranges)


def _reading_notes(raw: RawSheet, cols: set[int], problems: list[Problem]) -> None:
    """Formulas without saved values and merged ranges that touch the columns the schema reads."""
    notes: list[Problem] = []
    untrusted = set(getattr(raw, "untrusted_results", ()))
    for r, c, f in raw.formula_cells:
        if c in cols or r == raw.header_row:
            why = ("has a saved result that cannot be trusted (the workbook asks to be recalculated when "
                   "opened, as files written by programs such as xlsxwriter do)" if (r, c) in untrusted
                   else "has no saved value (the workbook was written by a program, not saved by Excel)")
            notes.append(Problem(raw.name, r, raw.column_label(c),
                                 f"formula {f[:40]!r} {why}; open and save it in Excel or LibreOffice, "
                                 "or type the value"))
    for ref in raw.merged:
        b = _cells_of(ref)
        if b is None:
            continue
        c1, r1, c2, r2 = b
        hit = [c for c in sorted(cols) if c1 <= c <= c2]
        if not hit or r2 < raw.header_row:
            continue
        notes.append(Problem(raw.name, r1, raw.column_label(hit[0]),
                             f"merged cells {ref}; unmerge them (only the top-left cell of a merged range "
                             "holds a value, the others read as blank)"))
    problems.extend(notes[:_MAX_NOTES])
    if len(notes) > _MAX_NOTES:
        problems.append(Problem(raw.name, None, None, f"... and {len(notes) - _MAX_NOTES} more formula or merged-cell problems"))


def _parse_table(sheet: S.Sheet, raw: RawSheet | None, problems: list[Problem],
                 keys: list[tuple[int, dict]] | None = None) -> list[tuple[int, dict]]:
    """Typed records of one table sheet, ``[(excel_row, {column: value})]``; defaults not yet resolved.

    Rows with any problem are left out. When ``keys`` is given, it receives ``(excel_row, {key
    column: value})`` for every record, bad rows included, with the key columns that could be
    read, so that cross-sheet checks do not report a name as unknown only because its row has
    another problem.
    """
    if raw is None:
        if sheet.required:
            problems.append(Problem(sheet.name, None, None, "required sheet is missing"))
        return []
    if not raw.complete:
        return []  # the reading problem is already reported
    if not raw.header:
        if sheet.required:
            problems.append(Problem(raw.name, None, None, "sheet is empty; it needs a header row with the columns "
                                    + ", ".join(c.name for c in sheet.columns if c.required)))
        return []
    norm_header = [normalise(h) for h in raw.header]
    present = set(norm_header)
    schema_names = {c.name for c in sheet.columns}
    cols = {i for i, h in enumerate(norm_header) if h in schema_names}
    _reading_notes(raw, cols, problems)
    missing = [c.name for c in sheet.columns if c.name not in present]
    for name in missing:
        if sheet.column(name).required:
            unknown = [h for h in raw.header if h and normalise(h) not in schema_names]
            hint = _close(name, [normalise(h) for h in unknown])
            found = ", ".join(repr(h) for h in raw.header[:12] if h) + (" ..." if len(raw.header) > 12 else "")
            problems.append(Problem(raw.name, raw.header_row, name,
                                    f"required column '{name}' is missing from the header row"
                                    + (f" (did you mean '{hint}'?)" if hint else "")
                                    + f"; row {raw.header_row} has: {found or 'nothing'}"))
    dup_headers = {h for h in norm_header if h and norm_header.count(h) > 1}
    for h in sorted(dup_headers & schema_names):
        problems.append(Problem(raw.name, raw.header_row, h, f"column '{h}' appears twice in the header row"))
    if any(sheet.column(n).required for n in missing) or dup_headers & schema_names:
        return []
    covered = _Covered(raw, cols)
    index = {h: i for i, h in enumerate(norm_header) if h}
    out = []
    seen: dict[tuple, int] = {}
    for r, rec in raw.records():
        typed: dict[str, Any] = {}
        ok = True
        for col in sheet.columns:
            v = rec.get(col.name)
            try:
                v = coerce(v, col.kind)
            except _Bad as exc:
                problems.append(Problem(raw.name, r, col.name, str(exc)))
                ok = False
                continue
            if v is None:
                if col.required:
                    ok = False
                    if (r, index.get(col.name, -1)) not in covered:
                        problems.append(Problem(raw.name, r, col.name, f"required value of '{col.name}' is blank"))
                continue
            if col.kind == "text" and col.name in sheet.key and v.lower() == S.CELLS and sheet.name == "materials":
                problems.append(Problem(raw.name, r, col.name, f"'{S.CELLS}' is reserved for cell facilities"))
                ok = False
            msg = check_bounds(col, v)
            if msg:
                problems.append(Problem(raw.name, r, col.name, msg))
                ok = False
                if col.name in sheet.key:
                    continue  # a key out of range (a year 1800) is not a usable key
            typed[col.name] = v
        if keys is not None:
            keys.append((r, {k: typed[k] for k in sheet.key if k in typed}))
        if all(k in typed for k in sheet.key):
            key = tuple(typed[k] for k in sheet.key)
            if key in seen:
                problems.append(Problem(raw.name, r, ",".join(sheet.key),
                                        f"duplicate key {', '.join(map(str, key))} (first on row {seen[key]})"))
                ok = False
            else:
                seen[key] = r
        if ok:
            out.append((r, typed))
    return out


def _parse_settings(raw: RawSheet | None, problems: list[Problem]) -> tuple[dict[str, Any], dict[str, int]]:
    """``({setting: typed value}, {setting: excel row})`` of the settings that could be read."""
    sheet = S.SETTINGS
    values: dict[str, Any] = {}
    rows: dict[str, int] = {}
    if raw is None:
        problems.append(Problem("settings", None, None, "required sheet is missing"))
        return values, rows
    if not raw.complete:
        return values, rows
    if not raw.header:
        problems.append(Problem(raw.name, None, None, "sheet is empty; it needs a header row 'key', 'value' and one "
                                "row per setting (at least start_year and end_year)"))
        return values, rows
    ki, vi = raw.col_index("key"), raw.col_index("value")
    for name, idx in (("key", ki), ("value", vi)):
        if idx is None:
            found = ", ".join(repr(h) for h in raw.header[:12] if h)
            problems.append(Problem(raw.name, raw.header_row, name,
                                    f"required column '{name}' is missing from the header row; the settings sheet "
                                    f"needs a header row 'key', 'value' (row {raw.header_row} has: {found or 'nothing'})"))
    if ki is None or vi is None:
        return values, rows
    _reading_notes(raw, {ki, vi}, problems)
    covered = _Covered(raw, {ki, vi})
    known = {c.name: c for c in sheet.columns}
    for r, row in zip(raw.excel_rows, raw.rows):
        k = row[ki]
        if k is None:
            if row[vi] is not None and (r, ki) not in covered:
                problems.append(Problem(raw.name, r, "key", "value without a key"))
            continue
        k = normalise(k)
        if k not in known:
            continue  # extension or note rows are allowed; reported as a warning by build_case
        if k in rows:
            problems.append(Problem(raw.name, r, "key", f"duplicate key {k} (first on row {rows[k]})"))
            continue
        rows[k] = r
        col = known[k]
        try:
            v = coerce(row[vi], col.kind)
        except _Bad as exc:
            problems.append(Problem(raw.name, r, "value", f"{k}: {exc}"))
            continue
        if v is None:
            if col.required and (r, vi) not in covered:
                problems.append(Problem(raw.name, r, "value", f"{k}: required value is blank"))
            continue
        msg = check_bounds(col, v)
        if msg:
            problems.append(Problem(raw.name, r, "value", f"{k}: {msg}"))
            continue
        values[k] = v
    for col in sheet.columns:
        if col.required and col.name not in rows:
            problems.append(Problem(raw.name, None, "key", f"required setting '{col.name}' is missing; add a row "
                                    f"with key '{col.name}' and its value"))
    return values, rows


def _defaults(sheet: S.Sheet, rec: dict, start_year: int) -> dict:
    out = {}
    for col in sheet.columns:
        if col.name in rec:
            out[col.name] = rec[col.name]
        elif col.default_from == "start_year":
            out[col.name] = start_year
        else:
            out[col.name] = col.default
    return out


def _ro(d: dict) -> Mapping:
    return MappingProxyType(dict(d))


# --------------------------------------------------------------------------- the case
class _Check:
    """What the checks of one workbook share: the raw sheets, the parsed rows, the problems and
    warnings found so far, the horizon, and the names later sheets are checked against."""

    def __init__(self, raw: RawWorkbook):
        self.raw = raw
        self.problems: list[Problem] = list(raw.problems)
        self.warnings: list[str] = []
        self.settings_values, self.settings_rows = _parse_settings(raw.sheet("settings"), self.problems)
        self.tables: dict[str, list[tuple[int, dict]]] = {}  # sheet -> (row, record) of the valid rows
        self.keyrows: dict[str, list[tuple[int, dict]]] = {}  # sheet -> (row, readable key cells) of every row
        for sh in S.SHEETS:
            if sh.layout == "table":
                self.keyrows[sh.name] = []
                self.tables[sh.name] = _parse_table(sh, raw.sheet(sh.name), self.problems, self.keyrows[sh.name])
        self.start = self.end = None
        self.years: tuple[int, ...] = ()
        self.horizon = False
        self.chems: list[str] = []  # chemistries of sheet chemistry_mix, in order
        self.check_chems = False  # the chemistry names are all known
        self.mat_names: set[str] = set()
        self.check_materials = False  # the material names are all known

    def sheet_name(self, name: str) -> str:
        rs = self.raw.sheet(name)
        return rs.name if rs is not None else name

    def usable(self, name: str) -> bool:
        """The sheet was read to the end and its header is complete (rows may still be bad)."""
        rs = self.raw.sheet(name)
        return rs is not None and rs.complete and not any(
            p.sheet == rs.name and p.row == rs.header_row and p.column is not None for p in self.problems) and bool(rs.header)

    def names_certain(self, name: str, column: str) -> bool:
        """Usable, and every row with a problem still has its ``column`` (so the set of names is known)."""
        if not self.usable(name):
            return False
        rs = self.raw.sheet(name)
        bad = {p.row for p in self.problems if p.sheet == rs.name and p.row is not None and p.row != rs.header_row}
        return not (bad - {r for r, rec in self.keyrows[name] if column in rec})

    def outside(self, sheet: str, r: int, y: int) -> bool:
        """Year ``y`` of row ``r`` is outside the horizon: the row is ignored with a warning."""
        if not self.horizon or y in self.years:
            return False
        self.warnings.append(f"sheet '{self.sheet_name(sheet)}', row {r}: year {y} is outside the horizon "
                             f"{self.start}-{self.end}; row ignored")
        return True

    def known_material(self, sheet: str, r: int, col: str, m: str, allow_cells: bool = False) -> bool:
        if m in self.mat_names or (allow_cells and m == S.CELLS):
            return True
        if not self.check_materials:
            return False  # the materials sheet itself is broken; reported there
        hint = _close(m, sorted(self.mat_names) + ([S.CELLS] if allow_cells else []))
        self.problems.append(Problem(
            self.sheet_name(sheet), r, col, f"unknown {'product' if allow_cells else 'material'} '{m}'"
            + (f" (did you mean '{hint}'?)" if hint else "")
            + (f"; it must be '{S.CELLS}' or a material of sheet 'materials'" if allow_cells
               else "; it must be listed in sheet 'materials'")))
        return False


def build_case(raw: RawWorkbook) -> CaseData:
    """Validate a raw workbook against every rule of the schema; raise InputError with all problems.

    Every check runs even when earlier ones failed (a bad horizon does not hide an unknown
    material), but a check is skipped when its inputs are broken, so that one mistake is
    reported once: e.g. missing demand years are not reported while a demand row has an
    unreadable year. One step a sheet, in this order (the order of the problems reported).
    """
    c = _Check(raw)
    _misspelt_sheets(c)
    settings = _settings(c)
    vehicles, kwh = _demand(c)
    share = _chemistry_mix(c)
    materials = _materials(c)
    intensity = _intensity(c)
    facilities = _facilities(c)
    imports = _imports(c)
    exports = _exports(c)
    targets = _local_content(c)
    # version 2: recipes, cell imports, committed builds
    recipes, cell_imports, committed = _version2(c.tables, c.keyrows, c.problems, c.sheet_name, c.usable,
                                                 c.names_certain, c.known_material, c.chems, c.check_chems,
                                                 facilities, c.start, c.years)
    if settings is not None:  # coefficients HiGHS can handle (model.limits); rows already reported are skipped
        from .limits import check as check_limits

        reported = {(p.sheet, p.row) for p in c.problems}
        c.problems.extend(p for p in check_limits(raw, settings) if (p.sheet, p.row) not in reported)
    if c.problems or settings is None:
        raise InputError(c.problems)
    _advisories(c, intensity, facilities, imports, recipes, cell_imports)
    return CaseData(
        settings=settings,
        years=c.years,
        chemistries=tuple(c.chems),
        materials=_ro(materials),
        vehicles=_ro(vehicles),
        kwh_per_vehicle=_ro(kwh),
        share=_ro(share),
        intensity=_ro(intensity),
        facilities=_ro(facilities),
        imports=_ro(imports),
        exports=_ro(exports),
        local_content_target=_ro(targets),
        recipes=_ro(recipes),
        cell_imports=_ro(cell_imports),
        committed_builds=_ro(committed),
        raw=raw,
        warnings=tuple(c.warnings),
    )


def _misspelt_sheets(c: _Check) -> None:
    """A missing sheet is often a misspelt one: say so (only a sheet the schema does not know may be a
    misspelling: never suggest renaming 'sensitivity')."""
    known_sheets = set(S.SHEETS_BY_NAME) | {sh.name for sh in S.CONTROL_SHEETS}
    extra = [rs.name for name, rs in c.raw.sheets.items() if name not in known_sheets]
    for i, p in enumerate(c.problems):
        if p.row is None and p.column is None and p.message == "required sheet is missing":
            hint = _close(p.sheet, [normalise(n) for n in extra])
            if hint:
                spelt = next(n for n in extra if normalise(n) == hint)
                c.problems[i] = replace(p, message=f"required sheet is missing (is sheet '{spelt}' meant to be "
                                                   f"'{p.sheet}'? rename it)")
    for sh in S.SHEETS:
        if not sh.required and c.raw.sheet(sh.name) is None:
            hint = _close(sh.name, [normalise(n) for n in extra])
            if hint:
                c.warnings.append(f"no sheet '{sh.name}' (optional); sheet '{hint}' is ignored; rename it if it "
                                  f"is meant to be '{sh.name}'")


def _settings(c: _Check) -> Settings | None:
    """The horizon (sets ``c.start``, ``c.end``, ``c.years``) and the settings; None when the horizon is broken."""
    sv, srow = c.settings_values, c.settings_rows
    start, end = sv.get("start_year"), sv.get("end_year")
    if start is not None and end is not None and end < start:
        c.problems.append(Problem(c.sheet_name("settings"), srow.get("end_year"), "value",
                                  f"end_year {end} is before start_year {start}"))
    if start is not None and end is not None and end - start + 1 > S.MAX_HORIZON_YEARS:
        c.problems.append(Problem(c.sheet_name("settings"), srow.get("end_year"), "value",
                                  f"end_year {end}: the horizon {start}-{end} has {end - start + 1} years; the limit "
                                  f"is {S.MAX_HORIZON_YEARS}"))
        end = None
    c.start, c.end = start, end
    c.horizon = start is not None and end is not None and end >= start
    c.years = tuple(range(start, end + 1)) if c.horizon else ()
    settings = None
    if c.horizon:
        settings = Settings(**{**{col.name: col.default for col in S.SETTINGS.columns if col.default is not None},
                               "base_year": start, **sv})
    rs = c.raw.sheet("settings")
    if rs is not None and rs.complete and rs.col_index("key") is not None:
        known = {col.name for col in S.SETTINGS.columns}
        ki = rs.col_index("key")
        for r, row in zip(rs.excel_rows, rs.rows):
            if row[ki] is not None and normalise(row[ki]) not in known:
                hint = _close(normalise(row[ki]), sorted(known))
                c.warnings.append(f"sheet '{rs.name}', row {r}: unknown setting '{row[ki]}' ignored"
                                  + (f" (did you mean '{hint}'?)" if hint else ""))
    return settings


def _demand(c: _Check) -> tuple[dict[int, float], dict[int, float]]:
    """Vehicles and kWh per vehicle by year; every horizon year needs a row."""
    vehicles, kwh = {}, {}
    for r, rec in c.tables["demand"]:
        if c.outside("demand", r, rec["year"]):
            continue
        vehicles[rec["year"]] = rec["vehicles"]
        kwh[rec["year"]] = rec["kwh_per_vehicle"]
    if c.horizon and c.names_certain("demand", "year"):
        have = {rec["year"] for _, rec in c.keyrows["demand"] if "year" in rec}
        missing = [y for y in c.years if y not in have]
        if missing:
            c.problems.append(Problem(c.sheet_name("demand"), None, "year",
                                      f"no demand for horizon year(s) {_years_text(missing)}; every year "
                                      f"{c.start}-{c.end} needs a row"))
    elif not c.horizon and c.names_certain("demand", "year") and not c.keyrows["demand"]:
        # the horizon is broken, but an empty sheet is wrong whatever it is: say so in the same pass
        c.problems.append(Problem(c.sheet_name("demand"), None, "year", "the sheet has no rows; add one row per year "
                                  "from start_year to end_year (year, vehicles, kwh_per_vehicle)"))
    return vehicles, kwh


def _chemistry_mix(c: _Check) -> dict[tuple[str, int], float]:
    """Shares by (chemistry, year), summing to 1 in every horizon year; sets ``c.chems``."""
    share: dict[tuple[str, int], float] = {}
    share_rows: dict[int, list[int]] = {}
    for r, rec in c.keyrows["chemistry_mix"]:
        if "chemistry" in rec and rec["chemistry"] not in c.chems:
            c.chems.append(rec["chemistry"])
    for r, rec in c.tables["chemistry_mix"]:
        if c.outside("chemistry_mix", r, rec["year"]):
            continue
        share[(rec["chemistry"], rec["year"])] = rec["share"]
        share_rows.setdefault(rec["year"], []).append(r)
    mix = c.sheet_name("chemistry_mix")
    if c.horizon and c.names_certain("chemistry_mix", "year"):
        have = {rec["year"] for _, rec in c.keyrows["chemistry_mix"] if "year" in rec}
        missing = [y for y in c.years if y not in have]
        if missing:
            c.problems.append(Problem(mix, None, "year", f"no chemistry shares for horizon year(s) "
                                      f"{_years_text(missing)}; every year {c.start}-{c.end} needs rows whose "
                                      f"shares sum to 1"))
    elif not c.horizon and c.names_certain("chemistry_mix", "year") and not c.keyrows["chemistry_mix"]:
        c.problems.append(Problem(mix, None, "year", "the sheet has no rows; add rows (year, chemistry, share) for "
                                  "every year from start_year to end_year, shares of a year summing to 1"))
    if c.horizon and c.names_certain("chemistry_mix", "year"):
        bad_rows = {p.row for p in c.problems if p.sheet == mix and p.row is not None}
        bad_years = {rec["year"] for r, rec in c.keyrows["chemistry_mix"] if r in bad_rows}
        for y, rows in sorted(share_rows.items()):
            if y in bad_years:
                continue
            tot = math.fsum(v for (k, yy), v in share.items() if yy == y)
            if abs(tot - 1.0) > SHARE_TOL:
                c.problems.append(Problem(mix, rows[0], "share",
                                          f"shares of year {y} sum to {tot:.6g}, not 1 (rows {_rows_text(rows)})"))
    c.check_chems = c.names_certain("chemistry_mix", "chemistry")
    return share


def _materials(c: _Check) -> dict[str, Material]:
    """The materials; sets the names other sheets are checked against."""
    materials = {rec["material"]: Material(**_defaults(S.MATERIALS, rec, c.start)) for r, rec in c.tables["materials"]}
    c.mat_names = {rec["material"] for _, rec in c.keyrows["materials"] if "material" in rec}
    c.check_materials = c.names_certain("materials", "material")
    return materials


def _intensity(c: _Check) -> dict[tuple[str, str], float]:
    """Material per GWh of cells by (chemistry, material), both names known."""
    intensity = {}
    for r, rec in c.tables["intensity"]:
        ok = c.known_material("intensity", r, "material", rec["material"])
        if rec["chemistry"] not in c.chems:
            ok = False
            if c.check_chems:
                hint = _close(rec["chemistry"], c.chems)
                c.problems.append(Problem(c.sheet_name("intensity"), r, "chemistry",
                                          f"unknown chemistry '{rec['chemistry']}'"
                                          + (f" (did you mean '{hint}'?)" if hint else "")
                                          + "; it must appear in sheet 'chemistry_mix'"))
        if ok:
            intensity[(rec["chemistry"], rec["material"])] = rec["amount_per_gwh"]
    return intensity


def _facilities(c: _Check) -> dict[str, Facility]:
    """Facilities making a known product; a buildable one needs a module size."""
    facilities = {}
    for r, rec in c.tables["facilities"]:
        if not c.known_material("facilities", r, "product", rec["product"], allow_cells=True):
            continue
        rec = _defaults(S.FACILITIES, rec, c.start)
        if rec["max_modules"] > 0 and not rec["module_size"] > 0:
            c.problems.append(Problem(c.sheet_name("facilities"), r, "module_size",
                                      f"module_size must be > 0 because max_modules is {rec['max_modules']}"))
            continue
        facilities[rec["facility"]] = Facility(**rec)
    return facilities


def _imports(c: _Check) -> dict[tuple[str, str], ImportRoute]:
    imports = {}
    for r, rec in c.tables["imports"]:
        if c.known_material("imports", r, "material", rec["material"]):
            rec = _defaults(S.IMPORTS, rec, c.start)
            imports[(rec["material"], rec["origin"])] = ImportRoute(**rec)
    return imports


def _exports(c: _Check) -> dict[str, ExportOption]:
    exports = {}
    for r, rec in c.tables["exports"]:
        if c.known_material("exports", r, "material", rec["material"]):
            exports[rec["material"]] = ExportOption(**_defaults(S.EXPORTS, rec, c.start))
    return exports


def _local_content(c: _Check) -> dict[int, float]:
    """Minimum local value share by year (zero targets dropped)."""
    targets = {}
    for r, rec in c.tables["local_content"]:
        if not c.outside("local_content", r, rec["year"]) and rec["min_local_value_share"] > 0:
            targets[rec["year"]] = rec["min_local_value_share"]
    return targets


def _advisories(c: _Check, intensity, facilities, imports, recipes, cell_imports) -> None:
    """Warnings for things that are legal but probably not meant."""
    needed = {m for (k, m), a in intensity.items() if a > 0}
    for m in sorted(needed):
        if not any(fac.product == m for fac in facilities.values()) and not any(mm == m for (mm, o) in imports):
            c.warnings.append(f"material '{m}' is consumed but has no facility and no import route: "
                              "demand for chemistries that use it cannot be met")
    for (p, i), a in sorted(recipes.items()):
        if a > 0 and not any(fac.product == i for fac in facilities.values()) and not any(mm == i for (mm, o) in imports):
            c.warnings.append(f"recipe input '{i}' of '{p}' has no facility and no import route: local plants "
                              f"making '{p}' cannot run "
                              f"({', '.join(f for f, fac in facilities.items() if fac.product == p)})")
    if not any(fac.makes_cells for fac in facilities.values()):
        c.warnings.append("no facility makes cells: all cell demand will be unmet" if not cell_imports else
                          "no facility makes cells: cell demand can only be met by the routes of sheet 'cell_imports'")


def _version2(tables, keyrows, problems, sheet_name, usable, names_certain, known_material, chems, check_chems,
              facilities, start, years):
    """Records and cross-sheet rules of the version-2 sheets (workbook.md "Version 2 sheets").

    * recipes: product a known material made by some facility, input a known material, and no
      cycle among the rows with a positive amount (a cycle is reported once, naming it and its rows);
    * cell_imports: the chemistry appears in chemistry_mix;
    * committed_builds: a known facility that can build, a year in the horizon and >= its
      earliest_online_year, and at most max_modules committed in total.
    """
    fac_sheet = sheet_name("facilities")
    fac_clean = usable("facilities") and not any(p.sheet == fac_sheet for p in problems)
    made = {fac.product for fac in facilities.values()}

    # recipes
    recipes: dict[tuple[str, str], float] = {}
    edge_row: dict[tuple[str, str], int] = {}
    rsheet = sheet_name("recipes")
    for r, rec in tables["recipes"]:
        p, i = rec["product"], rec["input"]
        ok = known_material("recipes", r, "product", p)
        ok = known_material("recipes", r, "input", i) and ok
        if ok and p not in made and fac_clean:
            problems.append(Problem(rsheet, r, "product",
                                    f"no facility makes '{p}': a recipe gives the inputs of a material made locally; "
                                    f"add a facility with product '{p}' or remove the row"))
            ok = False
        if ok:
            recipes[(p, i)] = rec["amount_per_unit"]
            if rec["amount_per_unit"] > 0:
                edge_row[(p, i)] = r
    for cycle in _cycles(edge_row):
        rows = [edge_row[(a, b)] for a, b in zip(cycle, cycle[1:])]
        problems.append(Problem(rsheet, rows[0], "input",
                                "cycle " + " -> ".join(cycle) + f" (rows {_rows_text(rows)}): a material may not "
                                "need itself, directly or through other materials; remove or zero one of these rows"))

    # cell imports
    cell_imports: dict[tuple[str, str], CellImportRoute] = {}
    for r, rec in tables["cell_imports"]:
        if rec["chemistry"] not in chems:
            if check_chems:
                hint = _close(rec["chemistry"], chems)
                problems.append(Problem(sheet_name("cell_imports"), r, "chemistry",
                                        f"unknown chemistry '{rec['chemistry']}'" + (f" (did you mean '{hint}'?)" if hint else "")
                                        + "; it must appear in sheet 'chemistry_mix'"))
            continue
        rec = _defaults(S.CELL_IMPORTS, rec, start)
        cell_imports[(rec["chemistry"], rec["origin"])] = CellImportRoute(**rec)

    # committed builds
    committed: dict[tuple[str, int], int] = {}
    csheet = sheet_name("committed_builds")
    fac_names = [rec["facility"] for _, rec in keyrows["facilities"] if "facility" in rec]
    check_fac = names_certain("facilities", "facility")
    rows_of: dict[str, list[int]] = {}
    for r, rec in tables["committed_builds"]:
        f, y, n = rec["facility"], rec["year"], rec["modules"]
        if f not in fac_names:
            if check_fac:
                hint = _close(f, fac_names)
                problems.append(Problem(csheet, r, "facility", f"unknown facility '{f}'"
                                        + (f" (did you mean '{hint}'?)" if hint else "")
                                        + "; it must be listed in sheet 'facilities'"))
            continue
        fac = facilities.get(f)
        if fac is None:
            continue  # the facility's own row has a problem, reported there
        if not fac.can_build:
            problems.append(Problem(csheet, r, "facility", f"facility '{f}' cannot build modules (max_modules is 0); "
                                    "give it max_modules >= the committed modules"))
            continue
        if years and y not in years:
            problems.append(Problem(csheet, r, "year", f"year {y} is outside the horizon {years[0]}-{years[-1]}; "
                                    "a committed build must come online within the horizon"))
            continue
        if fac.earliest_online_year is not None and y < fac.earliest_online_year:  # None: no horizon (reported)
            problems.append(Problem(csheet, r, "year", f"year {y} is before the earliest_online_year "
                                    f"{fac.earliest_online_year} of facility '{f}'"))
            continue
        committed[(f, y)] = n
        rows_of.setdefault(f, []).append(r)
    for f, rows in rows_of.items():
        total = sum(n for (ff, _), n in committed.items() if ff == f)
        mm = facilities[f].max_modules
        if total > mm:
            problems.append(Problem(csheet, rows[-1], "modules",
                                    f"{total} modules committed for facility '{f}' (rows {_rows_text(rows)}) but its "
                                    f"max_modules is {mm}"))
    return recipes, cell_imports, committed


def _cycles(edges) -> list[list[str]]:
    """Each elementary cycle found by depth-first search over ``{(a, b): ...}`` (a needs b), once,
    as ``[a, b, ..., a]`` starting at its smallest name."""
    succ: dict[str, list[str]] = {}
    for a, b in edges:
        succ.setdefault(a, []).append(b)
    found: dict[tuple[str, ...], list[str]] = {}
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    stack: list[str] = []

    def visit(a: str) -> None:
        state[a] = 1
        stack.append(a)
        for b in succ.get(a, ()):
            if state.get(b) == 1:
                cyc = stack[stack.index(b):]
                i = cyc.index(min(cyc))
                cyc = cyc[i:] + cyc[:i]
                found.setdefault(tuple(cyc), cyc + [cyc[0]])
            elif b not in state:
                visit(b)
        stack.pop()
        state[a] = 2

    for a in sorted(succ):
        if a not in state:
            visit(a)
    return list(found.values())


def load_case(path) -> CaseData:
    """Read and validate a workbook: the data layer's front door.

    An output workbook of an earlier run is read as the case it solved (its input sheets).
    """
    return build_case(inputs_from_report(read_workbook(path)))


# --------------------------------------------------------------------------- helpers
def _years_text(years: list[int]) -> str:
    if not years:
        return ""
    runs, s = [], years[0]
    prev = s
    for y in years[1:] + [None]:
        if y is None or y != prev + 1:
            runs.append(f"{s}" if s == prev else f"{s}-{prev}")
            s = y
        prev = y if y is not None else prev
    return ", ".join(runs)


def _rows_text(rows: list[int]) -> str:
    return ", ".join(map(str, rows[:8])) + (" ..." if len(rows) > 8 else "")


def _close(word: str, choices: list[str]) -> str | None:
    """The choice that differs only in case, else the closest spelling (difflib), else None."""
    import difflib

    low = {str(c).lower(): c for c in choices}
    if str(word).lower() in low:
        return low[str(word).lower()]
    m = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return m[0] if m else None
