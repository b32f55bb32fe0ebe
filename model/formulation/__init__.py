"""The Pyomo model, one module per block (Temoa/Switch style).

Each block module has ``add(m, data)`` that declares its variables and constraints on the
ConcreteModel ``m`` and registers its cost terms with :func:`costs.add_cost`. ``build_model``
calls them in order and finally the objective block sums the registered terms. No file I/O here.
Blocks talk only through ``m.shared`` (:class:`.shared.Shared`, documented field by field).

Blocks: :mod:`.capacity` (modules, opening, capacity, committed builds, vintage capex),
:mod:`.cell_imports` (imported cells), :mod:`.cells` (cell production, demand, unmet),
:mod:`.materials` (material production, imports, exports, recipes, balances),
:mod:`.local_content` (rules-of-origin targets), :mod:`.objective` (net present cost);
:mod:`.strengthen` (optional, on by default: same optimum, faster proof; ``strengthen=False`` for
the plain statement).
"""
from __future__ import annotations

import pyomo.core as pyo

from ..data import CaseData
from . import capacity, cell_imports, cells, local_content, materials, objective, strengthen as _strengthen
from .shared import Shared
from .strengthen import Strengthening

#: Blocks in build order; each is a module with ``add(m, data)``.
BLOCKS = (capacity, cell_imports, cells, materials, local_content)


def build_model(data: CaseData, *, name: str = "battery_plan",
                strengthen: bool | Strengthening = True) -> pyo.ConcreteModel:
    """Build the core model of formulation.md for ``data``.

    ``strengthen`` (default True) applies the optimum-preserving strengthening of :mod:`.strengthen`
    (sparse stock variables, implied bounds, a stronger opening link, rounding cuts, integer product
    totals, symmetry breaking among identical candidates and a cost-dominance order among
    candidates that differ only in cost); ``False`` gives the plain statement of formulation.md; a
    :class:`Strengthening` picks single switches. The optimal objective is the same either way (to
    the MIP gap); only the time to prove it changes (docs/performance.md).
    """
    s = Strengthening.of(strengthen)
    m = pyo.ConcreteModel(name=name)
    m.shared = Shared(data=data, strengthening=s)
    capacity.add(m, data, cumulative_link=s.cumulative_link, stock_variables=s.stock_variables,
                 integer_stocks=s.integer_stocks)
    for block in BLOCKS[1:]:
        block.add(m, data)
    objective.add(m, data)
    if s.any:
        _strengthen.add(m, data, s)
    return m
