"""Independent recheck of a reported plan: no Pyomo, no solver, no derived figure of the data layer.

Every constraint of formulation.md (Version 2 included) is re-evaluated from the result tables a
planner sees, and every cost category is recomputed and compared with the costs table and with
the solver's objective. A failed check raises :class:`ModelError` (``verify``) or is listed in the
:class:`Verdict` (``recheck``): a plan that fails is never reported as valid.

Independence. The model and the result tables take their derived figures (cell demand, discount
factors, capital recovery factors, landed costs, existing capacity, build years, ...) from methods
of :class:`model.data.CaseData`. A bug in one of those methods moves the model and its tables
together, so a check that called them too would agree with the bug. This module therefore reads
only the plain input values of the case (settings, vehicles, kwh_per_vehicle, share, intensity,
the facility, route, export, recipe and committed-build records) and recomputes every derived
figure with its own code, written from formulation.md (:class:`_Figures`). It calls no method or
property of ``CaseData`` or of its records (``tests/test_verify_independent.py`` scans this file).

Non-finite numbers. A NaN or an infinity in a table value the checks read, or in a recomputed
figure, is a violation: NaN compares false with everything, so without this rule a plan costed at
``nan`` would pass every inequality.

``verify_workbooks(case, results)`` rechecks a results workbook (``battery-plan verify``): it reads
the result tables by their sheet names and the case from the given input workbook or, without one,
from the input sheets the results workbook carries.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Mapping

import pandas as pd

from .errors import InputError, ModelError, Problem
from .output_schema import CELLS_PREFIX, COST_CATEGORIES, PLAN_STATUSES, TABLE_COLUMNS

FEAS_TOL = 1e-6  # relative (with an absolute floor of the same size) for constraint checks
INT_TOL = 1e-6
OBJ_TOL = 1e-6  # relative agreement of recomputed and solver objective

CELLS = "cells"
#: Cost categories of formulation.md (Version 2), in report order.
CATEGORIES = COST_CATEGORIES
#: Prefix of the sourcing rows of imported cells (``cells_LFP``), interface.md.
CELL_IMPORT_PREFIX = CELLS_PREFIX

#: Columns the checks read, per result table (more columns may follow; they are not required).
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "build_schedule": ("facility", "product", "year", "modules_built", "modules_in_service", "capacity"),
    "production": ("facility", "product", "chemistry", "year", "quantity"),
    "sourcing": ("material", "year", "source_kind", "source", "quantity"),
    "demand": ("chemistry", "year", "demand_gwh", "met_gwh", "unmet_gwh"),
    "costs": ("year", "category", "undiscounted_usd", "discounted_usd"),
    "capex_cashflow": ("facility", "year", "capex_usd"),
    "local_content": ("year", "local_value_share", "target"),
}
#: Version 2 table; optional so that results of earlier versions can still be rechecked.
MATERIAL_USE_COLUMNS = TABLE_COLUMNS["material_use"]
#: Columns that must hold a finite number in every row (a blank is a NaN, and a violation).
FINITE_COLUMNS: dict[str, tuple[str, ...]] = {
    "build_schedule": ("year", "modules_built", "modules_in_service", "capacity"),
    "production": ("year", "quantity"),
    "sourcing": ("year", "quantity"),
    "demand": ("year", "demand_gwh", "met_gwh", "unmet_gwh"),
    "costs": ("year", "undiscounted_usd", "discounted_usd"),
    "capex_cashflow": ("year", "capex_usd"),
    "local_content": ("year",),
    "material_use": ("year", "quantity"),
}


def _finite(*xs: float) -> bool:
    return all(isinstance(x, (int, float)) and math.isfinite(x) for x in xs)


def _num(x: Any) -> float:
    """A table value as a float; blank (None, NaN, '') is NaN."""
    if x is None or (isinstance(x, str) and not x.strip()):
        return math.nan
    try:
        return float(x)
    except (TypeError, ValueError):
        return math.nan


def _blank(x: Any) -> bool:
    if x is None:
        return True
    if isinstance(x, float) and math.isnan(x):
        return True
    return isinstance(x, str) and not x.strip()


def _text(x: Any) -> str:
    return "" if _blank(x) else str(x).strip()


def _year(x: Any) -> int | None:
    v = _num(x)
    return int(round(v)) if math.isfinite(v) and abs(v - round(v)) < 1e-9 else None


@dataclass
class Check:
    """Counts checks and collects violations (one planner-readable line each)."""

    violations: list[str] = field(default_factory=list)
    checked: int = 0

    def fail(self, what: str) -> None:
        self.checked += 1
        self.violations.append(what)

    def ok(self, cond: bool, what: str) -> None:
        self.checked += 1
        if not cond:
            self.violations.append(what)

    def le(self, lhs: float, rhs: float, what: str) -> None:
        """Record ``lhs <= rhs`` within tolerance; a non-finite side is a violation."""
        self.checked += 1
        if not _finite(lhs, rhs):
            self.violations.append(f"{what}: {lhs!r} <= {rhs!r} involves a number that is not finite")
        elif lhs - rhs > FEAS_TOL * max(1.0, abs(lhs), abs(rhs)):
            self.violations.append(f"{what}: {lhs:.10g} > {rhs:.10g}")

    def eq(self, lhs: float, rhs: float, what: str, names: tuple[str, str] = ("reported", "recomputed")) -> None:
        """Record ``lhs == rhs`` within tolerance; a non-finite side is a violation."""
        self.checked += 1
        if not _finite(lhs, rhs):
            self.violations.append(f"{what}: {lhs!r} vs {rhs!r} involves a number that is not finite")
        elif abs(lhs - rhs) > FEAS_TOL * max(1.0, abs(lhs), abs(rhs)):
            self.violations.append(f"{what}: {names[0]} {lhs:.10g}, {names[1]} {rhs:.10g}")


@dataclass
class Verdict:
    """Outcome of a recheck."""

    checked: int
    violations: list[str]
    net_present_cost_usd: float
    objective_usd: float | None
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.violations

    def text(self, limit: int = 40) -> str:
        if self.passed:
            return (f"independent check passed: {self.checked} checks, recomputed net present cost "
                    f"{self.net_present_cost_usd:,.0f} USD"
                    + (f" (solver {self.objective_usd:,.0f})" if self.objective_usd is not None else ""))
        head = f"independent check failed: {len(self.violations)} of {self.checked} checks violated"
        lines = [head] + ["  - " + v for v in self.violations[:limit]]
        if len(self.violations) > limit:
            lines.append(f"  ... and {len(self.violations) - limit} more")
        return "\n".join(lines)

    def report(self, what: str = "the plan", limit: int = 100) -> str:
        """The verdict for a planner: PASSED or FAILED, the number of checks, each violation on a line."""
        lines = [f"note: {n}" for n in self.notes]
        reported = ("" if self.objective_usd is None else
                    f"; reported net present cost {self.objective_usd:,.0f} USD")
        if self.passed:
            lines.append(f"PASSED: {what} meets every constraint and cost rechecked ({self.checked} checks); "
                         f"recomputed net present cost {self.net_present_cost_usd:,.0f} USD{reported}")
        else:
            lines.append(f"FAILED: {what}: {len(self.violations)} of {self.checked} checks violated"
                         f"{reported}; recomputed net present cost {self.net_present_cost_usd:,.0f} USD")
            lines += ["  - " + v for v in self.violations[:limit]]
            if len(self.violations) > limit:
                lines.append(f"  ... and {len(self.violations) - limit} more")
        return "\n".join(lines)


# --------------------------------------------------------------------------- derived figures, own code
class _Figures:
    """Every derived figure of formulation.md, from the case's plain input values only."""

    def __init__(self, data):
        s = data.settings
        self.start, self.end = int(s.start_year), int(s.end_year)
        self.years = tuple(range(self.start, self.end + 1))
        self.base = int(s.base_year)
        self.r = float(s.discount_rate)
        self.allow_unmet = bool(s.allow_unmet_demand)
        self.penalty_usd_per_gwh = float(s.unmet_penalty_usd_per_kwh) * 1e6
        self.conversion_usd_per_gwh = float(getattr(s, "cell_conversion_value_usd_per_kwh", 0.0) or 0.0) * 1e6
        self.chemistries = tuple(data.chemistries)
        self.materials = dict(data.materials)
        self.facilities = dict(data.facilities)
        self.imports = dict(data.imports)
        self.exports = dict(data.exports)
        self.cell_imports = dict(getattr(data, "cell_imports", {}) or {})
        self.recipes = {pm: float(a) for pm, a in dict(getattr(data, "recipes", {}) or {}).items() if a > 0}
        self.committed = {(f, int(y)): int(n) for (f, y), n in dict(getattr(data, "committed_builds", {}) or {}).items()}
        self.targets = {int(y): float(v) for y, v in data.local_content_target.items() if v > 0}
        self.intensity = {km: float(a) for km, a in data.intensity.items() if a != 0}
        self.vehicles = dict(data.vehicles)
        self.kwh = dict(data.kwh_per_vehicle)
        self.share = dict(data.share)
        self.price = {m: float(info.reference_price_usd_per_unit) for m, info in self.materials.items()}
        # M_c: the materials with an intensity row of positive amount (formulation.md, Version 2, 6)
        self.direct_materials = sorted({m for (k, m), a in self.intensity.items() if a > 0})

    # formulation.md, "Derived parameters", restated
    def demand(self, k: str, y: int) -> float:
        return self.vehicles[y] * self.kwh[y] * self.share.get((k, y), 0.0) / 1e6

    def df(self, y: int) -> float:
        return 1.0 / (1.0 + self.r) ** (y - self.base)

    def recovery(self, f: str) -> float:
        n = int(self.facilities[f].lifetime_years)
        if self.r == 0:
            return 1.0 / n
        return self.r * (1.0 + self.r) ** n / ((1.0 + self.r) ** n - 1.0)

    def landed(self, m: str, o: str, y: int) -> float:
        rt = self.imports[(m, o)]
        return rt.price_usd_per_unit * (1.0 + rt.tariff_rate) * (1.0 + rt.price_escalation_per_year) ** (y - self.base) \
            + rt.freight_usd_per_unit

    def cell_landed_usd_per_gwh(self, k: str, o: str, y: int) -> float:
        rt = self.cell_imports[(k, o)]
        per_kwh = rt.price_usd_per_kwh * (1.0 + rt.tariff_rate) * (1.0 + rt.price_escalation_per_year) ** (y - self.base) \
            + rt.freight_usd_per_kwh
        return 1e6 * per_kwh

    def buildable(self, f: str) -> bool:
        return self.facilities[f].max_modules > 0

    def opens(self, f: str) -> bool:
        fac = self.facilities[f]
        return fac.max_modules > 0 and fac.opening_cost_usd > 0

    def may_build(self, f: str, y: int) -> bool:
        fac = self.facilities[f]
        return fac.max_modules > 0 and self.start <= y <= self.end and y >= fac.earliest_online_year

    def existing(self, f: str, y: int) -> float:
        fac = self.facilities[f]
        return float(fac.existing_capacity) if y >= fac.existing_from_year else 0.0

    def existing_om(self, f: str, y: int) -> float:
        fac = self.facilities[f]
        return float(fac.existing_fixed_om_usd_per_year) if fac.existing_capacity > 0 and y >= fac.existing_from_year else 0.0

    def vintage_capex(self, f: str, v: int) -> float:
        fac = self.facilities[f]
        g = float(getattr(fac, "capex_change_per_year", 0.0) or 0.0)
        return fac.capex_usd_per_module * (1.0 + g) ** (v - self.base)


# --------------------------------------------------------------------------- the recheck
def recheck(data, tables: Mapping[str, pd.DataFrame], objective: float | None = None) -> Verdict:
    """Recheck the plan in ``tables`` against the case ``data``; never raises for a bad plan.

    Rows are named by facility, material, chemistry and year; where a row itself is at fault its
    number is given as in the results workbook (header on row 1, so the first record is row 2).
    """
    fg = _Figures(data)
    ck = Check()
    years = fg.years
    yearset = set(years)
    notes: list[str] = []

    for name in list(REQUIRED_COLUMNS) + ["material_use"]:
        df = tables.get(name)
        if df is None:
            continue
        for col in FINITE_COLUMNS.get(name, ()):
            if col not in df.columns:
                continue
            for i, v in enumerate(df[col].tolist()):
                ck.checked += 1
                if not math.isfinite(_num(v)):
                    key = ", ".join(_text(df[c].iloc[i]) for c in df.columns[:3] if c != col)
                    ck.violations.append(f"{name} row {i + 2} ({key}): {col} is {v!r}, not a finite number")

    def year_of(y, where: str) -> int | None:
        yy = _year(y)
        if yy is None or yy not in yearset:
            ck.fail(f"{where}: year {y!r} is not a horizon year {fg.start}-{fg.end}")
            return None
        return yy

    # --- builds: integrality, domain, committed builds, module limit, opening
    b = tables["build_schedule"]
    built: dict[tuple[str, int], float] = {}
    opened: dict[tuple[str, int], float] = {}
    brows = []
    has_open = "opened" in b.columns
    for i, row in enumerate(b.itertuples(index=False)):
        r = dict(zip(b.columns, row))
        f, y = _text(r["facility"]), year_of(r["year"], f"build_schedule row {i + 2}")
        if y is None:
            continue
        if f not in fg.facilities:
            ck.fail(f"build_schedule: unknown facility {f!r} in {y}")
            continue
        if (f, y) in built:
            ck.fail(f"build_schedule: facility {f} appears twice for {y}")
            continue
        fac = fg.facilities[f]
        ck.ok(_text(r["product"]) == fac.product, f"build_schedule: {f} makes {fac.product}, not {_text(r['product'])!r} ({y})")
        n = _num(r["modules_built"])
        o = _num(r["opened"]) if has_open else 0.0
        ck.checked += 1
        if math.isfinite(n) and (abs(n - round(n)) > INT_TOL or n < -INT_TOL):
            ck.violations.append(f"build[{f},{y}] = {n:g} is not a whole number of modules")
        if math.isfinite(n) and abs(n) > INT_TOL and not fg.may_build(f, y):
            ck.fail(f"build[{f},{y}] = {n:g} but {f} cannot bring modules online in {y} "
                    f"(max_modules {fac.max_modules}, earliest_online_year {fac.earliest_online_year})")
        ck.checked += 1
        if math.isfinite(o) and (min(abs(o), abs(o - 1)) > INT_TOL):
            ck.violations.append(f"open[{f},{y}] = {o:g} is not 0 or 1")
        if math.isfinite(o) and o > INT_TOL and not (fg.opens(f) and fg.may_build(f, y)):
            ck.fail(f"open[{f},{y}] = {o:g} but {f} has no opening decision in {y}")
        if not math.isfinite(o):
            ck.fail(f"build_schedule: opened of {f} in {y} is {r['opened']!r}, not a finite number")
        built[f, y] = n if math.isfinite(n) else 0.0
        opened[f, y] = o if math.isfinite(o) else 0.0
        brows.append((i, f, y, r))
    if not has_open and any(fg.opens(f) for f in fg.facilities):
        ck.fail("build_schedule has no 'opened' column: opening decisions and costs cannot be checked")

    for (f, y), n in sorted(fg.committed.items()):
        ck.le(n, built.get((f, y), 0.0), f"committed build of {f} in {y}: modules_built below the committed {n}")
    for f, fac in fg.facilities.items():
        if fg.buildable(f):
            ck.le(sum(built.get((f, y), 0.0) for y in years), fac.max_modules, f"module limit of {f}")
        if fg.opens(f):
            ck.le(sum(opened.get((f, y), 0.0) for y in years), 1, f"{f} opens at most once")

    # N and capacity recomputed from the builds
    cap: dict[tuple[str, int], float] = {}
    n_service: dict[tuple[str, int], float] = {}
    for f, fac in fg.facilities.items():
        life = int(fac.lifetime_years)
        for y in years:
            n = sum(built.get((f, v), 0.0) for v in years if v <= y and y - v < life)
            n_service[f, y] = n
            cap[f, y] = fg.existing(f, y) + fac.module_size * (n - (1 - fac.ramp_up_first_year) * built.get((f, y), 0.0))
            if fg.opens(f):
                ck.le(n, fac.max_modules * sum(opened.get((f, v), 0.0) for v in years if v <= y),
                      f"{f} has modules in service in {y} before it opens")
    for i, f, y, r in brows:
        ck.eq(_num(r["modules_in_service"]), n_service[f, y], f"modules in service of {f} in {y}")
        ck.eq(_num(r["capacity"]), cap[f, y], f"capacity of {f} in {y}")
        if "committed_modules" in b.columns:
            ck.eq(_num(r["committed_modules"]), fg.committed.get((f, y), 0), f"committed modules of {f} in {y}")
        if "capex_usd_per_module" in b.columns and fg.buildable(f) and not _blank(r["capex_usd_per_module"]):
            ck.eq(_num(r["capex_usd_per_module"]), fg.vintage_capex(f, y), f"vintage capex per module of {f} in {y}")
    for f in fg.facilities:  # a plan that uses capacity must show the facility
        for y in years:
            if (f, y) not in built and (fg.existing(f, y) > 0 or fg.buildable(f)):
                ck.fail(f"build_schedule: no row for {f} in {y}")

    # --- production within capacity
    p = tables["production"]
    prod_total: dict[tuple[str, int], float] = defaultdict(float)
    cells: dict[tuple[str, int], float] = defaultdict(float)  # locally made cells
    for i, row in enumerate(p.itertuples(index=False)):
        r = dict(zip(p.columns, row))
        f, y = _text(r["facility"]), year_of(r["year"], f"production row {i + 2}")
        if y is None:
            continue
        q = _num(r["quantity"])
        if f not in fg.facilities:
            ck.fail(f"production: unknown facility {f!r} in {y}")
            continue
        fac = fg.facilities[f]
        ck.ok(_text(r["product"]) == fac.product, f"production: {f} makes {fac.product}, not {_text(r['product'])!r} ({y})")
        k = _text(r["chemistry"])
        if fac.product == CELLS:
            if k not in fg.chemistries:
                ck.fail(f"production: {f} makes cells of unknown chemistry {k!r} in {y}")
                continue
            if math.isfinite(q):
                cells[k, y] += q
        elif k:
            ck.fail(f"production: material plant {f} has chemistry {k!r} in {y}")
        ck.le(-q, 0.0, f"production of {f} in {y} is negative")
        if math.isfinite(q):
            prod_total[f, y] += q
        if "utilisation" in p.columns and not _blank(r["utilisation"]) and math.isfinite(q):
            c = cap.get((f, y), 0.0)
            if c > 1e-12:
                ck.eq(_num(r["utilisation"]), q / c, f"utilisation of {f}{' (' + k + ')' if k else ''} in {y}")
    for (f, y), q in prod_total.items():
        ck.le(q, cap.get((f, y), 0.0), f"production of {f} in {y} exceeds capacity")
    local_of: dict[tuple[str, int], float] = defaultdict(float)  # local[m,y]
    for (f, y), q in prod_total.items():
        prod = fg.facilities[f].product
        if prod != CELLS:
            local_of[prod, y] += q

    # --- sourcing: local rows, material imports, cell imports, exports
    s = tables["sourcing"]
    local_rows: dict[tuple[str, int], float] = defaultdict(float)
    imp: dict[tuple[str, int], float] = defaultdict(float)
    exp: dict[tuple[str, int], float] = defaultdict(float)
    cimp: dict[tuple[str, int], float] = defaultdict(float)  # (chemistry, year) -> GWh imported
    imp_q: list[tuple[str, str, int, float]] = []
    cimp_q: list[tuple[str, str, int, float]] = []
    exp_q: list[tuple[str, int, float]] = []
    for i, row in enumerate(s.itertuples(index=False)):
        r = dict(zip(s.columns, row))
        mat, kind, src = _text(r["material"]), _text(r["source_kind"]), _text(r["source"])
        y = year_of(r["year"], f"sourcing row {i + 2}")
        if y is None:
            continue
        q = _num(r["quantity"])
        ck.le(-q, 0.0, f"{kind} quantity of {mat} from {src} in {y} is negative")
        if not math.isfinite(q):
            continue
        chem = mat[len(CELL_IMPORT_PREFIX):] if mat.startswith(CELL_IMPORT_PREFIX) else None
        if mat not in fg.materials and kind == "import" and chem in fg.chemistries:
            rt = fg.cell_imports.get((chem, src))
            if rt is None:
                ck.fail(f"import of {chem} cells from {src} in {y}: no such cell import route")
                continue
            if y < rt.first_year:
                ck.le(q, 0.0, f"import of {chem} cells from {src} in {y} before first_year {rt.first_year}")
            if rt.max_gwh_per_year is not None:
                ck.le(q, rt.max_gwh_per_year, f"cell import limit of {chem} from {src} in {y}")
            cimp[chem, y] += q
            cimp_q.append((chem, src, y, q))
            continue
        if mat not in fg.materials:
            ck.fail(f"sourcing: unknown material {mat!r} ({kind} from {src} in {y})")
            continue
        if kind == "local":
            fac = fg.facilities.get(src)
            if fac is None or fac.product != mat:
                ck.fail(f"sourcing: {src!r} is not a facility making {mat} ({y})")
                continue
            local_rows[src, y] += q
        elif kind == "import":
            rt = fg.imports.get((mat, src))
            if rt is None:
                ck.fail(f"import of {mat} from {src} in {y}: no such import route")
                continue
            if y < rt.first_year:
                ck.le(q, 0.0, f"import of {mat} from {src} in {y} before first_year {rt.first_year}")
            if rt.max_per_year is not None:
                ck.le(q, rt.max_per_year, f"import limit of {mat} from {src} in {y}")
            imp[mat, y] += q
            imp_q.append((mat, src, y, q))
        elif kind == "export":
            ex = fg.exports.get(mat)
            if ex is None:
                ck.fail(f"export of {mat} in {y}: not an exportable material")
                continue
            if ex.max_per_year is not None:
                ck.le(q, ex.max_per_year, f"export limit of {mat} in {y}")
            exp[mat, y] += q
            exp_q.append((mat, y, q))
        else:
            ck.fail(f"sourcing: source_kind {kind!r} of {mat} in {y} is not local, import or export")
    for f, fac in fg.facilities.items():
        if fac.product == CELLS:
            continue
        for y in years:
            if prod_total.get((f, y), 0.0) or local_rows.get((f, y), 0.0):
                ck.eq(local_rows.get((f, y), 0.0), prod_total.get((f, y), 0.0),
                      f"local supply of {fac.product} from {f} in {y}", ("sourcing", "production"))
    for (mat, y), q in sorted(exp.items()):  # Version 2, correction 1
        ck.le(q, local_of.get((mat, y), 0.0), f"export of {mat} in {y} exceeds local production")

    # --- demand: local cells + imported cells + unmet = D
    d = tables["demand"]
    seen = set()
    unmet = {(k, y): 0.0 for k in fg.chemistries for y in years}
    for i, row in enumerate(d.itertuples(index=False)):
        r = dict(zip(d.columns, row))
        k, y = _text(r["chemistry"]), year_of(r["year"], f"demand row {i + 2}")
        if y is None:
            continue
        if k not in fg.chemistries:
            ck.fail(f"demand: unknown chemistry {k!r} in {y}")
            continue
        if (k, y) in seen:
            ck.fail(f"demand: {k} appears twice for {y}")
            continue
        seen.add((k, y))
        dem, met, u = _num(r["demand_gwh"]), _num(r["met_gwh"]), _num(r["unmet_gwh"])
        if (k, y) in unmet and math.isfinite(u):
            unmet[k, y] = u
        ck.eq(dem, fg.demand(k, y), f"cell demand of {k} in {y}")
        ck.eq(met, cells.get((k, y), 0.0) + cimp.get((k, y), 0.0), f"cells met of {k} in {y} (made + imported)")
        ck.eq(cells.get((k, y), 0.0) + cimp.get((k, y), 0.0) + u, fg.demand(k, y), f"cell demand balance of {k} in {y}",
              ("made + imported + unmet", "demand"))
        ck.le(-u, 0.0, f"unmet {k} in {y} is negative")
        if not fg.allow_unmet:
            ck.le(u, 0.0, f"unmet demand of {k} in {y} with allow_unmet_demand false")
        if "local_gwh" in d.columns:
            ck.eq(_num(r["local_gwh"]), cells.get((k, y), 0.0), f"cells made locally of {k} in {y}")
        if "imported_gwh" in d.columns:
            ck.eq(_num(r["imported_gwh"]), cimp.get((k, y), 0.0), f"cells imported of {k} in {y}")
    for k in fg.chemistries:
        for y in years:
            if (k, y) not in seen:
                ck.fail(f"demand: no row for {k} in {y}")

    # --- material balance with recipe use (Version 2, 2), and the material_use table
    cell_use: dict[tuple[str, int, str], float] = defaultdict(float)  # (material, year, chemistry)
    recipe_use: dict[tuple[str, int, str], float] = defaultdict(float)  # (material, year, product)
    for (k, m), a in fg.intensity.items():
        for y in years:
            if cells.get((k, y), 0.0):
                cell_use[m, y, k] += a * cells[k, y]
    for (prod, m), a in fg.recipes.items():
        for y in years:
            if local_of.get((prod, y), 0.0):
                recipe_use[m, y, prod] += a * local_of[prod, y]
    use_cells: dict[tuple[str, int], float] = defaultdict(float)
    use_all: dict[tuple[str, int], float] = defaultdict(float)
    for (m, y, _), q in cell_use.items():
        use_cells[m, y] += q
        use_all[m, y] += q
    for (m, y, _), q in recipe_use.items():
        use_all[m, y] += q
    for m in fg.materials:
        for y in years:
            ck.eq(local_of.get((m, y), 0.0) + imp.get((m, y), 0.0) - exp.get((m, y), 0.0), use_all.get((m, y), 0.0),
                  f"material balance of {m} in {y}", ("local + import - export", "cell and recipe use"))
    mu = tables.get("material_use")
    if mu is not None:
        reported: dict[tuple[str, int, str, str], float] = defaultdict(float)
        for i, row in enumerate(mu.itertuples(index=False)):
            r = dict(zip(mu.columns, row))
            y = year_of(r["year"], f"material_use row {i + 2}")
            q = _num(r["quantity"])
            if y is None or not math.isfinite(q):
                continue
            kind = _text(r["use_kind"])
            if kind not in ("cells", "recipe"):
                ck.fail(f"material_use: use_kind {kind!r} of {_text(r['material'])} in {y} is not cells or recipe")
                continue
            reported[_text(r["material"]), y, kind, _text(r["consumer"])] += q
        expected = {(m, y, "cells", k): q for (m, y, k), q in cell_use.items()}
        expected.update({(m, y, "recipe", prod): q for (m, y, prod), q in recipe_use.items()})
        for key in sorted(set(reported) | {k for k, v in expected.items() if abs(v) > 1e-9}, key=str):
            m, y, kind, who = key
            what = f"{m} used by {'cells ' + who if kind == 'cells' else 'the recipe of ' + who} in {y}"
            ck.eq(reported.get(key, 0.0), expected.get(key, 0.0), f"material_use: {what}")
    elif fg.recipes:
        notes.append("the results have no material_use table; recipe use was recomputed, not compared")

    # --- local content on the Version 2 basis
    lct = tables["local_content"]
    lc_rows: dict[int, dict] = {}
    for i, row in enumerate(lct.itertuples(index=False)):
        r = dict(zip(lct.columns, row))
        y = year_of(r["year"], f"local_content row {i + 2}")
        if y is not None:
            if y in lc_rows:
                ck.fail(f"local_content: year {y} appears twice")
            lc_rows[y] = r
    for y in years:
        conv = fg.conversion_usd_per_gwh * sum(cells.get((k, y), 0.0) for k in fg.chemistries)
        mat_value = sum(fg.price[m] * (local_of.get((m, y), 0.0) - exp.get((m, y), 0.0)) for m in fg.direct_materials)
        basis = conv + sum(fg.price[m] * use_cells.get((m, y), 0.0) for m in fg.direct_materials)
        s_y = fg.targets.get(y)
        if s_y:
            ck.le(s_y * basis, conv + mat_value, f"local content target {s_y:.1%} in {y}")
        r = lc_rows.get(y)
        if r is None:
            ck.fail(f"local_content: no row for {y}")
            continue
        share = _num(r["local_value_share"])
        if basis > 1e-9:
            ck.eq(share, (conv + mat_value) / basis, f"local value share in {y}")
        else:
            ck.ok(not math.isfinite(share) or abs(share) < 1e-9,
                  f"local value share in {y}: reported {share:g} with no locally made cells")
            ck.ok(not (isinstance(r["local_value_share"], float) and math.isinf(r["local_value_share"])),
                  f"local value share in {y} is infinite")
        tgt = _num(r["target"])
        ck.eq(tgt if math.isfinite(tgt) else 0.0, s_y or 0.0, f"local-content target reported for {y}")
        for col, val in (("conversion_value_usd", conv), ("material_value_usd", mat_value), ("basis_value_usd", basis)):
            if col in lct.columns:
                ck.eq(_num(r[col]), val, f"local_content {col} in {y}")

    # --- costs: recomputed by category, against the costs table and the solver objective
    rc: dict[tuple[str, int], float] = defaultdict(float)
    for (f, v), n in built.items():
        if not n:
            continue
        fac = fg.facilities[f]
        life = int(fac.lifetime_years)
        annual = fg.recovery(f) * fg.vintage_capex(f, v) * n
        for y in years:
            if v <= y and y - v < life:
                rc["capex_annualised", y] += annual
                rc["fixed_om", y] += fac.fixed_om_usd_per_module_year * n
    for (f, y), o in opened.items():
        if o:
            rc["opening", y] += fg.facilities[f].opening_cost_usd * o
    for f in fg.facilities:
        for y in years:
            rc["existing_fixed_om", y] += fg.existing_om(f, y)
    for (f, y), q in prod_total.items():
        rc["variable_production", y] += fg.facilities[f].variable_cost_usd_per_unit * q
    for mat, o, y, q in imp_q:
        rc["imports", y] += fg.landed(mat, o, y) * q
    for k, o, y, q in cimp_q:
        rc["cell_imports", y] += fg.cell_landed_usd_per_gwh(k, o, y) * q
    for mat, y, q in exp_q:
        rc["export_revenue", y] -= fg.exports[mat].price_usd_per_unit * q
    for (k, y), u in unmet.items():
        if u:
            rc["unmet_penalty", y] += fg.penalty_usd_per_gwh * u
    c = tables["costs"]
    in_table = set()
    for i, row in enumerate(c.itertuples(index=False)):
        r = dict(zip(c.columns, row))
        y, cat = year_of(r["year"], f"costs row {i + 2}"), _text(r["category"])
        if y is None:
            continue
        if cat not in CATEGORIES:
            ck.fail(f"costs: unknown category {cat!r} in {y}")
            continue
        if (cat, y) in in_table:
            ck.fail(f"costs: {cat} appears twice for {y}")
            continue
        in_table.add((cat, y))
        und = _num(r["undiscounted_usd"])
        ck.eq(und, rc.get((cat, y), 0.0), f"cost {cat} in {y}")
        ck.eq(_num(r["discounted_usd"]), rc.get((cat, y), 0.0) * fg.df(y), f"discounted cost {cat} in {y}")
    for (cat, y), v in sorted(rc.items()):
        if (cat, y) not in in_table and v != 0:
            ck.fail(f"costs: no row for {cat} in {y} (recomputed {v:,.2f} USD)")
    npc = math.fsum(fg.df(y) * v for (cat, y), v in rc.items())
    ck.ok(math.isfinite(npc), f"recomputed net present cost is {npc!r}, not a finite number")
    table_total = math.fsum(_num(v) for v in c["discounted_usd"].tolist())
    ck.eq(table_total, npc, "net present cost", ("costs table total", "recomputed"))
    if objective is not None:
        ck.checked += 1
        if not _finite(objective, npc):
            ck.violations.append(f"solver objective {objective!r} vs recomputed net present cost {npc!r}: not finite")
        elif abs(npc - objective) > OBJ_TOL * max(1.0, abs(npc)):
            ck.violations.append(f"recomputed net present cost {npc:,.2f} differs from the solver's objective "
                                 f"{objective:,.2f}")

    # --- capex cash flow: each module's vintage capex spread over the lead time before it comes online
    cf = tables.get("capex_cashflow")
    flows: dict[tuple[str, int], float] = defaultdict(float)
    for (f, v), n in built.items():
        if not n:
            continue
        fac = fg.facilities[f]
        lead = int(fac.lead_time_years)
        spread = [v - i for i in range(1, lead + 1)] if lead > 0 else [v]
        for yy in spread:
            flows[f, yy] += n * fg.vintage_capex(f, v) / len(spread)
    rep: dict[tuple[str, int], float] = defaultdict(float)
    for i, row in enumerate(cf.itertuples(index=False)):
        r = dict(zip(cf.columns, row))
        y, q = _year(r["year"]), _num(r["capex_usd"])
        if y is None or not math.isfinite(q):
            continue
        rep[_text(r["facility"]), y] += q
    for key in sorted(set(rep) | {k for k, v in flows.items() if v}, key=str):
        ck.eq(rep.get(key, 0.0), flows.get(key, 0.0), f"capex cash flow of {key[0]} in {key[1]}")

    return Verdict(ck.checked, ck.violations, npc, objective, notes)


def verify(results) -> list[str]:
    """Recheck ``results`` (a solved :class:`model.results.Results`); return notes or raise ModelError."""
    missing = [n for n in REQUIRED_COLUMNS if n not in results.tables]
    if missing:
        raise ModelError(f"independent check failed: result tables missing: {', '.join(missing)}")
    v = recheck(results.case, results.tables, results.solve.objective)
    if not v.passed:
        raise ModelError(v.text(limit=30))
    return [v.text()] + v.notes


# --------------------------------------------------------------------------- a results workbook
def read_result_tables(raw) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """The result tables and the summary of a results workbook (``RawWorkbook``), by sheet name.

    Raises InputError naming sheet, row and column for a missing sheet or column, or for text where
    a number belongs. A blank numeric cell is read as NaN (the recheck reports it as a violation).
    """
    problems: list[Problem] = []
    tables: dict[str, pd.DataFrame] = {}
    numeric = {name: set(cols) for name, cols in FINITE_COLUMNS.items()}
    numeric["build_schedule"] |= {"opened", "committed_modules", "capex_usd_per_module"}
    numeric["production"] |= {"utilisation"}
    numeric["demand"] |= {"local_gwh", "imported_gwh"}
    numeric["local_content"] |= {"local_value_share", "target", "conversion_value_usd", "material_value_usd",
                                 "basis_value_usd"}
    wanted = dict(REQUIRED_COLUMNS)
    wanted["material_use"] = MATERIAL_USE_COLUMNS
    for name, cols in wanted.items():
        sh = raw.sheet(name)
        if sh is None:
            if name != "material_use":
                problems.append(Problem(name, None, None, "result sheet is missing; is this a results workbook "
                                        "written by 'battery-plan run'?"))
            continue
        header = [str(h).strip().lower() if h is not None else "" for h in sh.header]
        absent = [c for c in cols if c not in header]
        if absent:
            problems.append(Problem(sh.name, sh.header_row, absent[0], f"result column(s) {', '.join(absent)} "
                                    f"missing from the header row"))
            continue
        rows = []
        for r, rec in sh.records():
            if all(_blank(v) for v in rec.values()):
                continue
            out = {}
            for c, v in rec.items():
                if c in numeric.get(name, ()) and isinstance(v, str) and v.strip():
                    try:
                        v = float(v)
                    except ValueError:
                        problems.append(Problem(sh.name, r, c, f"text {v[:40]!r} where a number belongs"))
                        v = math.nan
                elif c in numeric.get(name, ()) and isinstance(v, bool):
                    v = float(v)
                out[c] = v
            rows.append(out)
        cols_all = [h for h in header if h]
        tables[name] = pd.DataFrame(rows, columns=cols_all)
    from .results_workbook import summary_values

    summary = summary_values(raw)
    if problems:
        raise InputError(problems)
    return tables, summary


def verify_workbooks(case_path, results_path=None) -> Verdict:
    """Recheck a results workbook against a case workbook (or against the inputs it carries).

    ``verify_workbooks(results)`` alone uses the input sheets echoed in the results workbook.
    Raises InputError for an unreadable or incomplete workbook (exit status 2).
    """
    from pathlib import Path

    from .data import build_case
    from .results_workbook import inputs_from_report, is_report
    from .workbook import read_workbook

    if results_path is None:
        case_path, results_path = None, case_path
    res_raw = read_workbook(results_path)
    if not is_report(res_raw):
        raise InputError(Problem(Path(results_path).name, None, None, "not a results workbook (no 'summary' sheet "
                                 "with key/value and no result sheets)", scope="file"))
    tables, summary = read_result_tables(res_raw)
    status = _text(summary.get("status"))
    if status and status not in PLAN_STATUSES:
        raise InputError(Problem("summary", None, "status", f"the results hold no plan to check (status {status})"))
    notes: list[str] = []
    if case_path is None:
        data = build_case(inputs_from_report(res_raw))
        notes.append(f"case: the input sheets carried by {Path(results_path).name}")
    else:
        case_raw = inputs_from_report(read_workbook(case_path))
        data = build_case(case_raw)
        sha = _text(summary.get("input_sha256"))
        if sha and case_raw.sha256 and sha != case_raw.sha256:
            notes.append(f"{Path(results_path).name} was solved from another file or with overrides "
                         f"(input_sha256 differs); the plan is checked against {Path(case_path).name} as given")
    obj = None
    for key in ("net_present_cost_usd", "objective_npv_usd"):
        if key in summary and not _blank(summary[key]):
            obj = _num(summary[key])
            break
    v = recheck(data, tables, obj)
    if obj is None:
        v.notes.append("the summary has no net_present_cost_usd: the costs were checked against the costs table only")
    v.notes[:0] = notes
    return v
