"""Marginal costs (shadow prices) of a solved plan, and a make-or-buy table per material and year.

``add_marginal_costs(results)`` is called by the CLI after a solve with a solution. It never raises
and never changes the tables already in ``results.tables`` or ``results.solve``: it adds the tables
``marginal_costs`` and ``make_vs_buy`` and a few sentences to ``results.notes``.

Method
------
A fresh copy of the model (``build_model`` on ``results.case``, plain statement without the optional
strengthening, whose implied bounds would take duals away from the rows) gets every
integer decision (``build``, ``open``) fixed at its value in the solved model and made continuous,
so what is left is an LP. HiGHS solves it through ``pyomo.contrib.solver`` and the row duals are
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
* ``local_content[y]``: ``local value - s_y * value(consumption) >= 0`` -> dual mu >= 0 = NPV USD per
  extra USD of required local value. One percentage point more of target s_y costs
  ``mu * value(consumption) / 100`` (envelope theorem, value at the LP solution).

Duals are in discounted (NPV) USD because the objective is; ``marginal_usd_per_unit`` divides by
``DF[y]`` so a planner reads it in that year's real USD, ``discounted_usd_per_unit`` keeps the NPV.
With a degenerate LP a dual is one valid marginal value out of a range (it can differ for an
increase and a decrease).

Tables
------
``marginal_costs``: ``year``, ``kind`` (cells / material / local_content), ``item`` (chemistry,
material, or ``target``), ``marginal_usd_per_unit``, ``unit`` (USD/GWh, USD/<material unit>,
USD per percentage point), ``discounted_usd_per_unit``.

``make_vs_buy`` (one row per material and year): ``material``, ``year``, ``unit``, ``consumption``,
``decision`` (make / buy / both / none, from the sourcing table), ``local_quantity``,
``import_quantity``, ``export_quantity``, ``cheapest_import_origin``, ``cheapest_import_usd_per_unit``
(landed cost, routes open that year), ``best_facility`` (buildable facility with the lowest full
cost), ``local_full_cost_usd_per_unit`` (CRF*capex/module_size + fixed_om/module_size + variable
cost, at full utilisation; opening cost not included), ``local_variable_cost_usd_per_unit`` (lowest
variable cost of any facility making it), ``marginal_cost_usd_per_unit`` (dual / DF),
``break_even_import_usd_per_unit`` (the landed import cost above which a new module is cheaper =
the local full cost), ``break_even_capex_usd_per_module`` (the capex at which a module of the best
facility matches the cheapest import), ``break_even`` (the same in words).
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
    "break_even_capex_usd_per_module", "break_even",
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
    import pyomo.environ as pyo
    from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition as TC

    from .diagnose import plain_model
    from .solve import SolverOptions, make_solver

    m = plain_model(data, name="battery_plan_fixed_plan")
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
    lp_opts = SolverOptions(mip_rel_gap=base.mip_rel_gap, time_limit_s=base.time_limit_s, threads=base.threads)
    solver = make_solver(lp_opts)
    try:
        res = solver.solve(m)
    except Exception as exc:  # noqa: BLE001 - reported, never raised
        return FixedPlanLP(False, f"{type(exc).__name__}: {exc}")
    if res.termination_condition != TC.convergenceCriteriaSatisfied or res.solution_status != SolutionStatus.optimal:
        return FixedPlanLP(False, f"the LP with the build plan fixed ended with {res.termination_condition.name}")
    res.solution_loader.load_vars()
    cons = [c for name in ("cell_demand", "material_balance", "local_content")
            for c in getattr(m, name, {}).values()]
    try:
        duals = res.solution_loader.get_duals(cons_to_load=cons) if cons else {}
    except Exception as exc:  # noqa: BLE001
        return FixedPlanLP(False, f"HiGHS gave no duals ({type(exc).__name__}: {exc})", model=m)
    return FixedPlanLP(True, "", m, float(res.incumbent_objective), dict(duals))


def add_marginal_costs(results) -> None:
    """Add ``marginal_costs`` and ``make_vs_buy`` to ``results.tables``; a note instead when it cannot."""
    try:
        _add(results)
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # noqa: BLE001 - an add-on never breaks a run
        results.notes.append(f"Marginal costs were not computed ({type(exc).__name__}: {exc}).")


def _val(x) -> float:
    import pyomo.environ as pyo

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
    results.tables["make_vs_buy"] = make_vs_buy_table(data, marg, results.tables.get("sourcing"))
    notes = ["Marginal costs are the duals of the LP with the build and opening decisions fixed at this plan: "
             "the cost of one more unit (one more GWh of cell demand, one more unit of a material, one more "
             "percentage point of local-content target) given the modules already in the plan, not the value of "
             "building more. marginal_usd_per_unit is in that year's USD (dual / discount factor); cells are in "
             "USD per GWh (1e6 USD/GWh = 1 USD/kWh)."]
    obj = results.solve.objective
    if obj is not None and lp.objective is not None and lp.objective < obj - OBJ_TOL * max(1.0, abs(obj)):
        notes.append(f"With the build plan fixed, the LP finds a cheaper operation than the reported plan by "
                     f"{obj - lp.objective:,.0f} USD (NPV), within the MIP gap; the marginal costs refer to that operation.")
    results.notes.extend(notes)


def _consumption(data, m, y: int) -> dict[str, float]:
    cells = {k: _val(m.shared.cells[k, y]) for k in data.chemistries}
    out: dict[str, float] = {}
    for (k, mat), a in data.intensity.items():
        out[mat] = out.get(mat, 0.0) + a * cells.get(k, 0.0)
    return out


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
            use = _consumption(data, m, y)
            value = sum(info.reference_price_usd_per_unit * use.get(mat, 0.0) for mat, info in data.materials.items())
            per_point = mu * value / 100.0
            rows.append((y, "local_content", "target", per_point / df, "USD per percentage point", per_point))
    out = pd.DataFrame(rows, columns=list(MARGINAL_COLUMNS))
    for c in ("marginal_usd_per_unit", "discounted_usd_per_unit"):  # solver noise such as -0.0 or 1e-12
        out[c] = out[c].where(out[c].abs() > 1e-9, 0.0)
    return out


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.2f}"


def make_vs_buy_table(data, marg: pd.DataFrame, sourcing: pd.DataFrame | None) -> pd.DataFrame:
    mc = {(r.item, int(r.year)): r.marginal_usd_per_unit for r in marg[marg.kind == "material"].itertuples()}
    qty: dict[tuple[str, int, str], float] = {}
    if sourcing is not None and len(sourcing):
        for r in sourcing.itertuples(index=False):
            key = (r.material, int(r.year), r.source_kind)
            qty[key] = qty.get(key, 0.0) + float(r.quantity)
    rows = []
    for mat, info in data.materials.items():
        unit = info.unit or "unit"
        facs = data.facilities_making(mat)
        buildable = [f for f in facs if data.facilities[f].can_build and data.facilities[f].module_size > 0]
        full = {}
        for f in buildable:
            fac = data.facilities[f]
            full[f] = (data.crf(f) * fac.capex_usd_per_module + fac.fixed_om_usd_per_module_year) / fac.module_size \
                + fac.variable_cost_usd_per_unit
        best = min(full, key=full.get) if full else None
        var_cost = min((data.facilities[f].variable_cost_usd_per_unit for f in facs), default=math.nan)
        for y in data.years:
            local = qty.get((mat, y, "local"), 0.0)
            imp = qty.get((mat, y, "import"), 0.0)
            exp = qty.get((mat, y, "export"), 0.0)
            consumption = local + imp - exp
            decision = "both" if local > 0 and imp > 0 else "make" if local > 0 else "buy" if imp > 0 else "none"
            routes = [(data.landed_cost(mat, o, y), o) for (mm, o) in data.imports if mm == mat
                      and y in data.import_years(mat, o)]
            c_imp, origin = min(routes) if routes else (math.nan, None)
            c_loc = full[best] if best else math.nan
            be_capex = math.nan
            if best and routes:
                fac = data.facilities[best]
                crf = data.crf(best)
                be_capex = ((c_imp - fac.variable_cost_usd_per_unit) * fac.module_size
                            - fac.fixed_om_usd_per_module_year) / crf if crf > 0 else math.nan
            text = _break_even_text(data, mat, unit, y, best, c_loc, origin, c_imp, be_capex)
            rows.append((mat, y, unit, consumption, decision, local, imp, exp, origin, c_imp, best, c_loc, var_cost,
                         mc.get((mat, y), math.nan), c_loc, be_capex, text))
    return pd.DataFrame(rows, columns=list(MAKE_VS_BUY_COLUMNS))


def _break_even_text(data, mat, unit, y, best, c_loc, origin, c_imp, be_capex) -> str:
    if best is None and origin is None:
        return f"no facility can be built for {mat} and no import route is open in {y}"
    if origin is None:
        return f"no import route for {mat} is open in {y}: local production is the only source"
    if best is None:
        return f"no facility for {mat} can be built: import (cheapest {origin}, {_fmt(c_imp)} USD/{unit} landed)"
    fac = data.facilities[best]
    capex = fac.capex_usd_per_module
    late = (f"; {best} can run only from {fac.earliest_online_year}" if y < fac.earliest_online_year else "")
    if c_loc < c_imp:
        return (f"a new module of {best} at full use ({_fmt(c_loc)} USD/{unit}) is cheaper than importing from "
                f"{origin} ({_fmt(c_imp)} USD/{unit}); making stops paying if the landed import price falls below "
                f"{_fmt(c_loc)} USD/{unit} or capex per module rises above {_fmt(be_capex)} USD (now {_fmt(capex)})"
                + late)
    if be_capex <= 0:
        return (f"importing from {origin} ({_fmt(c_imp)} USD/{unit}) is cheaper than a new module of {best} "
                f"({_fmt(c_loc)} USD/{unit} at full use); making becomes cheaper when the landed import price exceeds "
                f"{_fmt(c_loc)} USD/{unit}; no capex makes it pay at today's import price (variable and fixed costs "
                f"alone exceed it)" + late)
    return (f"importing from {origin} ({_fmt(c_imp)} USD/{unit}) is cheaper than a new module of {best} "
            f"({_fmt(c_loc)} USD/{unit} at full use); making becomes cheaper when the landed import price exceeds "
            f"{_fmt(c_loc)} USD/{unit}, or when capex per module falls below {_fmt(be_capex)} USD (now {_fmt(capex)})"
            + late)
