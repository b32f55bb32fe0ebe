"""The default case, written out as reviewable text: every figure with the source it came from.

``base_case_tables()`` returns the case as plain tables (the form accepted by
:func:`model.xlsx_util.write_input_workbook`) plus an extra ``sources`` sheet with one row per
figure: which sheet, row key and column it fills, its value, the item of the project's public
reference page (``market_data`` sections 3a-3f and V2-a..V2-h) it came from, and a note. Where no
public figure exists the source says ``assumption`` and the note says why the value was chosen. The
``sources`` sheet and the ``notes`` columns are extra and ignored by the model.

``python -m model.basecase [OUT]`` writes the workbook (default ``inputs/base_case.xlsx``).

The story (Version 2 of the formulation)
----------------------------------------
* Gotion Kenitra's phase 1 (20 GWh, $1.3 bn) is a *committed build* coming online in 2026 with a
  Q3 start (40 % of its capacity in 2026); the rest of the 20 GWh of 2026 demand is met by cells
  imported from China. Phase 2+ grows the site towards 100 GWh in 10 GWh candidate modules from
  2028 (two-year lead time), at a capex that falls 4 % a year (learning).
* COBCO (Jorf Lasfar) already runs its first 40 kt/yr NMC pCAM unit (inaugurated June 2025:
  existing capacity); two more 40 kt units complete the 120 kt complex as candidates. Its pCAM
  feeds BTR's ternary cathode line in Tanger or is exported (the Umicore supply deal). COBCO's
  60 kt LFP cathode line has no date and stays a candidate.
* BTR Tanger's first 25 kt ternary cathode line (Sept 2026) and first anode line are committed in
  2026 with a late-year ramp; their second phases are candidates.
* Cathodes carry a multi-tier bill of materials (``recipes``): pCAM + lithium hydroxide per t of
  NMC cathode; iron phosphate + lithium carbonate per t of LFP cathode (stoichiometry, V2-a). Those
  intermediates have import routes and reference prices but no intensity rows.
* Local content counts the cell maker's own value added (``cell_conversion_value_usd_per_kwh``,
  V2-g), against targets shaped on the rules of origin of V2-h.

Conventions of the numbers below
--------------------------------
* Money is real USD; tonnes (t) for every material except separator, in 1000 m2.
* Capex per module = capacity x capex per unit of yearly capacity (market_data 3c, V2-c). Capex
  learning (``capex_change_per_year``): -4 %/yr for cell modules, -3 %/yr for cathode and pCAM
  plants, -2 %/yr for the more mature anode, separator and electrolyte plants (assumptions below
  the -5 to -8 % and -3 to -5 % planning range of V2-f: no published learning rate for plant
  capex exists, and Morocco's $65 M/GWh is already a 2024 cost).
* Fixed O&M = 3 % (cells) or 3.5 % (materials) of base-year capex a year (assumption: typical
  process-plant range 2-5 %; no public Moroccan figure).
* Variable cost of a local material plant stands for what is bought in but not modelled (metal
  sulfates, coke, resins, solvents), energy and labour; capital is charged separately through
  capex, and the modelled recipe inputs (pCAM, lithium salts, iron phosphate) through the material
  balance. For anode, separator and electrolyte it is a share of the China spot price (3b); for
  the cathodes it is the conversion cost only (V2-b: what is left in the CAM price after its
  precursor and lithium salt). At full utilisation a local unit then costs, against a landed
  Chinese import: NMC cathode ~$18,000 (COBCO pCAM) to ~$19,500 (imported pCAM) vs $21,315/t;
  LFP cathode ~$5,250 vs $5,018/t (the 2024 China LFP margin is thin, V2-b); anode $3,635 (BTR) vs $3,788/t; electrolyte $4,755 vs
  $5,425/t; separator $164 vs $126 per 1000 m2. Opening costs, the first-year ramp-up and part-used
  modules eat these thin margins, so the make-or-buy and timing decisions are not trivial, and a
  +-30 % price move (3b) flips several of them.
* Import duty 2.5 % on Chinese, Chilean and Korean goods: Morocco's band for industrial inputs
  (3e), applied as if the goods cleared customs outside a free zone (conservative; Gotion Kenitra
  is in the Atlantic Free Zone, where the duty would be 0 - the ``free_zone_no_duty`` scenario).
  EU origin: 0 (EU-Morocco Association Agreement, 3e).
* Export prices are world (China spot) prices; the scenarios that move Chinese prices move them
  too. Reference prices (which value local content) stay fixed in every scenario, so that a
  local-content target means the same share whatever the market does.
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
    "cell_conversion_value_usd_per_kwh": (
        20.0, "market_data V2-g: suggested default cell conversion value ~$20/kWh (range $15-30)",
        "the cell maker's own value added per kWh (manufacturing + depreciation: BNEF 2021 ~$24/kWh; "
        "LFP China 2024 derived ~$23, NCM811 ~$18). Counted as local for every kWh made in Morocco, as "
        "rules of origin count the ex-works value added (V2-h); the Moroccan cost premium (+$5-10/kWh) is "
        "not counted, so the share is not flattered by higher local costs"),
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
           "Gotion Kenitra phase 1 = 20 GWh (3f) at 50 kWh per vehicle: the offtake phase 1 is built for. "
           "In 2026 Kenitra makes 40 % of it (Q3 start); imported cells carry the rest"),
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
    # intermediates of the recipes: reference prices, no intensity rows (not direct cell materials)
    dict(material="pCAM_NMC", unit="t", reference_price_usd_per_unit=11_000.0,
         _src=("market_data V2-b: NCM811 pCAM 79,500-81,500 RMB/t (~$11/kg), 8 Nov 2024", "China spot, SMM; "
               "intermediate of cathode_NMC (recipes), so no intensity row")),
    dict(material="lithium_hydroxide", unit="t", reference_price_usd_per_unit=9_400.0,
         _src=("market_data V2-b: LiOH.H2O battery grade, coarse 67,650 / micro 73,260 RMB/t (~$9.4/kg), "
               "19 Nov 2024", "China spot, SMM; intermediate of cathode_NMC (recipes)")),
    dict(material="lithium_carbonate", unit="t", reference_price_usd_per_unit=10_400.0,
         _src=("market_data V2-b: Li2CO3 battery grade 75,100 RMB/t (~$10.4/kg), end-Dec 2024",
               "China spot, Mysteel; intermediate of cathode_LFP (recipes)")),
    dict(material="precursor_LFP", unit="t", reference_price_usd_per_unit=1_500.0,
         _src=("market_data V2-b: FePO4 battery grade 9,800-10,500 RMB/t (~$1.5/kg), 2024",
               "iron phosphate, China spot (Fastmarkets, SMM); intermediate of cathode_LFP (recipes)")),
]

# --------------------------------------------------------------------------- recipes (t of input per t of product)
#: product, input, amount_per_unit, source, note. Stoichiometry of V2-a plus a stated loss/excess.
_RECIPES: list[tuple[str, str, float, str, str]] = [
    ("cathode_NMC", "pCAM_NMC", 0.96,
     "market_data V2-a: pCAM per t NCM811, stoichiometric 0.949 t (92.36 / 97.28 g/mol)",
     "assumption: planning value 0.96 t, i.e. 1-2 % process loss"),
    ("cathode_NMC", "lithium_hydroxide", 0.445,
     "market_data V2-a: LiOH.H2O per t NCM811, stoichiometric 0.431 t (41.96 / 97.28 g/mol)",
     "assumption: Li/Me 1.03 (lithium excess for calcination losses), range 0.44-0.45 for 1.02-1.05"),
    ("cathode_LFP", "precursor_LFP", 0.97,
     "market_data V2-a: FePO4 (anhydrous) per t LFP, stoichiometric 0.956 t (150.82 / 157.76 g/mol)",
     "assumption: planning value 0.97 t (~1.5 % loss); on a dihydrate basis it would be 1.18 t"),
    ("cathode_LFP", "lithium_carbonate", 0.241,
     "market_data V2-a: Li2CO3 per t LFP, stoichiometric 0.234 t (1/2 x 73.89 / 157.76 g/mol)",
     "assumption: 3 % lithium excess (0.239-0.246 for 2-5 %)"),
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
_LEARN_CELLS = ("market_data V2-f: cell price -13 %/yr (1992-2016), cell-plant capex in China ~$67-93 M/GWh "
                "(2021) -> ~$30 M/GWh (2024); planning range -5 to -8 %/yr",
                "assumption: -4 %/yr, below the planning range because Kenitra's $65 M/GWh is already a 2024 "
                "cost and part of the Chinese fall is plant size (Mauler et al.); no published rate")
_LEARN_CAM = ("market_data V2-f: no published learning rate; planning assumption -3 to -5 %/yr for "
              "cathode/pCAM plants", "assumption: -3 %/yr, the low end")
_LEARN_MATURE = ("market_data V2-f: no published learning rate for plant capex",
                 "assumption: -2 %/yr for mature processes (graphite, separator film, electrolyte blending), "
                 "below the -3 to -5 % assumed for cathode plants")
_CELL_VAR_SRC = ("assumption",
                 "$15/kWh for unmodelled materials (foils, casings), labour and energy; with modelled "
                 "materials (~$18-34/kWh) and capital (~$9/kWh) the cell costs ~$42-58/kWh, against ~$49 "
                 "(LFP) and ~$62 (NMC) landed for an imported Chinese cell (market_data V2-e)")
_NMC_CONV = ("market_data V2-b: NCM811 conversion + margin left in CAM late 2024 ~40,800 RMB/t (~$5.7/kg)",
             "assumption: $3,000/t conversion cost (calcination under oxygen, washing, energy, labour); the "
             "pCAM and lithium hydroxide are charged through the recipe, capital through capex "
             "(~$1,100/t), the rest is the Chinese maker's margin")
_LFP_CONV = ("market_data V2-b: LFP conversion + margin left in CAM late 2024 ~5,500 RMB/t (~$0.8/kg)",
             "assumption: $400/t conversion cost (half the Chinese conversion + margin: carbon coating, "
             "calcination, milling, energy, labour); iron phosphate and lithium carbonate through the recipe")
_LFP_CAPEX = ("market_data V2-c: China LFP-only plant ~$1,400 per t/yr (2026), FePO4+LFP integrated "
              "~$3,500 (2024); V2-f: non-China plants 20-130 % dearer",
              "assumption: $4,000 per t/yr for an LFP line fed with bought-in iron phosphate")


def _fac(facility: str, product: str, site: str, notes: str, src: dict[str, tuple[str, str]],
         **values: Any) -> dict[str, Any]:
    rec = dict(facility=facility, product=product, site=site, **values, notes=notes)
    rec["_src"] = src
    return rec


_FACILITIES: list[dict[str, Any]] = [
    _fac(
        "Gotion Kenitra phase 1", "cells", "Kenitra (Atlantic Free Zone)",
        "Phase 1: 20 GWh for $1.3 bn, mass production targeted Q3 2026 (market_data 3f, 3c, V2-d); a "
        "committed build (committed_builds) with a part first year",
        {
            "module_size": ("market_data 3f: Gotion Kenitra phase 1 20 GWh", "one 20 GWh module"),
            "max_modules": ("market_data 3f: Gotion Kenitra phase 1", "the phase itself; growth is phase 2+"),
            "earliest_online_year": ("market_data V2-d: Gotion Kenitra mass production Q3 2026", ""),
            "lead_time_years": ("market_data 3c: June 2024 agreement -> mass production Q3 2026 (~2 yr)", ""),
            "lifetime_years": ("assumption", "20-year plant life"),
            "capex_usd_per_module": ("market_data 3c: Gotion Kenitra $1.3bn for 20 GWh", "~$65 M/GWh"),
            "fixed_om_usd_per_module_year": ("assumption", "3 % of capex a year"),
            "variable_cost_usd_per_unit": _CELL_VAR_SRC,
            "opening_cost_usd": ("assumption", "the committed phase carries the site: no separate opening cost"),
            "ramp_up_first_year": ("market_data V2-d: mass production Q3 2026; ramp-up curve not found",
                                   "assumption: 0.4 = about half a year of output (from July) at ~75-80 % "
                                   "of nameplate on average while the lines ramp"),
            "capex_change_per_year": ("assumption", "no learning: the committed phase is priced in base-year "
                                                    "money and comes online in the base year"),
        },
        module_size=20.0, max_modules=1, earliest_online_year=2026, lead_time_years=2, lifetime_years=20,
        capex_usd_per_module=1_300e6, fixed_om_usd_per_module_year=39e6, variable_cost_usd_per_unit=15e6,
        opening_cost_usd=0.0, ramp_up_first_year=0.4, capex_change_per_year=0.0,
    ),
    _fac(
        "Gotion Kenitra expansion", "cells", "Kenitra (Atlantic Free Zone)",
        "Phases 2-5: 20 -> 40 GWh (approved, undated) -> 100 GWh for $6.5 bn in all (market_data 3f, V2-d); "
        "candidate 10 GWh modules on the phase-1 site",
        {
            "module_size": ("assumption", "expansion in 10 GWh lines (plants are built in lines of ~10 GWh)"),
            "max_modules": ("market_data 3f: Gotion Kenitra up to 100 GWh", "(100 - 20) / 10 = 8 modules"),
            "earliest_online_year": ("market_data 3c: cell gigafactory lead time ~2 yr",
                                     "decision in 2026 -> online 2028"),
            "lead_time_years": ("market_data 3c: June 2024 agreement -> mass production Q3 2026 (~2 yr)", ""),
            "lifetime_years": ("assumption", "20-year plant life"),
            "capex_usd_per_module": ("market_data 3c: Gotion Kenitra $1.3bn / 20 GWh; $6.5bn / 100 GWh",
                                     "~$65 M/GWh x 10 GWh in base-year money"),
            "fixed_om_usd_per_module_year": ("assumption", "3 % of base-year capex a year"),
            "variable_cost_usd_per_unit": _CELL_VAR_SRC,
            "opening_cost_usd": ("assumption", "site exists (phase 1): no opening cost"),
            "ramp_up_first_year": ("assumption", "half of a new module's capacity in its first year"),
            "capex_change_per_year": _LEARN_CELLS,
        },
        module_size=10.0, max_modules=8, earliest_online_year=2028, lead_time_years=2, lifetime_years=20,
        capex_usd_per_module=650e6, fixed_om_usd_per_module_year=19.5e6, variable_cost_usd_per_unit=15e6,
        opening_cost_usd=0.0, ramp_up_first_year=0.5, capex_change_per_year=-0.04,
    ),
    _fac(
        "COBCO pCAM Jorf Lasfar", "pCAM_NMC", "Jorf Lasfar",
        "COBCO (Al Mada + CNGR) 120 kt/yr NMC pCAM complex: first 40 kt unit inaugurated 25 June 2025 "
        "(existing); two more 40 kt units undated (candidates); long-term pCAM supply deal with Umicore "
        "(market_data 3f, V2-d)",
        {
            "existing_capacity": ("market_data V2-d: COBCO first 40 kt/yr unit inaugurated 25 Jun 2025",
                                  "running before the horizon starts"),
            "existing_from_year": ("market_data V2-d: first pCAM lines commissioned 24 Jan 2025", ""),
            "existing_fixed_om_usd_per_year": ("assumption", "3.5 % of 40 kt x $10,000 per t/yr"),
            "module_size": ("market_data 3f: COBCO 120 kt/yr pCAM; V2-d: first unit 40 kt",
                            "the remaining 80 kt in two 40 kt units"),
            "max_modules": ("market_data 3f: COBCO 120 kt/yr pCAM", "(120 - 40) / 40 = 2"),
            "earliest_online_year": ("market_data V2-d: dates of the later units not found",
                                     "assumption: 2027 at the earliest (site, utilities and team in place)"),
            "lead_time_years": ("assumption", "2 years for a repeat unit on a running site"),
            "lifetime_years": ("assumption", "20-year asset life"),
            "capex_usd_per_module": ("market_data V2-c: CNGR Hamina high-Ni pCAM ~$11,000 per t/yr; COBCO all "
                                     "units ~$11,000 per t incl. refining and recycling",
                                     "assumption: $10,000 per t/yr x 40 kt (repeat unit, no refining)"),
            "fixed_om_usd_per_module_year": ("assumption", "3.5 % of capex a year"),
            "variable_cost_usd_per_unit": ("market_data V2-a: raw materials ~90 % of NMC CAM cost",
                                           "assumption: 90 % of the China pCAM price $11,000/t for the "
                                           "nickel, cobalt and manganese sulfates (not modelled), reagents "
                                           "and energy"),
            "opening_cost_usd": ("assumption", "running site: no opening cost"),
            "ramp_up_first_year": ("assumption", "half capacity in the first year"),
            "capex_change_per_year": _LEARN_CAM,
        },
        existing_capacity=40_000.0, existing_from_year=2026, existing_fixed_om_usd_per_year=14e6,
        module_size=40_000.0, max_modules=2, earliest_online_year=2027, lead_time_years=2,
        lifetime_years=20, capex_usd_per_module=400e6, fixed_om_usd_per_module_year=14e6,
        variable_cost_usd_per_unit=9_900.0, opening_cost_usd=0.0, ramp_up_first_year=0.5,
        capex_change_per_year=-0.03,
    ),
    _fac(
        "COBCO LFP cathode", "cathode_LFP", "Jorf Lasfar",
        "COBCO 60 kt/yr LFP line, 'deployed as soon as a regional LFP battery ecosystem emerges', no date "
        "found (market_data 3f, V2-d): a candidate; brownfield on the pCAM site",
        {
            "module_size": ("market_data 3f: COBCO 60 kt/yr LFP", "assumption: built in 3 lines of 20 kt"),
            "max_modules": ("market_data 3f: COBCO 60 kt/yr LFP", "3 x 20 kt = 60 kt"),
            "earliest_online_year": ("market_data V2-d: COBCO LFP line, no date found; 3c: CAM lead time ~2.5 yr",
                                     "assumption: decision 2026 -> online 2028"),
            "lead_time_years": ("market_data 3c: CAM plant ~2.5 yr", "rounded to 2 (site and utilities exist)"),
            "lifetime_years": ("assumption", "20-year asset life"),
            "capex_usd_per_module": _LFP_CAPEX,
            "fixed_om_usd_per_module_year": ("assumption", "3.5 % of capex a year"),
            "variable_cost_usd_per_unit": _LFP_CONV,
            "opening_cost_usd": ("assumption",
                                 "brownfield: COBCO site (238 ha) already built for pCAM (3f); ~12 % of a module "
                                 "for LFP-specific utilities"),
            "ramp_up_first_year": ("assumption", "half capacity in the first year"),
            "capex_change_per_year": _LEARN_CAM,
        },
        module_size=20_000.0, max_modules=3, earliest_online_year=2028, lead_time_years=2,
        lifetime_years=20, capex_usd_per_module=80e6, fixed_om_usd_per_module_year=2.8e6,
        variable_cost_usd_per_unit=400.0, opening_cost_usd=10e6, ramp_up_first_year=0.5,
        capex_change_per_year=-0.03,
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
            "capex_usd_per_module": _LFP_CAPEX,
            "fixed_om_usd_per_module_year": ("assumption", "3.5 % of capex a year"),
            "variable_cost_usd_per_unit": _LFP_CONV,
            "opening_cost_usd": ("assumption", "greenfield site, land and utilities ~20 % of a module"),
            "ramp_up_first_year": ("assumption", "half capacity in the first year"),
            "capex_change_per_year": _LEARN_CAM,
        },
        module_size=25_000.0, max_modules=2, earliest_online_year=2029, lead_time_years=2,
        lifetime_years=20, capex_usd_per_module=100e6, fixed_om_usd_per_module_year=3.5e6,
        variable_cost_usd_per_unit=400.0, opening_cost_usd=20e6, ramp_up_first_year=0.5,
        capex_change_per_year=-0.03,
    ),
    _fac(
        "BTR ternary cathode Tanger", "cathode_NMC", "Tanger Tech",
        "BTR 50 kt/yr ternary CAM, 3 bn MAD ($300 M, ministry) or $497 M (metalswire); construction from "
        "Q2 2024, first 25 kt Sept 2026 (committed), second 25 kt undated (market_data 3c, 3f, V2-d)",
        {
            "module_size": ("market_data 3f: BTR ternary cathode 50 kt/yr, first 25 kt Sept 2026", "25 kt lines"),
            "max_modules": ("market_data 3f: BTR ternary cathode 50 kt/yr", "2 x 25 kt = 50 kt"),
            "earliest_online_year": ("market_data V2-d: BTR first 25 kt in Sept 2026",
                                     "the committed first line; the second line (date not found) may "
                                     "follow from the same year"),
            "lead_time_years": ("market_data V2-d: construction from Q2 2024 -> Sept 2026", "~2 years"),
            "lifetime_years": ("assumption", "20-year asset life"),
            "capex_usd_per_module": ("market_data 3c: BTR Tangier ternary CAM 50 kt for $300 M or $497 M",
                                     "midpoint ~$400 M / 50 kt = $8,000 per t/yr x 25 kt"),
            "fixed_om_usd_per_module_year": ("assumption", "3.5 % of capex a year"),
            "variable_cost_usd_per_unit": _NMC_CONV,
            "opening_cost_usd": ("assumption", "Tanger Tech plot serviced; ~15 % of a module"),
            "ramp_up_first_year": ("market_data V2-d: first 25 kt in Sept 2026",
                                   "assumption: 0.25 = four months at a ramping rate; the same ramp is "
                                   "assumed for the second line"),
            "capex_change_per_year": _LEARN_CAM,
        },
        module_size=25_000.0, max_modules=2, earliest_online_year=2026, lead_time_years=2,
        lifetime_years=20, capex_usd_per_module=200e6, fixed_om_usd_per_module_year=7e6,
        variable_cost_usd_per_unit=3_000.0, opening_cost_usd=30e6, ramp_up_first_year=0.25,
        capex_change_per_year=-0.03,
    ),
    _fac(
        "BTR anode Tanger", "anode", "Tanger Tech",
        "BTR 60 kt/yr graphite anode, $366 M (2.6 bn yuan), ~2-yr build, ~2026 (market_data 3c, 3f): the first "
        "20 kt line committed for late 2026, the other two candidates",
        {
            "module_size": ("market_data 3f: BTR anode 60 kt/yr", "assumption: 3 lines of 20 kt"),
            "max_modules": ("market_data 3f: BTR anode 60 kt/yr", "3 x 20 kt = 60 kt"),
            "earliest_online_year": ("market_data 3f: BTR anode ~2-yr build (Aug 2024 announcement), ~2026",
                                     "the committed first line"),
            "lead_time_years": ("market_data 3c: anode plant ~2 yr", ""),
            "lifetime_years": ("assumption", "20-year asset life"),
            "capex_usd_per_module": ("market_data 3c: BTR Tangier anode 60 kt for $366 M (~$6,100 per t/yr)",
                                     "$6,100 per t/yr x 20 kt"),
            "fixed_om_usd_per_module_year": ("assumption", "3.5 % of capex a year"),
            "variable_cost_usd_per_unit": ("assumption",
                                           _VAR_NOTE.format(share=0.80, price="$3,500/t")
                                           + "; coke is imported and graphitisation is power-hungry"),
            "opening_cost_usd": ("assumption", "Tanger Tech plot serviced; ~16 % of a module"),
            "ramp_up_first_year": ("market_data 3f: BTR anode ~2026; ramp-up not found",
                                   "assumption: 0.25, a start in the last third of 2026 as for BTR's cathode "
                                   "line; the same ramp for later lines"),
            "capex_change_per_year": _LEARN_MATURE,
        },
        module_size=20_000.0, max_modules=3, earliest_online_year=2026, lead_time_years=2,
        lifetime_years=20, capex_usd_per_module=122e6, fixed_om_usd_per_module_year=4.27e6,
        variable_cost_usd_per_unit=2_800.0, opening_cost_usd=20e6, ramp_up_first_year=0.25,
        capex_change_per_year=-0.02,
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
            "capex_change_per_year": _LEARN_MATURE,
        },
        module_size=30_000.0, max_modules=2, earliest_online_year=2028, lead_time_years=2,
        lifetime_years=20, capex_usd_per_module=230e6, fixed_om_usd_per_module_year=8.05e6,
        variable_cost_usd_per_unit=2_800.0, opening_cost_usd=20e6, ramp_up_first_year=0.5,
        capex_change_per_year=-0.02,
    ),
    _fac(
        "Separator plant (candidate)", "separator", "Morocco (candidate site)",
        "No separator plant announced in Morocco (market_data 3f); candidate modelled on Semcorp "
        "Debrecen: EUR 183 M (~$200 M) for ~400 M m2/yr (3c)",
        {
            "module_size": ("market_data 3c: Semcorp Debrecen ~400 M m2/yr",
                            "assumption: 4 lines of 100 M m2 = 100,000 (1000 m2) each"),
            "max_modules": ("market_data 3a: separator ~1.3-1.5 bn m2 at 100 GWh",
                            "12 x 100 M m2 = 1.2 bn m2, ~all of the 2040 need (~1.25 bn m2 for the 70/30 mix)"),
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
            "capex_change_per_year": _LEARN_MATURE,
        },
        module_size=100_000.0, max_modules=12, earliest_online_year=2029, lead_time_years=2,
        lifetime_years=20, capex_usd_per_module=50e6, fixed_om_usd_per_module_year=1.75e6,
        variable_cost_usd_per_unit=96.0, opening_cost_usd=40e6, ramp_up_first_year=0.5,
        capex_change_per_year=-0.02,
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
            "capex_change_per_year": _LEARN_MATURE,
        },
        module_size=30_000.0, max_modules=5, earliest_online_year=2029, lead_time_years=2,
        lifetime_years=20, capex_usd_per_module=56e6, fixed_om_usd_per_module_year=1.96e6,
        variable_cost_usd_per_unit=4_500.0, opening_cost_usd=20e6, ramp_up_first_year=0.5,
        capex_change_per_year=-0.02,
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
         tariff_rate=0.0, max_per_year=30_000.0, first_year=None),    # recipe inputs (intermediates): bought by the local cathode plants
    _imp("pCAM_NMC", "China", "China spot NCM811 pCAM Nov 2024 (V2-b), freight 3d, 2.5 % duty (3e)",
         {"price_usd_per_unit": ("market_data V2-b: NCM811 pCAM ~$11/kg, 8 Nov 2024", "SMM"),
          "price_escalation_per_year": _ESC_SRC, "freight_usd_per_unit": _CN_FREIGHT_SRC,
          "tariff_rate": _CN_TARIFF_SRC},
         price_usd_per_unit=11_000.0, price_escalation_per_year=0.0, freight_usd_per_unit=200.0,
         tariff_rate=0.025, max_per_year=None, first_year=None),
    _imp("lithium_hydroxide", "China", "China spot LiOH.H2O Nov 2024 (V2-b), freight 3d, 2.5 % duty (3e)",
         {"price_usd_per_unit": ("market_data V2-b: LiOH.H2O battery grade ~$9.4/kg, 19 Nov 2024", "SMM"),
          "price_escalation_per_year": _ESC_SRC, "freight_usd_per_unit": _CN_FREIGHT_SRC,
          "tariff_rate": _CN_TARIFF_SRC},
         price_usd_per_unit=9_400.0, price_escalation_per_year=0.0, freight_usd_per_unit=200.0,
         tariff_rate=0.025, max_per_year=None, first_year=None),
    _imp("lithium_carbonate", "China", "China spot Li2CO3 end-2024 (V2-b), freight 3d, 2.5 % duty (3e)",
         {"price_usd_per_unit": ("market_data V2-b: Li2CO3 battery grade ~$10.4/kg, end-Dec 2024", "Mysteel"),
          "price_escalation_per_year": _ESC_SRC, "freight_usd_per_unit": _CN_FREIGHT_SRC,
          "tariff_rate": _CN_TARIFF_SRC},
         price_usd_per_unit=10_400.0, price_escalation_per_year=0.0, freight_usd_per_unit=200.0,
         tariff_rate=0.025, max_per_year=None, first_year=None),
    _imp("lithium_carbonate", "Chile", "S&P 2024 average Li2CO3 (V2-b); MFN duty (3e); longer haul",
         {"price_usd_per_unit": ("market_data V2-b: Li2CO3 S&P 2024 average $12,374/t", "rounded to $12,400/t"),
          "price_escalation_per_year": _ESC_SRC,
          "freight_usd_per_unit": ("market_data 3d: ~$0.15-0.30/kg", "assumption: $250/t, South America -> "
                                                                     "Morocco"),
          "tariff_rate": ("market_data 3e: 2.5 % band for industrial inputs; no Chile-Morocco FTA listed",
                          "assumption: MFN industrial-input band"),
          "max_per_year": _WEST_CAP_SRC},
         price_usd_per_unit=12_400.0, price_escalation_per_year=0.0, freight_usd_per_unit=250.0,
         tariff_rate=0.025, max_per_year=20_000.0, first_year=None),
    _imp("precursor_LFP", "China", "China spot FePO4 2024 (V2-b), freight 3d, 2.5 % duty (3e)",
         {"price_usd_per_unit": ("market_data V2-b: FePO4 battery grade ~$1.5/kg, 2024", "Fastmarkets, SMM"),
          "price_escalation_per_year": _ESC_SRC, "freight_usd_per_unit": _CN_FREIGHT_SRC,
          "tariff_rate": _CN_TARIFF_SRC},
         price_usd_per_unit=1_500.0, price_escalation_per_year=0.0, freight_usd_per_unit=200.0,
         tariff_rate=0.025, max_per_year=None, first_year=None),
]

# --------------------------------------------------------------------------- cell imports (USD per kWh)
_CELL_ESC_SRC = ("market_data V2-f: Li-ion cell price -13 %/yr 1992-2016; V2-g: materials ~78-80 % of cell cost",
                 "assumption: flat real, like every material route: ~80 % of a cell is materials, whose prices "
                 "are held flat (their +-30 % swings are scenarios, not a trend); the conversion learning is "
                 "mirrored on the local side by capex learning only, so a falling import price would be "
                 "one-sided (the cheap_chinese_cells scenario and the sweep test it)")
_CELL_TARIFF_SRC = ("market_data V2-e: Morocco duty on 8507.60 not found; 0 % inside free zones (3e)",
                    "assumption: the 2.5 % industrial-input band, as for materials (free_zone_no_duty scenario: 0)")
_CELL_IMPORTS: list[dict[str, Any]] = [
    dict(chemistry="LFP", origin="China", price_usd_per_kwh=47.0, price_escalation_per_year=0.0,
         freight_usd_per_kwh=1.2, tariff_rate=0.025, max_gwh_per_year=None, first_year=None,
         notes="China square LFP EV cells, Nov 2025 (V2-e)",
         _src={"price_usd_per_kwh": ("market_data V2-e: China EV cell, square LFP 0.34 RMB/Wh (Nov 2025)",
                                     "~$47/kWh, the latest quote (0.32-0.34 in Sep-Nov 2025)"),
               "price_escalation_per_year": _CELL_ESC_SRC,
               "freight_usd_per_kwh": ("market_data V2-e: freight (derived) LFP ~$1.2/kWh at $3,533/FEU",
                                       "18 t per box at ~160 Wh/kg; no dangerous-goods surcharge"),
               "tariff_rate": _CELL_TARIFF_SRC}),
    dict(chemistry="LFP", origin="EU", price_usd_per_kwh=73.0, price_escalation_per_year=0.0,
         freight_usd_per_kwh=0.6, tariff_rate=0.0, max_gwh_per_year=5.0, first_year=None,
         notes="European-made LFP cells (V2-e, 3b)",
         _src={"price_usd_per_kwh": ("market_data 3b: BNEF 2025 Europe pack prices +56 % over the average",
                                     "assumption: $47/kWh x ~1.55 = $73/kWh"),
               "price_escalation_per_year": _CELL_ESC_SRC,
               "freight_usd_per_kwh": ("assumption", "short-sea Europe -> Morocco, ~half the China freight"),
               "tariff_rate": _EU_TARIFF_SRC,
               "max_gwh_per_year": ("assumption", "allocation a European cell maker could spare for Morocco")}),
    dict(chemistry="NMC", origin="China", price_usd_per_kwh=60.0, price_escalation_per_year=0.0,
         freight_usd_per_kwh=0.8, tariff_rate=0.025, max_gwh_per_year=None, first_year=None,
         notes="China square NCM EV cells, 2025 (V2-e)",
         _src={"price_usd_per_kwh": ("market_data V2-e: China EV cell, square NCM 0.39-0.48 RMB/Wh (Sep-Nov "
                                     "2025) = ~$54-67/kWh; NCM811 prismatic China cost $60 (Aug 2024)",
                                     "mid-range $60/kWh"),
               "price_escalation_per_year": _CELL_ESC_SRC,
               "freight_usd_per_kwh": ("market_data V2-e: freight (derived) NCM ~$0.8/kWh at $3,533/FEU",
                                       "18 t per box at ~250 Wh/kg"),
               "tariff_rate": _CELL_TARIFF_SRC}),
    dict(chemistry="NMC", origin="Korea", price_usd_per_kwh=70.0, price_escalation_per_year=0.0,
         freight_usd_per_kwh=1.0, tariff_rate=0.025, max_gwh_per_year=10.0, first_year=None,
         notes="Korean NCM811 cells (V2-e)",
         _src={"price_usd_per_kwh": ("market_data V2-e: NCM811 cylindrical Korea production cost $67/kWh "
                                     "(Aug 2024)", "assumption: + ~5 % margin = $70/kWh"),
               "price_escalation_per_year": _CELL_ESC_SRC,
               "freight_usd_per_kwh": ("market_data V2-e: freight (derived) NCM ~$0.8/kWh",
                                       "assumption: $1.0/kWh, longer route than from China"),
               "tariff_rate": _KR_TARIFF_SRC,
               "max_gwh_per_year": ("assumption", "allocation a Korean cell maker could spare for Morocco")}),
]

# --------------------------------------------------------------------------- committed builds
#: facility, year, modules, source, note
_COMMITTED: list[tuple[str, int, int, str, str]] = [
    ("Gotion Kenitra phase 1", 2026, 1,
     "market_data 3f, V2-d: Gotion Kenitra phase 1 20 GWh, $1.3 bn, mass production targeted Q3 2026",
     "construction under way (June 2024 agreement); first-year output 40 % (ramp_up_first_year)"),
    ("BTR ternary cathode Tanger", 2026, 1,
     "market_data V2-d: BTR Tanger cathode, construction from Q2 2024, first 25 kt in Sept 2026",
     "under construction for 2026: committed; the second 25 kt (date not found) is a candidate"),
    ("BTR anode Tanger", 2026, 1,
     "market_data 3f: BTR anode 60 kt/yr, $366 M, ~2-yr build, ~2026 (Aug 2024 announcement)",
     "assumption: the first 20 kt line is what is under way for 2026; the other 40 kt are candidates"),
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
    dict(material="pCAM_NMC", price_usd_per_unit=11_000.0, max_per_year=80_000.0,
         notes="COBCO's long-term pCAM supply deal with Umicore (3f); EU-Morocco FTA (3e)",
         _src={"price_usd_per_unit": ("market_data V2-b: NCM811 pCAM ~$11/kg, Nov 2024", _EXPORT_PRICE_NOTE),
               "max_per_year": ("market_data 3f: COBCO 120 kt pCAM, long-term supply deal with Umicore "
                                "(volume not stated)",
                                "assumption: up to 80 kt/yr, what the complex makes beyond BTR's ~48 kt need")}),
]

# --------------------------------------------------------------------------- local content
#: minimum local value share on the Version-2 basis (cell conversion value + direct materials, both at
#: reference prices); years not listed (2026-2027) have no target. The levels translate the rules of
#: origin of market_data V2-h (a maximum share of non-originating value in the ex-works price) to the
#: model's basis. Per kWh of the 70/30 LFP/NMC mix: ex-works price ~$55 (LFP ~$53, NCM811 ~$60, V2-h,
#: V2-e); ~$9/kWh of it is foils, casings and other parts that the model does not trace (inside the
#: cell plant's variable cost, V2-g) and that are taken as imported; the model's basis is ~$42.7/kWh
#: ($20 conversion value + ~$22.7 of the five direct materials at reference prices). So
#:   PEM list rule, ex Chapter 85: non-originating <= 40 % -> <= $22.0 - $9 = $13.0 on the basis
#:   -> local share >= 1 - 13.0 / 42.7 = 0.70 (from 2030; Gotion exports mainly to Europe, 3f);
#:   EU-UK benchmark for EV cells, MaxNOM 35 % -> <= $19.3 - $9 = $10.3 -> local >= 0.76, taken as
#:   0.75 from 2035 as origin rules tighten.
#: 2028-2029 ramp towards the 2030 level. In the default plan the targets hold with some room
#: (local cells, BTR's cathode and anode lines and Tinci's electrolyte give ~0.7-0.8); a materials-only
#: basis (``materials_only_local_content`` scenario) or cheaper imports make them bite.
_LOCAL_CONTENT: dict[int, float] = {
    2028: 0.50, 2029: 0.60, **{y: 0.70 for y in range(2030, 2035)}, **{y: 0.75 for y in range(2035, END + 1)},
}
_LC_SRC = {
    2028: ("assumption", "first year with a target: the committed material lines have had a full year; "
                         "50 %, ramping to the PEM-derived level by 2030"),
    2029: ("assumption", "halfway between the 2028 start (50 %) and the 2030 level (70 %)"),
    2030: ("market_data V2-h: EU-Morocco PEM list rule, ex Chapter 85: non-originating materials <= 40 % of "
           "the ex-works price",
           "40 % of ~$55/kWh ex-works = $22, less ~$9/kWh of untraced imported parts (V2-g) = $13 of the "
           "model's ~$42.7/kWh basis -> 70 % local so that cells exported to the EU qualify"),
    2035: ("market_data V2-h: EU-UK TCA benchmark for EV cells from 2027: MaxNOM 35 %",
           "assumption: the same arithmetic at 35 % gives ~76 %: 75 % from 2035 as origin rules tighten"),
}
_LC_DEFAULT_SRC = ("assumption", "held at the previous milestone")

# --------------------------------------------------------------------------- assembly


def _key(*parts: Any) -> str:
    return ",".join(str(p) for p in parts)


def base_case_tables() -> dict[str, Any]:
    """The default case as tables for :func:`model.xlsx_util.write_input_workbook`.

    Returns a new dict every call: ``settings`` ({key: value}); ``demand``, ``chemistry_mix``,
    ``materials``, ``intensity``, ``facilities``, ``imports``, ``exports``, ``local_content``
    and the Version-2 sheets ``recipes``, ``cell_imports``, ``committed_builds`` (lists of records;
    facilities, imports, exports and cell_imports carry an extra ``notes`` column); ``scenarios`` and
    ``sensitivity``; and ``sources`` (one record per figure: ``sheet``, ``key``, ``column``, ``value``,
    ``source``, ``note``; scenario rows are explained there too).
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

    recipes = []
    for prod, inp, amount, s, n in _RECIPES:
        recipes.append(dict(product=prod, input=inp, amount_per_unit=amount))
        src("recipes", _key(prod, inp), "amount_per_unit", amount, s, n)

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
    cell_imports = records("cell_imports", _CELL_IMPORTS, ("chemistry", "origin"))

    committed = []
    for fac, year, modules, s, n in _COMMITTED:
        committed.append(dict(facility=fac, year=year, modules=modules))
        src("committed_builds", _key(fac, year), "modules", modules, s, n)

    local_content = []
    for y, s in _LOCAL_CONTENT.items():
        local_content.append(dict(year=y, min_local_value_share=s))
        src("local_content", str(y), "min_local_value_share", s, *_LC_SRC.get(y, _LC_DEFAULT_SRC))

    for s, a, o, v, why in _SCENARIO_ROWS:
        if why.startswith("market_data"):
            src("scenarios", _key(s, a), "value", v, why, f"scenario {s}")
        else:
            src("scenarios", _key(s, a), "value", v, "assumption", f"scenario {s}: {why}")

    for a, _o, lo, hi, source, note in _SENSITIVITY_ROWS:
        src("sensitivity", a, "low", lo, source, note)
        src("sensitivity", a, "high", hi, source, note)

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
        "recipes": recipes,
        "cell_imports": cell_imports,
        "committed_builds": committed,
        "scenarios": [dict(r) for r in SCENARIOS],
        "sensitivity": [dict(r) for r in SENSITIVITY],
        "sources": sources,
    })


#: What-ifs a planner asks first, runnable with ``--scenario NAME`` (or ``--scenario all``).
#: Each comes from a caution of market_data.md: Chinese prices are +-30 %, the Red Sea doubled
#: freight, Gotion sits in the Kenitra free zone (no duty), capex estimates are wide. A scenario that
#: moves Chinese (world) prices moves the imported cells (by their material share) and the export
#: prices with them: Moroccan exports are priced at parity with China spot (see the exports sheet),
#: so cheaper Chinese cathode means cheaper Moroccan cathode abroad too. Reference prices are not moved: they are the fixed
#: yardstick of local content.
_SCENARIO_ROWS: tuple[tuple[str, str, str, Any, str], ...] = (
    ("china_prices_plus30", "imports[*,China].price_usd_per_unit", "*=", 1.3,
     "market_data 3b / Gaps: treat Chinese spot prices as +-30 %"),
    ("china_prices_plus30", "cell_imports[*,China].price_usd_per_kwh", "*=", 1.24,
     "market_data V2-g: materials ~78-80 % of cell cost: the material part of a Chinese cell moves "
     "+30 %, its conversion part does not: 1 + 0.8 x 0.30 = 1.24"),
    ("china_prices_plus30", "exports[*].price_usd_per_unit", "*=", 1.3,
     "export prices are world (China spot) prices: they move with them"),
    ("china_prices_minus30", "imports[*,China].price_usd_per_unit", "*=", 0.7,
     "market_data 3b / Gaps: treat Chinese spot prices as +-30 %"),
    ("china_prices_minus30", "cell_imports[*,China].price_usd_per_kwh", "*=", 0.76,
     "market_data V2-g: materials ~78-80 % of cell cost: the material part of a Chinese cell moves "
     "-30 %, its conversion part does not: 1 - 0.8 x 0.30 = 0.76"),
    ("china_prices_minus30", "exports[*].price_usd_per_unit", "*=", 0.7,
     "export prices are world (China spot) prices: they move with them"),
    ("red_sea_freight", "imports[*,China].freight_usd_per_unit", "*=", 2,
     "market_data 3d: Red Sea peak doubled Asia -> West Mediterranean box rates"),
    ("red_sea_freight", "cell_imports[*,China].freight_usd_per_kwh", "*=", 2,
     "market_data V2-e: LFP cell freight $1.2 -> $2.1/kWh at the Red Sea peak (~x2)"),
    ("free_zone_no_duty", "imports[*].tariff_rate", "=", 0,
     "market_data 3e: free zones are outside customs legislation (Gotion is in the Kenitra Atlantic Free Zone)"),
    ("free_zone_no_duty", "cell_imports[*].tariff_rate", "=", 0,
     "market_data V2-e: 0 % on cells inside free zones"),
    ("no_local_content_target", "local_content[*].min_local_value_share", "=", 0,
     "what the targets cost: the plan without them"),
    ("capex_plus30", "facilities[*].capex_usd_per_module", "*=", 1.3,
     "market_data 3c: capex estimates differ by ~1.5x for the same project (BTR $300 M vs $497 M)"),
    ("cheap_chinese_cells", "cell_imports[*,China].price_usd_per_kwh", "*=", 0.8,
     "market_data V2-e: the China LFP cell price fell 0.38 -> 0.32 RMB/Wh (-16 %) from Nov 2024 to Sep 2025; "
     "a further -20 % cell price war against Kenitra's expansion"),
    ("no_capex_learning", "facilities[*].capex_change_per_year", "=", 0,
     "market_data V2-f: no published learning rate for plant capex; the plan with flat capex"),
    ("materials_only_local_content", "settings.cell_conversion_value_usd_per_kwh", "=", 0,
     "the Version-1 basis: local content counts materials only (cell maker's value added not counted)"),
)
SCENARIOS = tuple(dict(scenario=s, address=a, operation=o, value=v) for s, a, o, v, _ in _SCENARIO_ROWS)

#: A one-at-a-time sweep over the most uncertain inputs (``battery-plan sweep inputs/base_case.xlsx``):
#: address, operation, low, high, source, note (the reason for the range, in the sources sheet).
_SENSITIVITY_ROWS: tuple[tuple[str, str, float, float, str, str], ...] = (
    ("imports[*,China].price_usd_per_unit", "*=", 0.7, 1.3,
     "market_data 3b / Gaps: treat Chinese spot prices as +-30 %",
     "what Morocco pays for Chinese inputs only, export prices held: the make-or-buy question. The "
     "china_prices_* scenarios move world prices as a whole (imports, cells and exports together)"),
    ("cell_imports[*,China].price_usd_per_kwh", "*=", 0.7, 1.3,
     "market_data V2-e: China LFP cell 0.38 (Nov 2024) -> 0.32-0.34 RMB/Wh (2025), -11 to -16 % in a year",
     "+-30 % as for the other Chinese prices: the price at which expanding Kenitra stops paying"),
    ("facilities[*].capex_usd_per_module", "*=", 0.7, 1.3,
     "market_data 3c: capex estimates differ by ~1.5x for the same project (BTR $300 M vs $497 M)", ""),
    ("imports[*].tariff_rate", "=", 0.0, 0.1,
     "market_data 3e: 0 % in free zones; the 2025 Finance Act raised one 2.5 % input line to 10 %", ""),
    ("settings.discount_rate", "=", 0.05, 0.11, "assumption", "real rate 8 % +- 3 points"),
    ("demand[*].vehicles", "*=", 0.8, 1.2, "assumption",
     "+-20 % on the offtake path (no public Moroccan demand forecast in market_data)"),
)
SENSITIVITY = tuple(dict(address=a, operation=o, low=lo, high=hi, steps=3, design="oat")
                    for a, o, lo, hi, _s, _n in _SENSITIVITY_ROWS)


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
