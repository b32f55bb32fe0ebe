"""Materials block: material production, imports, exports and the material balances.

Variables
    prodm[f,y]  >= 0   units made by material facility f
    imp[m,o,y]  >= 0   units imported on route (m, o); <= max_per_year; only from first_year
    exp[m,y]    >= 0   units of m exported (m in X); <= max_per_year
"""
from __future__ import annotations

import pyomo.environ as pyo

from .costs import add_cost


def add(m, data) -> None:
    MF = data.material_facilities
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
    m._local = {mat: data.facilities_making(mat) for mat in data.materials}
    m._routes = {}
    for (mat, o, y) in imp_idx:
        m._routes.setdefault((mat, y), []).append(o)
    m._uses = {mat: [(k, a) for (k, mm), a in data.intensity.items() if mm == mat and a != 0] for mat in data.materials}
    m.material_balance = pyo.Constraint(m.M, m.Y, rule=material_balance_rule)

    for f in MF:
        vc = data.facilities[f].variable_cost_usd_per_unit
        for y in data.years:
            add_cost(m, "variable_production", y, vc, m.prodm[f, y])
    for (mat, o, y) in imp_idx:
        add_cost(m, "imports", y, data.landed_cost(mat, o, y), m.imp[mat, o, y])
    for mat in data.exports:
        for y in data.years:
            add_cost(m, "export_revenue", y, -data.exports[mat].price_usd_per_unit, m.exp[mat, y])


def material_capacity_rule(m, f, y):
    """prod[f,y] <= cap[f,y]"""
    return m.prodm[f, y] <= m._cap[f, y]


def material_balance_rule(m, mat, y):
    """sum_{f in F_m} prod[f,y] + sum_o imp[m,o,y] = sum_k amount_per_gwh[k,m] * cells[k,y] + exp[m,y]"""
    supply = [m.prodm[f, y] for f in m._local[mat]] + [m.imp[mat, o, y] for o in m._routes.get((mat, y), ())]
    use = [a * m._cells[k, y] for k, a in m._uses[mat] if not isinstance(m._cells[k, y], (int, float))]
    if mat in m.X:
        use.append(m.exp[mat, y])
    if not supply and not use:
        return pyo.Constraint.Skip
    return sum(supply) - sum(use) == 0
