"""Marginal costs (shadow prices) of a solved plan, and a make-or-buy table per material and year.

``add_marginal_costs(results)`` is called by the CLI after a solve with a solution. It never raises
and never changes the tables already in ``results.tables`` or ``results.solve``: it adds the tables
``marginal_costs`` and ``make_vs_buy`` and a few sentences to ``results.notes``.

Method
------
A fresh copy of the model (``build_model`` on ``results.case``, plain statement without the optional
strengthening, whose implied bounds would take duals away from the rows) gets every
integer decision (``build``, ``open``) fixed at its value in the solved model and made continuous,
so what is left is an LP. HiGHS solves it (:func:`model.solve.solve_lp_duals`) and the row duals are
read with ``solution_loader.get_duals()``. These duals are the marginal cost of one more unit
**given the build plan** (no new modules); they say nothing about the value of building more.

Sign convention (checked on small LPs and by finite differences in ``tests/test_marginals.py``):
for this minimisation the dual of a row ``body (==, >=, <=) rhs`` is ``d objective / d rhs``.
So

* ``cell_demand[k,y]``: ``sum_f prod + unmet == D[k,y]`` -> dual = NPV USD per extra GWh of demand (>= 0);
* ``material_balance[m,y]``: ``supply - use (- exp) == 0`` -> dual = NPV USD per extra unit of m that
  must be supplied (an exogenous consumption), i.e. the marginal cost of m (>= 0 unless exports pay).
  It does not raise the local-content base (which counts the cells' use); the cell dual carries
  that effect (a GWh of cells = its materials at their marginal cost + the local-content premium);
* ``local_content[y]``: ``local value - s_y * basis >= 0`` -> dual mu >= 0 = NPV USD per
  extra USD of required local value. One percentage point more of target s_y costs
  ``mu * basis / 100`` (envelope theorem, value at the LP solution), where basis is the Version-2
  bracket ``1e6 * v * cells + sum_{m in M_c} p_m * use`` (v = cell_conversion_value_usd_per_kwh).

Duals are in discounted (NPV) USD because the objective is; ``marginal_usd_per_unit`` divides by
``DF[y]`` so a planner reads it in that year's real USD, ``discounted_usd_per_unit`` keeps the NPV.
With a degenerate LP a dual is one valid marginal value out of a range (it can differ for an
increase and a decrease).

Tables
------
``marginal_costs``: ``year``, ``kind`` (cells / material / local_content), ``item`` (chemistry,
material, or ``target``), ``marginal_usd_per_unit``, ``unit`` (USD/GWh, USD/<material unit>,
USD per percentage point), ``discounted_usd_per_unit``.

``make_vs_buy`` (one row per material and year, then one per chemistry and year with material
``cells_<chemistry>`` in GWh: local cell making against cell imports): ``material``, ``year``, ``unit``, ``consumption``,
``decision`` (make / buy / both / none, from the sourcing table), ``local_quantity``,
``import_quantity``, ``export_quantity``, ``cheapest_import_origin``, ``cheapest_import_usd_per_unit``
(landed cost, routes open that year), ``best_facility`` (buildable facility with the lowest full
cost), ``local_full_cost_usd_per_unit`` (CRF*capex/module_size + fixed_om/module_size + variable
cost + inputs, at full utilisation, with the vintage capex of a module coming online that year;
opening cost not included), ``local_variable_cost_usd_per_unit`` (lowest
variable cost of any facility making it), ``marginal_cost_usd_per_unit`` (dual / DF),
``break_even_import_usd_per_unit`` (the landed import cost above which a new module is cheaper =
the local full cost), ``break_even_capex_usd_per_module`` (the capex at which a module of the best
facility matches the cheapest import), ``break_even`` (the same in words), ``input_cost_usd_per_unit``
(what the inputs of one locally made unit cost: the recipe inputs of a material, or the materials of one
GWh of cells, each at its marginal cost in that year, else its cheapest landed import). For cells,
``break_even_import_usd_per_unit`` is the cell import price (landed, USD/GWh) above which making the
cells locally is cheaper.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

MARGINAL_COLUMNS = ("year", "kind", "item", "marginal_usd_per_unit", "unit", "discounted_usd_per_unit")
MAKE_VS_BUY_COLUMNS = (
    "material", "year", "unit", "consumption", "decision", "local_quantity", "import_quantity", "export_quantity",
    "cheapest_import_origin", "cheapest_import_usd_per_unit", "best_facility", "local_full_cost_usd_per_unit",
    "local_variable_cost_usd_per_unit", "marginal_cost_usd_per_unit", "break_even_import_usd_per_unit",
    "break_even_capex_usd_per_module", "break_even", "input_cost_usd_per_unit",
)

#: relative tolerance for "the LP objective equals the MIP objective"
OBJ_TOL = 1e-6


@dataclass
class FixedPlanLP:
    """The LP of a case with its build plan fixed, solved."""

    ok: bool
    message: str = ""
    model: Any = None
    objective: float | None = None
    duals: dict = field(default_factory=dict)  # constraint data -> dual (NPV USD per unit of rhs)


def plan_of(m) -> dict[tuple[str, str, int], float]:
    """The integer decisions of a solved model: {("build"|"open", f, y): value} (rounded)."""
    plan = {}
    for name in ("build", "open"):
        var = getattr(m, name, None)
        if var is None:
            continue
        for (f, y), v in var.items():
            val = v.value
            plan[name, f, y] = float(round(val)) if val is not None else 0.0
    return plan


def solve_fixed_plan(data, plan: dict, opts=None) -> FixedPlanLP:
    """Build the model of ``data``, fix build/open at ``plan`` (missing = 0), solve the LP, read the duals."""
    import pyomo.core as pyo

    from .formulation import build_model
    from .solve import SolverOptions, solve_lp_duals

    # the plain statement (no implied bounds): duals stay on the rows, not on column bounds
    m = build_model(data, name="battery_plan_fixed_plan", strengthen=False)
    for name in ("build", "open"):
        var = getattr(m, name, None)
        if var is None:
            continue
        for (f, y), v in var.items():
            v.domain = pyo.Reals  # a fixed integer column would keep HiGHS in MIP mode (no duals)
            v.setlb(None)
            v.setub(None)
            v.fix(plan.get((name, f, y), 0.0))
    base = opts if opts is not None else SolverOptions.from_settings(data.settings)
    cons = [c for name in ("cell_demand", "material_balance", "local_content")
            for c in getattr(m, name, {}).values()]
    message, objective, duals = solve_lp_duals(m, base, cons)
    if message:
        return FixedPlanLP(False, message, model=m if objective is not None else None)
    return FixedPlanLP(True, "", m, objective, duals)


def add_marginal_costs(results) -> None:
    """Add ``marginal_costs`` and ``make_vs_buy`` to ``results.tables``; a note instead when it cannot."""
    try:
        _add(results)
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # noqa: BLE001 - an add-on never breaks a run
        results.notes.append(f"Marginal costs were not computed ({type(exc).__name__}: {exc}).")


def _val(x) -> float:
    import pyomo.core as pyo

    if isinstance(x, (int, float)):
        return float(x)
    v = pyo.value(x, exception=False)
    return float(v) if v is not None else 0.0


def _add(results) -> None:
    if not results.solve.has_solution or results.model is None:
        return
    data = results.case
    lp = solve_fixed_plan(data, plan_of(results.model), getattr(results, "solver_options", None))
    if not lp.ok:
        results.notes.append(f"Marginal costs were not computed: {lp.message}.")
        return
    m = lp.model
    marg = marginal_table(data, m, lp.duals)
    results.tables["marginal_costs"] = marg
    results.tables["make_vs_buy"] = make_vs_buy_table(data, marg, results.tables.get("sourcing"),
                                                      results.tables.get("production"))
    notes = ["Marginal costs are the duals of the LP with the build and opening decisions fixed at this plan: "
             "the cost of one more unit (one more GWh of cell demand, one more unit of a material, one more "
             "percentage point of local-content target) given the modules already in the plan, not the value of "
             "building more. marginal_usd_per_unit is in that year's USD (dual / discount factor); cells are in "
             "USD per GWh (1e6 USD/GWh = 1 USD/kWh). A material that is neither made, bought, sold nor used in a "
             "year has no unique marginal cost (the table shows the solver's choice, often 0); make_vs_buy prices "
             "it at its cheapest landed import."]
    obj = results.solve.objective
    if obj is not None and lp.objective is not None and lp.objective < obj - OBJ_TOL * max(1.0, abs(obj)):
        notes.append(f"With the build plan fixed, the LP finds a cheaper operation than the reported plan by "
                     f"{obj - lp.objective:,.0f} USD (NPV), within the MIP gap; the marginal costs refer to that operation.")
    results.notes.extend(notes)


def _local_content_basis(data, m, y: int) -> float:
    """The right-hand side's bracket of the local-content row (formulation.md, Version 2, 6):
    ``1e6 * v * sum_k cells[k,y] + sum_{m in M_c} p_m * use[m,y]``, M_c = materials with a positive intensity row."""
    cells = {k: _val(m.shared.cells[k, y]) for k in data.chemistries}
    v = float(getattr(data.settings, "cell_conversion_value_usd_per_kwh", 0.0) or 0.0)
    value = 1e6 * v * sum(cells.values())
    for (k, mat), a in data.intensity.items():
        if a > 0:
            value += data.materials[mat].reference_price_usd_per_unit * a * cells.get(k, 0.0)
    return value


def marginal_table(data, m, duals: dict) -> pd.DataFrame:
    rows = []
    for y in data.years:
        df = data.discount_factor(y)
        for k in data.chemistries:
            if (k, y) in m.cell_demand:
                d = float(duals.get(m.cell_demand[k, y], math.nan))
                rows.append((y, "cells", k, d / df, "USD/GWh", d))
        for mat, info in data.materials.items():
            if (mat, y) in m.material_balance:
                d = float(duals.get(m.material_balance[mat, y], math.nan))
                rows.append((y, "material", mat, d / df, f"USD/{info.unit or 'unit'}", d))
        if y in m.local_content:
            mu = float(duals.get(m.local_content[y], math.nan))
            per_point = mu * _local_content_basis(data, m, y) / 100.0
            rows.append((y, "local_content", "target", per_point / df, "USD per percentage point", per_point))
    out = pd.DataFrame(rows, columns=list(MARGINAL_COLUMNS))
    for c in ("marginal_usd_per_unit", "discounted_usd_per_unit"):  # solver noise such as -0.0 or 1e-12
        out[c] = out[c].where(out[c].abs() > 1e-9, 0.0)
    return out


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.2f}"


def _unit_cost(mat: str, y: int, mc: dict, cheapest: dict, flows: set) -> float:
    """What one more unit of an input costs in year y: its marginal cost when the material flows that year,
    else its cheapest landed import.

    The marginal cost is the dual of the material's balance row. When nothing is made, bought, sold or used
    of the material in y, every term of that row is zero and its dual is not unique (HiGHS may give 0); one
    more unit would then be imported, so the cheapest landed import is its cost (the marginal when no route
    is open).
    """
    v = mc.get((mat, y), math.nan)
    c = cheapest.get((mat, y), math.nan)
    if (mat, y) not in flows and math.isfinite(c):
        return c
    if v is not None and math.isfinite(v):
        return float(v)
    return c


def make_vs_buy_table(data, marg: pd.DataFrame, sourcing: pd.DataFrame | None,
                      production: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per material and year, then one per cell chemistry and year (``cells_<chemistry>``, per GWh).

    A local unit's full cost includes its inputs: for a material made by a recipe, the inputs of one
    unit at their marginal cost (``input_cost_usd_per_unit``); for cells, the materials of one GWh at
    their marginal cost. Capex is the vintage capex of a module coming online in that year.
    """
    mc = {(r.item, int(r.year)): r.marginal_usd_per_unit for r in marg[marg.kind == "material"].itertuples()}
    mc_cells = {(r.item, int(r.year)): r.marginal_usd_per_unit for r in marg[marg.kind == "cells"].itertuples()}
    qty: dict[tuple[str, int, str], float] = {}
    if sourcing is not None and len(sourcing):
        for r in sourcing.itertuples(index=False):
            key = (r.material, int(r.year), r.source_kind)
            qty[key] = qty.get(key, 0.0) + float(r.quantity)
    flows = {(mat, y) for (mat, y, _), q in qty.items() if q > 1e-9}
    cheapest: dict[tuple[str, int], float] = {}
    for (mm, o) in data.imports:
        for y in data.import_years(mm, o):
            c = data.landed_cost(mm, o, y)
            cheapest[(mm, y)] = min(cheapest.get((mm, y), math.inf), c)
    rows = []
    for mat, info in data.materials.items():
        unit = info.unit or "unit"
        inputs = data.recipe_inputs(mat)
        facs = data.facilities_making(mat)
        buildable = [f for f in facs if data.facilities[f].can_build and data.facilities[f].module_size > 0]
        var_cost = min((data.facilities[f].variable_cost_usd_per_unit for f in facs), default=math.nan)
        for y in data.years:
            local = qty.get((mat, y, "local"), 0.0)
            imp = qty.get((mat, y, "import"), 0.0)
            exp = qty.get((mat, y, "export"), 0.0)
            consumption = local + imp - exp
            decision = "both" if local > 0 and imp > 0 else "make" if local > 0 else "buy" if imp > 0 else "none"
            routes = [(data.landed_cost(mat, o, y), o) for (mm, o) in data.imports if mm == mat
                      and y in data.import_years(mat, o)]
            c_inputs = math.fsum(a * _unit_cost(m, y, mc, cheapest, flows) for m, a in inputs)
            rows.append(_row(data, mat, y, unit, consumption, decision, local, imp, exp, routes, buildable,
                             var_cost, c_inputs, mc.get((mat, y), math.nan), what=mat))
    for k in data.chemistries:
        label = f"cells_{k}"
        facs = data.cell_facilities
        buildable = [f for f in facs if data.facilities[f].can_build and data.facilities[f].module_size > 0]
        var_cost = min((data.facilities[f].variable_cost_usd_per_unit for f in facs), default=math.nan)
        materials = [(m, a) for (kk, m), a in data.intensity.items() if kk == k and a > 0]
        made = {}
        if production is not None and len(production):
            cp = production[(production["product"] == "cells") & (production["chemistry"] == k)]
            made = cp.groupby("year")["quantity"].sum().to_dict()
        for y in data.years:
            local = float(made.get(y, 0.0))
            imp = qty.get((label, y, "import"), 0.0)
            decision = "both" if local > 0 and imp > 0 else "make" if local > 0 else "buy" if imp > 0 else "none"
            routes = [(1e6 * data.cell_landed_cost_usd_per_kwh(kk, o, y), o) for (kk, o) in data.cell_imports
                      if kk == k and y in data.cell_import_years(kk, o)]
            c_inputs = math.fsum(a * _unit_cost(m, y, mc, cheapest, flows) for m, a in materials)
            rows.append(_row(data, label, y, "GWh", local + imp, decision, local, imp, 0.0, routes, buildable,
                             var_cost, c_inputs, mc_cells.get((k, y), math.nan), what=f"{k} cells"))
    return pd.DataFrame(rows, columns=list(MAKE_VS_BUY_COLUMNS))


def _row(data, mat, y, unit, consumption, decision, local, imp, exp, routes, buildable, var_cost, c_inputs,
         marginal, what):
    full = {}
    for f in buildable:
        fac = data.facilities[f]
        full[f] = (data.crf(f) * data.capex_usd(f, y) + fac.fixed_om_usd_per_module_year) / fac.module_size \
            + fac.variable_cost_usd_per_unit + c_inputs
    best = min(full, key=full.get) if full else None
    c_imp, origin = min(routes) if routes else (math.nan, None)
    c_loc = full[best] if best else math.nan
    be_capex = math.nan
    if best and routes:
        fac = data.facilities[best]
        crf = data.crf(best)
        be_capex = ((c_imp - fac.variable_cost_usd_per_unit - c_inputs) * fac.module_size
                    - fac.fixed_om_usd_per_module_year) / crf if crf > 0 else math.nan
    text = _break_even_text(data, what, unit, y, best, c_loc, origin, c_imp, be_capex)
    return (mat, y, unit, consumption, decision, local, imp, exp, origin, c_imp, best, c_loc, var_cost,
            marginal, c_loc, be_capex, text, c_inputs)


def _price(x: float, unit: str) -> str:
    """``12,345 USD/t``; cells are priced per GWh and also shown per kWh."""
    if unit == "GWh":
        return f"{_fmt(x / 1e6)} USD/kWh"
    return f"{_fmt(x)} USD/{unit}"


def _break_even_text(data, mat, unit, y, best, c_loc, origin, c_imp, be_capex) -> str:
    if best is None and origin is None:
        return f"no facility can be built for {mat} and no import route is open in {y}"
    if origin is None:
        return f"no import route for {mat} is open in {y}: local production is the only source"
    if best is None:
        return f"no facility for {mat} can be built: import (cheapest {origin}, {_price(c_imp, unit)} landed)"
    fac = data.facilities[best]
    capex = data.capex_usd(best, y)
    late = (f"; {best} can run only from {fac.earliest_online_year}" if y < fac.earliest_online_year else "")
    loc, imp = _price(c_loc, unit), _price(c_imp, unit)
    if c_loc < c_imp:
        return (f"a new module of {best} at full use ({loc}) is cheaper than importing from "
                f"{origin} ({imp}); making stops paying if the landed import price falls below "
                f"{loc} or capex per module rises above {_fmt(be_capex)} USD (now {_fmt(capex)})"
                + late)
    if be_capex <= 0:
        return (f"importing from {origin} ({imp}) is cheaper than a new module of {best} "
                f"({loc} at full use); making becomes cheaper when the landed import price exceeds "
                f"{loc}; no capex makes it pay at today's import price (variable, input and fixed costs "
                f"alone exceed it)" + late)
    return (f"importing from {origin} ({imp}) is cheaper than a new module of {best} "
            f"({loc} at full use); making becomes cheaper when the landed import price exceeds "
            f"{loc}, or when capex per module falls below {_fmt(be_capex)} USD (now {_fmt(capex)})"
            + late)
