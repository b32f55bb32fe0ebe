"""Tidy result tables (pandas, long format: one fact a row) from a solved model.

:class:`SolveInfo` says how the solve ended; :class:`Results` carries the tables that
:mod:`model.verify` rechecks and :mod:`model.report` writes. Column names follow
``interface.md``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .data import CaseData
from .output_schema import (  # noqa: F401 - the output schema, importable from here as before
    CELLS_PREFIX, COST_CATEGORIES, EXTRA_COLUMNS, STATUSES, TABLE_COLUMNS, SolveInfo)


@dataclass
class Results:
    case: CaseData
    solve: SolveInfo
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)  # ordered key -> value for the summary sheet
    timings: dict[str, float] = field(default_factory=dict)  # phase -> seconds
    notes: list[str] = field(default_factory=list)  # verification notes, warnings for the planner
    model: Any = field(default=None, repr=False)  # the solved Pyomo model, for follow-up analyses
    solver_options: Any = None


# --------------------------------------------------------------------------- extraction
def _v(x) -> float:
    """Value of a variable/expression/number as reported: integer variables rounded, solver
    noise below 1e-9 cleaned to 0. Every table and the costs use these same values, so the
    independent check compares like with like."""
    import pyomo.core as pyo

    if isinstance(x, (int, float)):
        val = float(x)
    elif getattr(x, "is_variable_type", lambda: False)() and x.is_integer():
        return float(round(x.value or 0.0))
    else:
        val = float(pyo.value(x))
    return 0.0 if abs(val) < 1e-9 else val


def _int(x) -> int:
    return int(round(_v(x)))


def extract(m, data: CaseData, info: SolveInfo) -> Results:
    """Tidy tables from the solution loaded on ``m`` (call only when ``info.has_solution``)."""
    years = data.years
    rows = []
    for f, fac in data.facilities.items():
        built_by_year = {y: _int(m.build[f, y]) if (f, y) in m.build else 0 for y in years}
        for y in years:
            built = built_by_year[y]
            opened = _int(m.open[f, y]) if (f, y) in m.open else 0
            # N and cap at the whole-module plan (formulation.md, "Modules in service", "Capacity")
            n = sum(b for v, b in built_by_year.items() if v <= y and y - v < fac.lifetime_years)
            cap = data.existing_capacity(f, y) + fac.module_size * (n - (1 - fac.ramp_up_first_year) * built)
            if fac.can_build or fac.existing_capacity > 0:
                rows.append((f, fac.product, y, built, n, cap, opened, data.committed_builds.get((f, y), 0),
                             data.capex_usd(f, y) if fac.can_build else None))
    build = pd.DataFrame(rows, columns=TABLE_COLUMNS["build_schedule"] + EXTRA_COLUMNS["build_schedule"])
    cap_of = {(r[0], r[2]): r[5] for r in rows}

    rows = []
    for f in data.cell_facilities:
        for y in years:
            cap = cap_of.get((f, y), 0.0)
            for k in data.chemistries:
                q = _v(m.prodc[f, k, y])
                if q or cap:
                    rows.append((f, "cells", k, y, q, q / cap if cap > 1e-12 else None))
    for f in data.material_facilities:
        for y in years:
            cap = cap_of.get((f, y), 0.0)
            q = _v(m.prodm[f, y])
            if q or cap:
                rows.append((f, data.facilities[f].product, None, y, q, q / cap if cap > 1e-12 else None))
    production = pd.DataFrame(rows, columns=TABLE_COLUMNS["production"])

    rows = []
    for mat in data.materials:
        for y in years:
            for f in data.facilities_making(mat):
                q = _v(m.prodm[f, y])
                if q:
                    rows.append((mat, y, "local", f, q))
            for (mm, o) in data.imports:
                if mm == mat and (mat, o, y) in m.imp:
                    q = _v(m.imp[mat, o, y])
                    if q:
                        rows.append((mat, y, "import", o, q))
            if mat in data.exports:
                q = _v(m.exp[mat, y])
                if q:
                    rows.append((mat, y, "export", "export", q))
    imported = {}
    for k in data.chemistries:
        for y in years:
            for (kk, o) in data.cell_imports:
                if kk == k and (k, o, y) in m.cimp:
                    q = _v(m.cimp[k, o, y])
                    if q:
                        rows.append((CELLS_PREFIX + k, y, "import", o, q))
                        imported[k, y] = imported.get((k, y), 0.0) + q
    sourcing = pd.DataFrame(rows, columns=TABLE_COLUMNS["sourcing"])

    rows = []
    for k in data.chemistries:
        for y in years:
            d = data.demand_gwh(k, y)
            u = _v(m.unmet[k, y])
            loc = sum(_v(m.prodc[f, k, y]) for f in data.cell_facilities)
            rows.append((k, y, d, d - u, u, loc, imported.get((k, y), 0.0)))
    demand = pd.DataFrame(rows, columns=TABLE_COLUMNS["demand"] + EXTRA_COLUMNS["demand"])
    material_use = material_use_table(data, production)

    vals = cost_values(m)
    rows = []
    for y in years:
        df = data.discount_factor(y)
        for cat in COST_CATEGORIES:
            u = vals.get((cat, y), 0.0)
            rows.append((y, cat, u, u * df))
    costs = pd.DataFrame(rows, columns=TABLE_COLUMNS["costs"])

    capex = capex_cashflow(data, build)
    local = local_content_table(data, production, sourcing)

    tables = {"build_schedule": build, "production": production, "sourcing": sourcing, "demand": demand,
              "costs": costs, "capex_cashflow": capex, "local_content": local, "material_use": material_use}
    return Results(case=data, solve=info, tables=tables)


def cost_values(m) -> dict[tuple[str, int], float]:
    """Undiscounted USD by (category, year) from the model's cost ledger, at the reported values."""
    out: dict[tuple[str, int], float] = {}
    for key, terms in m.shared.cost_terms.items():  # the model's declared cost ledger
        out[key] = sum(c * _v(v) for c, v in terms)
    for key, amount in m.shared.cost_constants.items():
        out[key] = out.get(key, 0.0) + amount
    return out


def capex_cashflow(data: CaseData, build: pd.DataFrame) -> pd.DataFrame:
    """Lump-sum capex of each module spread evenly over the lead_time_years before it comes online.

    A module online in year v costs its vintage capex ``capex[f,v]`` (:meth:`CaseData.capex_usd`)."""
    flows: dict[tuple[str, int], float] = {}
    for f, y, n in build.loc[build["modules_built"] > 0, ["facility", "year", "modules_built"]].itertuples(index=False):
        fac = data.facilities[f]
        lump = n * data.capex_usd(f, y)
        lead = fac.lead_time_years
        spread = [y - i for i in range(1, lead + 1)] if lead > 0 else [y]
        for yy in spread:
            flows[(f, yy)] = flows.get((f, yy), 0.0) + lump / len(spread)
    rows = sorted(flows.items(), key=lambda kv: (list(data.facilities).index(kv[0][0]), kv[0][1]))
    return pd.DataFrame([(f, y, v) for (f, y), v in rows], columns=TABLE_COLUMNS["capex_cashflow"])


def consumption(data: CaseData, cells_by_ky: dict[tuple[str, int], float]) -> dict[tuple[str, int], float]:
    """Units of each material the cells consume: sum_k amount_per_gwh[k,m] * cells[k,y]."""
    out: dict[tuple[str, int], float] = {}
    for (k, mat), a in data.intensity.items():
        for y in data.years:
            out[(mat, y)] = out.get((mat, y), 0.0) + a * cells_by_ky.get((k, y), 0.0)
    return out


def material_use_table(data: CaseData, production: pd.DataFrame) -> pd.DataFrame:
    """What each material is used for: ``use_kind`` ``cells`` (consumer = chemistry, amount_per_gwh *
    locally made cells) or ``recipe`` (consumer = product, r[p,m] * local output of p); rows > 0 only."""
    cells = production[production["product"] == "cells"].groupby(["chemistry", "year"])["quantity"].sum().to_dict()
    local = production[production["product"] != "cells"].groupby(["product", "year"])["quantity"].sum().to_dict()
    rows = []
    for mat in data.materials:
        for y in data.years:
            for k in data.chemistries:
                q = data.intensity.get((k, mat), 0.0) * cells.get((k, y), 0.0)
                if q > 0:
                    rows.append((mat, y, "cells", k, q))
            for (p, i), a in data.recipes.items():
                if i == mat and a > 0:
                    q = a * local.get((p, y), 0.0)
                    if q > 0:
                        rows.append((mat, y, "recipe", p, q))
    return pd.DataFrame(rows, columns=TABLE_COLUMNS["material_use"])


def local_content_table(data: CaseData, production: pd.DataFrame, sourcing: pd.DataFrame) -> pd.DataFrame:
    """The local value share on the version-2 basis, year by year.

    conversion = 1e6 v sum_k cells[k,y]; material = sum_{m in M_c} p_m (local - exp);
    basis = conversion + sum_{m in M_c} p_m use[m,y]; share = (conversion + material) / basis.
    """
    cells = production[production["product"] == "cells"].groupby(["chemistry", "year"])["quantity"].sum().to_dict()
    use = consumption(data, cells)
    price = {mat: info.reference_price_usd_per_unit for mat, info in data.materials.items()}
    local = sourcing[sourcing["source_kind"] == "local"].groupby(["material", "year"])["quantity"].sum().to_dict()
    exported = sourcing[sourcing["source_kind"] == "export"].groupby(["material", "year"])["quantity"].sum().to_dict()
    v = data.settings.cell_conversion_value_usd_per_kwh
    mc = data.cell_materials
    rows = []
    for y in data.years:
        conv = 1e6 * v * sum(cells.get((k, y), 0.0) for k in data.chemistries)
        need = sum(price[mat] * use.get((mat, y), 0.0) for mat in mc)
        loc = sum(price[mat] * (local.get((mat, y), 0.0) - exported.get((mat, y), 0.0)) for mat in mc)
        basis = conv + need
        rows.append((y, (conv + loc) / basis if basis > 1e-9 else None, data.local_content_target.get(y),
                     conv, loc, basis))
    return pd.DataFrame(rows, columns=TABLE_COLUMNS["local_content"] + EXTRA_COLUMNS["local_content"])
