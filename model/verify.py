"""Independent recheck of a reported plan: no Pyomo, no solver, only the result tables and the data.

Every constraint of formulation.md is re-evaluated from the tables a planner sees, and the cost of
each category is recomputed from first principles and compared with the costs table and with the
solver's objective. A failed check raises :class:`ModelError`: a plan that fails is never reported
as valid.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import pandas as pd

from .data import CaseData
from .errors import ModelError
from .results import CELLS_PREFIX, COST_CATEGORIES, Results, consumption

FEAS_TOL = 1e-6  # relative (with an absolute floor of the same size) for constraint checks
INT_TOL = 1e-6
OBJ_TOL = 1e-6  # relative agreement of recomputed and solver objective


@dataclass
class Check:
    violations: list[str] = field(default_factory=list)
    checked: int = 0

    def le(self, lhs: float, rhs: float, what: str) -> None:
        """Record ``lhs <= rhs`` within tolerance."""
        self.checked += 1
        if lhs - rhs > FEAS_TOL * max(1.0, abs(lhs), abs(rhs)):
            self.violations.append(f"{what}: {lhs:.10g} > {rhs:.10g}")

    def eq(self, lhs: float, rhs: float, what: str) -> None:
        self.checked += 1
        if abs(lhs - rhs) > FEAS_TOL * max(1.0, abs(lhs), abs(rhs)):
            self.violations.append(f"{what}: {lhs:.10g} != {rhs:.10g}")


def recompute_costs(data: CaseData, t: dict[str, pd.DataFrame]) -> dict[tuple[str, int], float]:
    """Undiscounted USD by (category, year), from the tables alone."""
    c: dict[tuple[str, int], float] = defaultdict(float)
    b = t["build_schedule"]
    built = {(f, v): n for f, v, n in b[["facility", "year", "modules_built"]].itertuples(index=False)}
    for f, y, n, opened in b[["facility", "year", "modules_in_service", "opened"]].itertuples(index=False):
        fac = data.facilities[f]
        if fac.can_build:  # version 2: each vintage v in service pays CRF * capex[f,v]
            c[("capex_annualised", y)] += data.crf(f) * sum(
                data.capex_usd(f, v) * built.get((f, v), 0) for v in data.years if v <= y and y - v < fac.lifetime_years)
            c[("fixed_om", y)] += fac.fixed_om_usd_per_module_year * n
        if fac.has_opening_decision:
            c[("opening", y)] += fac.opening_cost_usd * opened
    for f in data.facilities:
        for y in data.years:
            c[("existing_fixed_om", y)] += data.existing_fixed_om(f, y)
    for f, y, q in t["production"][["facility", "year", "quantity"]].itertuples(index=False):
        c[("variable_production", y)] += data.facilities[f].variable_cost_usd_per_unit * q
    s = t["sourcing"]
    for mat, y, kind, src, q in s.itertuples(index=False):
        if kind == "import" and mat.startswith(CELLS_PREFIX) and (mat[len(CELLS_PREFIX):], src) in data.cell_imports:
            c[("cell_imports", y)] += 1e6 * data.cell_landed_cost_usd_per_kwh(mat[len(CELLS_PREFIX):], src, y) * q
        elif kind == "import":
            c[("imports", y)] += data.landed_cost(mat, src, y) * q
        elif kind == "export":
            c[("export_revenue", y)] -= data.exports[mat].price_usd_per_unit * q
    pen = data.settings.unmet_penalty_usd_per_kwh * 1e6
    for y, u in t["demand"][["year", "unmet_gwh"]].itertuples(index=False):
        c[("unmet_penalty", y)] += pen * u
    return c


def verify(results: Results) -> list[str]:
    """Recheck ``results``; return notes for the report or raise ModelError listing violations."""
    data = results.case
    t = results.tables
    ck = Check()
    years = data.years

    # --- builds: integrality, domain, module limit, opening
    b = t["build_schedule"]
    built = {(f, y): n for f, y, n in b[["facility", "year", "modules_built"]].itertuples(index=False)}
    opened = {(f, y): o for f, y, o in b[["facility", "year", "opened"]].itertuples(index=False)}
    for (f, y), n in built.items():
        fac = data.facilities[f]
        ck.checked += 1
        if abs(n - round(n)) > INT_TOL or n < -INT_TOL:
            ck.violations.append(f"build[{f},{y}] = {n} is not a whole number of modules")
        if n and (not fac.can_build or y < fac.earliest_online_year):
            ck.violations.append(f"build[{f},{y}] = {n} but {f} cannot bring modules online in {y}")
    for (f, y), n in data.committed_builds.items():
        ck.le(n, built.get((f, y), 0), f"committed build of {f} in {y}")
    for f, fac in data.facilities.items():
        if fac.can_build:
            ck.le(sum(built.get((f, y), 0) for y in years), fac.max_modules, f"module limit of {f}")
        if fac.has_opening_decision:
            ck.le(sum(opened.get((f, y), 0) for y in years), 1, f"{f} opens at most once")

    # N and capacity recomputed from the builds
    cap, n_service = {}, {}
    for f, fac in data.facilities.items():
        for y in years:
            n = sum(built.get((f, v), 0) for v in years if v <= y and y - v < fac.lifetime_years)
            n_service[f, y] = n
            cap[f, y] = data.existing_capacity(f, y) + fac.module_size * (n - (1 - fac.ramp_up_first_year) * built.get((f, y), 0))
            if fac.has_opening_decision:
                ck.le(n, fac.max_modules * sum(opened.get((f, v), 0) for v in years if v <= y), f"{f} has modules in {y} before it opens")
    for f, y, n, c in b[["facility", "year", "modules_in_service", "capacity"]].itertuples(index=False):
        ck.eq(n, n_service[f, y], f"modules in service of {f} in {y}")
        ck.eq(c, cap[f, y], f"capacity of {f} in {y}")

    # --- production within capacity
    p = t["production"]
    prod_total = p.groupby(["facility", "year"])["quantity"].sum().to_dict()
    for (f, y), q in prod_total.items():
        ck.le(-q, 0.0, f"production of {f} in {y} is negative")
        ck.le(q, cap.get((f, y), 0.0), f"production of {f} in {y} exceeds capacity")
    cells = p[p["product"] == "cells"].groupby(["chemistry", "year"])["quantity"].sum().to_dict()
    s = t["sourcing"]
    is_cells = (s.material.astype(str).str.startswith(CELLS_PREFIX) & (s.source_kind == "import")
                & ~s.material.isin(list(data.materials)))
    cell_imp = s[is_cells].groupby(["material", "year"])["quantity"].sum().to_dict()

    # --- demand (version 2: met = local cells + imported cells)
    for k, y, d, met, u in t["demand"][["chemistry", "year", "demand_gwh", "met_gwh", "unmet_gwh"]].itertuples(index=False):
        ck.eq(d, data.demand_gwh(k, y), f"demand of {k} in {y}")
        ck.eq(met, cells.get((k, y), 0.0) + cell_imp.get((CELLS_PREFIX + k, y), 0.0), f"cells made or imported of {k} in {y}")
        ck.eq(met + u, d, f"demand balance of {k} in {y}")
        ck.le(-u, 0.0, f"unmet {k} in {y} is negative")
        if not data.settings.allow_unmet_demand:
            ck.le(u, 0.0, f"unmet demand of {k} in {y} with allow_unmet_demand false")

    # --- material balances, import and export limits
    cell_rows = s[is_cells]
    s = s[~is_cells]
    for k, y, kind, o, q in cell_rows.itertuples(index=False):
        rt = data.cell_imports.get((k[len(CELLS_PREFIX):], o))
        if rt is None:
            ck.violations.append(f"import of {k} from {o}: no such cell import route")
            continue
        ck.le(-q, 0.0, f"cell import of {k} from {o} in {y} is negative")
        if y < rt.first_year:
            ck.le(q, 0.0, f"cell import of {k} from {o} in {y} before first_year {rt.first_year}")
        if rt.max_gwh_per_year is not None:
            ck.le(q, rt.max_gwh_per_year, f"cell import limit of {k} from {o} in {y}")
    local = s[s.source_kind == "local"].groupby(["material", "year"])["quantity"].sum().to_dict()
    imp = s[s.source_kind == "import"].groupby(["material", "year"])["quantity"].sum().to_dict()
    exp = s[s.source_kind == "export"].groupby(["material", "year"])["quantity"].sum().to_dict()
    use = consumption(data, cells)
    cell_use = dict(use)
    for (prod_, inp), a in data.recipes.items():  # version 2: recipe use of local output
        for y in years:
            use[(inp, y)] = use.get((inp, y), 0.0) + a * local.get((prod_, y), 0.0)
    for (mat, y), q in exp.items():  # version 2: exports come from local production
        ck.le(q, local.get((mat, y), 0.0), f"export of {mat} in {y} exceeds local production")
    for mat, y, kind, src, q in s.itertuples(index=False):
        ck.le(-q, 0.0, f"{kind} quantity of {mat} in {y} is negative")
        if kind == "local":
            ck.eq(q, prod_total.get((src, y), 0.0), f"local supply of {mat} from {src} in {y}")
            if data.facilities[src].product != mat:
                ck.violations.append(f"{src} does not make {mat}")
        elif kind == "import":
            rt = data.imports.get((mat, src))
            if rt is None:
                ck.violations.append(f"import of {mat} from {src}: no such route")
                continue
            if y < rt.first_year:
                ck.le(q, 0.0, f"import of {mat} from {src} in {y} before first_year {rt.first_year}")
            if rt.max_per_year is not None:
                ck.le(q, rt.max_per_year, f"import limit of {mat} from {src} in {y}")
        elif kind == "export":
            ex = data.exports.get(mat)
            if ex is None:
                ck.violations.append(f"export of {mat}: not an exportable material")
                continue
            if ex.max_per_year is not None:
                ck.le(q, ex.max_per_year, f"export limit of {mat} in {y}")
    for mat in data.materials:
        for y in years:
            ck.eq(local.get((mat, y), 0.0) + imp.get((mat, y), 0.0),
                  use.get((mat, y), 0.0) + exp.get((mat, y), 0.0), f"material balance of {mat} in {y}")

    # --- local content
    price = {mat: info.reference_price_usd_per_unit for mat, info in data.materials.items()}
    conv_v = 1e6 * data.settings.cell_conversion_value_usd_per_kwh
    for y, target in data.local_content_target.items():  # version 2 basis: conversion value + M_c
        conv = conv_v * sum(cells.get((k, y), 0.0) for k in data.chemistries)
        lhs = conv + sum(price[mat] * (local.get((mat, y), 0.0) - exp.get((mat, y), 0.0)) for mat in data.cell_materials)
        rhs = target * (conv + sum(price[mat] * cell_use.get((mat, y), 0.0) for mat in data.cell_materials))
        ck.le(rhs, lhs, f"local content target {target:.1%} in {y}")

    # --- costs: recomputed by category, against the costs table and the solver objective
    rc = recompute_costs(data, t)
    c = t["costs"]
    for y, cat, und, disc in c.itertuples(index=False):
        ck.eq(und, rc.get((cat, y), 0.0), f"cost {cat} in {y}")
        ck.eq(disc, und * data.discount_factor(y), f"discounted cost {cat} in {y}")
    npv = sum(data.discount_factor(y) * v for (cat, y), v in rc.items())
    table_npv = float(c["discounted_usd"].sum())
    if results.solve.objective is not None:
        ck.checked += 1
        if abs(npv - results.solve.objective) > OBJ_TOL * max(1.0, abs(npv)):
            ck.violations.append(f"recomputed NPV {npv:,.2f} differs from the solver's objective {results.solve.objective:,.2f}")
    ck.eq(table_npv, npv, "costs table total vs recomputed NPV")
    if set(c["category"]) - set(COST_CATEGORIES):
        ck.violations.append(f"unknown cost categories {sorted(set(c['category']) - set(COST_CATEGORIES))}")

    if ck.violations:
        head = f"independent check failed: {len(ck.violations)} of {ck.checked} checks violated"
        raise ModelError(head + "\n" + "\n".join("  - " + v for v in ck.violations[:30]))
    return [f"independent check passed: {ck.checked} checks, recomputed NPV {npv:,.0f} USD "
            f"(solver {results.solve.objective:,.0f})"]
