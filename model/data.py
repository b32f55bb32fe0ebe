"""Validated, immutable case data: the only thing the model sees.

``load_case(path)`` = ``read_workbook`` (plain cells) -> ``build_case`` (types, defaults, every
rule of the input schema, all problems at once) -> :class:`CaseData`. Nothing here imports Pyomo.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any, Mapping

from . import schema as S
from .errors import InputError, Problem
from .workbook import RawSheet, RawWorkbook, is_date, normalise, read_workbook

SHARE_TOL = 1e-6


# --------------------------------------------------------------------------- records
@dataclass(frozen=True)
class Settings:
    start_year: int
    end_year: int
    base_year: int
    discount_rate: float = 0.08
    allow_unmet_demand: bool = True
    unmet_penalty_usd_per_kwh: float = 1000.0
    mip_rel_gap: float = 1e-4
    time_limit_s: float = 600.0


@dataclass(frozen=True)
class Material:
    material: str
    unit: str
    reference_price_usd_per_unit: float


@dataclass(frozen=True)
class Facility:
    facility: str
    product: str
    site: str
    existing_capacity: float
    existing_from_year: int
    module_size: float
    max_modules: int
    earliest_online_year: int
    lead_time_years: int
    lifetime_years: int
    capex_usd_per_module: float
    fixed_om_usd_per_module_year: float
    existing_fixed_om_usd_per_year: float
    variable_cost_usd_per_unit: float
    opening_cost_usd: float
    ramp_up_first_year: float

    @property
    def makes_cells(self) -> bool:
        return self.product == S.CELLS

    @property
    def can_build(self) -> bool:
        return self.max_modules > 0

    @property
    def has_opening_decision(self) -> bool:
        return self.opening_cost_usd > 0 and self.max_modules > 0


@dataclass(frozen=True)
class ImportRoute:
    material: str
    origin: str
    price_usd_per_unit: float
    price_escalation_per_year: float
    freight_usd_per_unit: float
    tariff_rate: float
    max_per_year: float | None
    first_year: int


@dataclass(frozen=True)
class ExportOption:
    material: str
    price_usd_per_unit: float
    max_per_year: float | None


@dataclass(frozen=True)
class CaseData:
    """A whole case, validated. Mappings are read-only; derived quantities are methods."""

    settings: Settings
    years: tuple[int, ...]
    chemistries: tuple[str, ...]
    materials: Mapping[str, Material]
    vehicles: Mapping[int, float]
    kwh_per_vehicle: Mapping[int, float]
    share: Mapping[tuple[str, int], float]  # (chemistry, year) -> share
    intensity: Mapping[tuple[str, str], float]  # (chemistry, material) -> units per GWh
    facilities: Mapping[str, Facility]
    imports: Mapping[tuple[str, str], ImportRoute]  # (material, origin)
    exports: Mapping[str, ExportOption]
    local_content_target: Mapping[int, float]  # year -> min local value share (years with a target)
    raw: RawWorkbook | None = field(default=None, compare=False, repr=False)
    warnings: tuple[str, ...] = ()

    # ---- derived parameters (formulation.md, "Derived parameters")
    def demand_gwh(self, k: str, y: int) -> float:
        """D[k,y] = vehicles[y] * kwh_per_vehicle[y] * share[k,y] / 1e6."""
        return self.vehicles[y] * self.kwh_per_vehicle[y] * self.share.get((k, y), 0.0) / 1e6

    def discount_factor(self, y: int) -> float:
        """DF[y] = (1 + r) ** -(y - base_year)."""
        return (1.0 + self.settings.discount_rate) ** -(y - self.settings.base_year)

    def crf(self, f: str) -> float:
        """CRF = r / (1 - (1 + r) ** -n), and 1/n when r = 0."""
        r = self.settings.discount_rate
        n = self.facilities[f].lifetime_years
        return 1.0 / n if r == 0 else r / (1.0 - (1.0 + r) ** -n)

    def landed_cost(self, m: str, o: str, y: int) -> float:
        """c[m,o,y] = (1 + tariff) * price * (1 + escalation) ** (y - base_year) + freight."""
        rt = self.imports[(m, o)]
        return ((1.0 + rt.tariff_rate) * rt.price_usd_per_unit
                * (1.0 + rt.price_escalation_per_year) ** (y - self.settings.base_year) + rt.freight_usd_per_unit)

    def existing_capacity(self, f: str, y: int) -> float:
        fac = self.facilities[f]
        return fac.existing_capacity if y >= fac.existing_from_year else 0.0

    def existing_fixed_om(self, f: str, y: int) -> float:
        fac = self.facilities[f]
        return fac.existing_fixed_om_usd_per_year if (fac.existing_capacity > 0 and y >= fac.existing_from_year) else 0.0

    def build_years(self, f: str) -> tuple[int, ...]:
        """Years in which modules of f may come online (build[f,y] exists)."""
        fac = self.facilities[f]
        if not fac.can_build:
            return ()
        return tuple(y for y in self.years if y >= fac.earliest_online_year)

    def import_years(self, m: str, o: str) -> tuple[int, ...]:
        first = self.imports[(m, o)].first_year
        return tuple(y for y in self.years if y >= first)

    def facilities_making(self, product: str) -> tuple[str, ...]:
        return tuple(f for f, fac in self.facilities.items() if fac.product == product)

    @property
    def cell_facilities(self) -> tuple[str, ...]:
        return self.facilities_making(S.CELLS)

    @property
    def material_facilities(self) -> tuple[str, ...]:
        return tuple(f for f, fac in self.facilities.items() if not fac.makes_cells)


# --------------------------------------------------------------------------- coercion
class _Bad(Exception):
    pass


_TRUE = {"true", "yes", "y", "1", "t", "on"}
_FALSE = {"false", "no", "n", "0", "f", "off"}


def coerce(value: Any, kind: str) -> Any:
    """Turn one cell into the column's type or raise _Bad with a planner-readable reason."""
    if value is None:
        return None
    if is_date(value):
        raise _Bad(f"a date ({value}) where a {_kind_word(kind)} belongs; format the cell as a number")
    if kind == "text":
        if isinstance(value, bool):
            raise _Bad(f"TRUE/FALSE where text belongs")
        if isinstance(value, float):
            if not math.isfinite(value):
                raise _Bad("not a valid name")
            return str(int(value)) if value.is_integer() else repr(value)
        return str(value).strip()
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, (int, float)) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise _Bad(f"{value!r} is not true/false")
    # numbers
    if isinstance(value, bool):
        raise _Bad(f"TRUE/FALSE where a {_kind_word(kind)} belongs")
    if isinstance(value, str):
        text = value.strip().replace("\u2212", "-")
        try:
            num = float(text.replace(",", "")) if text.count(",") and "." in text else float(text)
        except ValueError:
            raise _Bad(f"text {value[:40]!r} where a {_kind_word(kind)} belongs")
        value = num
    if not isinstance(value, (int, float)):
        raise _Bad(f"{type(value).__name__} where a {_kind_word(kind)} belongs")
    if isinstance(value, float) and not math.isfinite(value):
        raise _Bad(f"{value} is not a finite number")
    if kind == "int":
        if isinstance(value, float):
            if not value.is_integer():
                raise _Bad(f"{value:g} is not a whole number")
            value = int(value)
        return int(value)
    return float(value)


def _kind_word(kind: str) -> str:
    return {"int": "whole number", "float": "number", "bool": "true/false", "text": "text"}[kind]


def check_bounds(col: S.Column, v: Any) -> str | None:
    if v is None or col.kind in ("text", "bool"):
        return None
    if (col.ge is not None and v < col.ge) or (col.gt is not None and v <= col.gt) or \
       (col.le is not None and v > col.le) or (col.lt is not None and v >= col.lt):
        return f"{v:g} is out of range: must be {col.bounds_text()}"
    return None


# --------------------------------------------------------------------------- sheet parsing
def _parse_table(sheet: S.Sheet, raw: RawSheet | None, problems: list[Problem]) -> list[tuple[int, dict]]:
    """Typed records of one table sheet, ``[(excel_row, {column: value})]``; defaults not yet resolved."""
    if raw is None:
        if sheet.required:
            problems.append(Problem(sheet.name, None, None, "required sheet is missing"))
        return []
    present = {normalise(h) for h in raw.header}
    missing = [c.name for c in sheet.columns if c.name not in present]
    for name in missing:
        if sheet.column(name).required:
            problems.append(Problem(raw.name, raw.header_row, name, "required column is missing from the header row"))
    dup_headers = {normalise(h) for h in raw.header if h and [normalise(x) for x in raw.header].count(normalise(h)) > 1}
    for h in sorted(dup_headers):
        if h in {c.name for c in sheet.columns}:
            problems.append(Problem(raw.name, raw.header_row, h, "column appears twice in the header row"))
    if any(sheet.column(n).required for n in missing) or dup_headers & {c.name for c in sheet.columns}:
        return []
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
                    problems.append(Problem(raw.name, r, col.name, "required value is blank"))
                    ok = False
                continue
            msg = check_bounds(col, v)
            if msg:
                problems.append(Problem(raw.name, r, col.name, msg))
                ok = False
                continue
            if col.kind == "text" and col.name in sheet.key and v.lower() == S.CELLS and sheet.name == "materials":
                problems.append(Problem(raw.name, r, col.name, f"'{S.CELLS}' is reserved for cell facilities"))
                ok = False
            typed[col.name] = v
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
    sheet = S.SETTINGS
    values: dict[str, Any] = {}
    rows: dict[str, int] = {}
    if raw is None:
        problems.append(Problem("settings", None, None, "required sheet is missing"))
        return values, rows
    ki, vi = raw.col_index("key"), raw.col_index("value")
    for name, idx in (("key", ki), ("value", vi)):
        if idx is None:
            problems.append(Problem(raw.name, raw.header_row, name, "required column is missing from the header row"))
    if ki is None or vi is None:
        return values, rows
    known = {c.name: c for c in sheet.columns}
    for r, row in zip(raw.excel_rows, raw.rows):
        k = row[ki]
        if k is None:
            if row[vi] is not None:
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
            if col.required:
                problems.append(Problem(raw.name, r, "value", f"{k}: required value is blank"))
            continue
        msg = check_bounds(col, v)
        if msg:
            problems.append(Problem(raw.name, r, "value", f"{k}: {msg}"))
            continue
        values[k] = v
    for col in sheet.columns:
        if col.required and col.name not in rows:
            problems.append(Problem(raw.name, None, "key", f"required setting '{col.name}' is missing"))
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
def build_case(raw: RawWorkbook) -> CaseData:
    """Validate a raw workbook against every rule of the schema; raise InputError with all problems."""
    problems: list[Problem] = list(raw.problems)
    warnings: list[str] = []
    sv, srow = _parse_settings(raw.sheet("settings"), problems)
    tables = {sh.name: _parse_table(sh, raw.sheet(sh.name), problems) for sh in S.SHEETS if sh.layout == "table"}

    start, end = sv.get("start_year"), sv.get("end_year")
    if start is not None and end is not None and end < start:
        problems.append(Problem("settings", srow.get("end_year"), "value", f"end_year {end} is before start_year {start}"))
    if start is None or end is None or end < start:
        raise InputError(problems)
    years = tuple(range(start, end + 1))
    yearset = set(years)
    settings = Settings(**{**{c.name: c.default for c in S.SETTINGS.columns if c.default is not None},
                           "base_year": start, **sv})
    if raw.sheet("settings") is not None:
        known = {c.name for c in S.SETTINGS.columns}
        rs = raw.sheet("settings")
        ki = rs.col_index("key")
        for r, row in zip(rs.excel_rows, rs.rows):
            if row[ki] is not None and normalise(row[ki]) not in known:
                warnings.append(f"sheet 'settings', row {r}: unknown setting '{row[ki]}' ignored")

    def outside(sheet: str, r: int, y: int) -> bool:
        if y in yearset:
            return False
        warnings.append(f"sheet '{sheet}', row {r}: year {y} is outside the horizon {start}-{end}; row ignored")
        return True

    # demand
    vehicles, kwh = {}, {}
    for r, rec in tables["demand"]:
        if outside("demand", r, rec["year"]):
            continue
        vehicles[rec["year"]] = rec["vehicles"]
        kwh[rec["year"]] = rec["kwh_per_vehicle"]
    if raw.sheet("demand") is not None and tables["demand"] is not None:
        missing = [y for y in years if y not in vehicles]
        if missing and not any(p.sheet == raw.sheet("demand").name and p.row is not None for p in problems):
            problems.append(Problem(raw.sheet("demand").name, None, "year", f"no demand for horizon year(s) {_years_text(missing)}"))

    # chemistry mix
    share: dict[tuple[str, int], float] = {}
    share_rows: dict[int, list[int]] = {}
    chems: list[str] = []
    for r, rec in tables["chemistry_mix"]:
        k = rec["chemistry"]
        if k not in chems:
            chems.append(k)
        if outside("chemistry_mix", r, rec["year"]):
            continue
        share[(k, rec["year"])] = rec["share"]
        share_rows.setdefault(rec["year"], []).append(r)
    mix_sheet = raw.sheet("chemistry_mix")
    if mix_sheet is not None:
        bad_rows = any(p.sheet == mix_sheet.name and p.row is not None for p in problems)
        missing = [y for y in years if y not in share_rows]
        if missing and not bad_rows:
            problems.append(Problem(mix_sheet.name, None, "year", f"no chemistry shares for horizon year(s) {_years_text(missing)}"))
        if not bad_rows:
            for y, rows in sorted(share_rows.items()):
                tot = sum(v for (k, yy), v in share.items() if yy == y)
                if abs(tot - 1.0) > SHARE_TOL:
                    problems.append(Problem(mix_sheet.name, rows[0], "share",
                                            f"shares of year {y} sum to {tot:.6g}, not 1 (rows {_rows_text(rows)})"))

    # materials
    materials = {rec["material"]: Material(**_defaults(S.MATERIALS, rec, start)) for r, rec in tables["materials"]}
    mat_names = set(materials)

    def known_material(sheet: str, r: int, col: str, m: str, allow_cells: bool = False) -> bool:
        if m in mat_names or (allow_cells and m == S.CELLS):
            return True
        hint = _close(m, list(mat_names) + ([S.CELLS] if allow_cells else []))
        problems.append(Problem(raw.sheet(sheet).name, r, col, f"unknown {'product' if allow_cells else 'material'} '{m}'"
                                + (f" (did you mean '{hint}'?)" if hint else "")
                                + (f"; it must be '{S.CELLS}' or a material of sheet 'materials'" if allow_cells
                                   else "; it must be listed in sheet 'materials'")))
        return False

    # intensity
    intensity = {}
    for r, rec in tables["intensity"]:
        ok = known_material("intensity", r, "material", rec["material"])
        if rec["chemistry"] not in chems and tables["chemistry_mix"]:
            hint = _close(rec["chemistry"], chems)
            problems.append(Problem(raw.sheet("intensity").name, r, "chemistry", f"unknown chemistry '{rec['chemistry']}'"
                                    + (f" (did you mean '{hint}'?)" if hint else "") + "; it must appear in sheet 'chemistry_mix'"))
            ok = False
        if ok:
            intensity[(rec["chemistry"], rec["material"])] = rec["amount_per_gwh"]

    # facilities
    facilities = {}
    for r, rec in tables["facilities"]:
        if not known_material("facilities", r, "product", rec["product"], allow_cells=True):
            continue
        rec = _defaults(S.FACILITIES, rec, start)
        if rec["max_modules"] > 0 and not rec["module_size"] > 0:
            problems.append(Problem(raw.sheet("facilities").name, r, "module_size",
                                    f"must be > 0 because max_modules is {rec['max_modules']}"))
            continue
        facilities[rec["facility"]] = Facility(**rec)

    # imports
    imports = {}
    for r, rec in tables["imports"]:
        if known_material("imports", r, "material", rec["material"]):
            rec = _defaults(S.IMPORTS, rec, start)
            imports[(rec["material"], rec["origin"])] = ImportRoute(**rec)

    # exports
    exports = {}
    for r, rec in tables["exports"]:
        if known_material("exports", r, "material", rec["material"]):
            exports[rec["material"]] = ExportOption(**_defaults(S.EXPORTS, rec, start))

    # local content
    targets = {}
    for r, rec in tables["local_content"]:
        if not outside("local_content", r, rec["year"]) and rec["min_local_value_share"] > 0:
            targets[rec["year"]] = rec["min_local_value_share"]

    if problems:
        raise InputError(problems)

    # advisory checks: things that are legal but probably not meant
    needed = {m for (k, m), a in intensity.items() if a > 0}
    for m in sorted(needed):
        if not any(fac.product == m for fac in facilities.values()) and not any(mm == m for (mm, o) in imports):
            warnings.append(f"material '{m}' is consumed but has no facility and no import route: "
                            "demand for chemistries that use it cannot be met")
    if not any(fac.makes_cells for fac in facilities.values()):
        warnings.append("no facility makes cells: all cell demand will be unmet")

    return CaseData(
        settings=settings,
        years=years,
        chemistries=tuple(chems),
        materials=_ro(materials),
        vehicles=_ro(vehicles),
        kwh_per_vehicle=_ro(kwh),
        share=_ro(share),
        intensity=_ro(intensity),
        facilities=_ro(facilities),
        imports=_ro(imports),
        exports=_ro(exports),
        local_content_target=_ro(targets),
        raw=raw,
        warnings=tuple(warnings),
    )


def load_case(path) -> CaseData:
    """Read and validate a workbook: the data layer's front door."""
    return build_case(read_workbook(path))


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
    import difflib

    m = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if m:
        return m[0]
    low = {c.lower(): c for c in choices}
    return low.get(word.lower())
