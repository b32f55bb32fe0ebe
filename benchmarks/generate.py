"""Synthetic battery-chain cases of growing size, in the input-workbook schema, deterministic by seed.

The cases imitate the Moroccan chain of ``model/basecase.py`` (cells in GWh, materials in t, the
separator in 1000 m2; capex, O&M and prices of the same order) and scale along four axes:

* ``sites``: candidate facilities per product. Several are exact copies of each other (same
  parameters, another name and site), some are near copies (capex or opening cost 1-3 % apart), a
  few differ more (module size, lifetime, earliest online year). Exact copies are what the
  symmetry breaking of :mod:`model.formulation.strengthen` acts on.
* ``years``: horizon length from 2026 (2026-2055 at 30 years). Demand grows from 20 GWh to about
  100 GWh in 2040 and keeps growing slowly after; lifetimes of 12-20 years force replacements
  within long horizons.
* ``origins``: import routes per material (China first and cheapest, then dearer, capped routes,
  some opening only later).
* ``chemistries``: LFP, NMC, then LMFP and NCA, each with its own cathode material; anode,
  separator and electrolyte are shared. Products = cells + one cathode per chemistry + 3.

``generate_tables(spec, seed)`` returns the tables for :func:`model.xlsx_util.write_input_workbook`;
``write_case(path, spec, seed)`` writes the workbook. ``python -m benchmarks.generate OUT_DIR``
writes one workbook per named size.
"""
from __future__ import annotations

import random
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

START_YEAR = 2026


@dataclass(frozen=True)
class CaseSpec:
    name: str
    sites: int  # candidate facilities per product
    years: int  # horizon length
    origins: int  # import routes per material
    chemistries: int  # 1..4
    time_limit_s: float = 600.0
    mip_rel_gap: float = 1e-4
    #: lifetimes (years) drawn per candidate instead of the templates' 12-25; short lifetimes force
    #: plants to retire and be rebuilt inside the horizon (the hard cases of issue 13)
    lifetimes: tuple[int, ...] | None = None
    #: Version 2 features (formulation.md "Version 2"): an LFP precursor made by candidates or
    #: imported and lithium carbonate imported, both as recipe inputs of the cathodes; cell imports
    #: per chemistry (an uncapped and a capped route); a committed first cell module; vintage capex
    v2: bool = False

    @property
    def products(self) -> int:
        return 1 + self.chemistries + 3


#: Named sizes, smallest first. "large" is the case of the performance issue: 6 candidate sites
#: for each of 6 products, 2026-2055, 6 origins.
SIZES: dict[str, CaseSpec] = {
    "tiny": CaseSpec("tiny", sites=2, years=5, origins=2, chemistries=2),
    "small": CaseSpec("small", sites=3, years=10, origins=3, chemistries=2),
    "medium": CaseSpec("medium", sites=4, years=20, origins=4, chemistries=2),
    "large": CaseSpec("large", sites=6, years=30, origins=6, chemistries=2),
}
#: Extra sizes, not run by default (``--sizes xlarge``).
EXTRA_SIZES: dict[str, CaseSpec] = {
    "xlarge": CaseSpec("xlarge", sites=8, years=30, origins=6, chemistries=3),
    # retire-and-rebuild cases: lifetimes of 4-8 years, so every plant is rebuilt within the horizon
    "small_rebuild": CaseSpec("small_rebuild", sites=2, years=12, origins=3, chemistries=2, lifetimes=(4, 5, 6, 8)),
    "medium_rebuild": CaseSpec("medium_rebuild", sites=3, years=15, origins=3, chemistries=2, lifetimes=(4, 5, 6, 8)),
    # Version 2 features on top of the small and medium sizes (issue 13 goal 4)
    "small_v2": CaseSpec("small_v2", sites=3, years=10, origins=3, chemistries=2, v2=True),
    "medium_v2": CaseSpec("medium_v2", sites=4, years=20, origins=4, chemistries=2, v2=True),
}


def spec_by_name(name: str) -> CaseSpec:
    if name in SIZES:
        return SIZES[name]
    if name in EXTRA_SIZES:
        return EXTRA_SIZES[name]
    raise KeyError(f"unknown size {name!r}; choose from {', '.join([*SIZES, *EXTRA_SIZES])}")


# --------------------------------------------------------------------------- chemistry and materials
#: chemistry, cathode material, reference price USD/t, t/GWh, share weight in 2026 and in 2055
_CHEMS = [
    ("LFP", "cathode_LFP", 4_700.0, 2_000.0, 0.80, 0.55),
    ("NMC", "cathode_NMC", 20_600.0, 1_350.0, 0.20, 0.25),
    ("LMFP", "cathode_LMFP", 6_000.0, 1_800.0, 0.00, 0.15),
    ("NCA", "cathode_NCA", 22_000.0, 1_300.0, 0.00, 0.05),
]
#: shared materials: name, unit, reference price, amount per GWh for LFP-like / nickel-based chemistries
_SHARED = [
    ("anode", "t", 3_500.0, 1_050.0, 950.0),
    ("separator", "1000 m2", 120.0, 14_000.0, 9_000.0),
    ("electrolyte", "t", 5_000.0, 600.0, 400.0),
]

# --------------------------------------------------------------------------- facility templates
#: product -> module size, capex per module, fixed O&M per module-year, variable cost per unit,
#: max modules, opening cost, lifetime, earliest online offset (years after start)
_TEMPLATES: dict[str, dict[str, float]] = {
    "cells": dict(module_size=10.0, capex=650e6, fom=19.5e6, var=15e6, max_modules=6, opening=120e6,
                  lifetime=20, earliest=2),
    "cathode_LFP": dict(module_size=20_000.0, capex=160e6, fom=5.6e6, var=3_760.0, max_modules=3, opening=20e6,
                        lifetime=20, earliest=2),
    "cathode_NMC": dict(module_size=25_000.0, capex=200e6, fom=7e6, var=19_776.0, max_modules=2, opening=30e6,
                        lifetime=20, earliest=1),
    "cathode_LMFP": dict(module_size=20_000.0, capex=170e6, fom=6e6, var=4_800.0, max_modules=3, opening=25e6,
                         lifetime=20, earliest=3),
    "cathode_NCA": dict(module_size=25_000.0, capex=210e6, fom=7.4e6, var=21_100.0, max_modules=2, opening=30e6,
                        lifetime=20, earliest=3),
    "anode": dict(module_size=20_000.0, capex=122e6, fom=4.27e6, var=2_800.0, max_modules=3, opening=20e6,
                  lifetime=20, earliest=1),
    "separator": dict(module_size=100_000.0, capex=50e6, fom=1.75e6, var=96.0, max_modules=8, opening=40e6,
                      lifetime=15, earliest=3),
    "electrolyte": dict(module_size=30_000.0, capex=56e6, fom=1.96e6, var=4_500.0, max_modules=5, opening=20e6,
                        lifetime=20, earliest=3),
    # Version 2 generated cases only: the LFP precursor (FePO4), an input of cathode_LFP
    "precursor_LFP": dict(module_size=20_000.0, capex=90e6, fom=3.2e6, var=2_300.0, max_modules=3, opening=15e6,
                          lifetime=20, earliest=2),
}
#: Version 2: recipe inputs (material, unit, reference price USD/unit) and recipe rows (product, input, amount)
_V2_MATERIALS = [("precursor_LFP", "t", 3_000.0), ("lithium_carbonate", "t", 12_000.0)]
_V2_RECIPES = [("cathode_LFP", "precursor_LFP", 0.97), ("cathode_LFP", "lithium_carbonate", 0.241),
               ("cathode_NMC", "lithium_carbonate", 0.445)]
#: Version 2: cell imports per chemistry: (price USD/kWh from China, from the EU)
_V2_CELL_PRICES = {"LFP": (47.0, 73.0), "NMC": (60.0, 80.0), "LMFP": (52.0, 76.0), "NCA": (65.0, 85.0)}

_SITES = ["Kenitra", "Tanger Med", "Jorf Lasfar", "Tanger Tech", "Casablanca", "Mohammedia", "Safi", "Nador",
          "Laayoune", "Dakhla", "Agadir", "Oujda"]
_ORIGINS = ["China", "EU", "Korea", "Japan", "Indonesia", "USA", "Turkey", "India"]


def _materials(spec: CaseSpec) -> tuple[list[dict], list[dict]]:
    """materials and intensity records for the chosen chemistries."""
    chems = _CHEMS[:spec.chemistries]
    materials = [dict(material=cm, unit="t", reference_price_usd_per_unit=p) for _, cm, p, _, _, _ in chems]
    materials += [dict(material=m, unit=u, reference_price_usd_per_unit=p) for m, u, p, _, _ in _SHARED]
    intensity = []
    for chem, cm, _, a, _, _ in chems:
        intensity.append(dict(chemistry=chem, material=cm, amount_per_gwh=a))
        nickel = chem in ("NMC", "NCA")
        for m, _, _, a_lfp, a_ni in _SHARED:
            intensity.append(dict(chemistry=chem, material=m, amount_per_gwh=a_ni if nickel else a_lfp))
    return materials, intensity


def _demand(spec: CaseSpec, rng: random.Random, years: list[int]) -> tuple[list[dict], list[dict]]:
    demand = []
    for i, y in enumerate(years):
        # 400k vehicles (20 GWh) in 2026, 2M (100 GWh) in 2040, then +2.5 % a year
        if y <= 2040:
            v = 400_000 + (2_000_000 - 400_000) * max(0, y - 2027) / 13.0 if y > 2027 else 400_000
        else:
            v = 2_000_000 * 1.025 ** (y - 2040)
        v *= 1.0 + rng.uniform(-0.03, 0.03)
        kwh = 50.0 + 10.0 * min(1.0, i / 29.0)
        demand.append(dict(year=y, vehicles=round(v, -2), kwh_per_vehicle=round(kwh, 2)))
    chems = _CHEMS[:spec.chemistries]
    mix = []
    for i, y in enumerate(years):
        t = min(1.0, i / 29.0)
        w = [max(0.0, s0 + (s1 - s0) * t) for _, _, _, _, s0, s1 in chems]
        tot = sum(w)
        shares = [round(x / tot, 3) for x in w]
        shares[0] = round(1.0 - sum(shares[1:]), 3)  # exact sum of 1 in decimal
        for (chem, *_), s in zip(chems, shares):
            mix.append(dict(year=y, chemistry=chem, share=s))
    return demand, mix


def _facility(product: str, name: str, site: str, params: dict[str, Any]) -> dict[str, Any]:
    return dict(
        facility=name, product=product, site=site,
        existing_capacity=params.get("existing", 0.0),
        existing_from_year=START_YEAR,
        module_size=params["module_size"], max_modules=int(params["max_modules"]),
        earliest_online_year=START_YEAR + int(params["earliest"]), lead_time_years=min(3, int(params["earliest"])),
        lifetime_years=int(params["lifetime"]), capex_usd_per_module=round(params["capex"], -3),
        fixed_om_usd_per_module_year=round(params["fom"], -2),
        existing_fixed_om_usd_per_year=params.get("existing_fom", 0.0),
        variable_cost_usd_per_unit=params["var"], opening_cost_usd=round(params["opening"], -3),
        ramp_up_first_year=params.get("ramp", 0.5),
    )


def _facilities(spec: CaseSpec, rng: random.Random, products: list[str]) -> list[dict]:
    """``spec.sites`` candidates per product: exact copies, near copies and a few distinct variants."""
    out = []
    for product in products:
        base = dict(_TEMPLATES[product])
        variants: list[dict] = []
        for i in range(spec.sites):
            if i == 0:
                p = dict(base)
                if spec.lifetimes:  # short lifetimes; exact and near copies keep their source's
                    p["lifetime"] = rng.choice(spec.lifetimes)
            else:
                u = rng.random()
                src = dict(rng.choice(variants))
                if i == 1 or u < 0.45:  # exact copy of an earlier candidate (at least one pair per product)
                    p = src
                elif u < 0.75:  # near copy: capex or opening cost a little different
                    p = dict(src)
                    if rng.random() < 0.5:
                        p["capex"] = src["capex"] * (1 + rng.choice([-1, 1]) * rng.uniform(0.01, 0.03))
                    else:
                        p["opening"] = src["opening"] * (1 + rng.choice([-1, 1]) * rng.uniform(0.02, 0.10))
                else:  # a distinct variant
                    p = dict(base)
                    p["capex"] = base["capex"] * rng.uniform(0.9, 1.15)
                    p["fom"] = p["capex"] * base["fom"] / base["capex"]
                    p["lifetime"] = rng.choice([12, 15, 20, 25])
                    p["earliest"] = base["earliest"] + rng.choice([0, 1, 2, 4])
                    p["opening"] = base["opening"] * rng.uniform(0.5, 1.5)
                    p["max_modules"] = max(1, int(base["max_modules"]) + rng.choice([-1, 0, 1]))
                    if spec.lifetimes:
                        p["lifetime"] = rng.choice(spec.lifetimes)
            variants.append(p)
        for i, p in enumerate(variants):
            site = _SITES[i % len(_SITES)]
            rec_p = dict(p)
            if product == "cells" and i == 0:
                rec_p.update(existing=20.0, existing_fom=39e6)  # the committed 20 GWh first phase
            out.append(_facility(product, f"{product} {i + 1:02d} {site}", site, rec_p))
    if spec.sites >= 1 and products:
        # the committed cell plant can still expand (as in the base case); it has no opening cost
        out[0]["opening_cost_usd"] = 0.0
    return out


def _imports(spec: CaseSpec, rng: random.Random, materials: list[dict], peak_use: dict[str, float]) -> list[dict]:
    out = []
    for mat in materials:
        m, p = mat["material"], mat["reference_price_usd_per_unit"]
        for j in range(spec.origins):
            origin = _ORIGINS[j % len(_ORIGINS)] + ("" if j < len(_ORIGINS) else f" {j // len(_ORIGINS) + 1}")
            if j == 0:  # China: cheapest, duty 2.5 %, prices drift up slowly
                rec = dict(material=m, origin=origin, price_usd_per_unit=p,
                           price_escalation_per_year=rng.choice([0.0, 0.005, 0.01, 0.015]),
                           freight_usd_per_unit=round(0.04 * p + 50, 0), tariff_rate=0.025,
                           max_per_year=None, first_year=None)
                if rng.random() < 0.3:  # an import quota on the cheap route
                    rec["max_per_year"] = round(0.5 * peak_use[m], -2)
            else:
                rec = dict(material=m, origin=origin, price_usd_per_unit=round(p * rng.uniform(1.15, 2.2), 0),
                           price_escalation_per_year=rng.choice([-0.005, 0.0, 0.0, 0.005]),
                           freight_usd_per_unit=round(0.02 * p + 30, 0), tariff_rate=rng.choice([0.0, 0.025]),
                           max_per_year=round(peak_use[m] * rng.uniform(0.1, 0.4), -2),
                           first_year=rng.choice([None, None, START_YEAR + rng.randint(2, 8)]))
            out.append(rec)
    return out


def generate_tables(spec: CaseSpec | str, seed: int = 0) -> dict[str, Any]:
    """The tables of one synthetic case (a new dict every call; identical for the same spec and seed)."""
    if isinstance(spec, str):
        spec = spec_by_name(spec)
    if not 1 <= spec.chemistries <= len(_CHEMS):
        raise ValueError(f"chemistries must be 1..{len(_CHEMS)}")
    key = f"{spec.sites}-{spec.years}-{spec.origins}-{spec.chemistries}-{seed}"
    rng = random.Random(key + (f"-L{spec.lifetimes}" if spec.lifetimes else ""))
    years = list(range(START_YEAR, START_YEAR + spec.years))
    materials, intensity = _materials(spec)
    demand, mix = _demand(spec, rng, years)
    # peak yearly use of each material (for import caps)
    gwh = {d["year"]: d["vehicles"] * d["kwh_per_vehicle"] / 1e6 for d in demand}
    share = {(r["chemistry"], r["year"]): r["share"] for r in mix}
    peak_use: dict[str, float] = {}
    for r in intensity:
        for y in years:
            u = r["amount_per_gwh"] * gwh[y] * share.get((r["chemistry"], y), 0.0)
            peak_use[r["material"]] = max(peak_use.get(r["material"], 0.0), u)
    peak_use = {m: max(v, 1000.0) for m, v in peak_use.items()}
    for mat in materials:
        peak_use.setdefault(mat["material"], 1000.0)
    products = ["cells"] + [m["material"] for m in materials]
    facilities = _facilities(spec, rng, products)
    imports = _imports(spec, rng, materials, peak_use)
    exports = [dict(material="cathode_LFP", price_usd_per_unit=4_700.0, max_per_year=20_000.0),
               dict(material="anode", price_usd_per_unit=3_500.0, max_per_year=20_000.0)]
    local_content = []
    for y in years:
        if y < START_YEAR + 2:
            continue
        s = 0.20 + 0.40 * min(1.0, (y - 2028) / 12.0) + (0.10 * min(1.0, (y - 2040) / 10.0) if y > 2040 else 0.0)
        local_content.append(dict(year=y, min_local_value_share=round(s, 3)))
    settings = {"start_year": years[0], "end_year": years[-1], "discount_rate": 0.08,
                "allow_unmet_demand": True, "unmet_penalty_usd_per_kwh": 1000.0,
                "mip_rel_gap": spec.mip_rel_gap, "time_limit_s": spec.time_limit_s}
    tables = {"settings": settings, "demand": demand, "chemistry_mix": mix, "materials": materials,
              "intensity": intensity, "facilities": facilities, "imports": imports, "exports": exports,
              "local_content": local_content}
    if spec.v2:
        _add_v2(tables, spec, rng, peak_use)
    return tables


def _add_v2(t: dict[str, Any], spec: CaseSpec, rng: random.Random, peak_use: dict[str, float]) -> None:
    """Version 2 features (drawn after everything else, so a v1 case's tables are unchanged)."""
    made = {m["material"] for m in t["materials"]}
    recipes = [dict(product=p, input=i, amount_per_unit=a) for p, i, a in _V2_RECIPES if p in made]
    new = [dict(material=m, unit=u, reference_price_usd_per_unit=p) for m, u, p in _V2_MATERIALS]
    t["materials"] += new
    t["recipes"] = recipes
    use = {m: sum(r["amount_per_unit"] * peak_use[r["product"]] for r in recipes if r["input"] == m)
           for m, _, _ in _V2_MATERIALS}
    peak = dict(peak_use, **{m: max(v, 1000.0) for m, v in use.items()})
    t["imports"] += _imports(replace(spec, origins=min(spec.origins, 2)), rng, new, peak)
    t["facilities"] += _facilities(replace(spec, sites=max(1, spec.sites - 1)), rng, ["precursor_LFP"])
    for f in t["facilities"]:  # cell modules get cheaper with the vintage, others keep their capex
        f["capex_change_per_year"] = -0.02 if f["product"] == "cells" else 0.0
    chems = sorted({r["chemistry"] for r in t["chemistry_mix"]})
    t["cell_imports"] = []
    for k in chems:
        cn, eu = _V2_CELL_PRICES[k]
        t["cell_imports"] += [
            dict(chemistry=k, origin="China", price_usd_per_kwh=cn, price_escalation_per_year=rng.choice([0.0, -0.01]),
                 freight_usd_per_kwh=1.0, tariff_rate=0.025, max_gwh_per_year=None, first_year=None),
            dict(chemistry=k, origin="EU", price_usd_per_kwh=eu, price_escalation_per_year=0.0,
                 freight_usd_per_kwh=0.6, tariff_rate=0.0, max_gwh_per_year=5.0, first_year=None)]
    cells = next(f for f in t["facilities"] if f["product"] == "cells")
    t["committed_builds"] = [dict(facility=cells["facility"], year=cells["earliest_online_year"], modules=1)]


def write_case(path, spec: CaseSpec | str, seed: int = 0) -> Path:
    """Write one synthetic case workbook (atomically) and return its path."""
    from model.xlsx_util import write_input_workbook

    return write_input_workbook(path, generate_tables(spec, seed))


def with_limits(spec: CaseSpec, *, time_limit_s: float | None = None, mip_rel_gap: float | None = None) -> CaseSpec:
    kw = {}
    if time_limit_s is not None:
        kw["time_limit_s"] = time_limit_s
    if mip_rel_gap is not None:
        kw["mip_rel_gap"] = mip_rel_gap
    return replace(spec, **kw)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1 or argv[0] in ("-h", "--help"):
        print("usage: python -m benchmarks.generate OUT_DIR   (writes one workbook per size)")
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    out = Path(argv[0])
    out.mkdir(parents=True, exist_ok=True)
    for name, spec in SIZES.items():
        print(write_case(out / f"{name}.xlsx", spec))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
