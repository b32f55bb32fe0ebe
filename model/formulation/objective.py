"""Objective block: minimise net present cost (USD).

    sum_y DF[y] * ( sum_f sum_{v <= y, y - v < L_f} (CRF[f] capex[f,v] + fixed_om[f]) build[f,v]
                    + existing fixed O&M + variable costs + sum c[m,o,y] imp[m,o,y]
                    + 1e6 sum c_cells[k,o,y] cimp[k,o,y] - sum p_x exp[m,y]
                    + penalty * 1e6 * sum_k unmet[k,y] )
  + sum_{f,y} DF[y] opening_cost[f] open[f,y]

The terms are those the blocks registered in the cost ledger (``m.shared.cost_terms``).
"""
from __future__ import annotations

import pyomo.core as pyo
from pyomo.core.expr.numeric_expr import LinearExpression

from ..data import CaseData


def add(m: pyo.ConcreteModel, data: CaseData) -> None:
    sh = m.shared
    coefs, variables = [], []
    for (cat, y), terms in sh.cost_terms.items():
        df = data.discount_factor(y)
        for c, v in terms:
            coefs.append(df * c)
            variables.append(v)
    constant = sum(data.discount_factor(y) * a for (cat, y), a in sh.cost_constants.items())
    expr = LinearExpression(constant=constant, linear_coefs=coefs, linear_vars=variables)
    m.npv = pyo.Objective(expr=expr, sense=pyo.minimize)
