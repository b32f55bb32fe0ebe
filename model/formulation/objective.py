"""Objective block: minimise net present cost (USD).

    sum_y DF[y] * ( sum_f (CRF[f] capex[f] + fixed_om[f]) N[f,y] + existing fixed O&M
                    + variable costs + sum c[m,o,y] imp[m,o,y] - sum p_x exp[m,y]
                    + penalty * 1e6 * sum_k unmet[k,y] )
  + sum_{f,y} DF[y] opening_cost[f] open[f,y]
"""
from __future__ import annotations

import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression


def add(m, data) -> None:
    coefs, variables = [], []
    for (cat, y), terms in m._cost_terms.items():
        df = data.discount_factor(y)
        for c, v in terms:
            coefs.append(df * c)
            variables.append(v)
    constant = sum(data.discount_factor(y) * a for (cat, y), a in m._cost_constants.items())
    m.objective_constant_usd = constant
    expr = LinearExpression(constant=constant, linear_coefs=coefs, linear_vars=variables)
    m.npv = pyo.Objective(expr=expr, sense=pyo.minimize)


def category_values(m, data) -> dict[tuple[str, int], float]:
    """Undiscounted USD by (category, year) at the loaded solution."""
    out: dict[tuple[str, int], float] = {}
    for (cat, y), terms in m._cost_terms.items():
        out[(cat, y)] = out.get((cat, y), 0.0) + sum(c * (v.value or 0.0) for c, v in terms)
    for (cat, y), a in m._cost_constants.items():
        out[(cat, y)] = out.get((cat, y), 0.0) + a
    return out
