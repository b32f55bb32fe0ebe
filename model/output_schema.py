"""The output schema: what a results workbook contains, beside :mod:`model.schema` (the inputs).

Result tables and their columns (interface.md), the cost categories in report order, the solve
statuses, the fixed sheet names of a results workbook, the unit note of every result column, and
the KPI keys with their cover-sheet section, unit, meaning and direction (:func:`describe`).
Everything that writes, reads, compares or checks results imports its names from here; this module
imports nothing from the project.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Mapping

# --------------------------------------------------------------------------- result tables
#: Columns of each core result table (interface.md).
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "build_schedule": ("facility", "product", "year", "modules_built", "modules_in_service", "capacity"),
    "production": ("facility", "product", "chemistry", "year", "quantity", "utilisation"),
    "sourcing": ("material", "year", "source_kind", "source", "quantity"),
    "demand": ("chemistry", "year", "demand_gwh", "met_gwh", "unmet_gwh"),
    "costs": ("year", "category", "undiscounted_usd", "discounted_usd"),
    "capex_cashflow": ("facility", "year", "capex_usd"),
    "local_content": ("year", "local_value_share", "target"),
    # version 2: what each material is used for (local + import - export = the sum of its rows)
    "material_use": ("material", "year", "use_kind", "consumer", "quantity"),
}

#: Version-2 columns that follow the core columns of a table (interface.md allows extra columns).
EXTRA_COLUMNS: dict[str, tuple[str, ...]] = {
    "build_schedule": ("opened", "committed_modules", "capex_usd_per_module"),
    "demand": ("local_gwh", "imported_gwh"),
    "local_content": ("conversion_value_usd", "material_value_usd", "basis_value_usd"),
}

#: Material name under which imported cells of chemistry k appear in ``sourcing`` (GWh).
CELLS_PREFIX = "cells_"

#: Cost categories, in report order.
COST_CATEGORIES = (
    "capex_annualised", "fixed_om", "existing_fixed_om", "variable_production", "imports",
    "cell_imports", "export_revenue", "unmet_penalty", "opening",
)

#: How a solve ends (:attr:`SolveInfo.status`); the first two carry a plan.
STATUSES = ("optimal", "time_limit_feasible", "time_limit_no_solution", "infeasible", "unbounded", "error")
PLAN_STATUSES = STATUSES[:2]


@dataclass
class SolveInfo:
    """How a solve ended, as the solver wing reports it and the summary records it."""

    status: str  # one of STATUSES
    objective: float | None = None  # incumbent objective (USD NPV)
    bound: float | None = None  # best bound
    mip_gap: float | None = None
    solve_seconds: float = 0.0
    solver: str = "highs"
    solver_version: str = ""
    termination: str = ""  # solver's own words
    message: str = ""

    @property
    def has_solution(self) -> bool:
        return self.status in ("optimal", "time_limit_feasible")

# --------------------------------------------------------------------------- sheets and column units
SUMMARY_SHEET = "summary"
CHARTS_SHEET = "charts"
#: Prefix of an input sheet whose own name is taken by a result sheet.
INPUT_COPY_PREFIX = "input_"
#: Summary key listing the input sheets written under another name (``name -> title; ...``).
RENAMED_KEY = "input_sheets_renamed"
#: Result tables beyond the core ones; never read back as inputs.
EXTRA_RESULT_SHEETS = ("marginal_costs", "make_vs_buy", "infeasibility", "infeasibility_iis", "iis")

#: Unit notes shown as comments on the header cells of result tables (the header text stays the column name).
COLUMN_NOTES = {
    "year": "calendar year",
    "modules_built": "modules that come online in this year",
    "modules_in_service": "modules in service in this year (built, not yet retired)",
    "committed_modules": "modules committed in the committed_builds input sheet for this year",
    "capex_usd_per_module": "USD per module: capex of a module coming online in this year (vintage capex)",
    "capacity": "capacity available in this year, in the row's unit (GWh/yr for cells, the material's unit per "
                "year otherwise)",
    "quantity": "in the row's unit: GWh for cells, the material's unit otherwise",
    "utilisation": "production / capacity",
    "chemistry": "cell chemistry; blank for material plants",
    "source_kind": "local (a facility's production), import, or export; local + import - export = consumption",
    "source": "facility (local) or origin (import)",
    "use_kind": "cells (cell making) or recipe (a local plant's input)",
    "consumer": "the chemistry (cells) or the product material (recipe)",
    "demand_gwh": "cell demand, GWh",
    "met_gwh": "cell demand met, GWh",
    "unmet_gwh": "cell demand not met, GWh (charged at the unmet-demand penalty)",
    "local_gwh": "cell demand met by local cells, GWh",
    "imported_gwh": "cell demand met by imported cells, GWh",
    "undiscounted_usd": "USD (real) in this year",
    "discounted_usd": "USD discounted to base_year; the column sums to net_present_cost_usd",
    "capex_usd": "USD (real): each module's lump-sum capex spread over its lead time",
    "local_value_share": "local value over the value of what the cells use (version 2: cell conversion value "
                         "included)",
    "target": "min_local_value_share of the input (blank = no target)",
    "conversion_value_usd": "USD: value added by local cell making",
    "material_value_usd": "USD: local value of materials",
    "basis_value_usd": "USD: value the share is measured against",
    "unit": "unit of this row's quantities",
}

#: Result tables whose quantities are in a unit that depends on the row: the column naming the
#: material or product, and whether the unit is a rate (per year).
ROW_UNIT_TABLES = {
    "build_schedule": ("product", True),
    "production": ("product", False),
    "sourcing": ("material", False),
    "material_use": ("material", False),
}

#: Marker unit: the unit is given per row, in the table's ``unit`` column.
ROW_UNIT = "see unit column"

#: The unit of every column of every table the tool writes (result tables, version-2 columns
#: included, and the sweep/comparison tables). A column not listed gets a unit from its name
#: (:func:`model.styles.unit_of`): ``*_usd`` USD, ``*_gwh`` GWh, ``*_share`` share, ``*_usd_per_<x>`` USD/<x>.
COLUMN_UNITS: dict[str, str] = {
    # build_schedule (v2: committed_modules, capex_usd_per_module)
    "year": "year", "modules_built": "modules", "modules_in_service": "modules", "capacity": ROW_UNIT,
    "opened": "flag", "committed_modules": "modules", "capex_usd_per_module": "USD/module",
    # production, sourcing, material_use (v2)
    "quantity": ROW_UNIT, "utilisation": "share",
    # demand (v2: local_gwh, imported_gwh)
    "demand_gwh": "GWh", "met_gwh": "GWh", "unmet_gwh": "GWh", "local_gwh": "GWh", "imported_gwh": "GWh",
    # costs, capex_cashflow
    "undiscounted_usd": "USD", "discounted_usd": "USD", "capex_usd": "USD",
    # local_content (v2: conversion_value_usd, material_value_usd, basis_value_usd)
    "local_value_share": "share", "target": "share", "conversion_value_usd": "USD", "material_value_usd": "USD",
    "basis_value_usd": "USD",
    # marginal_costs, make_vs_buy (their unit column names the unit of "per unit")
    "marginal_usd_per_unit": ROW_UNIT, "discounted_usd_per_unit": ROW_UNIT, "consumption": ROW_UNIT,
    "local_quantity": ROW_UNIT, "import_quantity": ROW_UNIT, "export_quantity": ROW_UNIT,
    "cheapest_import_usd_per_unit": ROW_UNIT, "local_full_cost_usd_per_unit": ROW_UNIT,
    "local_variable_cost_usd_per_unit": ROW_UNIT, "marginal_cost_usd_per_unit": ROW_UNIT,
    "break_even_import_usd_per_unit": ROW_UNIT, "break_even_capex_usd_per_module": "USD/module",
    "max_modules": "modules",
    # comparisons and sweeps
    "pct_difference": "change", "difference_pct": "change", "change_pct": "change",
    "cost_change_vs_base_pct": "change", "penalty_share_of_cost": "share", "penalty_share_of_swing": "share",
    "mip_gap": "fraction", "case": "count", "steps": "count", "defined_on_row": "count",
    "S1": "index", "S1_conf": "index", "ST": "index", "ST_conf": "index",
    "highs_seconds": "seconds", "case_seconds": "seconds", "highs_cpu_seconds": "seconds", "cpu_seconds": "seconds",
}

# --------------------------------------------------------------------------- KPI keys
#: Years reported besides the last horizon year (when inside the horizon).
KPI_YEARS = (2030, 2035)
#: Summary key of the objective (interface.md version 2).
COST_KEY = "net_present_cost_usd"
#: Summary key of the objective before version 2; read as :data:`COST_KEY`.
OLD_COST_KEY = "objective_npv_usd"
CELLS = "cells"


#: (pattern, section, unit or None (= from the case), meaning, direction); first match wins.
_RULES: tuple[tuple[str, str, str | None, str, str], ...] = (
    (r"unmet_demand_alert", "demand", None, "", ""),
    (r"status", "cost", None, "optimal, or time_limit_feasible (a plan, not proven best), infeasible, unbounded", ""),
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
    (r"exports_(.+)_total", "plan", "{unit}", "exports of {0} over the horizon", ""),
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
