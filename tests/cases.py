"""Small, valid input cases as plain Python tables, shared by the tests.

``tiny_tables()`` returns a fresh dict in the form accepted by
:func:`model.xlsx_util.write_input_workbook`: ``"settings"`` is a ``{key: value}`` mapping and
every other sheet is a list of ``{column: value}`` records. Tests mutate their own copy and
write it with :func:`write_case`.

The case: three years (2026-2028), two chemistries (LFP, NMC), three materials, one cell plant
that can be built, one LFP-cathode plant, import routes for every material, one export option
and one local-content target. It solves to a finite plan in well under a second.
"""
from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

from model.xlsx_util import write_input_workbook

START, END = 2026, 2028
YEARS = tuple(range(START, END + 1))


def tiny_tables() -> dict[str, Any]:
    """A small valid case (a new dict every call)."""
    return copy.deepcopy(_TINY)


def write_case(path: str | os.PathLike, tables: dict[str, Any] | None = None) -> Path:
    """Write ``tables`` (default: :func:`tiny_tables`) to an xlsx workbook at ``path``."""
    return write_input_workbook(path, tiny_tables() if tables is None else tables)


_TINY: dict[str, Any] = {
    "settings": {
        "start_year": START,
        "end_year": END,
        "discount_rate": 0.08,
        "allow_unmet_demand": True,
        "unmet_penalty_usd_per_kwh": 1000,
        "mip_rel_gap": 1e-4,
        "time_limit_s": 60,
    },
    "demand": [
        {"year": 2026, "vehicles": 20_000, "kwh_per_vehicle": 50},
        {"year": 2027, "vehicles": 40_000, "kwh_per_vehicle": 55},
        {"year": 2028, "vehicles": 60_000, "kwh_per_vehicle": 60},
    ],
    "chemistry_mix": [
        {"year": 2026, "chemistry": "LFP", "share": 0.6},
        {"year": 2026, "chemistry": "NMC", "share": 0.4},
        {"year": 2027, "chemistry": "LFP", "share": 0.7},
        {"year": 2027, "chemistry": "NMC", "share": 0.3},
        {"year": 2028, "chemistry": "LFP", "share": 0.8},
        {"year": 2028, "chemistry": "NMC", "share": 0.2},
    ],
    "materials": [
        {"material": "cathode_LFP", "unit": "t", "reference_price_usd_per_unit": 12_000},
        {"material": "cathode_NMC", "unit": "t", "reference_price_usd_per_unit": 25_000},
        {"material": "anode", "unit": "t", "reference_price_usd_per_unit": 6_000},
    ],
    "intensity": [
        {"chemistry": "LFP", "material": "cathode_LFP", "amount_per_gwh": 2000},
        {"chemistry": "LFP", "material": "anode", "amount_per_gwh": 1100},
        {"chemistry": "NMC", "material": "cathode_NMC", "amount_per_gwh": 1500},
        {"chemistry": "NMC", "material": "anode", "amount_per_gwh": 1000},
    ],
    "facilities": [
        {"facility": "cell_plant", "product": "cells", "site": "Kenitra", "existing_capacity": 0,
         "module_size": 2, "max_modules": 3, "earliest_online_year": 2026, "lead_time_years": 1,
         "lifetime_years": 20, "capex_usd_per_module": 150e6, "fixed_om_usd_per_module_year": 3e6,
         "variable_cost_usd_per_unit": 2e6, "opening_cost_usd": 10e6, "ramp_up_first_year": 0.5},
        {"facility": "cathode_plant", "product": "cathode_LFP", "site": "Jorf Lasfar",
         "existing_capacity": 1000, "existing_from_year": 2026, "module_size": 5000, "max_modules": 2,
         "capex_usd_per_module": 40e6, "fixed_om_usd_per_module_year": 1e6,
         "existing_fixed_om_usd_per_year": 0.5e6, "variable_cost_usd_per_unit": 8000},
    ],
    "imports": [
        {"material": "cathode_LFP", "origin": "China", "price_usd_per_unit": 11_000,
         "price_escalation_per_year": 0.0, "freight_usd_per_unit": 300, "tariff_rate": 0.1,
         "max_per_year": None, "first_year": None},
        {"material": "cathode_NMC", "origin": "Korea", "price_usd_per_unit": 24_000,
         "price_escalation_per_year": 0.01, "freight_usd_per_unit": 400, "tariff_rate": 0.0,
         "max_per_year": None, "first_year": None},
        {"material": "anode", "origin": "China", "price_usd_per_unit": 5_500,
         "price_escalation_per_year": 0.0, "freight_usd_per_unit": 200, "tariff_rate": 0.05,
         "max_per_year": 100_000, "first_year": 2026},
    ],
    "exports": [
        {"material": "cathode_LFP", "price_usd_per_unit": 9_000, "max_per_year": 5_000},
    ],
    "local_content": [
        {"year": 2028, "min_local_value_share": 0.1},
    ],
}


def add_v2_sheets(t: dict[str, Any]) -> dict[str, Any]:
    """Add valid rows of the version-2 sheets (recipes, cell_imports, committed_builds) to ``t`` in
    place, keeping any already there; for validation tests (the committed build changes the plan)."""
    t.setdefault("recipes", [{"product": "cathode_LFP", "input": "anode", "amount_per_unit": 0.1}])
    t.setdefault("cell_imports", [
        {"chemistry": "LFP", "origin": "China", "price_usd_per_kwh": 70, "price_escalation_per_year": -0.02,
         "freight_usd_per_kwh": 3, "tariff_rate": 0.1, "max_gwh_per_year": None, "first_year": None},
        {"chemistry": "NMC", "origin": "Korea", "price_usd_per_kwh": 95, "price_escalation_per_year": 0.0,
         "freight_usd_per_kwh": 4, "tariff_rate": 0.0, "max_gwh_per_year": 2.0, "first_year": 2027},
    ])
    t.setdefault("committed_builds", [{"facility": "cathode_plant", "year": 2027, "modules": 1}])
    return t


def raw_workbook(tables: dict[str, Any] | None = None):
    """The :class:`model.workbook.RawWorkbook` that reading ``write_case(tables)`` would give, without a
    file: header on row 1, records from row 2, text trimmed, blank text as None. For fast tests
    of :func:`model.data.build_case` (property-based tests run thousands of cases).
    """
    from model.workbook import RawSheet, RawWorkbook, _clean, normalise

    tables = tiny_tables() if tables is None else tables
    sheets = {}
    for name, data in tables.items():
        if name == "settings" and isinstance(data, dict):
            header = ["key", "value"]
            rows = [[k, v] for k, v in data.items()]
        else:
            header = []
            for rec in data:
                header += [k for k in rec if k not in header]
            rows = [[rec.get(h) for h in header] for rec in data]
        kept, numbers = [], []
        for r, row in enumerate(rows, start=2):
            row = tuple(_clean(v) for v in row)
            if any(v is not None for v in row):
                kept.append(row)
                numbers.append(r)
        sheets[normalise(name)] = RawSheet(name, tuple(str(h).strip() for h in header), tuple(kept), tuple(numbers))
    return RawWorkbook(sheets=sheets, path="<memory>")
