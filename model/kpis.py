"""The planner's key figures of one solved case: one function feeds the summary, the sweep and the comparisons.

:func:`kpis` reads only the result tables (and the case for names and units), never the solver:
net present cost, unmet demand and the penalty's share of the cost, local value share, capacity by
product, modules and first build year of every buildable facility, imports and exports by material.
Solver internals (MIP gap, bounds, times) are run provenance, not KPIs.

:func:`model.output_schema.describe` gives each key its cover-sheet section, unit, one-line meaning and direction
(``lower`` is better for costs and unmet demand, ``higher`` for local share) so that a comparison
can say whether a change is good news without guessing.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

from .output_schema import CELLS, COST_KEY, KPI_YEARS

def kpi_years(data, years: Sequence[int] | None = None) -> list[int]:
    ys = [y for y in (KPI_YEARS if years is None else years) if y in data.years]
    if data.years and data.years[-1] not in ys:
        ys.append(data.years[-1])
    return ys


def _f(v) -> float | None:
    try:
        v = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v


def kpis(results, years: Sequence[int] | None = None) -> dict[str, Any]:
    """Flat KPIs of one solved case, in cover-sheet order (empty dict without a plan).

    Keys: ``net_present_cost_usd``, ``unmet_penalty_usd`` (discounted), ``penalty_share_of_cost``,
    ``unmet_gwh_total``, ``unmet_gwh_<year>`` of the worst year, ``capacity_<product>_<year>``,
    ``local_value_share_<year>``, ``imports_<material>_total`` (imported cells as
    ``imports_cells_<chemistry>_total``, GWh), ``exports_<material>_total`` for every exportable
    material, ``modules_built_total``, ``modules_built_<facility>``
    and ``first_build_year_<facility>`` for every facility that can build.
    """
    data, t = results.case, results.tables or {}
    out: dict[str, Any] = {}
    if "build_schedule" not in t:
        return out
    ys = kpi_years(data, years)
    costs = t.get("costs")
    npc = _f(getattr(results.solve, "objective", None))
    if npc is None and costs is not None and len(costs):
        npc = float(costs["discounted_usd"].sum())
    out[COST_KEY] = npc
    pen = 0.0
    if costs is not None and len(costs):
        pen = float(costs.loc[costs["category"] == "unmet_penalty", "discounted_usd"].sum())
    out["unmet_penalty_usd"] = pen
    out["penalty_share_of_cost"] = (pen / npc) if npc and npc > 0 else (0.0 if pen == 0 else None)
    d = t.get("demand")
    out["unmet_gwh_total"] = float(d["unmet_gwh"].sum()) if d is not None else None
    if d is not None and len(d) and float(d["unmet_gwh"].sum()) > 0:
        by = d.groupby("year")["unmet_gwh"].sum()
        out["unmet_gwh_worst_year"] = int(by.idxmax())
    b = t["build_schedule"]
    products = sorted({fac.product for fac in data.facilities.values()}, key=lambda p: (p != CELLS, p))
    for y in ys:
        by = b[b.year == y]
        for prod in products:
            out[f"capacity_{prod}_{y}"] = float(by.loc[by["product"] == prod, "capacity"].sum())
    lc = t.get("local_content")
    for y in ys:
        v = None
        if lc is not None:
            row = lc[lc.year == y]
            v = _f(row["local_value_share"].iloc[0]) if len(row) else None
        out[f"local_value_share_{y}"] = v
    src = t.get("sourcing")
    if src is not None and len(src):
        imp = src[src.source_kind == "import"].groupby("material", sort=False)["quantity"].sum()
        mats = [m for m in data.materials] + sorted(m for m in imp.index if m not in data.materials)
        for m in mats:
            if m in imp.index or m in data.materials:
                out[f"imports_{m}_total"] = float(imp.get(m, 0.0))
        exp = src[src.source_kind == "export"].groupby("material", sort=False)["quantity"].sum()
        for m in data.exports:
            out[f"exports_{m}_total"] = float(exp.get(m, 0.0))
    out["modules_built_total"] = int(b["modules_built"].sum())
    for f, fac in data.facilities.items():
        if not fac.can_build:
            continue
        bf = b[(b.facility == f) & (b.modules_built > 0)]
        out[f"modules_built_{f}"] = int(bf["modules_built"].sum())
        out[f"first_build_year_{f}"] = int(bf["year"].min()) if len(bf) else None
    return out


def material_units(data) -> dict[str, str]:
    """material -> unit, with cells (and imported cells ``cells_<chemistry>``) in GWh."""
    out = {m: (info.unit or "unit") for m, info in data.materials.items()}
    out[CELLS] = "GWh"
    for c in getattr(data, "chemistries", ()):
        out[f"{CELLS}_{c}"] = "GWh"
    return out


def unmet_alert(unmet_gwh: float | None, penalty_share: float | None, penalty_usd: float | None = None) -> str | None:
    """The loud sentence shown whenever demand is left unmet (None when all demand is met)."""
    if unmet_gwh is None or not unmet_gwh > 1e-6:
        return None
    share = "" if penalty_share is None else f"; the penalty is {penalty_share * 100:.1f}% of the net present cost"
    usd = "" if penalty_usd is None else f" ({penalty_usd / 1e9:,.2f} bn USD discounted)"
    return (f"UNMET DEMAND: {unmet_gwh:,.1f} GWh of cell demand is not met{share}{usd}. The plan pays a penalty "
            "instead of supplying it: read the costs and build plan with that in mind.")
