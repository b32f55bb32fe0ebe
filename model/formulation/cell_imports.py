"""Cell-imports block (version 2): cells bought abroad, counted against demand only.

Variables
    cimp[k,o,y] >= 0   GWh of chemistry k imported from origin o; <= max_gwh_per_year; only from first_year

Cost (category ``cell_imports``, USD):
    1e6 * ((1 + tariff_rate) * price_usd_per_kwh * (1 + price_escalation_per_year) ** (y - base_year)
           + freight_usd_per_kwh) * cimp[k,o,y]

Imported cells enter the demand row of :mod:`.cells` (through ``m.shared.cell_routes``) and
nothing else: ``cells[k,y]``, material use and local content count locally made cells only.
"""
from __future__ import annotations

import pyomo.core as pyo

from ..data import CaseData
from .costs import add_cost


def add(m: pyo.ConcreteModel, data: CaseData) -> None:
    idx = [(k, o, y) for (k, o) in data.cell_imports for y in data.cell_import_years(k, o)]
    m.CIMP_IDX = pyo.Set(initialize=idx, dimen=3, ordered=True)
    m.cimp = pyo.Var(m.CIMP_IDX, domain=pyo.NonNegativeReals,
                     bounds=lambda _m, k, o, y: (0, data.cell_imports[k, o].max_gwh_per_year))
    for (k, o, y) in idx:
        m.shared.cell_routes.setdefault((k, y), []).append(o)
        add_cost(m, "cell_imports", y, 1e6 * data.cell_landed_cost_usd_per_kwh(k, o, y), m.cimp[k, o, y])
