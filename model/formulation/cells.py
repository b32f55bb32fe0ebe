"""Cells block: cell production by chemistry, the cell capacity limit, demand and unmet demand.

Variables
    prodc[f,k,y] >= 0   GWh of chemistry k made by cell facility f
    unmet[k,y]   >= 0   GWh of demand not met (fixed to 0 when allow_unmet_demand is false)

Demand (version 2: imported cells ``cimp`` of :mod:`.cell_imports` count too):
    sum_{f in F_cells} prod[f,k,y] + sum_o cimp[k,o,y] + unmet[k,y] = D[k,y]
"""
from __future__ import annotations

import pyomo.core as pyo

from ..data import CaseData
from .costs import add_cost


def add(m: pyo.ConcreteModel, data: CaseData) -> None:
    F = data.cell_facilities
    K = data.chemistries
    m.CELL_F = pyo.Set(initialize=F, ordered=True)
    m.K = pyo.Set(initialize=K, ordered=True)
    m.prodc = pyo.Var(m.CELL_F, m.K, m.Y, domain=pyo.NonNegativeReals)
    allow = data.settings.allow_unmet_demand
    m.unmet = pyo.Var(m.K, m.Y, domain=pyo.NonNegativeReals, bounds=(0, None) if allow else (0, 0))

    m.cell_capacity = pyo.Constraint(m.CELL_F, m.Y, rule=cell_capacity_rule)
    m.cell_demand = pyo.Constraint(m.K, m.Y, rule=cell_demand_rule)
    # cells[k,y] (locally made), used by the material balances and local content
    m.shared.cells.update({(k, y): sum(m.prodc[f, k, y] for f in F) if F else 0 for k in K for y in data.years})

    penalty = data.settings.unmet_penalty_usd_per_kwh * 1e6  # USD per GWh
    for f in F:
        vc = data.facilities[f].variable_cost_usd_per_unit
        for k in K:
            for y in data.years:
                add_cost(m, "variable_production", y, vc, m.prodc[f, k, y])
    for k in K:
        for y in data.years:
            add_cost(m, "unmet_penalty", y, penalty, m.unmet[k, y])


def cell_capacity_rule(m: pyo.ConcreteModel, f: str, y: int):
    """sum_k prod[f,k,y] <= cap[f,y]"""
    return sum(m.prodc[f, k, y] for k in m.K) <= m.shared.cap[f, y]


def cell_demand_rule(m: pyo.ConcreteModel, k: str, y: int):
    """sum_{f in F_cells} prod[f,k,y] + sum_o cimp[k,o,y] + unmet[k,y] = D[k,y]"""
    imported = [m.cimp[k, o, y] for o in m.shared.cell_routes.get((k, y), ())]
    return sum(m.prodc[f, k, y] for f in m.CELL_F) + sum(imported) + m.unmet[k, y] == m.shared.data.demand_gwh(k, y)
