"""Materials block: material production, imports, exports, the balances and (version 2) recipes.

Variables
    prodm[f,y]  >= 0   units made by material facility f
    imp[m,o,y]  >= 0   units imported on route (m, o); <= max_per_year; only from first_year
    exp[m,y]    >= 0   units of m exported (m in X); <= max_per_year

With ``local[m,y] = sum_{f in F_m} prod[f,y]``, ``cells[k,y]`` the locally made cells and
``r[p,m]`` the recipes (units of m per unit of p made locally; imported p brings its inputs):

    balance:            local[m,y] + sum_o imp[m,o,y] = sum_k a[k,m] cells[k,y] + sum_p r[p,m] local[p,y] + exp[m,y]
    export_from_local:  exp[m,y] <= local[m,y]   for m in X (version 2 correction: no re-export)
"""
from __future__ import annotations

import pyomo.core as pyo

from ..data import CaseData
from .costs import add_cost


def add(m: pyo.ConcreteModel, data: CaseData) -> None:
    MF = data.material_facilities
    sh = m.shared
    m.MAT_F = pyo.Set(initialize=MF, ordered=True)
    m.M = pyo.Set(initialize=tuple(data.materials), ordered=True)
    m.prodm = pyo.Var(m.MAT_F, m.Y, domain=pyo.NonNegativeReals)
    imp_idx = [(mat, o, y) for (mat, o) in data.imports for y in data.import_years(mat, o)]
    m.IMP_IDX = pyo.Set(initialize=imp_idx, dimen=3, ordered=True)
    m.imp = pyo.Var(m.IMP_IDX, domain=pyo.NonNegativeReals,
                    bounds=lambda m, mat, o, y: (0, data.imports[mat, o].max_per_year))
    m.X = pyo.Set(initialize=tuple(data.exports), ordered=True)
    m.exp = pyo.Var(m.X, m.Y, domain=pyo.NonNegativeReals,
                    bounds=lambda m, mat, y: (0, data.exports[mat].max_per_year))

    m.material_capacity = pyo.Constraint(m.MAT_F, m.Y, rule=material_capacity_rule)
    # index lists for the balance
    sh.makers = {mat: data.facilities_making(mat) for mat in data.materials}
    for (mat, o, y) in imp_idx:
        sh.routes.setdefault((mat, y), []).append(o)
    sh.uses = {mat: [(k, a) for (k, mm), a in data.intensity.items() if mm == mat and a != 0] for mat in data.materials}
    sh.recipe_uses = {mat: [] for mat in data.materials}
    for (p, i), a in data.recipes.items():
        if a > 0:
            sh.recipe_uses[i].append((p, a))
    m.material_balance = pyo.Constraint(m.M, m.Y, rule=material_balance_rule)
    m.export_from_local = pyo.Constraint(m.X, m.Y, rule=export_from_local_rule)

    for f in MF:
        vc = data.facilities[f].variable_cost_usd_per_unit
        for y in data.years:
            add_cost(m, "variable_production", y, vc, m.prodm[f, y])
    for (mat, o, y) in imp_idx:
        add_cost(m, "imports", y, data.landed_cost(mat, o, y), m.imp[mat, o, y])
    for mat in data.exports:
        for y in data.years:
            add_cost(m, "export_revenue", y, -data.exports[mat].price_usd_per_unit, m.exp[mat, y])


def material_capacity_rule(m: pyo.ConcreteModel, f: str, y: int):
    """prod[f,y] <= cap[f,y]"""
    return m.prodm[f, y] <= m.shared.cap[f, y]


def material_balance_rule(m: pyo.ConcreteModel, mat: str, y: int):
    """local[m,y] + sum_o imp[m,o,y] = sum_k amount_per_gwh[k,m] * cells[k,y] + sum_p r[p,m] * local[p,y] + exp[m,y]"""
    sh = m.shared
    supply = [m.prodm[f, y] for f in sh.makers[mat]] + [m.imp[mat, o, y] for o in sh.routes.get((mat, y), ())]
    use = [a * sh.cells[k, y] for k, a in sh.uses[mat] if not isinstance(sh.cells[k, y], (int, float))]
    use += [a * m.prodm[f, y] for p, a in sh.recipe_uses[mat] for f in sh.makers[p]]
    if mat in m.X:
        use.append(m.exp[mat, y])
    if not supply and not use:
        return pyo.Constraint.Skip
    return sum(supply) - sum(use) == 0


def export_from_local_rule(m: pyo.ConcreteModel, mat: str, y: int):
    """exp[m,y] <= local[m,y] = sum_{f in F_m} prod[f,y]  (version 2 correction)"""
    return m.exp[mat, y] - sum(m.prodm[f, y] for f in m.shared.makers[mat]) <= 0
