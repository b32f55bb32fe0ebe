"""The Pyomo model, one module per block (Temoa/Switch style).

Each block module has ``add(m, data)`` that declares its variables and constraints on the
ConcreteModel ``m`` and registers its cost terms with :func:`costs.add_cost`. ``build_model``
calls them in order and finally the objective block sums the registered terms. No file I/O here.

Blocks: :mod:`.capacity` (modules, opening, capacity), :mod:`.cells` (cell production, demand,
unmet), :mod:`.materials` (material production, imports, exports, balances),
:mod:`.local_content` (rules-of-origin targets), :mod:`.objective` (net present cost).
"""
from __future__ import annotations

import pyomo.environ as pyo

from ..data import CaseData
from . import capacity, cells, costs, local_content, materials, objective

#: Blocks in build order; each is a module with ``add(m, data)``.
BLOCKS = (capacity, cells, materials, local_content)


def build_model(data: CaseData, *, name: str = "battery_plan") -> pyo.ConcreteModel:
    """Build the core model of formulation.md for ``data``."""
    m = pyo.ConcreteModel(name=name)
    costs.init(m, data)
    for block in BLOCKS:
        block.add(m, data)
    objective.add(m, data)
    return m
