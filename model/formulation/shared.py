"""The one declared namespace through which the blocks talk: ``m.shared`` (a :class:`Shared`).

Blocks never hang private attributes on the Pyomo model; what one block makes for another (or for
the results, the marginal costs and the diagnosis) is a typed field here, filled in build order:
``costs.init`` -> :mod:`.capacity` -> :mod:`.cell_imports` -> :mod:`.cells` -> :mod:`.materials`
-> :mod:`.local_content` -> :mod:`.objective` (-> :mod:`.strengthen`).

A "linear term list" is ``[(coefficient, variable)]``; an "expression" is a Pyomo linear expression
or a plain number (0 when nothing can contribute).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Union

if TYPE_CHECKING:
    from ..data import CaseData
    from .strengthen import Strengthening

#: ``[(coefficient, variable)]``
Terms = list
#: a Pyomo linear expression, or a number when no variable can contribute
Expr = Union[Any, float]


@dataclass
class Shared:
    """Everything the blocks share, field by field (set by the block named in each comment)."""

    #: the validated case (build_model)
    data: "CaseData"
    #: the strengthening switches in force (build_model)
    strengthening: "Strengthening"
    #: cost ledger: (category, year) -> linear term list, undiscounted USD (costs.add_cost, every block)
    cost_terms: dict[tuple[str, int], Terms] = field(default_factory=lambda: defaultdict(list))
    #: cost ledger constants: (category, year) -> undiscounted USD (costs.add_constant)
    cost_constants: dict[tuple[str, int], float] = field(default_factory=lambda: defaultdict(float))
    #: cumulative builds K[f,y] = sum_{y'<=y} build[f,y'] as a term list, empty when 0 (capacity)
    K_terms: dict[tuple[str, int], Terms] = field(default_factory=dict)
    #: cumulative openings C[f,y] = sum_{y'<=y} open[f,y'] as a term list (capacity)
    C_terms: dict[tuple[str, int], Terms] = field(default_factory=dict)
    #: modules in service N[f,y] as a term list (capacity)
    N_terms: dict[tuple[str, int], Terms] = field(default_factory=dict)
    #: cap[f,y] = existing + module_size * (N - (1 - ramp) * build), an expression (capacity)
    cap: dict[tuple[str, int], Expr] = field(default_factory=dict)
    #: origins of cell import routes open in (chemistry, year) (cell_imports)
    cell_routes: dict[tuple[str, int], list[str]] = field(default_factory=dict)
    #: cells[k,y]: GWh of chemistry k made locally (imported cells excluded), an expression (cells)
    cells: dict[tuple[str, int], Expr] = field(default_factory=dict)
    #: facilities making each material, F_m (materials)
    makers: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: origins of material import routes open in (material, year) (materials)
    routes: dict[tuple[str, int], list[str]] = field(default_factory=dict)
    #: cell use of each material: [(chemistry, amount_per_gwh)] with amount != 0 (materials)
    uses: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    #: recipe use of each material: [(product, amount_per_unit)] with amount > 0 (materials)
    recipe_uses: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
