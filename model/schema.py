"""The input schema as one table: it drives defaults, validation, the template and the docs.

Every sheet of the input workbook is described by a :class:`Sheet`, every column by a
:class:`Column`. The reader (:mod:`model.workbook`) and the validator (:mod:`model.data`) never
hard-code a column: they walk this table. ``docs/inputs.md`` and the ``template`` command are
generated from it too, so the three can never disagree.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: Column kinds understood by the reader.
KINDS = ("int", "float", "bool", "text")


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # one of KINDS
    required: bool = False
    default: Any = None  # used when the cell is blank and the column is optional
    ge: float | None = None  # value >= ge
    gt: float | None = None  # value > gt
    le: float | None = None  # value <= le
    lt: float | None = None  # value < lt
    unit: str = ""
    doc: str = ""
    #: A default that depends on other data ("start_year"); documented, resolved in model.data.
    default_from: str | None = None

    def bounds_text(self) -> str:
        """Human-readable range, e.g. ``in [0, 1)`` or ``>= 0``."""
        lo = f"[{self.ge:g}" if self.ge is not None else (f"({self.gt:g}" if self.gt is not None else None)
        hi = f"{self.le:g}]" if self.le is not None else (f"{self.lt:g})" if self.lt is not None else None)
        if lo and hi:
            return f"in {lo}, {hi}"
        if lo:
            return (">= " if lo[0] == "[" else "> ") + lo[1:]
        if hi:
            return ("<= " if hi[-1] == "]" else "< ") + hi[:-1]
        return ""


@dataclass(frozen=True)
class Sheet:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    required: bool = True
    doc: str = ""
    #: "table": a header row then one record per row; "settings": key/value rows.
    layout: str = "table"

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


YEAR = dict(kind="int", ge=1900, le=2500, unit="year")
#: Longest planning horizon, end_year - start_year + 1 (checked in model.data).
MAX_HORIZON_YEARS = 100

# The settings sheet is key/value; its "columns" are the keys.
SETTINGS = Sheet(
    "settings",
    layout="settings",
    key=("key",),
    doc="Run settings, one `key`, `value` pair per row.",
    columns=(
        Column("start_year", required=True, doc="First planning year.", **YEAR),
        Column("end_year", required=True,
               doc=f"Last planning year (>= start_year; start_year to end_year spans at most {MAX_HORIZON_YEARS} years).",
               **YEAR),
        Column("base_year", default_from="start_year", doc="Year of discounting and of import base prices.", **YEAR),
        Column("discount_rate", "float", default=0.08, ge=0, lt=1, unit="1/yr", doc="Real discount rate."),
        Column("allow_unmet_demand", "bool", default=True, doc="If false, unmet cell demand is fixed to 0."),
        Column("unmet_penalty_usd_per_kwh", "float", default=1000.0, ge=0, unit="USD/kWh",
               doc="Penalty per kWh of cell demand not met."),
        Column("mip_rel_gap", "float", default=1e-4, ge=0, lt=1, doc="HiGHS relative MIP gap."),
        Column("time_limit_s", "float", default=600.0, gt=0, unit="s", doc="HiGHS time limit."),
        Column("cell_conversion_value_usd_per_kwh", "float", default=0.0, ge=0, unit="USD/kWh",
               doc="Local value added per kWh of cells made locally, counted in local content (version 2)."),
    ),
)

DEMAND = Sheet(
    "demand",
    key=("year",),
    doc="Vehicle production served by the gigafactory; every horizon year must be present.",
    columns=(
        Column("year", required=True, doc="Planning year.", **YEAR),
        Column("vehicles", "float", required=True, ge=0, unit="vehicles/yr", doc="Vehicles built."),
        Column("kwh_per_vehicle", "float", required=True, gt=0, unit="kWh", doc="Battery size per vehicle."),
    ),
)

CHEMISTRY_MIX = Sheet(
    "chemistry_mix",
    key=("year", "chemistry"),
    doc="Share of cell demand by chemistry; each horizon year's shares sum to 1.",
    columns=(
        Column("year", required=True, doc="Planning year.", **YEAR),
        Column("chemistry", "text", required=True, doc="Cell chemistry, e.g. LFP or NMC."),
        Column("share", "float", required=True, ge=0, le=1, unit="fraction", doc="Share of the year's GWh."),
    ),
)

MATERIALS = Sheet(
    "materials",
    key=("material",),
    doc="Materials and components the cells consume.",
    columns=(
        Column("material", "text", required=True, doc="Material name, e.g. cathode_LFP."),
        Column("unit", "text", default="", doc="Unit of quantities (t, 1000 m2, ...), for reports."),
        Column("reference_price_usd_per_unit", "float", required=True, ge=0, unit="USD/unit",
               doc="Reference price used to value local content."),
    ),
)

INTENSITY = Sheet(
    "intensity",
    key=("chemistry", "material"),
    doc="Material consumed per GWh of good cells (scrap included); a missing row means 0.",
    columns=(
        Column("chemistry", "text", required=True, doc="Chemistry (must be in chemistry_mix)."),
        Column("material", "text", required=True, doc="Material (must be in materials)."),
        Column("amount_per_gwh", "float", required=True, ge=0, unit="unit/GWh", doc="Units per GWh of cells."),
    ),
)

FACILITIES = Sheet(
    "facilities",
    key=("facility",),
    doc="Existing and candidate plants; each makes `cells` or one material.",
    columns=(
        Column("facility", "text", required=True, doc="Facility name."),
        Column("product", "text", required=True, doc="`cells` or a material name."),
        Column("site", "text", default="", doc="Site, for reports."),
        Column("existing_capacity", "float", default=0.0, ge=0, unit="unit/yr", doc="Capacity already there (GWh for cells)."),
        Column("existing_from_year", default_from="start_year", doc="First year of existing capacity.", **YEAR),
        Column("module_size", "float", default=0.0, ge=0, unit="unit/yr", doc="Capacity of one module; > 0 when max_modules > 0."),
        Column("max_modules", "int", default=0, ge=0, le=10_000, unit="modules", doc="Most modules that can be built over the horizon."),
        Column("earliest_online_year", default_from="start_year", doc="First year a new module can come online.", **YEAR),
        Column("lead_time_years", "int", default=0, ge=0, le=50, unit="yr", doc="Years of construction before online (capex cash flow only)."),
        Column("lifetime_years", "int", default=25, ge=1, le=200, unit="yr", doc="Years a module serves."),
        Column("capex_usd_per_module", "float", default=0.0, ge=0, unit="USD/module", doc="Overnight capex of one module."),
        Column("fixed_om_usd_per_module_year", "float", default=0.0, ge=0, unit="USD/module/yr", doc="Fixed O&M per module in service."),
        Column("existing_fixed_om_usd_per_year", "float", default=0.0, ge=0, unit="USD/yr", doc="Fixed O&M of existing capacity."),
        Column("variable_cost_usd_per_unit", "float", default=0.0, ge=0, unit="USD/unit", doc="Cost per unit made (per GWh for cells)."),
        Column("opening_cost_usd", "float", default=0.0, ge=0, unit="USD", doc="One-off cost when the first module opens."),
        Column("ramp_up_first_year", "float", default=1.0, gt=0, le=1, unit="fraction", doc="Share of a module's size available in its first year."),
        Column("capex_change_per_year", "float", default=0.0, gt=-1, unit="1/yr",
               doc="Yearly change of capex per module by year online, from base_year (e.g. -0.03 for a 3 %/yr "
                   "learning rate)."),
    ),
)

IMPORTS = Sheet(
    "imports",
    key=("material", "origin"),
    doc="Import routes: a material from an origin.",
    columns=(
        Column("material", "text", required=True, doc="Material imported."),
        Column("origin", "text", required=True, doc="Origin country or supplier."),
        Column("price_usd_per_unit", "float", required=True, ge=0, unit="USD/unit", doc="Price in base_year."),
        Column("price_escalation_per_year", "float", default=0.0, gt=-1, unit="1/yr", doc="Yearly price change (real)."),
        Column("freight_usd_per_unit", "float", default=0.0, ge=0, unit="USD/unit", doc="Freight per unit."),
        Column("tariff_rate", "float", default=0.0, ge=0, unit="fraction", doc="Import duty on the price."),
        Column("max_per_year", "float", default=None, ge=0, unit="unit/yr", doc="Most per year; blank = no limit."),
        Column("first_year", default_from="start_year", doc="First year the route is open.", **YEAR),
    ),
)

EXPORTS = Sheet(
    "exports",
    key=("material",),
    required=False,
    doc="Materials that may be exported (optional sheet).",
    columns=(
        Column("material", "text", required=True, doc="Material exported."),
        Column("price_usd_per_unit", "float", required=True, ge=0, unit="USD/unit", doc="Export price."),
        Column("max_per_year", "float", default=None, ge=0, unit="unit/yr", doc="Most per year; blank = no limit."),
    ),
)

LOCAL_CONTENT = Sheet(
    "local_content",
    key=("year",),
    required=False,
    doc="Minimum local value share of the materials the cells consume (optional sheet).",
    columns=(
        Column("year", required=True, doc="Year of the target.", **YEAR),
        Column("min_local_value_share", "float", required=True, ge=0, le=1, unit="fraction",
               doc="Local production (less exports), valued at reference prices, over consumption."),
    ),
)

# --------------------------------------------------------------------------- version 2 sheets
RECIPES = Sheet(
    "recipes",
    key=("product", "input"),
    required=False,
    doc="Multi-tier bill of materials (optional sheet): inputs consumed per unit of a material made "
        "locally; imported units bring their inputs with them. No cycles.",
    columns=(
        Column("product", "text", required=True, doc="Material made by a facility (e.g. cathode_NMC)."),
        Column("input", "text", required=True, doc="Material consumed (e.g. pCAM_NMC); must be in materials."),
        Column("amount_per_unit", "float", required=True, ge=0, unit="input unit/product unit",
               doc="Input units per unit of product made locally."),
    ),
)

CELL_IMPORTS = Sheet(
    "cell_imports",
    key=("chemistry", "origin"),
    required=False,
    doc="Imported cells (optional sheet): GWh of a chemistry from an origin, counted against demand but "
        "not as local cells.",
    columns=(
        Column("chemistry", "text", required=True, doc="Chemistry (must be in chemistry_mix)."),
        Column("origin", "text", required=True, doc="Origin country or supplier."),
        Column("price_usd_per_kwh", "float", required=True, ge=0, unit="USD/kWh", doc="Cell price in base_year."),
        Column("price_escalation_per_year", "float", default=0.0, gt=-1, unit="1/yr", doc="Yearly price change (real)."),
        Column("freight_usd_per_kwh", "float", default=0.0, ge=0, unit="USD/kWh", doc="Freight per kWh."),
        Column("tariff_rate", "float", default=0.0, ge=0, unit="fraction", doc="Import duty on the price."),
        Column("max_gwh_per_year", "float", default=None, ge=0, unit="GWh/yr", doc="Most per year; blank = no limit."),
        Column("first_year", default_from="start_year", doc="First year the route is open.", **YEAR),
    ),
)

COMMITTED_BUILDS = Sheet(
    "committed_builds",
    key=("facility", "year"),
    required=False,
    doc="Projects decided or under way (optional sheet): at least this many modules of the facility come "
        "online in the year; they count against max_modules and pay capex like any module.",
    columns=(
        Column("facility", "text", required=True, doc="Facility (must be able to build: max_modules > 0)."),
        Column("year", required=True, doc="Year the modules come online (in the horizon, >= earliest_online_year).",
               **YEAR),
        Column("modules", "int", required=True, ge=1, unit="modules", doc="Modules committed for that year."),
    ),
)

#: Every input sheet of the schema (core, then version 2), in workbook order.
SHEETS: tuple[Sheet, ...] = (
    SETTINGS, DEMAND, CHEMISTRY_MIX, MATERIALS, INTENSITY, FACILITIES, IMPORTS, EXPORTS, LOCAL_CONTENT,
    RECIPES, CELL_IMPORTS, COMMITTED_BUILDS,
)
SHEETS_BY_NAME = {s.name: s for s in SHEETS}

# --------------------------------------------------------------------------- run-control sheets
# Optional sheets that steer runs rather than describe the case: validated by model.overrides
# and model.sweep, documented in the template and docs/inputs.md like the others.

SCENARIOS = Sheet(
    "scenarios",
    key=("scenario", "address"),
    required=False,
    doc="Named what-if scenarios (optional sheet): each row changes one cell or column when the scenario "
        "is run with `--scenario NAME`; rows apply top to bottom, before any `--set`.",
    columns=(
        Column("scenario", "text", required=True, doc="Scenario name, as given to --scenario."),
        Column("address", "text", required=True,
                 doc="What to change: sheet[key].column, sheet[key1,key2].column, sheet[*].column "
                     "or settings.name, e.g. imports[cathode_LFP,China].tariff_rate."),
        Column("operation", "text", required=True,
                 doc="= (or set) sets, *= (or scale) multiplies, += (or add) adds."),
        Column("value", "text", required=True,
                 doc='New value, factor or increment; "" (two quote marks) blanks the cell.'),
    ),
)

SENSITIVITY = Sheet(
    "sensitivity",
    key=("address",),
    required=False,
    doc="Inputs varied by `battery-plan sweep` (optional sheet): one row per input, all rows one design.",
    columns=(
        Column("address", "text", required=True,
                 doc="What to vary, as an override address: settings.discount_rate, "
                     "imports[cathode_LFP,China].tariff_rate, facilities[*].capex_usd_per_module."),
        Column("operation", "text", required=True, doc="= sets the value, *= scales it, += adds to it."),
        Column("low", "float", required=True, doc="Lowest value (or factor, or increment)."),
        Column("high", "float", required=True, doc="Highest value (> low)."),
        Column("steps", "int", default=2, ge=2, le=100_000,
                 doc="Values from low to high, evenly spaced (oat and grid designs)."),
        Column("design", "text", default="oat",
                 doc="oat (one at a time), grid (full factorial), lhs (Latin hypercube), sobol or morris; "
                     "the first row's design applies to every row."),
    ),
)

#: Optional run-control sheets (not part of the case data).
CONTROL_SHEETS: tuple[Sheet, ...] = (SCENARIOS, SENSITIVITY)

#: The product name of cell facilities.
CELLS = "cells"
