"""Local-content (rules-of-origin) block, on the version-2 basis.

With ``v = cell_conversion_value_usd_per_kwh``, reference prices p_m and M_c the materials with an
intensity row of positive amount (the cells' direct materials), for each year y with target s > 0:

    1e6 v sum_k cells[k,y] + sum_{m in M_c} p_m (local[m,y] - exp[m,y])
        >= s (1e6 v sum_k cells[k,y] + sum_{m in M_c} p_m use[m,y]),   use[m,y] = sum_k a[k,m] cells[k,y]

``cells`` are the locally made cells only (imported cells are on neither side). With v = 0 this is
the core's materials-only share.
"""
from __future__ import annotations

import pyomo.core as pyo

from ..data import CaseData


def add(m: pyo.ConcreteModel, data: CaseData) -> None:
    m.LC_Y = pyo.Set(initialize=sorted(data.local_content_target), ordered=True)
    m.local_content = pyo.Constraint(m.LC_Y, rule=local_content_rule)


def local_content_rule(m: pyo.ConcreteModel, y: int):
    """1e6 v cells + sum_{M_c} p_m (local_m - exp_m) >= s_y (1e6 v cells + sum_{M_c} p_m use_m)"""
    sh = m.shared
    data = sh.data
    s = data.local_content_target[y]
    v = data.settings.cell_conversion_value_usd_per_kwh
    local = []
    need = []
    if v > 0:
        for k in data.chemistries:
            c = sh.cells[k, y]
            if not isinstance(c, (int, float)):
                local.append(1e6 * v * c)
                need.append(s * 1e6 * v * c)
    for mat in data.cell_materials:
        p = data.materials[mat].reference_price_usd_per_unit
        if p == 0:
            continue
        local += [p * m.prodm[f, y] for f in sh.makers[mat]]
        if mat in m.X:
            local.append(-p * m.exp[mat, y])
        need += [s * p * a * sh.cells[k, y] for k, a in sh.uses[mat] if not isinstance(sh.cells[k, y], (int, float))]
    if not local and not need:
        return pyo.Constraint.Skip
    return sum(local) - sum(need) >= 0
