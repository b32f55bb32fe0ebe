"""The cost ledger: blocks register linear cost terms by category and year; the objective sums them.

Keeping the terms by (category, year) in ``m.shared.cost_terms`` / ``cost_constants`` lets the
report show each category's undiscounted and discounted cost without re-deriving the objective.
"""
from __future__ import annotations

import pyomo.core as pyo


def add_cost(m: pyo.ConcreteModel, category: str, year: int, coef: float, var) -> None:
    """Register ``coef * var`` (undiscounted USD in ``year``) under ``category``."""
    if coef != 0:
        m.shared.cost_terms[(category, year)].append((coef, var))


def add_constant(m: pyo.ConcreteModel, category: str, year: int, amount: float) -> None:
    """Register a fixed amount (undiscounted USD in ``year``)."""
    if amount != 0:
        m.shared.cost_constants[(category, year)] += amount
