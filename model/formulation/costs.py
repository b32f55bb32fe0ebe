"""The cost ledger: blocks register linear cost terms by category and year; the objective sums them.

Keeping the terms by (category, year) lets the report show each category's undiscounted and
discounted cost without re-deriving the objective.
"""
from __future__ import annotations

from collections import defaultdict


def init(m, data) -> None:
    m._data = data
    # (category, year) -> list of (coefficient, variable); constants -> float
    m._cost_terms = defaultdict(list)
    m._cost_constants = defaultdict(float)


def add_cost(m, category: str, year: int, coef: float, var) -> None:
    """Register ``coef * var`` (undiscounted USD in ``year``) under ``category``."""
    if coef != 0:
        m._cost_terms[(category, year)].append((coef, var))


def add_constant(m, category: str, year: int, amount: float) -> None:
    """Register a fixed amount (undiscounted USD in ``year``)."""
    if amount != 0:
        m._cost_constants[(category, year)] += amount
