"""The default case, written out as reviewable text: every figure with the source it came from.

``base_case_tables()`` returns the case as plain tables (the form accepted by
:func:`model.xlsx_util.write_input_workbook`) plus an extra ``sources`` sheet with one row per
figure: which sheet, row key and column it fills, its value, the item of the project's public
reference page (``market_data`` section 3a-3f) it came from, and a note. Where no public figure
exists the source says ``assumption`` and the note says why the value was chosen. The ``sources``
sheet and the ``notes`` columns are extra and ignored by the model.

``python -m model.basecase [OUT]`` writes the workbook (default ``inputs/base_case.xlsx``).

Conventions of the numbers below
--------------------------------
* Money is real USD; tonnes (t) for every material except separator, in 1000 m2.
* Capex per module = capacity x capex per unit of yearly capacity (market_data 3c).
* Fixed O&M = 3 % (cells) or 3.5 % (materials) of capex a year (assumption: typical process-plant
  range 2-5 %; no public Moroccan figure).
* Variable cost of a local material plant = a share of the China spot price (3b): it stands for
  the purchased inputs (lithium salts, metals, coke, resins, solvents), energy and labour, while
  capital is charged separately through capex. The shares (0.80 LFP cathode, 0.96 NMC cathode,
  0.80 anode, 0.80 separator, 0.90 electrolyte) are assumptions. At full utilisation (capex
  annualised at 8 % over 20 years, plus fixed O&M) a local unit then costs, against a landed
  Chinese import: LFP cathode $4,855 vs $5,018/t (-3 %); NMC cathode $20,871 vs $21,315/t (-2 %,
  metals bought at world prices); anode $3,635 (BTR) or $3,849 (Shinzoom) vs $3,788/t;
  electrolyte $4,755 vs $5,425/t (-12 %: duty and dangerous-goods freight saved on a low-capex
  plant); separator $164 vs $126 per 1000 m2 (+30 %, capital-heavy). Opening costs, the
  first-year ramp-up and part-used modules eat these thin margins, so the make-or-buy and timing
  decisions are not trivial, and a +-30 % price move (3b) flips several of them.
* Import duty 2.5 % on Chinese and Korean inputs: Morocco's band for industrial inputs (3e),
  applied as if the inputs cleared customs outside a free zone (conservative; Gotion Kenitra is in
  the Atlantic Free Zone, where the duty would be 0 - a sensitivity). EU origin: 0 (EU-Morocco
  Association Agreement, 3e).
"""
from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

from .xlsx_util import write_input_workbook

DEFAULT_OUT = Path("inputs") / "base_case.xlsx"

START, END = 2026, 2040
YEARS = tuple(range(START, END + 1))

# --------------------------------------------------------------------------- settings
#: value, source, note
_SETTINGS: dict[str, tuple[Any, str, str]] = {
    "start_year": (START, "market_data 3f: Gotion Kenitra mass production targeted Q3 2026",
                   "first year of cell output"),
    "end_year": (END, "assumption", "15-year horizon, long enough to reach the 100 GWh build-out (3f)"),
    "base_year": (START, "assumption", "prices of 3b (2024-2026) taken as base-year real prices"),
    "discount_rate": (0.08, "assumption",
                      "real rate, the schema default; no public figure in market_data (Gaps: discounting)"),
    "allow_unmet_demand": (True, "assumption",
                           "keeps every what-if solvable; unmet GWh are reported and heavily penalised"),
    "unmet_penalty_usd_per_kwh": (1000.0, "assumption",
                                  "~19x the China LFP cell price $53/kWh (market_data 3b), so demand is "
                                  "left unmet only when it physically cannot be served"),
    "mip_rel_gap": (1e-4, "assumption", "schema default"),
    "time_limit_s": (600.0, "assumption", "schema default"),
}

# --------------------------------------------------------------------------- demand
KWH_PER_VEHICLE = 50.0
#: vehicles per year served by the Kenitra gigafactory: 400k (= 20 GWh, 2026-27) to 2M (= 100 GWh, 2040)
_VEHICLES: dict[int, int] = {
    2026: 400_000, 2027: 400_000, 2028: 500_000, 2029: 620_000, 2030: 760_000,
    2031: 900_000, 2032: 1_040_000, 2033: 1_180_000, 2034: 1_320_000, 2035: 1_460_000,
    2036: 1_600_000, 2037: 1_720_000, 2038: 1_840_000, 2039: 1_940_000, 2040: 2_000_000,
}
_VEHICLES_SRC = {
    2026: ("market_data 3a: kWh per vehicle, project assumption 20 GWh <-> 400,000 vehicles",
           "Gotion Kenitra phase 1 = 20 GWh (3f) at 50 kWh per vehicle"),
    2027: ("market_data 3c: cell gigafactory lead time ~2 yr",
           "assumption: flat at 20 GWh; an expansion decided in 2026 cannot be online before 2028"),
    2040: ("market_data 3f: Gotion Kenitra up to 100 GWh",
           "100 GWh / 50 kWh = 2,000,000 vehicles at the end of the horizon"),
}
_VEHICLES_DEFAULT_SRC = ("assumption",
                         "smooth ramp from 20 GWh (2027) to 100 GWh (2040), +5 to +7 GWh a year, "
                         "so one or two 10 GWh modules a year suffice")

# --------------------------------------------------------------------------- chemistry mix
#: LFP share by year; NMC takes the rest
_LFP_SHARE: dict[int, float] = {
    2026: 0.80, 2027: 0.80, 2028: 0.80, 2029: 0.78, 2030: 0.76, 2031: 0.74, 2032: 0.72,
    **{y: 0.70 for y in range(2033, END + 1)},
}
_MIX_SRC = ("assumption",
            "Gotion is LFP-first (market_data 3f); a rising NMC share serves premium/long-range exports "
            "to Europe (3b: BNEF 2025 NMC packs $128/kWh vs LFP $81/kWh, NMC kept for the premium segment). "
            "Shares written as 2-decimal numbers so each year sums to exactly 1")

# --------------------------------------------------------------------------- materials
_MATERIALS: list[dict[str, Any]] = [
    dict(material="cathode_LFP", unit="t", reference_price_usd_per_unit=4_700.0,
         _src=("market_data 3b: LFP CAM 33,800 RMB/t (~$4.7/kg), Nov 2024", "China spot, EnergyTrend")),
    dict(material="cathode_NMC", unit="t", reference_price_usd_per_unit=20_600.0,
         _src=("market_data 3b: NCM811 CAM 148,200 RMB/t (~$20.6/kg), Nov 2024", "China spot, EnergyTrend")),
    dict(material="anode", unit="t", reference_price_usd_per_unit=3_500.0,
         _src=("market_data 3b: artificial graphite anode mid-end 25,300 RMB/t (~$3.5/kg), Nov 2024",
               "China spot, EnergyTrend")),
    dict(material="separator", unit="1000 m2", reference_price_usd_per_unit=120.0,
         _src=("market_data 3b: separator wet 7 um 0.83 RMB/m2 (~$0.12/m2)", "$0.12/m2 = $120 per 1000 m2")),
    dict(material="electrolyte", unit="t", reference_price_usd_per_unit=5_000.0,
         _src=("market_data 3b: electrolyte LFP 35,750 RMB/t (~$5/kg), Jan 2026",
               "2024 value not found; SMM Jan 2026 used")),
]

# --------------------------------------------------------------------------- intensity (units per GWh)
_INTENSITY: list[tuple[str, str, float, str, str]] = [
    ("LFP", "cathode_LFP", 2_000.0, "market_data 3a: CAM LFP ~2.0 kg/kWh", "2.0 kg/kWh = 2,000 t/GWh"),
    ("LFP", "anode", 1_050.0, "market_data 3a: graphite anode LFP ~1.0-1.1 kg/kWh", "mid-range 1.05 kg/kWh"),
    ("LFP", "separator", 14_000.0, "market_data 3a: separator LFP ~13-15 m2/kWh",
     "14 m2/kWh = 14,000 (1000 m2)/GWh; 3a flags this as an estimate"),
    ("LFP", "electrolyte", 600.0, "market_data 3a: electrolyte LFP ~0.5-0.7 kg/kWh", "mid-range 0.6 kg/kWh"),
    ("NMC", "cathode_NMC", 1_350.0, "market_data 3a: CAM NMC811 ~1.3-1.4 kg/kWh", "mid-range 1.35 kg/kWh"),
    ("NMC", "anode", 950.0, "market_data 3a: graphite anode NMC811 ~0.9-1.0 kg/kWh", "mid-range 0.95 kg/kWh"),
    ("NMC", "separator", 9_000.0, "market_data 3a: separator NMC811 ~8-10 m2/kWh",
     "9 m2/kWh = 9,000 (1000 m2)/GWh; estimate"),
    ("NMC", "electrolyte", 400.0, "market_data 3a: electrolyte NMC811 ~0.3-0.5 kg/kWh", "mid-range 0.4 kg/kWh"),
]

# --------------------------------------------------------------------------- facilities
_VAR_NOTE = ("assumption: {share:.0%} of the China spot price {price} (market_data 3b) for purchased inputs, "
             "energy and labour; capital is charged through capex")


def _fac(facility: str, product: str, site: str, notes: str, src: dict[str, tuple[str, str]],
         **values: Any) -> dict[str, Any]:
    rec = dict(facility=facility, product=product, site=site, **values, notes=notes)
    rec["_src"] = src
    return rec


_FACILITIES: list[dict[str, Any]] = [
    _fac(
        "Gotion Kenitra gigafactory", "cells", "Kenitra (Atlantic Free Zone)",
        "Phase 1 20 GWh ($1.3 bn) committed, production Q3 2026; expandable to 100 GWh ($6.5 bn) "
        "(market_data 3f, 3c)",
        {
            "existing_capacity": ("market_data 3f: Gotion Kenitra phase 1 20 GWh", "committed, online 2026"),
            "existing_from_year": ("market_data 3f: mass production targeted Q3 2026", ""),
            "module_size": ("assumption", "expansion in 10 GWh phases (plants are built in lines of ~10 GWh)"),
            "max_modules": ("market_data 3f: Gotion Kenitra up to 100 GWh", "(100 - 20) / 10 = 8 modules"),
            "earliest_online_year": ("market_data 3c: cell gigafactory lead time ~2 yr",
                                     "decision in 2026 -> online 2028"),
            "lead_time_years": ("market_data 3c: June 2024 agreement -> mass production Q3 2026 (~2 yr)", ""),
            "lifetime_years": ("assumption", "20-year plant life"),
            "capex_usd_per_module": ("market_data 3c: Gotion Kenitra $1.3bn / 20 GWh; $6.5bn / 100 GWh",
                                     "~$65 M/GWh x 10 GWh"),
            "fixed_om_usd_per_module_year": ("assumption", "3 % of capex a year"),
            "existing_fixed_om_usd_per_year": ("market_data 3f: Gotion Kenitra phase 1 $1.3bn",
                                               "assumption: 3 % of $1.3 bn a year"),
            "variable_cost_usd_per_unit": ("assumption",
                                           "$15/kWh for unmodelled materials (foils, casings), labour and "
                                           "energy; with modelled materials (~$18-34/kWh) and capital "
                                           "(~$9/kWh) the cell costs ~$45-60/kWh, near the China LFP cell "
                                           "price $53/kWh (market_data 3b)"),
            "opening_cost_usd": ("assumption", "site exists: no opening cost"),
            "ramp_up_first_year": ("assumption", "half of a new module's capacity in its first year"),
        },
        existing_capacity=20.0, existing_from_year=2026, module_size=10.0, max_modules=8,
        earliest_online_year=2028, lead_time_years=2, lifetime_years=20,
        capex_usd_per_module=650e6, fixed_om_usd_per_module_year=19.5e6,
        existing_fixed_om_usd_per_year=39e6, variable_cost_usd_per_unit=15e6,
        opening_cost_usd=0.0, ramp_up_first_year=0.5,
    ),
    _fac(
        "COBCO LFP cathode", "cathode_LFP", "Jorf Lasfar",
        "COBCO (Al Mada + CNGR) 60 kt/yr LFP line, to start 'as soon as a regional LFP ecosystem "
        "emerges'; site already runs pCAM (market_data 3f); CAM capex ~$8,000 per t/yr (3c)",
        {
            "module_size": ("market_data 3f: COBCO 60 kt/yr LFP", "assumption: built in 3 lines of 20 kt"),
            "max_modules": ("market_data 3f: COBCO 60 kt/yr LFP", "3 x 20 kt = 60 kt"),
            "earliest_online_year": ("market_data 3c: CAM plant lead time ~2.5 yr (BTR)",
                                     "not started yet: decision 2026 -> online 2028"),
            "lead_time_years": ("market_data 3c: CAM plant ~2.5 yr", "rounded to 2 (site and utilities exist)"),
            "lifetime_years": ("assumption", "20-year asset life"),
            "capex_usd_per_module": ("market_data 3c: CAM plant ~$6,000-10,000 per t/yr",
                                     "midpoint $8,000 per t/yr x 20 kt"),
            "fixed_om_usd_per_module_year": ("assumption", "3.5 % of capex a year"),
            "variable_cost_usd_per_unit": ("assumption", _VAR_NOTE.format(share=0.80, price="$4,700/t")),
            "opening_cost_usd": ("assumption",
                                 "brownfield: COBCO site (238 ha) already built for pCAM (3f); ~12 % of a module "
                                 "for LFP-specific utilities"),
            "ramp_up_first_year": ("assumption", "half capacity in the first year"),
        },
        module_size=20_000.0, max_modules=3, earliest_online_year=2028, lead_time_years=2,
        lifetime_years=20, capex_usd_per_module=160e6, fixed_om_usd_per_module_year=5.6e6,
        variable_cost_usd_per_unit=3_760.0, opening_cost_usd=20e6, ramp_up_first_year=0.5,
    ),
    _fac(
        "LG Chem-Huayou LFP cathode", "cathode_LFP", "Morocco (site not announced)",
        "MoU Sept 2023: 50 kt/yr LFP CAM, status after 2023 not verified (market_data 3f); greenfield",
        {
            "module_size": ("market_data 3f: LG Chem + Huayou LFP CAM 50 kt/yr", "assumption: 2 lines of 25 kt"),
            "max_modules": ("market_data 3f: LG Chem + Huayou LFP CAM 50 kt/yr", "2 x 25 kt = 50 kt"),
            "earliest_online_year": ("market_data 3f: status after 2023 not verified",
                                     "assumption: one year later than COBCO (greenfield, project to be revived)"),
            "lead_time_years": ("market_data 3c: CAM plant ~2.5 yr", "rounded to 2"),
            "lifetime_years": ("assumption", "20-year asset life"),
            "capex_usd_per_module": ("market_data 3c: CAM plant ~$6,000-10,000 per t/yr",
                                     "midpoint $8,000 per t/yr x 25 kt"),
            "fixed_om_usd_per_module_year": ("assumption", "3.5 % of capex a year"),
            "variable_cost_usd_per_unit": ("assumption", _VAR_NOTE.format(share=0.80, price="$4,700/t")),
            "opening_cost_usd": ("assumption", "greenfield site, land and utilities ~20 % of a module"),
            "ramp_up_first_year": ("assumption", "half capacity in the first year"),
        },
        module_size=25_000.0, max_modules=2, earliest_online_year=2029, lead_time_years=2,
        lifetime_years=20, capex_usd_per_module=200e6, fixed_om_usd_per_module_year=7e6,
        variable_cost_usd_per_unit=3_760.0, opening_cost_usd=40e6, ramp_up_first_year=0.5,
    ),
    _fac(
        "BTR ternary cathode Tanger", "cathode_NMC", "Tanger Tech",
        "BTR 50 kt/yr ternary CAM, 3 bn MAD ($300 M, ministry) or $497 M (metalswire); first 25 kt "
        "targeted Sept 2026 (market_data 3c, 3f)",
        {
            "module_size": ("market_data 3f: BTR ternary cathode 50 kt/yr, first 25 kt Sept 2026", "25 kt lines"),
            "max_modules": ("market_data 3f: BTR ternary cathode 50 kt/yr", "2 x 25 kt = 50 kt"),
            "earliest_online_year": ("market_data 3c: BTR first 25 kt targeted Sept 2026",
                                     "first full year 2027"),
            "lead_time_years": ("assumption", "construction under way since 2024: ~1 yr left in 2026"),
            "lifetime_years": ("assumption", "20-year asset life"),
            "capex_usd_per_module": ("market_data 3c: BTR Tangier ternary CAM 50 kt for $300 M or $497 M",
                                     "midpoint ~$400 M / 50 kt = $8,000 per t/yr x 25 kt"),
            "fixed_om_usd_per_module_year": ("assumption", "3.5 % of capex a year"),
            "variable_cost_usd_per_unit": ("assumption",
                                           _VAR_NOTE.format(share=0.96, price="$20,600/t")
                                           + "; Ni/Co/Li are ~90 % of NMC CAM cost and bought at world prices"),
            "opening_cost_usd": ("assumption", "Tanger Tech plot serviced; ~15 % of a module"),
            "ramp_up_first_year": ("assumption", "half capacity in the first year"),
        },
        module_size=25_000.0, max_modules=2, earliest_online_year=2027, lead_time_years=1,
        lifetime_years=20, capex_usd_per_module=200e6, fixed_om_usd_per_module_year=7e6,
        variable_cost_usd_per_unit=19_776.0, opening_cost_usd=30e6, ramp_up_first_year=0.5,
    ),
    _fac(
        "BTR anode Tanger", "anode", "Tanger Tech",
        "BTR 60 kt/yr graphite anode, $366 M (2.6 bn yuan), ~2-yr build, ~2026 (market_data 3c, 3f)",
        {
            "module_size": ("market_data 3f: BTR anode 60 kt/yr", "assumption: 3 lines of 20 kt"),
            "max_modules": ("market_data 3f: BTR anode 60 kt/yr", "3 x 20 kt = 60 kt"),
            "earliest_online_year": ("market_data 3f: BTR anode ~2-yr build, ~2026", "first full year 2027"),
            "lead_time_years": ("assumption", "construction under way: ~1 yr left in 2026"),
            "lifetime_years": ("assumption", "20-year asset life"),
            "capex_usd_per_module": ("market_data 3c: BTR Tangier anode 60 kt for $366 M (~$6,100 per t/yr)",
                                     "$6,100 per t/yr x 20 kt"),
            "fixed_om_usd_per_module_year": ("assumption", "3.5 % of capex a year"),
            "variable_cost_usd_per_unit": ("assumption",
                                           _VAR_NOTE.format(share=0.80, price="$3,500/t")
                                           + "; coke is imported and graphitisation is power-hungry"),
            "opening_cost_usd": ("assumption", "Tanger Tech plot serviced; ~16 % of a module"),
            "ramp_up_first_year": ("assumption", "half capacity in the first year"),
        },
        module_size=20_000.0, max_modules=3, earliest_online_year=2027, lead_time_years=1,
        lifetime_years=20, capex_usd_per_module=122e6, fixed_om_usd_per_module_year=4.27e6,
        variable_cost_usd_per_unit=2_800.0, opening_cost_usd=20e6, ramp_up_first_year=0.5,
    ),
    _fac(
        "Shinzoom anode Tanger", "anode", "Tanger Tech",
        "Shinzoom (Hunan Zhongke Xingcheng) anode plant, $460 M, 20 ha; capacity not found "
        "(market_data 3f) - assumed 60 kt",
        {
            "module_size": ("market_data 3f: Shinzoom capacity not found",
                            "assumption: 60 kt like BTR, in 2 lines of 30 kt"),
            "max_modules": ("market_data 3f: Shinzoom capacity not found", "assumption: 2 x 30 kt"),
            "earliest_online_year": ("market_data 3c: anode plant ~2 yr", "decision 2026 -> online 2028"),
            "lead_time_years": ("market_data 3c: anode plant ~2 yr", ""),
            "lifetime_years": ("assumption", "20-year asset life"),
            "capex_usd_per_module": ("market_data 3c: Shinzoom $460 M (capacity not stated)",
                                     "$460 M / 2 modules (~$7,700 per t/yr, dearer than BTR)"),
            "fixed_om_usd_per_module_year": ("assumption", "3.5 % of capex a year"),
            "variable_cost_usd_per_unit": ("assumption", _VAR_NOTE.format(share=0.80, price="$3,500/t")),
            "opening_cost_usd": ("assumption", "20 ha at Tanger Tech (3f); ~9 % of a module"),
            "ramp_up_first_year": ("assumption", "half capacity in the first year"),
        },
        module_size=30_000.0, max_modules=2, earliest_online_year=2028, lead_time_years=2,
        lifetime_years=20, capex_usd_per_module=230e6, fixed_om_usd_per_module_year=8.05e6,
        variable_cost_usd_per_unit=2_800.0, opening_cost_usd=20e6, ramp_up_first_year=0.5,
    ),
    _fac(
        "Separator plant (candidate)", "separator", "Morocco (candidate site)",
        "No separator plant announced in Morocco (market_data 3f); candidate modelled on Semcorp "
        "Debrecen: EUR 183 M (~$200 M) for ~400 M m2/yr (3c)",
        {
            "module_size": ("market_data 3c: Semcorp Debrecen ~400 M m2/yr",
                            "assumption: 4 lines of 100 M m2 = 100,000 (1000 m2) each"),
            "max_modules": ("market_data 3a: separator ~1.3-1.5 bn m2 at 100 GWh",
                            "12 x 100 M m2 = 1.2 bn m2, enough for the 2040 mix"),
            "earliest_online_year": ("market_data 3c: separator plant ~20-24 months; 3f: none announced",
                                     "assumption: site selection in 2026, online 2029"),
            "lead_time_years": ("market_data 3c: separator plant ~20-24 months", ""),
            "lifetime_years": ("assumption", "20-year asset life"),
            "capex_usd_per_module": ("market_data 3c: Semcorp Debrecen EUR 183 M for ~400 M m2/yr",
                                     "~$0.50 per m2/yr x 100 M m2 (later quote EUR 340 M would be ~2x)"),
            "fixed_om_usd_per_module_year": ("assumption", "3.5 % of capex a year"),
            "variable_cost_usd_per_unit": ("assumption", _VAR_NOTE.format(share=0.80, price="$120/1000 m2")),
            "opening_cost_usd": ("assumption", "greenfield site; ~80 % of a module (first-of-a-kind in Morocco)"),
            "ramp_up_first_year": ("assumption", "half capacity in the first year"),
        },
        module_size=100_000.0, max_modules=12, earliest_online_year=2029, lead_time_years=2,
        lifetime_years=20, capex_usd_per_module=50e6, fixed_om_usd_per_module_year=1.75e6,
        variable_cost_usd_per_unit=96.0, opening_cost_usd=40e6, ramp_up_first_year=0.5,
    ),
    _fac(
        "Tinci electrolyte Jorf Lasfar", "electrolyte", "Jorf Lasfar",
        "Tinci 150 kt/yr electrolyte, $280 M (~$1,900 per t/yr); agreement 11 June 2025; 24 months "
        "to build; production 'by 2030' (market_data 3c, 3f)",
        {
            "module_size": ("market_data 3f: Tinci electrolyte 150 kt/yr", "assumption: 5 lines of 30 kt"),
            "max_modules": ("market_data 3f: Tinci electrolyte 150 kt/yr", "5 x 30 kt = 150 kt"),
            "earliest_online_year": ("market_data 3f: Tinci production 'by 2030' (Kallanish)",
                                     "24-month build (3c) after a 2027 decision -> 2029"),
            "lead_time_years": ("market_data 3c: electrolyte plant 24 months to build", ""),
            "lifetime_years": ("assumption", "20-year asset life"),
            "capex_usd_per_module": ("market_data 3c: Tinci Jorf Lasfar $280 M for 150 kt/yr",
                                     "$280 M / 5 = $56 M per 30 kt"),
            "fixed_om_usd_per_module_year": ("assumption", "3.5 % of capex a year"),
            "variable_cost_usd_per_unit": ("assumption",
                                           _VAR_NOTE.format(share=0.90, price="$5,000/t")
                                           + "; LiPF6 and solvents are imported"),
            "opening_cost_usd": ("assumption", "new plant in the Jorf Lasfar industrial zone; ~35 % of a module"),
            "ramp_up_first_year": ("assumption", "half capacity in the first year"),
        },
        module_size=30_000.0, max_modules=5, earliest_online_year=2029, lead_time_years=2,
        lifetime_years=20, capex_usd_per_module=56e6, fixed_om_usd_per_module_year=1.96e6,
        variable_cost_usd_per_unit=4_500.0, opening_cost_usd=20e6, ramp_up_first_year=0.5,
    ),
]

# --------------------------------------------------------------------------- imports
_CN_FREIGHT_SRC = ("market_data 3d: China -> Morocco ~$0.15-0.30/kg (Drewry $3,533/FEU late 2024 at 20-24 t/FEU)",
                   "$200/t, mid-low of the range")
_CN_TARIFF_SRC = ("market_data 3e: 2.5 % band for industrial inputs; HS-specific rates not found",
                  "assumption: applied as if outside a free zone (0 inside the Kenitra Atlantic Free Zone)")
_KR_TARIFF_SRC = ("market_data 3e: 2.5 % band for industrial inputs; no Korea/Japan FTA listed",
                  "assumption: MFN industrial-input band")
_EU_TARIFF_SRC = ("market_data 3e: EU-Morocco Association Agreement (FTA)", "duty-free")
_ESC_SRC = ("assumption", "flat real prices (3b prices fluctuate +-30 %: a sensitivity, not a trend)")
_WEST_CAP_SRC = ("assumption", "allocation a Western supplier could spare for Morocco")


def _imp(material: str, origin: str, notes: str, src: dict[str, tuple[str, str]], **values: Any) -> dict:
    rec = dict(material=material, origin=origin, **values, notes=notes)
    rec["_src"] = src
    return rec


_IMPORTS: list[dict[str, Any]] = [
    _imp("cathode_LFP", "China", "China spot Nov 2024 (3b), freight 3d, 2.5 % duty (3e)",
         {"price_usd_per_unit": ("market_data 3b: LFP CAM ~$4.7/kg, Nov 2024", "EnergyTrend"),
          "price_escalation_per_year": _ESC_SRC, "freight_usd_per_unit": _CN_FREIGHT_SRC,
          "tariff_rate": _CN_TARIFF_SRC},
         price_usd_per_unit=4_700.0, price_escalation_per_year=0.0, freight_usd_per_unit=200.0,
         tariff_rate=0.025, max_per_year=None, first_year=None),
    _imp("cathode_LFP", "EU", "BatPaC v5 / Western price (3b), duty-free under the EU FTA (3e)",
         {"price_usd_per_unit": ("market_data 3b: Western / BatPaC v5 LFP $10/kg", ""),
          "price_escalation_per_year": _ESC_SRC,
          "freight_usd_per_unit": ("assumption", "short-sea Europe -> Morocco, ~half of China freight (3d)"),
          "tariff_rate": _EU_TARIFF_SRC, "max_per_year": _WEST_CAP_SRC},
         price_usd_per_unit=10_000.0, price_escalation_per_year=0.0, freight_usd_per_unit=100.0,
         tariff_rate=0.0, max_per_year=50_000.0, first_year=None),
    _imp("cathode_NMC", "China", "China spot Nov 2024 (3b), freight 3d, 2.5 % duty (3e)",
         {"price_usd_per_unit": ("market_data 3b: NCM811 CAM ~$20.6/kg, Nov 2024", "EnergyTrend"),
          "price_escalation_per_year": _ESC_SRC, "freight_usd_per_unit": _CN_FREIGHT_SRC,
          "tariff_rate": _CN_TARIFF_SRC},
         price_usd_per_unit=20_600.0, price_escalation_per_year=0.0, freight_usd_per_unit=200.0,
         tariff_rate=0.025, max_per_year=None, first_year=None),
    _imp("cathode_NMC", "Korea", "BatPaC v5 / Western NMC811 price (3b); MFN duty (3e)",
         {"price_usd_per_unit": ("market_data 3b: Western / BatPaC v5 NMC811 $26/kg", ""),
          "price_escalation_per_year": _ESC_SRC,
          "freight_usd_per_unit": ("market_data 3d: Asia -> Mediterranean ~$0.15-0.30/kg",
                                   "assumption: $250/t, longer than China routes"),
          "tariff_rate": _KR_TARIFF_SRC, "max_per_year": _WEST_CAP_SRC},
         price_usd_per_unit=26_000.0, price_escalation_per_year=0.0, freight_usd_per_unit=250.0,
         tariff_rate=0.025, max_per_year=30_000.0, first_year=None),
    _imp("anode", "China", "China spot mid-end Nov 2024 (3b), freight 3d, 2.5 % duty (3e)",
         {"price_usd_per_unit": ("market_data 3b: artificial graphite mid-end ~$3.5/kg, Nov 2024", "EnergyTrend"),
          "price_escalation_per_year": _ESC_SRC, "freight_usd_per_unit": _CN_FREIGHT_SRC,
          "tariff_rate": _CN_TARIFF_SRC},
         price_usd_per_unit=3_500.0, price_escalation_per_year=0.0, freight_usd_per_unit=200.0,
         tariff_rate=0.025, max_per_year=None, first_year=None),
    _imp("anode", "Japan", "BatPaC v5 / Western graphite price (3b); MFN duty (3e)",
         {"price_usd_per_unit": ("market_data 3b: Western / BatPaC v5 graphite $10/kg", ""),
          "price_escalation_per_year": _ESC_SRC,
          "freight_usd_per_unit": ("market_data 3d: Asia -> Mediterranean ~$0.15-0.30/kg",
                                   "assumption: $250/t, longer than China routes"),
          "tariff_rate": _KR_TARIFF_SRC, "max_per_year": _WEST_CAP_SRC},
         price_usd_per_unit=10_000.0, price_escalation_per_year=0.0, freight_usd_per_unit=250.0,
         tariff_rate=0.025, max_per_year=30_000.0, first_year=None),
    _imp("separator", "China", "China spot wet 7 um (3b); light, bulky rolls; 2.5 % duty (3e)",
         {"price_usd_per_unit": ("market_data 3b: separator wet 7 um ~$0.12/m2", "$120 per 1000 m2"),
          "price_escalation_per_year": _ESC_SRC,
          "freight_usd_per_unit": ("market_data 3d: ~$0.15-0.30/kg",
                                   "assumption: ~10 kg per 1000 m2 packed on cores -> ~$3 per 1000 m2"),
          "tariff_rate": _CN_TARIFF_SRC},
         price_usd_per_unit=120.0, price_escalation_per_year=0.0, freight_usd_per_unit=3.0,
         tariff_rate=0.025, max_per_year=None, first_year=None),
    _imp("separator", "Japan", "BatPaC v5 / Western separator price (3b); MFN duty (3e)",
         {"price_usd_per_unit": ("market_data 3b: Western / BatPaC v5 separator $0.9/m2", "$900 per 1000 m2"),
          "price_escalation_per_year": _ESC_SRC,
          "freight_usd_per_unit": ("market_data 3d: ~$0.15-0.30/kg",
                                   "assumption: ~10 kg per 1000 m2 packed -> ~$3 per 1000 m2"),
          "tariff_rate": _KR_TARIFF_SRC, "max_per_year": _WEST_CAP_SRC},
         price_usd_per_unit=900.0, price_escalation_per_year=0.0, freight_usd_per_unit=3.0,
         tariff_rate=0.025, max_per_year=500_000.0, first_year=None),
    _imp("electrolyte", "China", "SMM Jan 2026 LFP electrolyte (3b); dangerous goods; 2.5 % duty (3e)",
         {"price_usd_per_unit": ("market_data 3b: electrolyte LFP 35,750 RMB/t (~$5/kg), Jan 2026",
                                 "2024 value not found"),
          "price_escalation_per_year": _ESC_SRC,
          "freight_usd_per_unit": ("market_data 3d: ~$0.15-0.30/kg; dangerous-goods surcharges not found",
                                   "assumption: top of the range, $300/t, for hazmat handling"),
          "tariff_rate": _CN_TARIFF_SRC},
         price_usd_per_unit=5_000.0, price_escalation_per_year=0.0, freight_usd_per_unit=300.0,
         tariff_rate=0.025, max_per_year=None, first_year=None),
    _imp("electrolyte", "EU", "BatPaC v5 / Western electrolyte price (3b), duty-free under the EU FTA (3e)",
         {"price_usd_per_unit": ("market_data 3b: Western / BatPaC v5 electrolyte $10/L (= $8.3/kg)", ""),
          "price_escalation_per_year": _ESC_SRC,
          "freight_usd_per_unit": ("assumption", "short-sea Europe -> Morocco, dangerous goods"),
          "tariff_rate": _EU_TARIFF_SRC, "max_per_year": _WEST_CAP_SRC},
         price_usd_per_unit=8_300.0, price_escalation_per_year=0.0, freight_usd_per_unit=150.0,
         tariff_rate=0.0, max_per_year=30_000.0, first_year=None),
]

# --------------------------------------------------------------------------- exports
_EXPORT_PRICE_NOTE = ("assumption: FOB Morocco at parity with the China spot price (3b) - European buyers "
                      "pay no duty on Moroccan goods (EU FTA, 3e) but would otherwise buy Chinese")
_EXPORTS: list[dict[str, Any]] = [
    dict(material="cathode_LFP", price_usd_per_unit=4_700.0, max_per_year=20_000.0,
         notes="Gotion exports mainly to Europe (3f); EU-Morocco FTA (3e)",
         _src={"price_usd_per_unit": ("market_data 3b: LFP CAM ~$4.7/kg", _EXPORT_PRICE_NOTE),
               "max_per_year": ("assumption", "offtake a European cell maker might contract")}),
    dict(material="anode", price_usd_per_unit=3_500.0, max_per_year=20_000.0,
         notes="EU-Morocco FTA (3e)",
         _src={"price_usd_per_unit": ("market_data 3b: artificial graphite mid-end ~$3.5/kg", _EXPORT_PRICE_NOTE),
               "max_per_year": ("assumption", "offtake a European cell maker might contract")}),
]

# --------------------------------------------------------------------------- local content
#: minimum local value share; years not listed (2026-2027) have no target.
#: Milestones 20 % (2028), 40 % (2030), 50 % (2035), 60 % (2040), linear in between. With the base
#: prices the cheapest plan already reaches 55-85 % local value in 2029-2038 (local LFP cathode,
#: anode, electrolyte and one NMC cathode line), so the targets bind only at the end, when the
#: capped LFP cathode capacity (COBCO 60 kt) leaves a growing share imported: in 2039-2040 the 58-60 %
#: target forces extra local capacity (e.g. a second NMC cathode line). The lower 30/40/50 %
#: example trajectory would never bind with these prices.
_LOCAL_CONTENT: dict[int, float] = {
    2028: 0.20, 2029: 0.30, 2030: 0.40, 2031: 0.42, 2032: 0.44, 2033: 0.46, 2034: 0.48, 2035: 0.50,
    2036: 0.52, 2037: 0.54, 2038: 0.56, 2039: 0.58, 2040: 0.60,
}
_LC_SRC = {
    2028: ("assumption", "first year material plants can be online (BTR 2027, COBCO 2028, 3f); 20 % is "
                         "reachable with BTR anode + COBCO LFP cathode at half first-year output"),
    2030: ("assumption", "policy-style milestone 40 % by 2030; no Moroccan rule found and the PEM rule for "
                         "HS 8507 was not found (market_data 3e: make it a parameter)"),
    2035: ("assumption", "milestone 50 % by 2035"),
    2040: ("assumption", "milestone 60 % by 2040: above the ~56 % that COBCO LFP cathode, BTR anode, Tinci "
                         "electrolyte and one NMC line give at 100 GWh, so the target binds"),
}
_LC_DEFAULT_SRC = ("assumption", "linear between milestones; none in 2026-2027 while no material plant can be online")

# --------------------------------------------------------------------------- assembly


def _key(*parts: Any) -> str:
    return ",".join(str(p) for p in parts)


def base_case_tables() -> dict[str, Any]:
    """The default case as tables for :func:`model.xlsx_util.write_input_workbook`.

    Returns a new dict every call: ``settings`` ({key: value}); ``demand``, ``chemistry_mix``,
    ``materials``, ``intensity``, ``facilities``, ``imports``, ``exports``, ``local_content``
    (lists of records; facilities, imports and exports carry an extra ``notes`` column); and
    ``sources`` (one record per figure: ``sheet``, ``key``, ``column``, ``value``, ``source``, ``note``).
    """
    sources: list[dict[str, Any]] = []

    def src(sheet: str, key: str, column: str, value: Any, source: str, note: str = "") -> None:
        sources.append(dict(sheet=sheet, key=key, column=column, value=value, source=source, note=note))

    settings = {}
    for k, (v, s, n) in _SETTINGS.items():
        settings[k] = v
        src("settings", k, "value", v, s, n)

    demand = []
    for y in YEARS:
        rec = dict(year=y, vehicles=float(_VEHICLES[y]), kwh_per_vehicle=KWH_PER_VEHICLE)
        demand.append(rec)
        s, n = _VEHICLES_SRC.get(y, _VEHICLES_DEFAULT_SRC)
        src("demand", str(y), "vehicles", rec["vehicles"], s,
            n + f" ({rec['vehicles'] * KWH_PER_VEHICLE / 1e6:g} GWh)")
        src("demand", str(y), "kwh_per_vehicle", KWH_PER_VEHICLE,
            "market_data 3a: kWh per vehicle 50 (project assumption; LG Chem '50 kWh entry-class EV')", "")

    mix = []
    for y in YEARS:
        lfp = _LFP_SHARE[y]
        nmc = round(1.0 - lfp, 2)
        for chem, share in (("LFP", lfp), ("NMC", nmc)):
            mix.append(dict(year=y, chemistry=chem, share=share))
            src("chemistry_mix", _key(y, chem), "share", share, *_MIX_SRC)

    materials = []
    for m in _MATERIALS:
        rec = {k: v for k, v in m.items() if k != "_src"}
        materials.append(rec)
        src("materials", rec["material"], "reference_price_usd_per_unit", rec["reference_price_usd_per_unit"],
            *m["_src"])

    intensity = []
    for chem, mat, amount, s, n in _INTENSITY:
        intensity.append(dict(chemistry=chem, material=mat, amount_per_gwh=amount))
        src("intensity", _key(chem, mat), "amount_per_gwh", amount, s, n)

    def records(sheet: str, rows: list[dict], keycols: tuple[str, ...]) -> list[dict]:
        out = []
        for row in rows:
            rec = {k: v for k, v in row.items() if k != "_src"}
            out.append(rec)
            key = _key(*(rec[c] for c in keycols))
            for col, (s, n) in row["_src"].items():
                if col not in rec:
                    raise KeyError(f"source for unknown column {sheet}.{col}")
                src(sheet, key, col, rec[col], s, n)
        return out

    facilities = records("facilities", _FACILITIES, ("facility",))
    imports = records("imports", _IMPORTS, ("material", "origin"))
    exports = records("exports", _EXPORTS, ("material",))

    local_content = []
    for y, s in _LOCAL_CONTENT.items():
        local_content.append(dict(year=y, min_local_value_share=s))
        src("local_content", str(y), "min_local_value_share", s, *_LC_SRC.get(y, _LC_DEFAULT_SRC))

    return copy.deepcopy({
        "settings": settings,
        "demand": demand,
        "chemistry_mix": mix,
        "materials": materials,
        "intensity": intensity,
        "facilities": facilities,
        "imports": imports,
        "exports": exports,
        "local_content": local_content,
        "scenarios": [dict(r) for r in SCENARIOS],
        "sensitivity": [dict(r) for r in SENSITIVITY],
        "sources": sources,
    })


#: What-ifs a planner asks first, runnable with ``--scenario NAME`` (or ``--scenario all``).
#: Each comes from a caution of market_data.md: Chinese prices are +-30 %, the Red Sea doubled
#: freight, Gotion sits in the Kenitra free zone (no duty), BatPaC/Western prices are higher.
SCENARIOS = (
    dict(scenario="china_prices_plus30", address="imports[*,China].price_usd_per_unit", operation="*=", value=1.3),
    dict(scenario="china_prices_minus30", address="imports[*,China].price_usd_per_unit", operation="*=", value=0.7),
    dict(scenario="red_sea_freight", address="imports[*,China].freight_usd_per_unit", operation="*=", value=2),
    dict(scenario="free_zone_no_duty", address="imports[*].tariff_rate", operation="=", value=0),
    dict(scenario="no_local_content_target", address="local_content[*].min_local_value_share", operation="=", value=0),
    dict(scenario="capex_plus30", address="facilities[*].capex_usd_per_module", operation="*=", value=1.3),
)

#: A one-at-a-time sweep over the most uncertain inputs (``battery-plan sweep inputs/base_case.xlsx``).
SENSITIVITY = (
    dict(address="imports[*,China].price_usd_per_unit", operation="*=", low=0.7, high=1.3, steps=3, design="oat"),
    dict(address="facilities[*].capex_usd_per_module", operation="*=", low=0.7, high=1.3, steps=3, design="oat"),
    dict(address="imports[*].tariff_rate", operation="=", low=0.0, high=0.1, steps=3, design="oat"),
    dict(address="settings.discount_rate", operation="=", low=0.05, high=0.11, steps=3, design="oat"),
    dict(address="demand[*].vehicles", operation="*=", low=0.8, high=1.2, steps=3, design="oat"),
)


def write_base_case(path: str | Path = DEFAULT_OUT) -> Path:
    """Write the default case workbook (atomically) and return its path."""
    return write_input_workbook(path, base_case_tables())


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) > 1 or (argv and argv[0] in ("-h", "--help")):
        print("usage: python -m model.basecase [OUT.xlsx]   (default: inputs/base_case.xlsx)")
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    out = write_base_case(Path(argv[0]) if argv else DEFAULT_OUT)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
