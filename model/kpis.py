"""The planner's key figures of one solved case: one function feeds the summary, the sweep and the comparisons.

:func:`kpis` reads only the result tables (and the case for names and units), never the solver:
net present cost, unmet demand and the penalty's share of the cost, local value share, capacity by
product, modules and first build year of every buildable facility, and imports by material.
Solver internals (MIP gap, bounds, times) are run provenance, not KPIs.

:func:`describe` gives each key its cover-sheet section, unit, one-line meaning and direction
(``lower`` is better for costs and unmet demand, ``higher`` for local share) so that a comparison
can say whether a change is good news without guessing.
"""
from __future__ import annotations

import math
import re
from typing import Any, Mapping, Sequence

#: Years reported besides the last horizon year (when inside the horizon).
KPI_YEARS = (2030, 2035)
#: Summary key of the objective (interface.md version 2).
COST_KEY = "net_present_cost_usd"
#: Summary key of the objective before version 2; read as :data:`COST_KEY`.
OLD_COST_KEY = "objective_npv_usd"
#: A penalty share above this makes the summary, console and comparisons say so loudly.
PENALTY_ALERT_SHARE = 0.0

SECTIONS = ("plan", "cost", "demand", "local content", "run provenance")
CELLS = "cells"


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
    ``imports_cells_<chemistry>_total``, GWh), ``modules_built_total``, ``modules_built_<facility>``
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
    out["modules_built_total"] = int(b["modules_built"].sum())
    for f, fac in data.facilities.items():
        if not fac.can_build:
            continue
        bf = b[(b.facility == f) & (b.modules_built > 0)]
        out[f"modules_built_{f}"] = int(bf["modules_built"].sum())
        out[f"first_build_year_{f}"] = int(bf["year"].min()) if len(bf) else None
    return out


# --------------------------------------------------------------------------- what each key means
#: (pattern, section, unit or None (= from the case), meaning, direction); first match wins.
_RULES: tuple[tuple[str, str, str | None, str, str], ...] = (
    (r"unmet_demand_alert", "demand", None, "", ""),
    (r"status", "plan", None, "optimal, or time_limit_feasible (a plan, not proven best), infeasible, unbounded", ""),
    (r"net_present_cost_usd|objective_npv_usd", "cost", "USD",
     "all costs less export revenue over the horizon, discounted to the base year (lower is better)", "lower"),
    (r"unmet_penalty_usd", "cost", "USD",
     "discounted penalty paid for cell demand the plan does not meet", "lower"),
    (r"penalty_share_of_cost", "cost", "share",
     "unmet-demand penalty / net present cost: a plan that buys its way out with a penalty is not a plan",
     "lower"),
    (r"best_bound_usd", "run provenance", "USD", "solver's lower bound on the net present cost", ""),
    (r"cost_(.+)_usd", "cost", "USD", "discounted cost of category {0} over the horizon", "lower"),
    (r"unmet_gwh_total", "demand", "GWh", "cell demand not met over the horizon (charged at the penalty)", "lower"),
    (r"unmet_gwh_worst_year", "demand", "year", "year with the most unmet cell demand", ""),
    (r"demand_gwh_total", "demand", "GWh", "cell demand over the horizon", ""),
    (r"met_gwh_total", "demand", "GWh", "cell demand met over the horizon (local + imported cells)", ""),
    (r"local_gwh_total", "demand", "GWh", "cell demand met by local cells over the horizon", "higher"),
    (r"imported_gwh_total", "demand", "GWh", "cell demand met by imported cells over the horizon", ""),
    (r"capacity_cells_(\d{4})", "plan", "GWh/yr", "cell capacity in service in {0}", ""),
    (r"capacity_(.+)_(\d{4})", "plan", "{unit}/yr", "{0} capacity in service in {1}", ""),
    (r"modules_built_total", "plan", "modules", "modules built over the horizon, all facilities", ""),
    (r"modules_built_(.+)", "plan", "modules", "modules of {0} built over the horizon", ""),
    (r"first_build_year_(.+)", "plan", "year", "year the first new module of {0} comes online (blank: never)", ""),
    (r"imports_cells_(.+)_total", "plan", "GWh", "imported {0} cells over the horizon", ""),
    (r"imports_(.+)_total", "plan", "{unit}", "imports of {0} over the horizon", ""),
    (r"local_value_share_(\d{4})", "local content", "share",
     "local value share in {0} (local value / value of what the cells use)", "higher"),
    (r"local_value_share_target_(\d{4})", "local content", "share", "local-content target in {0}", ""),
    (r"mip_gap", "run provenance", "fraction", "relative gap between the plan and the solver's bound", ""),
    (r"solve_seconds|seconds_(.+)|timings\.(.+)", "run provenance", "seconds", "wall-clock time", ""),
    (r"input_file", "run provenance", None, "input workbook of this run", ""),
    (r"input_sha256", "run provenance", None, "SHA-256 of the input workbook file", ""),
    (r"scenario", "run provenance", None, "scenario applied in this run (blank: none)", ""),
    (r"scenarios_applied", "run provenance", None,
     "every scenario applied to these inputs, earlier runs included (a scenario is never applied twice "
     "unless asked: --reapply-scenario)", ""),
    (r"override_(\d+)|overrides", "run provenance", None, "input changed by --set or the scenario in this run", ""),
    (r"history_(\d+)", "run provenance", None, "an earlier run whose results workbook was the input", ""),
    (r"case_(.+)", "run provenance", None, "settings sheet value {0}", ""),
    (r"setting_(.+)", "run provenance", None, "solver setting {0} of this run", ""),
    (r"(warning|note)_(\d+)", "run provenance", None, "", ""),
)


def describe(key: str, units: Mapping[str, str] | None = None) -> tuple[str, str | None, str, str]:
    """``(section, unit, meaning, direction)`` of a summary/KPI key; ``units`` maps material -> unit."""
    for pat, section, unit, meaning, better in _RULES:
        m = re.fullmatch(pat, key)
        if not m:
            continue
        groups = [g for g in m.groups() if g is not None]
        if unit and "{unit}" in unit:
            mat_unit = (units or {}).get(groups[0]) if groups else None
            unit = unit.replace("{unit}", mat_unit) if mat_unit else None
        if groups and "{" in meaning:
            meaning = meaning.format(*groups)
        return section, unit, meaning, better
    return "run provenance", None, "", ""


def direction(key: str) -> str:
    """``lower`` / ``higher`` when lower / higher values are better news, else ``""``."""
    return describe(key)[3]


def reading(key: str, difference: float | None, tol: float = 1e-9) -> str:
    """Plain words for a change: "worse: cost up", "better: more local value" ... ("" when neutral)."""
    if difference is None or (isinstance(difference, float) and math.isnan(difference)):
        return ""
    if abs(difference) <= tol:
        return "same"
    d = direction(key)
    up = difference > 0
    if d == "lower":
        return "worse (higher)" if up else "better (lower)"
    if d == "higher":
        return "better (higher)" if up else "worse (lower)"
    return "higher" if up else "lower"


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
