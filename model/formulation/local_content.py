"""Local-content (rules-of-origin) block.

For each year y with a target s > 0, valuing every material at its reference price p_m:
    sum_m p_m * (sum_{f in F_m} prod[f,y] - exp[m,y]) >= s * sum_m p_m * sum_k amount_per_gwh[k,m] * cells[k,y]
"""
from __future__ import annotations

import pyomo.environ as pyo


def add(m, data) -> None:
    m.LC_Y = pyo.Set(initialize=sorted(data.local_content_target), ordered=True)
    m.local_content = pyo.Constraint(m.LC_Y, rule=local_content_rule)


def local_content_rule(m, y):
    """sum_m p_m (local_m - exp_m) >= s_y * sum_m p_m * consumption_m"""
    data = m._data
    s = data.local_content_target[y]
    local = []
    need = []
    for mat, info in data.materials.items():
        p = info.reference_price_usd_per_unit
        if p == 0:
            continue
        local += [p * m.prodm[f, y] for f in m._local[mat]]
        if mat in m.X:
            local.append(-p * m.exp[mat, y])
        need += [s * p * a * m._cells[k, y] for k, a in m._uses[mat] if not isinstance(m._cells[k, y], (int, float))]
    if not local and not need:
        return pyo.Constraint.Skip
    return sum(local) - sum(need) >= 0
